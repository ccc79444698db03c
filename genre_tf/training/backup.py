"""The per-epoch backup of an interrupted fit, in one small file.

Keras' ``BackupAndRestore`` writes ``latest.weights.h5`` through ``saving_lib``, which
walks the model's and the optimizer's whole object graph at every epoch end: on a dense
head whose epoch runs in one call (``trainer.epoch_steps``) that walk was most of the
epoch (cProfile of a musicnn split: 0.6 s of a 3 s epoch under load).
``ArrayBackupAndRestore`` keeps Keras' behaviour (resume at the epoch after the last
backed-up one, delete the backup when the fit ends) and writes the variables as arrays
instead: the model's (seed generators' states included), the optimizer's and the epoch,
one ``.npz`` replaced atomically, so a kill leaves the previous backup or the new one.
"""

import os

import keras
import numpy as np

from genre_tf import files

BACKUP_FILE = "latest.npz"
_EPOCH = "epoch"


def _state_variables(model):
    """Every variable a resumed fit needs, in an order fixed by the model's structure."""
    return list(model.variables) + list(model.optimizer.variables)


class ArrayBackupAndRestore(keras.callbacks.BackupAndRestore):
    """``BackupAndRestore`` (epoch backups only) with the state in one ``.npz``."""

    def __init__(self, backup_dir):
        super().__init__(backup_dir, save_freq="epoch")
        self.backup_path = os.path.join(backup_dir, BACKUP_FILE)

    def on_train_begin(self, logs=None):
        if not os.path.isfile(self.backup_path):
            return
        if not self.model.optimizer.built:  # its variables exist only once built
            self.model.optimizer.build(self.model.trainable_variables)
        variables = _state_variables(self.model)
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
        values = [variable.numpy() for variable in _state_variables(self.model)]
        files.write_atomically(self.backup_path, lambda handle: np.savez(
            handle, *values, **{_EPOCH: np.int64(self._current_epoch)}))
