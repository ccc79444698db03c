"""The backup of an interrupted fit, in one small file, at most every few seconds.

Keras' ``BackupAndRestore`` writes ``latest.weights.h5`` through ``saving_lib``, which
walks the model's and the optimizer's whole object graph at every epoch end: on a dense
head whose epoch runs in one call (``trainer.epoch_steps``) that walk was most of the
epoch (cProfile of a musicnn split: 0.6 s of a 3 s epoch under load).
``ArrayBackupAndRestore`` keeps Keras' behaviour (resume at the epoch after the last
backed-up one, delete the backup when the fit ends) and writes the variables as arrays
instead: the model's (seed generators' states included), the optimizer's and the epoch,
one ``.npz`` replaced atomically, so a kill leaves the previous backup or the new one.

``BackupSchedule`` says which epoch ends are backed up: the first, then the first at
least ``BACKUP_SECONDS`` after the last backup. Writing every epoch cost ~10 ms of a
head's ~20-40 ms epoch (more for early stopping's state and TensorBoard's events, which
follow the same schedule), while a CNN's epoch takes minutes: it is still backed up at
every epoch end. A killed fit reruns the epochs after its last backup, as it reran the
epoch it was killed in; whatever else was written for them (history rows, early
stopping's state) is dropped or was never written.
"""

import os
import time

import keras
import numpy as np

from genre_tf import files

BACKUP_FILE = "latest.npz"
_EPOCH = "epoch"
BACKUP_SECONDS = 10.0  # at most this long between backups of a fit (0: every epoch)


class BackupSchedule:
    """Which epoch ends of one fit write a backup (see the module docstring); one
    answer per epoch, the same for every callback that asks."""

    def __init__(self, seconds=None, clock=time.monotonic):
        self.seconds = BACKUP_SECONDS if seconds is None else seconds
        self.clock = clock
        self._epoch = None
        self._due = False
        self._last = None

    def due(self, epoch):
        """Whether the end of ``epoch`` is backed up."""
        if epoch != self._epoch:
            now = self.clock()
            self._epoch = epoch
            self._due = self._last is None or now - self._last >= self.seconds
            if self._due:
                self._last = now
        return self._due


def backed_up_epoch(backup_dir):
    """The epoch a fit resumes at from the backup in ``backup_dir`` (0: none)."""
    path = os.path.join(backup_dir, BACKUP_FILE)
    if not os.path.isfile(path):
        return 0
    with np.load(path) as arrays:
        return int(arrays[_EPOCH])


def _state_variables(model, optimizer):
    """Every variable a resumed fit needs, in an order fixed by the model's structure:
    ``model``'s (the whole model's: ``ArrayBackupAndRestore``) and ``optimizer``'s."""
    return list(model.variables) + list(optimizer.variables)


class ArrayBackupAndRestore(keras.callbacks.BackupAndRestore):
    """``BackupAndRestore`` (epoch backups only, on ``schedule``) with the state in one
    ``.npz``.

    ``state_model``: the whole model when the fit trains a part of it (the layers after
    a frozen prefix, ``training.frozen_prefix``); its variables are backed up, with the
    fitted part's optimizer, so the backup is the same whichever part was fitted (a
    split interrupted under one ``--distribution`` resumes under another)."""

    def __init__(self, backup_dir, schedule=None, state_model=None):
        super().__init__(backup_dir, save_freq="epoch")
        self.backup_path = os.path.join(backup_dir, BACKUP_FILE)
        self.schedule = schedule or BackupSchedule()
        self.state_model = state_model

    def _variables(self):
        return _state_variables(self.state_model or self.model, self.model.optimizer)

    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        if self.schedule.due(epoch):
            self._save_model()

    def on_train_begin(self, logs=None):
        if not os.path.isfile(self.backup_path):
            return
        if not self.model.optimizer.built:  # its variables exist only once built
            self.model.optimizer.build(self.model.trainable_variables)
        variables = self._variables()
        with np.load(self.backup_path) as arrays:
            if len(arrays.files) != len(variables) + 1:
                raise ValueError(f"{self.backup_path} holds {len(arrays.files) - 1} "
                                 f"variables, the model {len(variables)}: not this fit's "
                                 "backup; delete it to start afresh")
            for k, variable in enumerate(variables):
                variable.assign(arrays[f"arr_{k}"])
            self.model._initial_epoch = int(arrays[_EPOCH])  # pylint: disable=protected-access

    def _save_model(self):
        os.makedirs(self.backup_dir, exist_ok=True)
        values = [variable.numpy() for variable in self._variables()]
        files.write_atomically(self.backup_path, lambda handle: np.savez(
            handle, *values, **{_EPOCH: np.int64(self._current_epoch)}))
