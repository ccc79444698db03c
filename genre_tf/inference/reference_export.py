"""The smallest export that keeps predict's contract: three pitch classes by band power.

A trained genre model is minutes of training away and its answers are unknown in
advance; this one is written in a second and its answers are known, which is what tests
and ``bench/predict_memory.py`` need. Its probabilities are the shares of a clip's power
below 400 Hz (``low``), from 400 to 1500 Hz (``mid``) and above 1500 Hz (``high``),
averaged over STFT frames: a 150 Hz tone is ``low`` with probability near 1, and a file
that is half 150 Hz and half 3 kHz is about half ``low`` and half ``high``.

It also shows the export side what predict reads:

- ``classify_waveform(float32 [samples])``: one mono waveform of any length at
  ``sample_rate``, filled by the short-clip policy (``genre_tf.audio.fill``);
- ``classify_windows(float32 [n, samples])``: each row classified as a clip of its own;
- both return ``probabilities`` ``[n, classes]``, ``class_id`` and ``class_name``;
- ``model_info.json`` and ``class_names.txt`` beside ``saved_model.pb``.
"""

import json
import os

import numpy as np
import tensorflow as tf

from genre_tf.audio import fill
from genre_tf.export import saved_model as export_files

CLASS_NAMES = ("low", "mid", "high")
BAND_EDGES_HZ = (400.0, 1500.0)  # low | mid | high
FRAME_LENGTH = 512  # STFT frame and step, samples
FRAME_STEP = 256


class PitchBandModel(tf.Module):
    """Band-power "genres" behind the two endpoints of an export."""

    def __init__(self, sample_rate, min_samples, short_clips):
        super().__init__()
        self._min_samples = min_samples
        self._short_clips = fill.check_policy(short_clips)
        frequencies = np.arange(FRAME_LENGTH // 2 + 1) * sample_rate / FRAME_LENGTH
        band_of_bin = np.digitize(frequencies, BAND_EDGES_HZ)
        self._bands = tf.constant(np.eye(len(CLASS_NAMES))[band_of_bin], tf.float32)
        self._class_table = tf.constant(CLASS_NAMES)

    def _classify(self, clips):
        spectrum = tf.signal.stft(clips, FRAME_LENGTH, FRAME_STEP, pad_end=True)
        power = tf.reduce_mean(tf.abs(spectrum) ** 2, axis=1)  # [n, bins]
        energy = tf.matmul(power, self._bands) + 1e-12  # [n, classes]; silence: uniform
        probabilities = energy / tf.reduce_sum(energy, axis=-1, keepdims=True)
        class_id = tf.argmax(probabilities, axis=-1, output_type=tf.int32)
        return {"probabilities": probabilities, "class_id": class_id,
                "class_name": tf.gather(self._class_table, class_id)}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def classify_waveform(self, waveform):
        filled = fill.fill(waveform, self._min_samples, self._short_clips)
        return self._classify(filled[tf.newaxis])

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.float32)])
    def classify_windows(self, windows):
        return self._classify(windows)


class _PitchBandModelWithoutWindows(PitchBandModel):
    """An export from before ``classify_windows``."""

    classify_windows = None


def write_reference_export(export_dir, sample_rate=16000, window_seconds=3.0,
                           hop_seconds=None, min_seconds=0.5, short_clips="repeat",
                           synthetic_demo=False, windows_endpoint=True):
    """Writes a ``PitchBandModel`` export.

    Args:
      export_dir: output folder.
      sample_rate: rate of the model's input, Hz.
      window_seconds: the model's window, or None for a whole-clip system.
      hop_seconds: hop between windows; None: the window.
      min_seconds: the shortest input of a whole-clip system (a windowed system's is
        its window).
      short_clips: "repeat", "pad" or "skip".
      synthetic_demo: what ``model_info.json`` says about the training data.
      windows_endpoint: False leaves out ``classify_windows``, as in older exports.

    Returns:
      ``export_dir``.
    """
    window = int(round(window_seconds * sample_rate)) if window_seconds else None
    hop = int(round(hop_seconds * sample_rate)) if hop_seconds else window
    min_samples = window or int(round(min_seconds * sample_rate))
    model_class = PitchBandModel if windows_endpoint else _PitchBandModelWithoutWindows
    tf.saved_model.save(model_class(sample_rate, min_samples, short_clips), export_dir)
    with open(os.path.join(export_dir, export_files.CLASS_NAMES_FILE), "w") as handle:
        handle.write("\n".join(CLASS_NAMES) + "\n")
    info = {"sample_rate": sample_rate, "class_names": list(CLASS_NAMES),
            "window_samples": window, "window_hop_samples": hop,
            "min_samples": min_samples, "short_clips": short_clips,
            "synthetic_demo": synthetic_demo,
            "system": {"name": "reference pitch bands", "band_edges_hz": BAND_EDGES_HZ}}
    with open(os.path.join(export_dir, export_files.INFO_FILE), "w") as handle:
        json.dump(info, handle, indent=2)
    return export_dir
