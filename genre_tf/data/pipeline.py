"""tf.data decoding of clips, with bad and short files skipped or filled, named and
counted.

The common case, a 16-bit PCM WAV at the target rate whose header checks out, decodes
in the graph (``tf.audio.decode_wav``), without Python's GIL. Everything else decodes in
a ``tf.py_function`` inside the parallel ``Dataset.map``, so a file that cannot be read
becomes one warning and one entry in a ``DecodeReport`` instead of an exception that
ends the iteration (``tf.data.experimental.ignore_errors`` would drop it silently).
Filling short clips (``genre_tf.audio.fill``) and everything after it is graph code,
shared with the exported model.
"""

import threading

import numpy as np
import tensorflow as tf
from absl import logging

from genre_tf.audio import decode, fill


class DecodeReport:
    """What decoding skipped or filled, for warnings, the run summary and metrics.json."""

    def __init__(self):
        self._lock = threading.Lock()
        self.skipped = {}
        self.filled = {}

    def skip(self, path, reason):
        with self._lock:
            if path not in self.skipped:
                logging.warning("%s: %s; skipped", path, reason)
            self.skipped[path] = reason

    def fill(self, path, n_samples, min_samples, policy):
        with self._lock:
            if path not in self.filled:
                logging.warning("%s: %d samples, shorter than the %d needed; filled by %s",
                                path, n_samples, min_samples, policy)
            self.filled[path] = policy

    def summary(self, total):
        """One line for the end of a run."""
        return (f"{total - len(self.skipped)} of {total} files used, "
                f"{len(self.skipped)} skipped, {len(self.filled)} filled (short)")

    def as_dict(self):
        return {"skipped": dict(sorted(self.skipped.items())),
                "filled": dict(sorted(self.filled.items()))}


def note_length(report, path, n_samples, min_samples, policy):
    """Records a clip's fate by the short-clip policy; returns False if it is skipped."""
    if n_samples >= min_samples:
        return True
    if policy == "skip":
        report.skip(path, f"too short ({n_samples} samples, need {min_samples})")
        return False
    report.fill(path, n_samples, min_samples, policy)
    return True


def waveform_dataset(paths, sample_rate, min_samples=1, policy="repeat", report=None,
                     shuffle_seed=None):
    """Decoded mono waveforms of the files that can be read, in file order.

    Args:
      paths: audio file paths.
      sample_rate: rate to resample to, Hz.
      min_samples: clips shorter than this are reported as filled, or skipped when
        ``policy`` is "skip". The waveform itself is returned unfilled.
      policy: the short-clip policy (``genre_tf.audio.fill.POLICIES``).
      report: a ``DecodeReport`` that collects skipped and filled files.
      shuffle_seed: if set, visit the files in a new random order every epoch (cheap:
        only paths are shuffled, before decoding).

    Returns:
      A ``tf.data.Dataset`` of ``(waveform float32 [samples], index int64)``, where
      ``index`` is the file's position in ``paths``.
    """
    fill.check_policy(policy)
    report = report if report is not None else DecodeReport()
    paths = list(paths)
    # Header pass: 16-bit PCM WAVs at the target rate decode in the graph, and their
    # fate by length is known (and reported) before decoding.
    frames = [decode.in_graph_frames(path, sample_rate) for path in paths]
    in_graph = [n is not None for n in frames]
    graph_ok = [n is None or note_length(report, path, n, min_samples, policy)
                for path, n in zip(paths, frames)]

    def _decode(path):
        path = path.numpy().decode()
        try:
            waveform = decode.read_waveform(path, sample_rate)
        except decode.DecodeError as error:
            report.skip(path, str(error))
            return np.zeros([0], np.float32), False
        return waveform, note_length(report, path, waveform.shape[0], min_samples, policy)

    def _decode_in_python(path):
        waveform, ok = tf.py_function(_decode, [path], [tf.float32, tf.bool])
        waveform.set_shape([None])
        ok.set_shape([])
        return waveform, ok

    def _decode_in_graph(path, ok):
        audio, _ = tf.audio.decode_wav(tf.io.read_file(path))
        return tf.reduce_mean(audio, axis=1), ok

    def _decode_op(path, index, graph, ok):
        waveform, ok = tf.cond(graph, lambda: _decode_in_graph(path, ok),
                               lambda: _decode_in_python(path))
        return waveform, index, ok

    dataset = tf.data.Dataset.from_tensor_slices(
        (tf.constant(paths, tf.string), tf.range(len(paths), dtype=tf.int64),
         tf.constant(in_graph, tf.bool), tf.constant(graph_ok, tf.bool)))
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(paths), seed=shuffle_seed,
                                  reshuffle_each_iteration=True)
    dataset = dataset.map(_decode_op, num_parallel_calls=tf.data.AUTOTUNE)
    dataset = dataset.filter(lambda waveform, index, ok: ok)
    return dataset.map(lambda waveform, index, ok: (waveform, index))
