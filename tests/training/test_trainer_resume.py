"""A fit killed with SIGKILL and rerun restores the best weights of the *whole* run.

``BackupAndRestore`` resumes at the last backed-up epoch; early stopping must resume too
(best val_loss, best epoch, best weights, epochs waited), or the weights it restores are
the best of the part after the restart only. The problem: a small dense net on noisy
labels overfits, so val_loss falls to a minimum near epoch 5 and rises after it; the
first process is killed in epoch 9, after the minimum, and a fresh process resumes.
"""

import csv
import dataclasses
import json
import os
import signal
import subprocess
import sys
from unittest import mock

import keras
import numpy as np
import pytest
import tensorflow as tf
from absl import logging

from genre_tf.data import examples
from genre_tf.training import backup, trainer
from tests import fixtures

KILL_EPOCH = 9  # 0-based, as in history.csv; val_loss is past its minimum by then.
CONFIG = trainer.TrainConfig(learning_rate=0.01, epochs=60, batch_size=16, patience=6,
                             log_every_epochs=100)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _noisy_labels(rng, n):
    """Label = sign of feature 0 plus strong noise: little to learn, much to overfit."""
    x = rng.standard_normal((n, 8)).astype(np.float32)
    y = ((x[:, 0] + 1.5 * rng.standard_normal(n)) > 0).astype(np.int64)
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(CONFIG.batch_size)


def _problem():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    train, valid = _noisy_labels(rng, 48), _noisy_labels(rng, 256)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    return model, train, valid


class _KillInEpoch(keras.callbacks.Callback):
    """SIGKILLs this process as ``epoch``'s batches start, after the epoch ends of the
    earlier epochs and before its own: no handler, no cleanup. (An epoch runs in one
    call of the training function, ``trainer.epoch_steps``: its batch hook runs once.)"""

    def __init__(self, epoch):
        super().__init__()
        self.kill_epoch = epoch
        self.epoch = None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if self.epoch == self.kill_epoch and batch == 0:
            os.kill(os.getpid(), signal.SIGKILL)


def fit_in_this_process(work_dir, kill_epoch=None, backup_seconds=0.0):
    """The child process: fits the problem in ``work_dir`` (killed in ``kill_epoch`` if
    given; a backup at the first epoch end, then after ``backup_seconds``, 0: every
    epoch) and writes the val_loss of the weights it ends with to ``restored.json``."""
    logging.set_verbosity(logging.INFO)
    backup.BACKUP_SECONDS = backup_seconds
    model, train, valid = _problem()
    if kill_epoch is not None:
        callbacks = trainer.training_callbacks
        trainer.training_callbacks = lambda *args, **kwargs: callbacks(*args, **kwargs) + [
            _KillInEpoch(kill_epoch)]
    trainer.fit(model, train, valid, CONFIG, work_dir)
    with open(os.path.join(work_dir, "restored.json"), "w") as handle:
        json.dump({"val_loss": model.evaluate(valid, verbose=0, return_dict=True)["loss"]},
                  handle)


def _child(work_dir, kill_epoch=None, backup_seconds=0.0):
    code = ("from tests.training import test_trainer_resume as t; "
            f"t.fit_in_this_process({work_dir!r}, {kill_epoch!r}, {backup_seconds!r})")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=300,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})


def _history(history_path):
    """``[(epoch, val_loss)]``, the rows of history.csv in order."""
    with open(history_path) as handle:
        return [(int(row["epoch"]), float(row["val_loss"])) for row in csv.DictReader(handle)]


class _InterruptInEpoch(_KillInEpoch):
    """Raises KeyboardInterrupt as ``epoch``'s batches start (Ctrl-C, in this process)."""

    def on_train_batch_begin(self, batch, logs=None):
        if self.epoch == self.kill_epoch and batch == 0:
            raise KeyboardInterrupt


def _shuffled_problem():
    """A head with dropout on rows reshuffled every pass (``shuffled_batches``)."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 8)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dropout(0.5),
                              keras.layers.Dense(2, activation="softmax")])
    return model, examples.shuffled_batches((x, y), 16, seed=0)


class ResumeTest(tf.test.TestCase):

    def test_an_interrupted_fit_resumes_to_the_uninterrupted_weights(self):
        """The passes after the backup see the batches, in the order, and the dropout
        masks an uninterrupted fit saw (``trainer.skip_backed_up_epochs``)."""
        config = dataclasses.replace(CONFIG, epochs=8, patience=0)
        self.enter_context(mock.patch.object(backup, "BACKUP_SECONDS", 0.0))
        model, train = _shuffled_problem()
        trainer.fit(model, train, None, config, os.path.join(self.get_temp_dir(), "a"))
        expected = model.get_weights()

        work_dir = os.path.join(self.get_temp_dir(), "b")
        callbacks = trainer.training_callbacks
        with mock.patch.object(trainer, "training_callbacks", lambda *args, **kw: callbacks(
                *args, **kw) + [_InterruptInEpoch(5)]):
            model, train = _shuffled_problem()
            with self.assertRaises(KeyboardInterrupt):
                trainer.fit(model, train, None, config, work_dir)
        self.assertEqual(backup.backed_up_epoch(os.path.join(work_dir, "backup")), 5)
        model, train = _shuffled_problem()
        trainer.fit(model, train, None, config, work_dir)
        for resumed, uninterrupted in zip(model.get_weights(), expected):
            self.assertAllClose(resumed, uninterrupted, atol=1e-6)

    @pytest.mark.slow  # a child process killed mid-fit, then a second one
    def test_killed_fit_resumes_early_stopping_and_restores_best_of_whole_run(self):
        work_dir = os.path.join(self.get_temp_dir(), "killed")
        killed = _child(work_dir, KILL_EPOCH)
        self.assertEqual(killed.returncode, -signal.SIGKILL, killed.stderr[-3000:])
        history_path = os.path.join(work_dir, "history.csv")
        self.assertEqual([epoch for epoch, _ in _history(history_path)],
                         list(range(KILL_EPOCH)))

        resumed = _child(work_dir)
        self.assertEqual(resumed.returncode, 0, resumed.stderr[-3000:])
        rows = _history(history_path)
        epochs = [epoch for epoch, _ in rows]
        self.assertEqual(epochs, list(range(len(rows))))  # every epoch once, in order
        losses = dict(rows)
        best = min(epochs, key=losses.get)
        self.assertLess(best, KILL_EPOCH)  # else restarting early stopping looks right too
        with open(os.path.join(work_dir, "restored.json")) as handle:
            restored = json.load(handle)["val_loss"]
        restored_epoch = min(epochs, key=lambda epoch: abs(losses[epoch] - restored))
        self.assertEqual(restored_epoch, best)
        self.assertAllClose(restored, losses[best], atol=1e-5)
        # Stopped ``patience`` epochs after the best of the whole run, not of the rerun.
        self.assertEqual(epochs[-1], best + CONFIG.patience)
        self.assertIn(f"resuming early stopping: best val_loss {losses[best]:.4f} at epoch "
                      f"{best + 1}, waited {KILL_EPOCH - 1 - best}", resumed.stderr)
        self.assertFalse(os.path.exists(os.path.join(work_dir, "backup")))
        self.assertFalse(os.path.exists(os.path.join(work_dir, "early_stopping")))

    @pytest.mark.slow  # a child process killed mid-fit, then a second one
    def test_killed_fit_resumes_after_its_last_backup_not_its_last_epoch(self):
        """Backed up only at the end of epoch 0 (the next backup would be hours later),
        killed in epoch 9: the rerun resumes at epoch 1 with early stopping's state of
        epoch 0 (not of epoch 8, which it wrote nowhere), drops history rows 1-8 and
        runs them again, and still restores the best weights of the whole run."""
        work_dir = os.path.join(self.get_temp_dir(), "sparse")
        killed = _child(work_dir, KILL_EPOCH, backup_seconds=1e9)
        self.assertEqual(killed.returncode, -signal.SIGKILL, killed.stderr[-3000:])
        history_path = os.path.join(work_dir, "history.csv")
        first_rows = _history(history_path)
        self.assertEqual([epoch for epoch, _ in first_rows], list(range(KILL_EPOCH)))
        self.assertEqual(backup.backed_up_epoch(os.path.join(work_dir, "backup")), 1)

        resumed = _child(work_dir, backup_seconds=1e9)
        self.assertEqual(resumed.returncode, 0, resumed.stderr[-3000:])
        self.assertIn(f"resuming early stopping: best val_loss {first_rows[0][1]:.4f} at "
                      "epoch 1, waited 0", resumed.stderr)
        rows = _history(history_path)
        epochs = [epoch for epoch, _ in rows]
        self.assertEqual(epochs, list(range(len(rows))))  # every epoch once, in order
        self.assertEqual(rows[0], first_rows[0])
        losses = dict(rows)
        best = min(epochs, key=losses.get)
        self.assertGreater(best, 0)  # else a state that never left epoch 0 looks right
        with open(os.path.join(work_dir, "restored.json")) as handle:
            self.assertAllClose(json.load(handle)["val_loss"], losses[best], atol=1e-5)
        self.assertEqual(epochs[-1], best + CONFIG.patience)

    def test_backups_every_few_seconds_and_at_the_first_epoch(self):
        now = [0.0]
        schedule = backup.BackupSchedule(10.0, clock=lambda: now[0])
        due = []
        for epoch in range(8):
            now[0] = 3.0 * epoch  # an epoch every 3 s
            due.append(schedule.due(epoch))
            self.assertEqual(schedule.due(epoch), due[-1])  # one answer per epoch
        self.assertEqual([e for e, d in enumerate(due) if d], [0, 4])  # 0 s, then 12 s
        every_epoch = backup.BackupSchedule(0.0)
        self.assertTrue(all(every_epoch.due(epoch) for epoch in range(3)))

    def test_fresh_fit_ignores_state_left_without_a_backup(self):
        """State of an earlier fit in the folder is not this fit's: it is cleared."""
        work_dir = self.get_temp_dir()
        stale = os.path.join(work_dir, "early_stopping")
        os.makedirs(stale)
        with open(os.path.join(stale, "state.json"), "w") as handle:
            json.dump({"epoch": 50, "best": 0.0, "best_epoch": 3, "wait": 7,
                       "stopped_epoch": 0, "weights": None}, handle)
        fixtures.log_info_during(self)
        model, train, valid = _problem()
        with self.assertLogs(level="INFO") as logs:
            logging.info("fit starts")
            history = trainer.fit(model, train, valid,
                                  dataclasses.replace(CONFIG, epochs=3, patience=2), work_dir)
        self.assertFalse(any("resuming" in line for line in logs.output))
        self.assertLen(history.history["val_loss"], 3)  # a best of 0.0 would have stopped it
        self.assertFalse(os.path.exists(stale))


if __name__ == "__main__":
    tf.test.main()
