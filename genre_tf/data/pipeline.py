"""tf.data decoding of clips, with bad files skipped, named and counted.

Decoding runs in a ``tf.py_function`` inside a parallel ``Dataset.map`` so a file that
cannot be read becomes one warning and one entry in a ``DecodeReport`` instead of an
exception that ends the iteration (``tf.data.experimental.ignore_errors`` would drop it
silently). Everything after decoding (features, spectrograms, framing) is graph code.
"""

import threading

import numpy as np
import tensorflow as tf
from absl import logging

from genre_tf.audio import decode


class DecodeReport:
    """What decoding skipped or padded, for warnings, the run summary and metrics.json."""

    def __init__(self):
        self._lock = threading.Lock()
        self.skipped = {}
        self.padded = []

    def skip(self, path, reason):
        with self._lock:
            if path not in self.skipped:
                logging.warning("%s: %s; skipped", path, reason)
            self.skipped[path] = reason

    def pad(self, path, n_samples, min_samples):
        with self._lock:
            if path not in self.padded:
                logging.warning("%s: %d samples, shorter than the %d needed; zero-padded",
                                path, n_samples, min_samples)
                self.padded.append(path)

    def summary(self, total):
        """One line for the end of a run."""
        return (f"{total - len(self.skipped)} of {total} files used, "
                f"{len(self.skipped)} skipped, {len(self.padded)} padded")

    def as_dict(self):
        return {"skipped": dict(sorted(self.skipped.items())),
                "padded": sorted(self.padded)}


def waveform_dataset(paths, sample_rate, min_samples, short_clips="pad", report=None,
                     deterministic=True, shuffle_seed=None):
    """Decoded mono waveforms of the files that can be read.

    Args:
      paths: audio file paths.
      sample_rate: rate to resample to, Hz.
      min_samples: shorter clips are padded or skipped (``short_clips``).
      short_clips: "pad" or "skip".
      report: a ``DecodeReport`` that collects skipped and padded files.
      deterministic: keep file order (needed to line results up with paths).
      shuffle_seed: if set, visit the files in a new random order every epoch (cheap:
        only paths are shuffled, before decoding).

    Returns:
      A ``tf.data.Dataset`` of ``(waveform float32 [samples], index int64)``, where
      ``index`` is the file's position in ``paths``.
    """
    report = report if report is not None else DecodeReport()

    def _decode(path):
        path = path.numpy().decode()
        try:
            waveform = decode.read_waveform(path, sample_rate)
            fitted, padded = decode.fit_length(waveform, min_samples, short_clips)
            if padded:
                report.pad(path, waveform.shape[0], min_samples)
            return fitted, True
        except decode.DecodeError as error:
            report.skip(path, str(error))
            return np.zeros([0], np.float32), False

    def _decode_op(path, index):
        waveform, ok = tf.py_function(_decode, [path], [tf.float32, tf.bool])
        waveform.set_shape([None])
        ok.set_shape([])
        return waveform, index, ok

    dataset = tf.data.Dataset.from_tensor_slices(
        (tf.constant(list(paths), tf.string), tf.range(len(paths), dtype=tf.int64)))
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(paths), seed=shuffle_seed,
                                  reshuffle_each_iteration=True)
    dataset = dataset.map(_decode_op, num_parallel_calls=tf.data.AUTOTUNE,
                          deterministic=deterministic)
    dataset = dataset.filter(lambda waveform, index, ok: ok)
    return dataset.map(lambda waveform, index, ok: (waveform, index))
