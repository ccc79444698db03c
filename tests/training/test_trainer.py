"""What ``trainer.fit`` does to its data before Keras sees it, and what it prints."""

import contextlib
import io

import keras
import numpy as np
import tensorflow as tf

from genre_tf.training import distribute, trainer


class ValidationBatchTest(tf.test.TestCase):

    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(0)
        self.x = rng.standard_normal((23, 5)).astype(np.float32)
        self.y = np.arange(23) % 3
        self.batches = tf.data.Dataset.from_tensor_slices((self.x, self.y)).batch(4)

    def test_small_validation_data_becomes_one_batch_of_the_same_rows_in_order(self):
        joined = list(trainer.validation_batch(self.batches, distribute.Distribution()))
        self.assertLen(joined, 1)
        x, y = joined[0]
        self.assertAllEqual(x, self.x)
        self.assertAllEqual(y, self.y)

    def test_large_validation_data_stays_as_it_is(self):
        limit = trainer.VALIDATION_BATCH_BYTES
        trainer.VALIDATION_BATCH_BYTES = 100  # fewer bytes than two batches hold
        self.addCleanup(setattr, trainer, "VALIDATION_BATCH_BYTES", limit)
        kept = trainer.validation_batch(self.batches, distribute.Distribution())
        self.assertIs(kept, self.batches)
        self.assertIsNone(trainer.validation_batch(None, distribute.Distribution()))

    def test_one_worker_runs_a_whole_epoch_per_call(self):
        self.assertEqual(trainer.epoch_steps(distribute.Distribution()),
                         trainer.WHOLE_EPOCH)


class KerasOutputTest(tf.test.TestCase):

    def test_keras_logging_is_one_short_line_per_epoch(self):
        """With an epoch per call, Keras' progress bar drew ~2**20 / batches bar
        characters per update: gigabytes of captured output in a 40-epoch test run."""
        rng = np.random.default_rng(0)
        x = rng.standard_normal((64, 4)).astype(np.float32)
        data = tf.data.Dataset.from_tensor_slices((x, (x[:, 0] > 0).astype(np.int64)))
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, "softmax")])
        config = trainer.TrainConfig(learning_rate=0.01, epochs=3, batch_size=16,
                                     patience=0, log_every_epochs=0)
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            trainer.fit(model, data.batch(16), data.batch(16), config,
                        self.get_temp_dir())
        lines = [line for line in printed.getvalue().splitlines() if "loss" in line]
        self.assertLen(lines, 3)
        self.assertLess(len(printed.getvalue()), 3000)


if __name__ == "__main__":
    tf.test.main()
