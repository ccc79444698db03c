"""A finished split is reused only for the same songs, settings and *content*."""

import os

import numpy as np
import tensorflow as tf
from absl import logging

from genre_tf import config, systems
from genre_tf.data import splits
from genre_tf.models import heads
from genre_tf.training import experiment, trainer
from tests import fixtures


class SplitReuseTest(tf.test.TestCase):

    def setUp(self):
        super().setUp()
        verbosity = logging.get_verbosity()  # other tests may have lowered it
        logging.set_verbosity(logging.INFO)
        self.addCleanup(logging.set_verbosity, verbosity)
        self.system = systems.System(systems.SystemConfig(
            "mlp", None, heads.DenseHead(hidden_units=(4,))))
        self.run = config.RunConfig(
            system=self.system.config, data=config.DataConfig(),
            output_dir=self.get_temp_dir(),
            training=trainer.TrainConfig(epochs=2, patience=0, log_every_epochs=0,
                                         batch_size=4))
        self.split = splits.Split("split_0", np.asarray([1, 2, 3, 5, 6, 7]),
                                  np.asarray([], np.int64), np.asarray([0, 4]))

    def test_data_digest_follows_content_not_names(self):
        same, again, changed = fixtures.two_class_rows(0.0), fixtures.two_class_rows(0.0), fixtures.two_class_rows(1.0)
        songs = np.arange(8)
        self.assertEqual(same.data_digest(songs), again.data_digest(songs))
        self.assertNotEqual(same.data_digest(songs), changed.data_digest(songs))
        self.assertEqual(same.data_digest(songs[1:]), changed.data_digest(songs[1:]))

    def test_rerun_on_changed_audio_with_the_same_names_trains_again(self):
        first = experiment.run_split(self.system, fixtures.two_class_rows(0.0), self.split, 0, self.run)
        with self.assertLogs(level="INFO") as logs:
            reused = experiment.run_split(self.system, fixtures.two_class_rows(0.0), self.split, 0, self.run)
        self.assertTrue(any("already done" in line for line in logs.output))
        self.assertEqual(reused["identity"], first["identity"])
        with self.assertLogs(level="INFO") as logs:
            fresh = experiment.run_split(self.system, fixtures.two_class_rows(3.0), self.split, 0, self.run)
        self.assertFalse(any("already done" in line for line in logs.output))
        self.assertTrue(any("holds another split" in line for line in logs.output))
        self.assertNotEqual(fresh["identity"]["data"], first["identity"]["data"])
        self.assertTrue(os.path.isfile(os.path.join(self.run.output_dir, "split_0",
                                                    "result.json")))


if __name__ == "__main__":
    tf.test.main()
