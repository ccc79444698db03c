"""One trainer and one cross-validation driver shared by every system."""
