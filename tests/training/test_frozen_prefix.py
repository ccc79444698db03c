"""A head whose standardisation is applied once per fit trains as the whole model does.

``trainer.fit`` fits the layers after a head's frozen prefix on the prefix's output,
computed once, where the head trains on one batch held in memory
(``training.frozen_prefix``). The same steps on the same rows: the losses and weights
must be those of the whole model fitted pass by pass (forced here by making
``applies`` answer False), with dropout, validation and XLA's padding.
"""

import contextlib
import dataclasses
import os
from unittest import mock

import keras
import numpy as np
import tensorflow as tf

from genre_tf.data import examples
from genre_tf.models import mlp, standardize
from genre_tf.training import backup, compiled_heads, frozen_prefix, trainer

CONFIG = trainer.TrainConfig(learning_rate=0.05, epochs=12, batch_size=4096, patience=0,
                             log_every_epochs=0, epochs_per_call=4)


def _rows(seed, n=120):
    rng = np.random.default_rng(seed)
    x = (5.0 + 3.0 * rng.standard_normal((n, 6))).astype(np.float32)
    y = (np.digitize(x[:, 0], [3.0, 7.0])).astype(np.int64)
    return x, y


def _head(x, seed):
    keras.utils.set_random_seed(seed)
    return mlp.build_mlp(6, 3, x, hidden_units=(8,), dropout=0.3)


def _fit(model, x, y, work_dir, config=CONFIG, valid=None, heads=None):
    """``trainer.fit`` on the one full batch of ``(x, y)``; returns the History and
    how many times the prefix was applied to a training set."""
    with mock.patch.object(frozen_prefix, "prefixed", wraps=frozen_prefix.prefixed) as spy:
        history = trainer.fit(model, examples.shuffled_batches((x, y), 4096, 0),
                              valid, config, work_dir, heads=heads)
    return history, spy.call_count


class FrozenPrefixFitTest(tf.test.TestCase):

    def test_the_part_on_prefixed_rows_trains_as_the_whole_model(self):
        x, y = _rows(0)
        valid_x, valid_y = _rows(1, n=40)
        valid = tf.data.Dataset.from_tensor_slices((valid_x, valid_y)).batch(16)
        for name, config in (("plain", CONFIG),
                             ("xla", dataclasses.replace(CONFIG, jit_compile=True))):
            with self.subTest(name):
                work = os.path.join(self.get_temp_dir(), name)
                part, applied = _fit(_head(x, 3), x, y, os.path.join(work, "part"),
                                     config, valid)
                with mock.patch.object(frozen_prefix, "applies", return_value=False):
                    whole, not_applied = _fit(_head(x, 3), x, y,
                                              os.path.join(work, "whole"), config, valid)
                self.assertEqual((applied, not_applied), (1, 0))
                for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
                    self.assertAllClose(part.history[key], whole.history[key], rtol=1e-5,
                                        msg=key)
                self.assertGreater(part.history["loss"][0], part.history["loss"][-1])
                for mine, theirs in zip(part.model.variables, whole.model.variables,
                                        strict=True):
                    self.assertAllClose(mine, theirs, rtol=1e-5, atol=1e-6)
                # The model returned is the whole one: raw rows in, standardised inside.
                self.assertIsInstance(part.model.layers[1], standardize.Standardize)
                self.assertAllClose(part.model.predict(valid_x, verbose=0),
                                    whole.model.predict(valid_x, verbose=0), atol=1e-5)

    def test_a_twin_trains_its_part_once_compiled_for_every_head(self):
        """Two heads on one ``CompiledHeads``: one whole twin, one compiled part, and
        the second head's losses are those of the second head fitted alone."""
        first_x, first_y = _rows(2)
        second_x, second_y = _rows(3, n=100)
        second_x = second_x * 2.0 - 4.0  # other statistics for its standardisation
        work = self.get_temp_dir()
        alone, _ = _fit(_head(second_x, 7), second_x, second_y, os.path.join(work, "alone"))
        heads = compiled_heads.CompiledHeads()
        first, _ = _fit(_head(first_x, 5), first_x, first_y, os.path.join(work, "a"),
                        heads=heads)
        second, applied = _fit(_head(second_x, 7), second_x, second_y,
                               os.path.join(work, "b"), heads=heads)
        self.assertEqual(applied, 1)
        self.assertIs(second.model, first.model)
        self.assertLen(heads._twins, 1)  # pylint: disable=protected-access
        self.assertAllClose(second.history["loss"], alone.history["loss"], rtol=1e-5)
        self.assertAllClose(second.model.predict(second_x, verbose=0),
                            alone.model.predict(second_x, verbose=0), atol=1e-5)

    def test_a_fit_interrupted_on_one_path_resumes_on_the_other(self):
        """Backups and early stopping's best weights hold the whole model's state, so a
        split interrupted where the prefix path applies resumes where it does not (one
        worker under another ``--distribution``), and the other way round, to the
        weights of the uninterrupted fit."""
        x, y = _rows(5)
        valid_x, valid_y = _rows(6, n=40)
        valid = tf.data.Dataset.from_tensor_slices((valid_x, valid_y)).batch(64)
        config = dataclasses.replace(CONFIG, epochs=16, patience=8, epochs_per_call=2)
        self.enter_context(mock.patch.object(backup, "BACKUP_SECONDS", 0.0))
        uninterrupted, _ = _fit(_head(x, 3), x, y,
                                os.path.join(self.get_temp_dir(), "whole_run"), config, valid)
        off = mock.patch.object(frozen_prefix, "applies", return_value=False)
        for name, first, second in (("part then whole", None, off),
                                    ("whole then part", off, None)):
            with self.subTest(name):
                work = os.path.join(self.get_temp_dir(), name.replace(" ", "_"))
                callbacks = trainer.training_callbacks
                stop = mock.patch.object(
                    trainer, "training_callbacks", lambda *a, **k: callbacks(*a, **k) + [
                        _InterruptAtEpoch(3)])
                with stop, (first or contextlib.nullcontext()):
                    with self.assertRaises(KeyboardInterrupt):
                        _fit(_head(x, 3), x, y, work, config, valid)
                self.assertEqual(backup.backed_up_epoch(os.path.join(work, "backup")), 3)
                with second or contextlib.nullcontext():
                    resumed, _ = _fit(_head(x, 3), x, y, work, config, valid)
                self.assertEqual(resumed.chosen_epochs, uninterrupted.chosen_epochs)
                for mine, theirs in zip(resumed.model.variables,
                                        uninterrupted.model.variables, strict=True):
                    self.assertAllClose(mine, theirs, rtol=1e-5, atol=1e-6)

    def test_minibatches_train_the_whole_model(self):
        x, y = _rows(4)
        with mock.patch.object(frozen_prefix, "prefixed",
                               wraps=frozen_prefix.prefixed) as spy:
            trainer.fit(_head(x, 1), examples.shuffled_batches((x, y), 32, 0), None,
                        dataclasses.replace(CONFIG, batch_size=32, epochs_per_call=1,
                                            epochs=2),
                        self.get_temp_dir())
        self.assertEqual(spy.call_count, 0)


class _InterruptAtEpoch(keras.callbacks.Callback):
    """Raises KeyboardInterrupt (Ctrl-C) as ``epoch`` starts."""

    def __init__(self, epoch):
        super().__init__()
        self.interrupt_epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.interrupt_epoch:
            raise KeyboardInterrupt


class SplitOfTest(tf.test.TestCase):

    def test_a_standardised_head_splits_after_its_standardisation(self):
        x, _ = _rows(0)
        model = _head(x, 0)
        split = frozen_prefix.split_of(model)
        self.assertEqual([layer.name for layer in split.prefix], ["standardize"])
        self.assertIs(frozen_prefix.split_of(model), split)  # built once per model
        self.assertAllClose(split.trained_part(split.apply(x[:5])), model(x[:5]),
                            atol=1e-6)
        self.assertEqual(
            [layer.name for layer in split.trained_part.layers
             if not isinstance(layer, keras.layers.InputLayer)],
            ["hidden", "dropout", "probabilities"])

    def test_no_split_without_a_frozen_prefix_or_with_a_skip_connection(self):
        x, _ = _rows(0)
        inputs = keras.Input((6,))
        unstandardised = keras.Model(inputs, keras.layers.Dense(3)(inputs))
        scale = standardize.Standardize()
        scale.adapt(x)
        standardised = scale(inputs)
        skip = keras.Model(inputs, keras.layers.Dense(3)(
            keras.layers.Concatenate()([standardised, inputs])))
        only_prefix = keras.Model(inputs, standardised)
        for name, model in (("no prefix", unstandardised), ("skip", skip),
                            ("only a prefix", only_prefix)):
            with self.subTest(name):
                self.assertIsNone(frozen_prefix.split_of(model))
