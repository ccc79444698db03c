"""Feature vectors per second: the tf.data pipeline versus librosa file by file.

    python bench/features.py [--data_dir=../shared/data/gtzan_mini] [--clips=30]

All sides start from the same files and produce the same vectors (checked). librosa
reads each file with ``librosa.load`` and computes the features
(``genre_tf.features.librosa_reference``) two ways: sharing one STFT per window size
through ``S=`` (the fast way), and calling each feature on the waveform (the way most
feature-extraction scripts are written). Prints clips/s for each and the ratios.
"""

import os

import common  # noqa: F401  (sets up TF logging and sys.path first)
import librosa
import numpy as np
import tensorflow as tf
from absl import app

from genre_tf.data import pipeline
from genre_tf.features import librosa_reference, statistics

FLAGS = common.FLAGS


def tf_data_vectors(paths, config):
    dataset = pipeline.waveform_dataset(paths, config.sample_rate, config.min_samples)
    vector_fn = statistics.feature_vector_function(config)
    dataset = dataset.map(
        lambda y, i: (vector_fn(y), i),
        num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
    return {int(i): v for v, i in dataset.as_numpy_iterator()}


def librosa_vectors(paths, config, shared_stft=True):
    return {i: librosa_reference.feature_vector(
        librosa.load(p, sr=config.sample_rate)[0], config, shared_stft)
        for i, p in enumerate(paths)}


def main(argv):
    del argv
    paths = common.sample_paths()
    config = statistics.FeatureConfig()
    tf_data_vectors(paths[:2], config)  # trace the graph once, outside the timing
    librosa_vectors(paths[:1], config)
    ours, tf_seconds = common.timed(tf_data_vectors, paths, config)
    theirs, librosa_seconds = common.timed(librosa_vectors, paths, config)
    naive, naive_seconds = common.timed(librosa_vectors, paths, config, False)
    assert all(np.allclose(naive[i], theirs[i], rtol=1e-4, atol=1e-4) for i in theirs)
    ours_matrix = np.stack([ours[i] for i in range(len(paths))])
    theirs_matrix = np.stack([theirs[i] for i in range(len(paths))])
    scale = np.maximum(np.abs(theirs_matrix).max(axis=0), 1e-3)
    worst = float(np.max(np.abs(ours_matrix - theirs_matrix) / scale))
    n = len(paths)
    print(f"clips: {n} from {FLAGS.data_dir}; vector length {ours_matrix.shape[1]}; "
          f"CPU cores: {os.cpu_count()}")
    print(f"tf.data pipeline: {n / tf_seconds:8.2f} clips/s ({tf_seconds:.1f} s)")
    print(f"librosa per file, one STFT per window: {n / librosa_seconds:8.2f} clips/s "
          f"({librosa_seconds:.1f} s)")
    print(f"librosa per file, each feature from y: {n / naive_seconds:8.2f} clips/s "
          f"({naive_seconds:.1f} s)")
    print(f"speed-up tf.data / librosa (one STFT per window): "
          f"{librosa_seconds / tf_seconds:.2f}x")
    print(f"speed-up tf.data / librosa (each feature from y): "
          f"{naive_seconds / tf_seconds:.2f}x")
    print(f"largest difference between the two vectors, relative to each column's "
          f"range: {worst:.2e}")


if __name__ == "__main__":
    app.run(main)
