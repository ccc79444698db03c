"""Spectrograms per second of each type: tf.data pipeline versus librosa file by file.

    python bench/spectrograms.py [--data_dir=../shared/data/gtzan_mini] [--clips=20]

For each of the ten types, both sides decode the same files and compute the same
spectrogram (``genre_tf.features.librosa_reference.spectrogram`` is the librosa side;
the tests hold the two equal). Prints spectrograms/s for both and the ratio, in one run.
"""

import os
import time

import common  # noqa: F401  (sets up TF logging and sys.path first)
import librosa
import tensorflow as tf
from absl import app

from genre_tf.data import pipeline
from genre_tf.features import librosa_reference, spectrograms

FLAGS = common.FLAGS


def tf_data_seconds(paths, kind, config):
    function = tf.function(lambda y: spectrograms.compute_spectrogram(y, kind, config),
                           input_signature=[tf.TensorSpec([None], tf.float32)])
    def run(selection):
        dataset = pipeline.waveform_dataset(selection, config.sample_rate, config.n_fft)
        dataset = dataset.map(lambda y, i: function(y), num_parallel_calls=tf.data.AUTOTUNE)
        for _ in dataset.prefetch(tf.data.AUTOTUNE):
            pass
    run(paths[:1])  # trace once
    started = time.perf_counter()
    run(paths)
    return time.perf_counter() - started


def librosa_seconds(paths, kind, config):
    librosa_reference.spectrogram(librosa.load(paths[0], sr=config.sample_rate)[0], kind,
                                  config)  # warm librosa's caches and JIT once
    started = time.perf_counter()
    for path in paths:
        librosa_reference.spectrogram(librosa.load(path, sr=config.sample_rate)[0], kind,
                                      config)
    return time.perf_counter() - started


def main(argv):
    del argv
    paths = common.sample_paths()
    config = spectrograms.SpectrogramConfig()
    print(f"{len(paths)} clips from {FLAGS.data_dir}; n_fft {config.n_fft}, hop "
          f"{config.hop_length}; CPU cores: {os.cpu_count()}")
    print(f"{'type':12s} {'tf.data/s':>10s} {'librosa/s':>10s} {'ratio':>7s}")
    for kind in spectrograms.SPECTROGRAM_TYPES:
        ours = len(paths) / tf_data_seconds(paths, kind, config)
        theirs = len(paths) / librosa_seconds(paths, kind, config)
        print(f"{kind:12s} {ours:10.1f} {theirs:10.1f} {ours / theirs:6.2f}x")


if __name__ == "__main__":
    app.run(main)
