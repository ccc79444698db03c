"""Training under tf.distribute on one machine: MirroredStrategy (one replica on a CPU)
builds, compiles and fits a head in its scope and learns what no strategy learns; the
chief rules and the multi-worker shim's scoping. Two real workers: test_multi_worker.py.
"""

import os
import types
from unittest import mock

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras.src.backend.tensorflow import trainer as keras_tf_trainer

from genre_tf import flags as project_flags
from genre_tf import systems
from genre_tf.data import examples, splits
from genre_tf.evaluation import evaluate
from genre_tf.models import heads
from genre_tf.training import distribute, experiment, multi_worker_fit, seeding, trainer

CONFIG = trainer.TrainConfig(learning_rate=0.05, epochs=30, batch_size=8, patience=0,
                             log_every_epochs=0)


def _rows():
    """Two classes of 12 songs, one row each, apart on one feature far from 0 (which
    standardisation must undo)."""
    rng = np.random.default_rng(0)
    labels = np.arange(24) // 12
    features = (100.0 + 2.0 * labels + 0.3 * rng.standard_normal(24)).astype(
        np.float32)[:, np.newaxis]
    n = len(features)
    return examples.RowExamples(
        features, np.arange(n), np.full(n, examples.SONG), np.full(n, -1),
        [f"{'ab'[c]}/{'ab'[c]}.{i:05d}" for i, c in enumerate(labels)], labels, ["a", "b"])


def _split():
    songs = np.arange(24)
    test = songs[songs % 4 == 0]
    return splits.Split("split_0", np.setdiff1d(songs, test), np.asarray([], np.int64),
                        test)


def _system():
    return systems.System(systems.SystemConfig(
        "mlp", None, heads.DenseHead(hidden_units=(8,), dropout=0.0)))


def _is_distributed(variable):
    return isinstance(getattr(variable, "value", variable), tf.distribute.DistributedValues)


class DistributionTest(tf.test.TestCase):

    def test_registry_is_what_the_flag_offers(self):
        self.assertCountEqual(distribute.STRATEGIES,
                              project_flags.FLAGS["distribution"].parser.enum_values)

    def test_the_chief_is_the_chief_task_or_else_worker_zero(self):
        workers = {"worker": ["a:1", "b:2"]}
        with_chief = {"chief": ["c:3"], **workers}
        self.assertTrue(distribute.is_chief("worker", 0, workers))
        self.assertFalse(distribute.is_chief("worker", 1, workers))
        self.assertTrue(distribute.is_chief("chief", 0, with_chief))
        self.assertFalse(distribute.is_chief("worker", 0, with_chief))
        self.assertTrue(distribute.is_chief(None, 0, {}))

    def test_multi_worker_without_tf_config_is_a_configuration_error(self):
        environment = {k: v for k, v in os.environ.items() if k != distribute.TF_CONFIG}
        with mock.patch.dict(os.environ, environment, clear=True):
            with self.assertRaisesRegex(ValueError, "TF_CONFIG"):
                distribute.Distribution("multi_worker")

    def test_one_worker_keeps_its_folder_and_needs_no_collective(self):
        for name in ("none", "mirrored"):
            with self.subTest(name=name):
                one = distribute.Distribution(name)
                self.assertTrue(one.is_chief)
                self.assertTrue(one.resumable)
                self.assertEqual(one.num_workers, 1)
                self.assertEqual(one.output_dir("/runs/x"), "/runs/x")
                self.assertEqual(one.from_chief(7), 7)
                one.check_same_as_chief("abc", "data")
                self.assertIn("num_replicas_in_sync=1", one.describe())

    def test_several_workers_fit_one_pass_of_a_repeated_dataset_per_epoch(self):
        data = tf.data.Dataset.range(10).batch(4)
        unknown = data.filter(lambda batch: True)  # cardinality unknown: counted
        several = distribute.Distribution("mirrored")
        several.num_workers = 2  # what a cluster of two would say
        for train in (data, unknown):
            arguments = several.fit_data(train, data)
            self.assertEqual((arguments["steps_per_epoch"], arguments["validation_steps"]),
                             (3, 3))
            self.assertEqual(int(arguments["x"].cardinality()), tf.data.INFINITE_CARDINALITY)

    def test_one_worker_fits_one_iterator_where_the_epoch_size_is_known(self):
        data = tf.data.Dataset.range(10).batch(4)
        one = distribute.Distribution("mirrored")
        arguments = one.fit_data(data, data)
        self.assertEqual(arguments["steps_per_epoch"], 3)
        self.assertEqual(int(arguments["x"].cardinality()), tf.data.INFINITE_CARDINALITY)
        self.assertEqual(int(arguments["validation_data"].cardinality()), 3)
        unknown = data.filter(lambda batch: True)  # a CNN's: not counted, not repeated
        self.assertEqual(set(one.fit_data(unknown, data)), {"x", "validation_data"})

    def test_datasets_are_sharded_by_data_not_by_file(self):
        data = distribute.Distribution.dataset(tf.data.Dataset.range(4).batch(2))
        self.assertEqual(data.options().experimental_distribute.auto_shard_policy,
                         tf.data.experimental.AutoShardPolicy.DATA)

    def test_a_seeded_head_built_in_scope_is_the_head_built_without(self):
        rows, split = _rows(), _split()
        weights = {}
        for name in ("none", "mirrored"):
            keras.utils.set_random_seed(0)
            with distribute.Distribution(name).scope():
                model = _system().build_model(rows, split.train)
            weights[name] = model.get_weights()
            if name == "mirrored":
                self.assertTrue(all(_is_distributed(v) for v in model.weights))
                self.assertAllClose(np.asarray(model.get_layer("standardize").mean).ravel(),
                                    rows.features[split.train].mean(axis=0), rtol=1e-5)
        for none, mirrored in zip(weights["none"], weights["mirrored"]):
            self.assertAllEqual(none, mirrored)

    @pytest.mark.slow  # a whole fit per strategy (mirrored on CPU: ~4x slower epochs)
    def test_mirrored_fit_learns_what_no_strategy_learns(self):
        """The distributed dataset is a rebuilt pipeline, so its shuffle order differs
        and the probabilities differ a little; the answers do not."""
        rows, split = _rows(), _split()
        seeding.seed_run(0)  # as run_experiment: shuffles pair the run's seed with the fit's
        mirrored = distribute.Distribution("mirrored")
        accuracies, predicted = {}, {}
        for name, distribution in (("none", None), ("mirrored", mirrored)):
            model = experiment.train_split(_system(), rows, split, CONFIG,
                                           os.path.join(self.get_temp_dir(), name), 0,
                                           distribution)
            result = evaluate.evaluate_songs(model, rows, split.test, CONFIG.batch_size)
            accuracies[name] = result["mean_probability"]["accuracy"]
            predicted[name] = evaluate.predict_groups(
                model, rows.evaluation_dataset(split.test, 8))[0].argmax(axis=1)
        self.assertIs(model.distribute_strategy, mirrored.strategy)
        self.assertTrue(all(_is_distributed(v) for v in model.optimizer.variables))
        self.assertEqual(int(model.optimizer.iterations.numpy()),
                         CONFIG.epochs * int(np.ceil(len(split.train) / CONFIG.batch_size)))
        self.assertEqual(accuracies, {"none": 1.0, "mirrored": 1.0})
        self.assertAllEqual(predicted["mirrored"], predicted["none"])


class MultiWorkerShimTest(tf.test.TestCase):
    """The shim's parts that one process can check; tests/test_multi_worker.py runs it."""

    def test_it_is_removed_when_fit_returns(self):
        keras_reduce = keras_tf_trainer.reduce_per_replica
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        with multi_worker_fit.fit_compatibility(model):
            self.assertIn("_maybe_symbolic_build", vars(model))
            self.assertIsNot(keras_tf_trainer.reduce_per_replica, keras_reduce)
        self.assertNotIn("_maybe_symbolic_build", vars(model))
        self.assertIs(keras_tf_trainer.reduce_per_replica, keras_reduce)

    def test_it_leaves_one_worker_strategies_to_keras(self):
        strategy = tf.distribute.MirroredStrategy()
        logs = {"loss": tf.constant(0.5), "accuracy": tf.constant(0.25)}
        reduce = multi_worker_fit.scalar_logs_reduction(
            lambda values, strategy, reduction: ("keras", reduction))
        self.assertEqual(reduce(logs, strategy, "auto"), ("keras", "auto"))

    def test_symbolic_build_reads_the_spec_and_takes_no_batch(self):
        class SpecOnly:  # an epoch iterator whose batches must not be taken
            def __init__(self, dataset):
                self.data_adapter = types.SimpleNamespace(get_tf_dataset=lambda: dataset)

            def __iter__(self):
                raise AssertionError("a batch was taken")

        data = tf.data.Dataset.from_tensor_slices(
            (np.zeros((6, 3), np.float32), np.zeros(6, np.int64))).batch(4)
        with tf.distribute.MirroredStrategy().scope():
            model = keras.Sequential([keras.Input((3,)),
                                      keras.layers.Dense(2, activation="softmax")])
            model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                          metrics=["accuracy"])
        with multi_worker_fit.fit_compatibility(model):
            model._maybe_symbolic_build(iterator=SpecOnly(data))  # pylint: disable=protected-access
        self.assertTrue(model._compile_metrics.built)  # pylint: disable=protected-access
        self.assertTrue(model.optimizer.built)

    def test_a_keras_without_the_patched_internals_is_named(self):
        class Unlike:  # has no _maybe_symbolic_build
            pass
        with self.assertRaisesRegex(RuntimeError, "keras-team/keras#20585"):
            with multi_worker_fit.fit_compatibility(Unlike()):
                pass


if __name__ == "__main__":
    tf.test.main()
