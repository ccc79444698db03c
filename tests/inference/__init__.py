"""Tests of ``genre_tf.inference`` and ``predict.py``, and the audio they share.

Exports are ``genre_tf.inference.reference_export`` models (classes low/mid/high by
band power) and audio is tones at those pitches, so every answer is known in advance.
"""

import os
import shutil
import tempfile

import numpy as np

from genre_tf.inference import reference_export
from tests import fixtures

SR = 16000
PITCH = {"low": 150.0, "mid": 700.0, "high": 3000.0}
PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def tones(*segments, sr=SR):
    """The concatenation of ``(genre, seconds)`` tones, float32 at ``sr``."""
    return np.concatenate([fixtures.tone(PITCH[genre], seconds, sr)
                           for genre, seconds in segments])


def write_tones(path, *segments, sr=SR):
    """Writes ``tones(*segments)`` as 16-bit audio (format from the extension)."""
    return fixtures.write_audio(path, tones(*segments, sr=sr), sr)


def write_export(folder, name, **settings):
    """A reference export in ``folder/name`` (settings: ``write_reference_export``'s)."""
    return reference_export.write_reference_export(os.path.join(folder, name),
                                                   sample_rate=SR, **settings)


def class_folder(test_class, name):
    """A temp folder for ``test_class`` (call in setUpClass), removed after its tests."""
    folder = tempfile.mkdtemp(prefix=f"genre_tf_{name}_")
    test_class.addClassCleanup(shutil.rmtree, folder, ignore_errors=True)
    return folder
