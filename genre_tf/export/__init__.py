"""Export trained models as SavedModels (and TFLite) with their class list."""
