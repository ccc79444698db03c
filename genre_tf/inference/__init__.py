"""Naming the genre of audio files with an export: what ``predict.py`` runs.

One module per step a file goes through:

    inputs (files and searched folders) -> model (load and check an export)
    -> windows (long input cut into batches of windows) -> classify (one file's answer)
    -> records (text, JSON or CSV) ; run ties them together with exit statuses.

``reference_export`` is the smallest export that meets the contract ``model`` reads; tests
and ``bench/predict_memory.py`` use it where no trained model is at hand.
"""
