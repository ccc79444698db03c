"""Audio decoding, constants and the synthetic demo dataset."""
