"""Loading an export, and telling a user plainly when a folder is not one.

An export is a folder with ``saved_model.pb`` and ``model_info.json`` (written by
``genre_tf.export.saved_model``). ``model_info.json`` says how to feed the model: the
``sample_rate`` to decode at, the ``class_names``, the model's own window
(``window_samples``, ``window_hop_samples``; null for systems that take a whole clip),
the shortest input it accepts (``min_samples``) and what it does with shorter input
(``short_clips``: repeat, pad or skip), and whether it learned from the synthetic demo
data (``synthetic_demo``). Older exports lack the window keys; they are read as the
whole-clip, zero-padding systems they were, so they keep working.

A wrong ``--saved_model`` (a typo, a run folder instead of its ``saved_model/``, a
random file) raises ``ExportError`` with one line of reason, never a TF traceback.
"""

import dataclasses
import os

import numpy as np
import tensorflow as tf

from genre_tf.audio import fill
from genre_tf.export import saved_model as export_files


class ExportError(Exception):
    """A folder that is not a usable export; the message says why, for the user."""


@dataclasses.dataclass(frozen=True)
class ModelInfo:
    """What ``model_info.json`` says about feeding the model, with old-export defaults."""

    sample_rate: int
    class_names: tuple
    window_samples: int | None = None
    window_hop_samples: int | None = None
    min_samples: int = 1
    short_clips: str = "pad"
    synthetic_demo: bool = False
    system: dict = dataclasses.field(default_factory=dict)

    @classmethod
    def from_dict(cls, info):
        """Reads the JSON object of ``model_info.json``.

        Raises:
          ExportError: ``sample_rate`` (absent from exports of a features table, which
            take feature vectors) or ``class_names`` is missing, or ``short_clips``
            names no known policy.
        """
        if not isinstance(info, dict):
            raise ExportError("model_info.json does not hold an object")
        if not info.get("sample_rate"):
            raise ExportError("model_info.json has no sample_rate: the model takes no "
                              "audio (trained on a features table?)")
        if not info.get("class_names"):
            raise ExportError("model_info.json has no class_names")
        short_clips = info.get("short_clips") or "pad"
        if short_clips not in fill.POLICIES:
            raise ExportError(f"model_info.json: unknown short_clips {short_clips!r}")
        window = int(info.get("window_samples") or 0) or None
        hop = int(info.get("window_hop_samples") or 0) or window
        return cls(sample_rate=int(info["sample_rate"]),
                   class_names=tuple(info["class_names"]),
                   window_samples=window,
                   window_hop_samples=hop,
                   min_samples=max(1, int(info.get("min_samples") or 1)),
                   short_clips=short_clips,
                   synthetic_demo=bool(info.get("synthetic_demo", False)),
                   system=dict(info.get("system") or {}))

    def seconds(self, samples):
        """``samples`` at the model's rate, in seconds."""
        return samples / self.sample_rate


class Export:
    """A loaded export: the SavedModel object, kept alive here while it is called (its
    functions die with it), and its ``ModelInfo``. Answers are numpy probabilities."""

    def __init__(self, directory, model, info):
        self.directory = directory
        self.model = model
        self.info = info

    @property
    def has_windows_endpoint(self):
        """Whether the export classifies a batch of windows in one call; older ones
        classify one waveform per call."""
        return hasattr(self.model, "classify_windows")

    def classify_waveform(self, waveform):
        """Class probabilities ``[classes]`` of a whole waveform; the model fills short
        input itself by its policy."""
        output = self.model.classify_waveform(tf.constant(waveform, tf.float32))
        return output["probabilities"].numpy()[0]

    def classify_windows(self, windows):
        """Class probabilities ``[n, classes]``, each row of ``windows [n, samples]``
        classified as a clip of its own."""
        if not self.has_windows_endpoint:
            return np.stack([self.classify_waveform(window) for window in windows])
        output = self.model.classify_windows(tf.constant(windows, tf.float32))
        return output["probabilities"].numpy()


def _not_an_export(directory, why):
    hint = ""
    nested = os.path.join(directory, "saved_model")
    if os.path.isfile(os.path.join(nested, export_files.INFO_FILE)):
        hint = f"; did you mean {nested}?"
    return ExportError(f"not a genre_tf export ({why}){hint}")


def read_info(directory):
    """The ``ModelInfo`` of the export in ``directory``.

    Raises:
      ExportError: the folder is missing, not a folder, lacks ``model_info.json`` or
        ``saved_model.pb``, or its ``model_info.json`` is unreadable.
    """
    if not os.path.exists(directory):
        raise _not_an_export(directory, "no such folder")
    if not os.path.isdir(directory):
        raise _not_an_export(directory, "a file, not an export folder")
    for name in (export_files.INFO_FILE, "saved_model.pb"):
        if not os.path.isfile(os.path.join(directory, name)):
            raise _not_an_export(directory, f"no {name}")
    try:
        info = export_files.read_model_info(directory)
    except (OSError, ValueError) as error:
        raise ExportError(f"unreadable model_info.json ({error})") from None
    return ModelInfo.from_dict(info)


def load_export(directory):
    """Checks and loads the export in ``directory``.

    Returns:
      An ``Export``; keep it while classifying.

    Raises:
      ExportError: ``read_info``'s reasons, a SavedModel TF cannot load, or one without
        a ``classify_waveform`` endpoint.
    """
    info = read_info(directory)
    try:
        model = tf.saved_model.load(directory)
    except Exception as error:  # pylint: disable=broad-except
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise ExportError(f"cannot load the SavedModel ({first_line[:200]})") from None
    if not hasattr(model, "classify_waveform"):
        raise ExportError("the SavedModel has no classify_waveform endpoint")
    return Export(directory, model, info)
