"""Early stopping whose state survives a killed process.

``BackupAndRestore`` brings back the weights and the epoch of an interrupted fit, but a
rerun's Keras ``EarlyStopping`` starts with no best value, no best weights and nothing
waited, so it restores the best epoch of the part after the restart (a measured fold:
epoch 123 where the uninterrupted run restored 84) and waits ``patience`` anew.
``ResumableEarlyStopping`` keeps its state on disk and reads it back when the fit resumes.
"""

import glob
import json
import os
import shutil

import keras
import numpy as np
from absl import logging

from genre_tf import files

STATE_FILE = "state.json"
WEIGHTS_PREFIX = "best_weights."  # + the best epoch + ".npz"


class ResumableEarlyStopping(keras.callbacks.EarlyStopping):
    """``EarlyStopping`` that resumes with the fit that ``BackupAndRestore`` resumes.

    At each epoch end that the backup's ``schedule`` backs up it writes best value, best
    epoch, epochs waited and stopped epoch to ``state_dir/state.json``, and the best
    weights beside it when they changed since it last wrote them: the state on disk is
    that of the epoch the backup resumes after. At train begin it reads them back if
    ``backup_dir`` holds a backup (this fit is being resumed) and clears them otherwise
    (they belong to an earlier, finished fit).

    Put it before ``BackupAndRestore`` in the callback list: this state is then written
    before the backup that marks an epoch done, so a kill between the two makes the rerun
    repeat an epoch this callback has already seen (it counts once more towards
    ``patience``) rather than hide one from it. The caller removes ``state_dir`` once the
    fit has returned (``BackupAndRestore`` has then deleted its backup).
    """

    def __init__(self, state_dir, backup_dir, schedule=None, state_model=None, **kwargs):
        """Args: ``state_dir``, a folder of its own; ``backup_dir``, BackupAndRestore's;
        ``schedule``, its ``backup.BackupSchedule`` (None: every epoch); ``state_model``,
        the whole model where the fit trains a part of it (``training.frozen_prefix``):
        the best weights are written as the whole model's, so the state is the same
        whichever part was fitted (as ``backup.ArrayBackupAndRestore``'s); ``kwargs``,
        those of ``keras.callbacks.EarlyStopping``."""
        super().__init__(**kwargs)
        self.state_dir = state_dir
        self.backup_dir = backup_dir
        self.schedule = schedule
        self.state_model = state_model
        self._written_weights = None  # the best weights last written to state_dir

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self._written_weights = None
        if not os.path.isdir(self.backup_dir):
            shutil.rmtree(self.state_dir, ignore_errors=True)
        elif self._load():
            logging.info("resuming early stopping: best %s %.4f at epoch %d, waited %d",
                         self.monitor, self.best, self.best_epoch + 1, self.wait)
        else:
            logging.warning("%s holds a backup but %s no early-stopping state; early "
                            "stopping starts afresh", self.backup_dir, self.state_dir)

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch, logs)
        if self.schedule is None or self.schedule.due(epoch):
            self._save(epoch, weights_changed=self.best_weights is not self._written_weights)
            self._written_weights = self.best_weights

    def _save(self, epoch, weights_changed):
        os.makedirs(self.state_dir, exist_ok=True)
        weights_file = None
        if self.best_weights is not None:
            weights_file = f"{WEIGHTS_PREFIX}{self.best_epoch:05d}.npz"
            if weights_changed:
                whole = self._as_whole(self.best_weights)
                files.write_atomically(os.path.join(self.state_dir, weights_file),
                                       lambda handle: np.savez(handle, *whole))
        state = {"epoch": epoch, "best": None if self.best is None else float(self.best),
                 "best_epoch": self.best_epoch, "wait": self.wait,
                 "stopped_epoch": self.stopped_epoch, "weights": weights_file}
        files.write_atomically(os.path.join(self.state_dir, STATE_FILE),
                          lambda handle: handle.write(json.dumps(state).encode()))
        if weights_changed:  # only now is the previous best no longer referenced
            for path in glob.glob(os.path.join(self.state_dir, WEIGHTS_PREFIX + "*")):
                if os.path.basename(path) != weights_file:
                    os.remove(path)

    def _as_whole(self, weights):
        """The fitted model's ``weights`` as ``state_model``'s (its other variables, the
        frozen prefix's, as they are: they do not change during the fit)."""
        if self.state_model is None or self.state_model is self.model:
            return weights
        fitted = {id(variable): value for variable, value in zip(self.model.weights, weights)}
        return [fitted.get(id(variable), variable.numpy())
                for variable in self.state_model.weights]

    def _as_fitted(self, weights):
        """``state_model``'s ``weights`` (``_as_whole``) as the fitted model's."""
        if self.state_model is None or self.state_model is self.model:
            return weights
        whole = {id(variable): value
                 for variable, value in zip(self.state_model.weights, weights, strict=True)}
        return [whole[id(variable)] for variable in self.model.weights]

    def _load(self):
        """Restores the state written by ``_save``; False where there is none."""
        path = os.path.join(self.state_dir, STATE_FILE)
        if not os.path.isfile(path):
            return False
        with open(path) as handle:
            state = json.load(handle)
        self.best = state["best"]
        self.best_epoch = state["best_epoch"]
        self.wait = state["wait"]
        self.stopped_epoch = state["stopped_epoch"]
        if state["weights"]:
            with np.load(os.path.join(self.state_dir, state["weights"])) as arrays:
                self.best_weights = self._as_fitted(
                    [arrays[f"arr_{i}"] for i in range(len(arrays.files))])
        self._written_weights = self.best_weights
        return self.best is not None
