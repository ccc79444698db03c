"""Run set-up shared by train.py and tuner.py: data, output folder, splits, training
settings, all from the flags of ``genre_tf.flags``."""

import logging as python_logging
import os

from absl import logging

from genre_tf import systems
from genre_tf.audio import synthetic
from genre_tf.data import splits
from genre_tf.flags import FLAGS
from genre_tf.training import trainer


def set_up_run(run_name_suffix=""):
    """What every command does first: quiet expected warnings, find the data (or the
    demo), build the system from flags, fix the output folder. Returns (system,
    run_info)."""
    quiet_expected_warnings()
    run_info = resolve_data()
    system = systems.create(FLAGS)
    resolve_output_dir(system, run_info, run_name_suffix)
    return system, run_info


def resolve_data():
    """Points --data_dir at the synthetic demo dataset when no data is given."""
    source = FLAGS.features_csv or FLAGS.data_dir
    if source:
        return {"data_source": source, "synthetic_demo": False}
    FLAGS.data_dir = synthetic.make_demo_dataset(
        os.path.join(FLAGS.cache_dir or "saved_models", "demo_data"),
        FLAGS.demo_clips_per_genre, seed=0)
    logging.warning("No --data_dir: using the SYNTHETIC demo dataset at %s. Its accuracy "
                    "says nothing about real music.", FLAGS.data_dir)
    return {"data_source": FLAGS.data_dir, "synthetic_demo": True}


def resolve_output_dir(system, run_info, run_name_suffix=""):
    """--output_dir, or saved_models/<run_name><suffix> (default run name: system or
    backbone, + _demo)."""
    run_name = (FLAGS.run_name or system.run_name() + (
        "_demo" if run_info["synthetic_demo"] else "")) + run_name_suffix
    FLAGS.output_dir = FLAGS.output_dir or os.path.join("saved_models", run_name)
    os.makedirs(FLAGS.output_dir, exist_ok=True)


def train_config():
    return trainer.TrainConfig(
        learning_rate=FLAGS.learning_rate, epochs=FLAGS.epochs,
        batch_size=FLAGS.batch_size, patience=FLAGS.patience, min_delta=FLAGS.min_delta,
        lr_decay_every=FLAGS.lr_decay_every, lr_decay_factor=FLAGS.lr_decay_factor,
        log_every_epochs=FLAGS.log_every_epochs)


def split_maker():
    def make(song_ids, labels):
        return splits.make_splits(FLAGS.split, song_ids, labels, FLAGS.folds,
                                  FLAGS.test_size, FLAGS.validation_fraction,
                                  FLAGS.split_dir, FLAGS.seed)
    return make


class _ExpectedRetracing(python_logging.Filter):
    """Drops TF's "calls to ... triggered tf.function retracing" warning: every split
    builds a new model, so Keras' predict function is traced once per split by design."""

    def filter(self, record):
        return "triggered tf.function retracing" not in record.getMessage()


def quiet_expected_warnings():
    """Silences warnings that describe how the driver is meant to work, not a problem."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    tf.get_logger().addFilter(_ExpectedRetracing())
    python_logging.getLogger("absl").addFilter(_ExpectedRetracing())
