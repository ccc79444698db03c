"""The edge of the package: flags in, config objects out.

``train.py`` and ``tuner.py`` call ``run_config()``; it is the only code that reads
``genre_tf.flags``, and it never writes them. Everything below takes the plain
dataclasses of ``genre_tf.config``.
"""

import logging as python_logging
import os

from absl import logging

from genre_tf import config, systems
from genre_tf import flags as project_flags
from genre_tf.audio import synthetic
from genre_tf.backbones import BackboneConfig, hub_backbone
from genre_tf.data import examples, excerpts, extraction
from genre_tf.features import spectrograms, statistics
from genre_tf.flags import FLAGS
from genre_tf.frontends import spectrogram
from genre_tf.models import heads
from genre_tf.training import trainer


def _ints(values):
    return tuple(int(v) for v in values)


def _feature_config():
    return statistics.FeatureConfig(
        window_sizes=_ints(FLAGS.window_sizes), statistics=tuple(FLAGS.statistics),
        n_mfcc=FLAGS.n_mfcc, tempo=FLAGS.tempo)


def _image_config():
    return spectrogram.ImageConfig(
        kinds=tuple(FLAGS.spectrogram),
        spectrogram=spectrograms.SpectrogramConfig(
            n_fft=FLAGS.n_fft, hop_length=FLAGS.hop_length, n_mels=FLAGS.n_mels,
            n_mfcc=FLAGS.n_mfcc),
        image_size=FLAGS.image_size, crop_seconds=FLAGS.crop_seconds,
        crop_hop_seconds=FLAGS.crop_hop_seconds, crops_per_song=max(1, FLAGS.crops_per_song))


def _backbone_config():
    return BackboneConfig(FLAGS.backbone, FLAGS.backbone_handle,
                          "pooled" if FLAGS.finetune_top else FLAGS.backbone_layer,
                          FLAGS.frame_hop_seconds or None)


def _dense_head():
    head = heads.FinetunedTopHead if FLAGS.finetune_top else heads.DenseHead
    return head(hidden_units=_ints(FLAGS.hidden_units), dropout=FLAGS.dropout,
                l2=FLAGS.head_l2)


def _cnn_head():
    return heads.CnnHead(
        final_conv_dim=FLAGS.final_conv_dim, base_filters=FLAGS.base_filters,
        max_filters=FLAGS.max_filters, fc_units=FLAGS.fc_units, dropout=FLAGS.dropout,
        batch_norm=FLAGS.batch_norm, spec_augment=FLAGS.spec_augment,
        standardization=FLAGS.standardization, classifier=FLAGS.classifier)


# --system -> (front end config from flags, head config from flags). A features CSV
# has no waveform front end and always trains the dense head.
SYSTEM_FLAGS = {
    "mlp": (_feature_config, _dense_head),
    "cnn": (_image_config, _cnn_head),
    "embedding": (_backbone_config, _dense_head),
}


def system_config():
    """The ``--system``'s front end and head settings."""
    if FLAGS.features_csv:
        return systems.SystemConfig(FLAGS.system, None, _dense_head())
    frontend, head = SYSTEM_FLAGS[FLAGS.system]
    return systems.SystemConfig(FLAGS.system, frontend(), head())


def example_config():
    low, high = (float(v) for v in FLAGS.train_excerpt_seconds)
    return examples.ExampleConfig(
        short_clips=FLAGS.short_clips,
        train_excerpts=excerpts.ExcerptPlan(FLAGS.train_excerpts_per_song, low, high,
                                            FLAGS.seed),
        eval_excerpts=excerpts.ExcerptPlan(
            FLAGS.excerpts_per_song if FLAGS.excerpt_seconds > 0 else 0,
            FLAGS.excerpt_seconds or 2.5, FLAGS.excerpt_seconds or 2.5, FLAGS.seed + 1),
        cache_dir=FLAGS.cache_dir or None, spectrogram_cache=FLAGS.spectrogram_cache,
        memory_budget_mb=FLAGS.memory_budget_mb)


def extraction_slice():
    return extraction.ExtractionSlice(FLAGS.num_shards, FLAGS.shard_index)


def data_config():
    """``--data_dir``/``--features_csv``, or the synthetic demo dataset."""
    if FLAGS.features_csv or FLAGS.data_dir:
        return config.DataConfig(FLAGS.data_dir, FLAGS.features_csv, False,
                                 example_config(), extraction_slice())
    demo = synthetic.make_demo_dataset(
        os.path.join(FLAGS.cache_dir or "saved_models", "demo_data"),
        FLAGS.demo_clips_per_genre, seed=0)
    logging.warning("No --data_dir: using the SYNTHETIC demo dataset at %s. Its accuracy "
                    "says nothing about real music.", demo)
    return config.DataConfig(demo, None, True, example_config(), extraction_slice())


def run_config(run_name_suffix=""):
    """The whole run, from flags. Also quiets warnings that describe how the driver is
    meant to work."""
    quiet_expected_warnings()
    hub_backbone.download_into(FLAGS.cache_dir)
    system = system_config()
    data = data_config()
    run_name = (FLAGS.run_name or default_run_name(system, data)) + run_name_suffix
    # Not created here: extraction workers and non-chief workers write nothing there.
    output_dir = FLAGS.output_dir or os.path.join("saved_models", run_name)
    return config.RunConfig(
        system=system, data=data, output_dir=output_dir,
        splits=config.SplitConfig(FLAGS.split, FLAGS.folds, FLAGS.test_size,
                                  FLAGS.validation_fraction, FLAGS.split_dir),
        training=trainer.TrainConfig(
            learning_rate=FLAGS.learning_rate, epochs=FLAGS.epochs,
            batch_size=FLAGS.batch_size, patience=FLAGS.patience,
            min_delta=FLAGS.min_delta, lr_decay_every=FLAGS.lr_decay_every,
            lr_decay_factor=FLAGS.lr_decay_factor, lr_schedule=FLAGS.lr_schedule,
            lr_warmup_epochs=FLAGS.lr_warmup_epochs, jit_compile=FLAGS.jit_compile,
            log_every_epochs=FLAGS.log_every_epochs, refit=FLAGS.refit,
            epochs_per_call=FLAGS.epochs_per_call),
        export=config.ExportConfig(FLAGS.final_fit, FLAGS.tflite, FLAGS.tflite_quantize),
        seed=FLAGS.seed, overwrite=FLAGS.overwrite, distribution=FLAGS.distribution)


def default_run_name(system, data):
    """The system's name (its backbone for transfer runs: ``System.run_name``), plus
    ``_demo`` on the demo data. Building the system loads nothing."""
    return systems.System(system).run_name() + ("_demo" if data.synthetic_demo else "")


# Flags about this invocation, not the run: a rerun from flags.txt must not clear it,
# and may run on one machine.
_NOT_RECORDED = ("overwrite", "distribution")


def write_flags_file(path, extra_modules=()):
    """Writes the project's flags (not absl's or TF's) as a flag file that reruns the
    run: ``--flagfile=<path>``."""
    lines = []
    for module in (project_flags, *extra_modules):
        for flag in FLAGS.get_flags_for_module(module):
            if flag.value is not None and flag.name not in _NOT_RECORDED:
                lines.append(flag.serialize())
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as handle:
        handle.write("\n".join(sorted(lines)) + "\n")
    return path


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
