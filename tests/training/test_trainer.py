"""What ``trainer.fit`` does to its data before Keras sees it, and what it prints."""

import contextlib
import dataclasses
import io
import os
from unittest import mock

import keras
import numpy as np
import tensorflow as tf
from tensorboard.backend.event_processing import event_accumulator

from genre_tf.training import distribute, trainer, validation


class HeldValidationTest(tf.test.TestCase):

    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(0)
        self.x = rng.standard_normal((23, 5)).astype(np.float32)
        self.y = np.arange(23) % 3
        self.batches = tf.data.Dataset.from_tensor_slices((self.x, self.y)).batch(4)

    def test_small_validation_data_becomes_one_batch_of_the_same_rows_in_order(self):
        x, y = validation.held_rows(self.batches)
        self.assertAllEqual(x, self.x)
        self.assertAllEqual(y, self.y)

    def test_large_validation_data_is_not_held(self):
        self.assertIsNone(validation.held_rows(self.batches, limit_bytes=100))

    def test_held_validation_logs_what_keras_validation_logs(self):
        """The same val_loss (regularisation included) and val_accuracy, every epoch,
        as ``fit(validation_data=...)`` on the same rows; and the same training."""
        data = tf.data.Dataset.from_tensor_slices(
            (self.x, (self.x[:, 0] > 0).astype(np.int64)))

        def fitted(held):
            keras.utils.set_random_seed(0)
            model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(
                3, "softmax", kernel_regularizer=keras.regularizers.L2(0.1))])
            model.compile(keras.optimizers.Adam(0.05), "sparse_categorical_crossentropy",
                          metrics=["accuracy"])
            rows = validation.held_rows(self.batches)
            history = model.fit(data.batch(8), epochs=4, verbose=0,
                                validation_data=None if held else self.batches,
                                callbacks=[validation.BatchValidation(rows)] if held
                                else [])
            return history.history

        held, keras_own = fitted(True), fitted(False)
        self.assertEqual(sorted(held), sorted(keras_own))
        for name in ("loss", "val_loss", "val_accuracy"):
            self.assertAllClose(held[name], keras_own[name], rtol=1e-6, atol=0)
        self.assertGreater(held["val_loss"][0] - held["val_loss"][-1], 0.05)

    def test_one_worker_runs_a_whole_epoch_per_call(self):
        self.assertEqual(trainer.epoch_steps(distribute.Distribution()),
                         trainer.WHOLE_EPOCH)
        self.assertEqual(trainer.epoch_steps(distribute.Distribution(), 17), 17)


def _tiny_problem(seed):
    """64 rows of 4 features labelled by the sign of the first; a softmax on them."""
    x = np.random.default_rng(seed).standard_normal((64, 4)).astype(np.float32)
    data = tf.data.Dataset.from_tensor_slices((x, (x[:, 0] > 0).astype(np.int64)))
    return data, keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, "softmax")])


class TracedOnceTest(tf.test.TestCase):

    def test_a_new_model_traces_its_training_step_once(self):
        """Keras built the compiled metrics inside the first trace, and a tf.function
        that creates variables is traced again: two traces per compiled model."""
        from keras.src.backend.tensorflow import trainer as tf_trainer  # pylint: disable=import-outside-toplevel
        traced = []
        step = tf_trainer.TensorFlowTrainer.train_step

        def counted(model, data):
            traced.append(model.name)
            return step(model, data)
        for name, config in (("plain", trainer.TrainConfig(epochs=2, batch_size=16,
                                                           patience=0, log_every_epochs=0)),
                             ("xla", trainer.TrainConfig(epochs=2, batch_size=16,
                                                         patience=0, log_every_epochs=0,
                                                         jit_compile=True))):
            with self.subTest(name):
                traced.clear()
                data, model = _tiny_problem(1)
                with mock.patch.object(tf_trainer.TensorFlowTrainer, "train_step",
                                       counted):
                    history = trainer.fit(model, data.batch(16), None, config,
                                          os.path.join(self.get_temp_dir(), name))
                self.assertLen(traced, 1)
                self.assertLen(history.history["loss"], 2)


class KerasOutputTest(tf.test.TestCase):

    def test_keras_logging_is_one_short_line_per_epoch(self):
        """With an epoch per call, Keras' progress bar drew ~2**20 / batches bar
        characters per update: gigabytes of captured output in a 40-epoch test run."""
        data, model = _tiny_problem(0)
        config = trainer.TrainConfig(learning_rate=0.01, epochs=3, batch_size=16,
                                     patience=0, log_every_epochs=0)
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            trainer.fit(model, data.batch(16), data.batch(16), config,
                        self.get_temp_dir())
        lines = [line for line in printed.getvalue().splitlines() if "loss" in line]
        self.assertLen(lines, 3)
        self.assertLess(len(printed.getvalue()), 3000)


class EpochLogsTest(tf.test.TestCase):

    def test_tensorboard_and_history_hold_every_epochs_losses(self):
        data, model = _tiny_problem(1)
        config = trainer.TrainConfig(learning_rate=0.05, epochs=3, batch_size=16,
                                     patience=0, log_every_epochs=100)
        work_dir = self.get_temp_dir()
        history = trainer.fit(model, data.batch(16), data.batch(16), config, work_dir)
        for folder, prefix in (("train", ""), ("validation", "val_")):
            events = event_accumulator.EventAccumulator(
                os.path.join(work_dir, "logs", folder))
            events.Reload()
            scalars = events.Scalars("epoch_loss")
            self.assertEqual([scalar.step for scalar in scalars], [0, 1, 2])
            self.assertAllClose([scalar.value for scalar in scalars],
                                history.history[prefix + "loss"], rtol=1e-6)
        self.assertIn("epoch_learning_rate",
                      _scalar_tags(os.path.join(work_dir, "logs", "train")))
        with open(os.path.join(work_dir, "history.csv")) as handle:
            self.assertLen(handle.read().splitlines(), 4)  # a header and 3 epochs


class EpochsPerCallTest(tf.test.TestCase):

    def test_epoch_counts_become_whole_calls(self):
        config = trainer.TrainConfig(epochs=300, patience=50, lr_decay_every=40,
                                     log_every_epochs=10, epochs_per_call=25)
        calls = trainer.in_calls(config)
        self.assertEqual((calls.epochs, calls.patience, calls.lr_decay_every,
                          calls.log_every_epochs, calls.epochs_per_call),
                         (12, 2, 2, 1, 1))
        one_pass = trainer.TrainConfig(epochs=300)
        self.assertIs(trainer.in_calls(one_pass), one_pass)

    def _fitted(self, epochs_per_call, patience=0):
        data, model = _tiny_problem(2)
        keras.utils.set_random_seed(3)
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, "softmax")])
        config = trainer.TrainConfig(learning_rate=0.05, epochs=6, batch_size=16,
                                     patience=patience, log_every_epochs=0,
                                     epochs_per_call=epochs_per_call)
        work_dir = self.get_temp_dir() + f"/k{epochs_per_call}p{patience}"
        batches = data.shuffle(64, seed=4).batch(16)
        history = trainer.fit(model, batches, data.batch(16), config, work_dir)
        with open(os.path.join(work_dir, "history.csv")) as handle:
            rows = len(handle.read().splitlines()) - 1
        return history, rows

    def test_several_passes_per_call_train_the_same_weights_in_fewer_epochs(self):
        """Without early stopping the same steps run on the same batches: 6 passes in
        2 calls of 3 leave the weights of 6 calls of 1, with 2 history rows."""
        one, one_rows = self._fitted(1)
        three, three_rows = self._fitted(3)
        self.assertEqual((one_rows, three_rows), (6, 2))
        self.assertEqual((one.chosen_epochs, three.chosen_epochs), (6, 6))
        for a, b in zip(one.model.get_weights(), three.model.get_weights()):
            self.assertAllClose(a, b, rtol=1e-5, atol=1e-6)
        # The row of a call is the mean of its passes' losses (Keras' running mean).
        self.assertAllClose(three.history["loss"][1],
                            np.mean(one.history["loss"][3:]), rtol=0.02)

    def test_early_stopping_keeps_whole_calls(self):
        history, _ = self._fitted(3, patience=1)
        self.assertIn(history.chosen_epochs, (3, 6))


class LearningRateRecorder(keras.callbacks.Callback):
    """The optimizer's learning rate at the end of every Keras epoch."""

    def on_train_begin(self, logs=None):
        self.rates = []

    def on_epoch_end(self, epoch, logs=None):
        self.rates.append(float(keras.ops.convert_to_numpy(
            self.model.optimizer.learning_rate)))


class CosineScheduleTest(tf.test.TestCase):

    def _rates(self, epochs_per_call, warmup=2):
        """Rates after each call: 6 passes of 2 batches, warm-up over ``warmup``."""
        data, model = _tiny_problem(5)
        config = trainer.TrainConfig(learning_rate=0.1, epochs=6, batch_size=32,
                                     patience=0, log_every_epochs=0, lr_schedule="cosine",
                                     lr_warmup_epochs=warmup,
                                     epochs_per_call=epochs_per_call)
        recorder = LearningRateRecorder()
        callbacks = trainer.training_callbacks
        with mock.patch.object(trainer, "training_callbacks",
                               lambda *a, **k: callbacks(*a, **k) + [recorder]):
            trainer.fit(model, data.batch(32), None, config,
                        os.path.join(self.get_temp_dir(), f"k{epochs_per_call}w{warmup}"))
        return recorder.rates

    def test_warm_up_then_cosine_decay_to_zero_counted_in_passes(self):
        """Warm-up over 2 passes (4 steps) to 0.1, then half a cosine over the other 4
        passes (8 steps): after pass 1 (step 2) 0.05, pass 2 0.1, pass 4 (4 of 8 decay
        steps) 0.05, pass 6 0; the same rates per step however many passes a call."""
        expected = [0.05, 0.1, 0.1 * (1 + np.cos(np.pi / 4)) / 2, 0.05,
                    0.1 * (1 + np.cos(3 * np.pi / 4)) / 2, 0.0]
        self.assertAllClose(self._rates(1), expected, atol=1e-6)
        self.assertAllClose(self._rates(3), expected[2::3], atol=1e-6)
        self.assertAllClose(self._rates(1, warmup=0)[:2],
                            [0.1 * (1 + np.cos(np.pi * k / 6)) / 2 for k in (1, 2)],
                            atol=1e-6)

    def test_cosine_needs_known_batches(self):
        config = trainer.TrainConfig(lr_schedule="cosine")
        with self.assertRaisesRegex(ValueError, "lr_schedule=step"):
            trainer.compile_model(_tiny_problem(0)[1], config)

    def test_compile_identity_says_what_the_schedule_reads(self):
        step = trainer.TrainConfig(learning_rate=0.1, epochs=50, lr_decay_every=25)
        self.assertEqual(trainer.compile_identity(step, 1),
                         trainer.compile_identity(
                             dataclasses.replace(step, epochs=20, patience=0), 1))
        cosine = dataclasses.replace(step, lr_schedule="cosine", lr_warmup_epochs=5)
        identities = {trainer.compile_identity(c, 1) for c in (
            step, cosine, dataclasses.replace(cosine, epochs=75),
            dataclasses.replace(cosine, lr_warmup_epochs=10),
            dataclasses.replace(cosine, jit_compile=True))}
        self.assertLen(identities, 5)


class JitCompileTest(tf.test.TestCase):

    def test_xla_step_trains_the_weights_of_the_plain_step(self):
        """Full batch (one cached batch of 64 rows, padded to 128 under XLA), 3 passes
        in a call, cosine: XLA and the padding change the speed of a step, not its
        result (to float rounding)."""
        weights, accuracies = [], []
        for jit in (False, True):
            data, _ = _tiny_problem(6)
            keras.utils.set_random_seed(2)
            model = keras.Sequential([keras.Input((4,)),
                                      keras.layers.Dense(3, "softmax")])
            config = trainer.TrainConfig(learning_rate=0.1, epochs=6, batch_size=64,
                                         patience=0, log_every_epochs=0,
                                         lr_schedule="cosine", lr_warmup_epochs=2,
                                         epochs_per_call=3, jit_compile=jit)
            self.assertEqual(trainer.pads_full_batch(
                model, data.batch(64), config, distribute.Distribution()), jit)
            history = trainer.fit(model, data.batch(64).cache(), None, config,
                                  os.path.join(self.get_temp_dir(), f"jit{jit}"))
            self.assertEqual(history.model.jit_compile, jit)
            weights.append(history.model.get_weights())
            accuracies.append(history.history["accuracy"])
        self.assertGreater(np.abs(weights[0][0]).max(), 0.1)  # it did train
        for plain, xla in zip(*weights):
            self.assertAllClose(plain, xla, rtol=1e-4, atol=1e-5)
        # The padding rows (weight 0) do not count in the accuracy either.
        self.assertAllClose(accuracies[0], accuracies[1], atol=1e-6)


class PaddedFullBatchTest(tf.test.TestCase):

    def test_rows_padded_to_the_multiple_with_weights_that_keep_the_mean(self):
        shapes, full = set(), trainer.XLA_BATCH_ROWS
        for rows in (10, 13):
            x = np.arange(rows * 3, dtype=np.float32).reshape(rows, 3) + 1
            y = np.arange(rows) % 4
            batch = tf.data.Dataset.range(rows).batch(rows).map(
                lambda picked, x=x, y=y: (tf.gather(x, picked), tf.gather(y, picked)))
            padded = trainer.padded_full_batch(batch)
            self.assertEqual(padded.element_spec[0].shape.as_list(), [None, 3])
            got_x, got_y, weights = next(iter(padded))
            shapes.add(tuple(got_x.shape))
            self.assertAllEqual(got_x[:rows], x)
            self.assertAllEqual(got_x[rows:], np.zeros((full - rows, 3)))
            self.assertAllEqual(got_y[:rows], y)
            self.assertAllClose(weights, [full / rows] * rows + [0.0] * (full - rows))
            # A mean loss over the padded rows, weighted, is the mean over the real rows.
            losses = np.concatenate([y + 0.5, np.full(full - rows, 9.0)])
            self.assertAllClose(np.sum(weights * losses) / full, np.mean(y + 0.5))
        self.assertEqual(shapes, {(full, 3)})

    def test_only_an_xla_full_batch_of_rows_without_batch_norm_is_padded(self):
        data, model = _tiny_problem(0)
        one = distribute.Distribution()
        xla = trainer.TrainConfig(jit_compile=True)
        self.assertTrue(trainer.pads_full_batch(model, data.batch(64), xla, one))
        self.assertFalse(trainer.pads_full_batch(model, data.batch(16), xla, one))
        self.assertFalse(trainer.pads_full_batch(model, data.batch(64),
                                                 trainer.TrainConfig(), one))
        normed = keras.Sequential([keras.Input((4,)), keras.layers.BatchNormalization(),
                                   keras.layers.Dense(2, "softmax")])
        self.assertFalse(trainer.pads_full_batch(normed, data.batch(64), xla, one))


def _scalar_tags(folder):
    events = event_accumulator.EventAccumulator(folder)
    events.Reload()
    return events.Tags()["scalars"]


if __name__ == "__main__":
    tf.test.main()
