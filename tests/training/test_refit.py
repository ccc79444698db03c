"""``--refit``: a fresh head on train+valid songs for the epochs early stopping chose.

The valid songs are labelled against the train songs' rule (feature 0 high means the
other class there), so validation loss is lowest after the first epoch and early
stopping keeps 1 epoch of ``EPOCHS``; their feature 1 is 4 where the train songs' is
±1, so a standardisation adapted to train+valid has mean 4/3 there, one adapted to the
train songs only 0.
"""

import csv
import dataclasses
import os

import numpy as np
import tensorflow as tf

from genre_tf import systems
from genre_tf.data import examples as examples_lib
from genre_tf.data import splits
from genre_tf.models import heads
from genre_tf.training import experiment, seeding, trainer

EPOCHS, PATIENCE = 20, 3
CONFIG = trainer.TrainConfig(learning_rate=0.05, epochs=EPOCHS, batch_size=4,
                             patience=PATIENCE, log_every_epochs=0, refit=True)
TRAIN, VALID = np.asarray([0, 1, 4, 5]), np.asarray([2, 6])


def _rows():
    """8 one-row songs of classes a (0-3) and b (4-7); songs 2 and 6 are the valid ones."""
    features = np.asarray([[0, 1], [0, -1], [5, 4], [0, 1],
                           [5, 1], [5, -1], [0, 4], [5, -1]], np.float32)
    n = len(features)
    return examples_lib.RowExamples(
        features, np.arange(n), np.full(n, examples_lib.SONG), np.full(n, -1),
        [f"{'ab'[i // 4]}/{'ab'[i // 4]}.{i:05d}" for i in range(n)], np.arange(n) // 4,
        ["a", "b"])


def _history_epochs(work_dir):
    with open(os.path.join(work_dir, "history.csv")) as handle:
        return [int(row["epoch"]) for row in csv.DictReader(handle)]


def _standardize_mean(model):
    return model.get_layer("standardize").mean.numpy().ravel()


class RefitTest(tf.test.TestCase):

    def setUp(self):
        super().setUp()
        seeding.seed_run(0)  # as run_experiment (training.seeding)
        self.system = systems.System(systems.SystemConfig(
            "mlp", None, heads.DenseHead(hidden_units=(4,), dropout=0.0)))
        self.split = splits.Split("split_0", TRAIN, VALID, np.asarray([3, 7]))

    def _train(self, config, work_dir):
        return experiment.train_split(self.system, _rows(), self.split, config, work_dir,
                                      seed=0)

    def test_refit_trains_on_valid_songs_for_the_chosen_epochs(self):
        work_dir = self.get_temp_dir()
        model = self._train(CONFIG, work_dir)

        # Early-stopped fit: best epoch 1, stopped PATIENCE epochs later.
        self.assertEqual(_history_epochs(work_dir), list(range(PATIENCE + 1)))
        refit_dir = os.path.join(work_dir, experiment.REFIT_DIR)
        self.assertEqual(_history_epochs(refit_dir), [0])  # 1 epoch, not EPOCHS
        # The model returned is the refit one: standardised on train+valid songs.
        self.assertAllClose(_standardize_mean(model), [15 / 6, 4 / 3], atol=1e-5)

    def test_without_refit_the_head_sees_train_songs_only(self):
        work_dir = self.get_temp_dir()
        model = self._train(dataclasses.replace(CONFIG, refit=False), work_dir)
        self.assertAllClose(_standardize_mean(model), [2.5, 0.0], atol=1e-5)
        self.assertFalse(os.path.exists(os.path.join(work_dir, experiment.REFIT_DIR)))

    def test_refit_without_patience_trains_every_epoch_on_train_and_valid(self):
        work_dir = self.get_temp_dir()
        model = self._train(dataclasses.replace(CONFIG, patience=0, epochs=2), work_dir)
        self.assertFalse(os.path.exists(os.path.join(work_dir, "history.csv")))
        self.assertEqual(_history_epochs(os.path.join(work_dir, experiment.REFIT_DIR)),
                         [0, 1])
        self.assertAllClose(_standardize_mean(model), [15 / 6, 4 / 3], atol=1e-5)

    def test_interrupted_refit_resumes_without_the_early_stopped_fit(self):
        work_dir = self.get_temp_dir()
        experiment.report.write_json(
            os.path.join(work_dir, experiment.REFIT_DIR, experiment.CHOSEN_EPOCHS_FILE),
            {"epochs": 3})
        self._train(CONFIG, work_dir)
        self.assertFalse(os.path.exists(os.path.join(work_dir, "history.csv")))
        self.assertEqual(_history_epochs(os.path.join(work_dir, experiment.REFIT_DIR)),
                         [0, 1, 2])


if __name__ == "__main__":
    tf.test.main()
