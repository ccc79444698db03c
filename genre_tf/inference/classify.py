"""One file's answer: decode it, check its length, classify it whole or in windows.

Up to ``stream_above_seconds`` the whole waveform goes to the export's
``classify_waveform`` in one call, so predict says exactly what the SavedModel says.
Longer input is streamed: windows of the model's own length (``model_info.json``
``window_samples``/``window_hop_samples``; for whole-clip systems ``window_seconds`` with
hop = window) go to ``classify_windows`` a batch at a time and the answer is the mean of
the window probabilities, so an hour of audio costs the decoded waveform plus one batch
of memory, not one model input of an hour. The timeline (the top genre of each window)
comes from the same windows.

Input shorter than ``Settings.min_seconds`` or silent is refused with a reason
(``refusals``). Input shorter than the model's ``min_samples`` is filled by the model's
own policy (``short_clips``), with a warning naming the file; under ``skip`` it is
refused with a reason before the model sees it (the model would raise).
"""

import dataclasses

import numpy as np
import tensorflow as tf

from genre_tf.audio import decode
from genre_tf.inference import records, refusals, windows


@dataclasses.dataclass(frozen=True)
class Settings:
    """How predict answers (``predict.py``'s flags of the same names)."""

    top_k: int = 3
    timeline: bool = False
    window_seconds: float = 3.0
    stream_above_seconds: float = 120.0
    batch_windows: int = 16
    min_seconds: float = 0.5


def window_plan(info, settings):
    """``(window, hop)`` in samples: the model's own, or ``settings.window_seconds``
    with hop = window for whole-clip systems (never shorter than the model's minimum, so
    no window needs filling)."""
    if info.window_samples:
        return info.window_samples, info.window_hop_samples or info.window_samples
    window = max(int(round(settings.window_seconds * info.sample_rate)), info.min_samples)
    return window, window


def top_genres(probabilities, class_names, k):
    """``((genre, probability), ...)`` of the ``k`` most probable classes, best first."""
    best = np.argsort(-np.asarray(probabilities), kind="stable")[:k]
    return tuple((class_names[i], float(probabilities[i])) for i in best)


def stream_windows(export, waveform, window, hop, batch_size):
    """Classifies ``waveform`` window by window, one batch of windows in memory at a time.

    Returns:
      ``(mean, per_window)``: the mean of the window probabilities ``[classes]``, and
      ``(first sample, end sample, probabilities)`` of every window.
    """
    total = np.zeros(len(export.info.class_names), np.float64)
    per_window = []
    for starts, batch in windows.window_batches(waveform, window, hop, batch_size):
        probabilities = export.classify_windows(batch)
        total += probabilities.sum(axis=0)
        per_window.extend((start, start + window, p)
                          for start, p in zip(starts.tolist(), probabilities))
    return (total / len(per_window)).astype(np.float32), per_window


def _answer(export, waveform, settings):
    """``(probabilities, windows averaged or None, per-window answers or None)``."""
    window, hop = window_plan(export.info, settings)
    n_samples = waveform.shape[0]
    if (export.info.seconds(n_samples) > settings.stream_above_seconds
            and n_samples >= window):
        mean, per_window = stream_windows(export, waveform, window, hop,
                                          settings.batch_windows)
        return mean, len(per_window), per_window
    probabilities = export.classify_waveform(waveform)
    if not settings.timeline:
        return probabilities, None, None
    if n_samples < window:  # One window: the whole (filled) input.
        return probabilities, None, [(0, n_samples, probabilities)]
    return probabilities, None, stream_windows(export, waveform, window, hop,
                                               settings.batch_windows)[1]


def _timeline(info, per_window):
    return tuple(
        records.WindowAnswer(info.seconds(start), info.seconds(end),
                             *top_genres(probabilities, info.class_names, 1)[0])
        for start, end, probabilities in per_window)


def _short_input_warning(path, info, n_samples):
    need = "window" if info.window_samples == info.min_samples else "shortest input"
    return (f"{path}: {records.seconds_text(info.seconds(n_samples))} s, shorter than the "
            f"model's {records.seconds_text(info.seconds(info.min_samples))} s {need}; "
            f"filled by {info.short_clips}")


def classify_decoded(export, path, waveform, settings, warn):
    """The record of an already decoded ``waveform`` (at the export's rate).

    Args:
      export: a loaded ``model.Export``.
      path: the file's name, for the record and warnings.
      waveform: float32 ``[samples]``.
      settings: ``Settings``.
      warn: called with each warning line (a short input and how it was filled).

    Returns:
      A ``records.Record``; a model error becomes the record's error.
    """
    info = export.info
    n_samples = waveform.shape[0]
    duration = info.seconds(n_samples)
    refused = refusals.refusal(waveform, info.sample_rate, settings.min_seconds)
    if refused:
        return records.Record(path, duration_seconds=duration, error=refused)
    filled = None
    if n_samples < info.min_samples:
        if info.short_clips == "skip":
            return records.Record(path, duration_seconds=duration, error=(
                f"too short ({n_samples} samples, the model needs {info.min_samples})"))
        filled = info.short_clips
        warn(_short_input_warning(path, info, n_samples))
    try:
        probabilities, n_windows, per_window = _answer(export, waveform, settings)
    except tf.errors.OpError as error:
        return records.Record(path, duration_seconds=duration,
                              error=f"the model failed ({decode.short_reason(error)})")
    timeline = _timeline(info, per_window) if settings.timeline else None
    return records.Record(
        path, top_genres(probabilities, info.class_names, settings.top_k), duration,
        filled, n_windows, timeline=timeline)


def classify_file(export, path, settings, warn):
    """Decodes ``path`` at the export's rate and classifies it (``classify_waveform``);
    a file that cannot be decoded gets a record with the reason."""
    try:
        waveform = decode.read_waveform(path, export.info.sample_rate)
    except decode.DecodeError as error:
        return records.Record(path, error=str(error))
    return classify_decoded(export, path, waveform, settings, warn)
