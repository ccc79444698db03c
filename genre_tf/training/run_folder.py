"""A run folder holds one run, so its metrics never mix with another run's leftovers.

A run's identity is what its numbers depend on: every setting that changes a result
(system, examples, splits, training, seed) and a digest of its data's content (not its
path: moved data is the same data). ``run.json`` records it. A rerun with the same identity resumes (finished
splits are reused, an interrupted one continues); a folder that holds another run, or
outputs of a run that recorded no identity, is refused with the differences named,
unless ``--overwrite`` clears the run's outputs first. Export settings are not part of
the identity: they change no number, and an earlier export of the same run stays valid.

Two checks, so a wrong folder is refused before a long extraction: the settings when
the run starts (``claim``), the data once its examples exist (``confirm_data``).
"""

import dataclasses
import json
import os
import shutil

from absl import logging

from genre_tf.evaluation import report

RUN_FILE = "run.json"
# What a run writes into its folder (``--overwrite`` removes only these).
RUN_OUTPUTS = ("run.json", "metrics.json", "confusion_matrix.png", "flags.txt",
               "saved_model", "model.tflite", "final")
_SPLIT_PREFIX = "split_"


class RunFolderError(ValueError):
    """The output folder holds another run; the message says what differs and what to
    do. A ``ValueError``, so the command line prints it as one line and exits 2."""


def settings_identity(run):
    """The settings of ``run`` that change its numbers, as JSON-comparable data."""
    training = dataclasses.asdict(run.training)
    del training["log_every_epochs"]  # how much it says, not what it computes
    return json.loads(json.dumps({
        "system": dataclasses.asdict(run.system),
        "synthetic_demo": run.data.synthetic_demo,
        "examples": run.data.examples.identity(),
        "splits": dataclasses.asdict(run.splits),
        "training": training,
        "seed": run.seed,
    }, default=str))


def _changed_songs(recorded, current, shown=5):
    """What differs between two ``{song id: digest}`` records, in words: the first
    ``shown`` songs changed, added and removed by name."""
    if not recorded or current is None:
        return "the audio or table content differs"
    parts = []
    for what, ids in (
            ("changed", [i for i in current if i in recorded and recorded[i] != current[i]]),
            ("added", [i for i in current if i not in recorded]),
            ("removed", [i for i in recorded if i not in current])):
        if ids:
            more = f" and {len(ids) - shown} more" if len(ids) > shown else ""
            parts.append(f"{len(ids)} {what} ({', '.join(sorted(ids)[:shown])}{more})")
    return ", ".join(parts) or "the audio or table content differs"


def _outputs_in(folder):
    """The names of run outputs present in ``folder``."""
    if not os.path.isdir(folder):
        return []
    return sorted(name for name in os.listdir(folder)
                  if name in RUN_OUTPUTS or name.startswith(_SPLIT_PREFIX))


def _differences(recorded, current, prefix=""):
    """Dotted names of the settings that differ between two identities, for a message."""
    if isinstance(recorded, dict) and isinstance(current, dict):
        names = []
        for key in sorted(set(recorded) | set(current)):
            names += _differences(recorded.get(key), current.get(key), f"{prefix}{key}.")
        return names
    return [] if recorded == current else [prefix.rstrip(".")]


class RunFolder:
    """The output folder of one run and the checks that keep it to that run."""

    def __init__(self, output_dir, settings, overwrite=False):
        self.output_dir = output_dir
        self.settings = settings
        self.overwrite = overwrite
        self.path = os.path.join(output_dir, RUN_FILE)

    def _recorded(self):
        try:
            return report.read_json(self.path)
        except (OSError, ValueError):
            return None

    def _refuse_or_clear(self, what):
        if not self.overwrite:
            raise RunFolderError(
                f"{self.output_dir} holds another run ({what}); pass --overwrite to "
                f"replace it, or --output_dir for a new folder")
        self.clear(what)

    def clear(self, why):
        """Removes every output of a run (and only those) from the folder."""
        outputs = _outputs_in(self.output_dir)
        logging.warning("Removing %s from %s (%s)", ", ".join(outputs),
                        self.output_dir, why)
        for name in outputs:
            path = os.path.join(self.output_dir, name)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.remove(path)

    def claim(self):
        """Checks the settings before any work: resumes, refuses or clears (always
        clears under ``--overwrite``: it starts the run clean)."""
        if self.overwrite:
            if _outputs_in(self.output_dir):
                self.clear("--overwrite starts the run clean")
            return
        recorded = self._recorded()
        if recorded is None:
            outputs = [name for name in _outputs_in(self.output_dir) if name != "flags.txt"]
            if outputs:
                self._refuse_or_clear(f"{', '.join(outputs[:4])} without a {RUN_FILE}")
            return
        if recorded.get("settings") != self.settings:
            changed = _differences(recorded.get("settings"), self.settings)
            self._refuse_or_clear("other settings: " + ", ".join(changed[:6]))

    def confirm_data(self, data_digest, song_digests=None):
        """Checks the data once its examples exist, then records the run's identity.
        ``song_digests`` (``ExampleSet.song_digests``) are recorded too, so that other
        data is refused with the songs that differ named."""
        recorded = self._recorded()
        if recorded is not None and recorded.get("data") != data_digest:
            self._refuse_or_clear("other data: " + _changed_songs(
                recorded.get("songs"), song_digests))
        elif recorded is not None:
            logging.info("%s holds this run; finished splits are reused", self.output_dir)
        identity = {"settings": self.settings, "data": data_digest}
        if song_digests is not None:
            identity["songs"] = song_digests
        report.write_json(self.path, identity)
