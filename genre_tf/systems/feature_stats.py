"""System 1: summary statistics of audio features -> the study's MLP.

Front end: one feature vector per clip (``genre_tf.features.statistics``), computed in
tf.data and cached, or rows of a features CSV. Head: ``genre_tf.models.mlp``. The
exported model has, besides ``serve`` (feature vector in), a ``classify_waveform``
endpoint that computes the features itself from a 22050 Hz mono waveform.
"""

import dataclasses

import numpy as np
import tensorflow as tf

from genre_tf.data import discovery, feature_table
from genre_tf.features import statistics
from genre_tf.models import mlp
from genre_tf.systems import base


class FeatureStatsSystem(base.System):
    """Feature statistics + MLP."""

    name = "mlp"

    def __init__(self, data_dir=None, features_csv=None, config=statistics.FeatureConfig(),
                 cache_dir=None, short_clips="pad", hidden_units=(0,), dropout=0.5):
        super().__init__()
        if not data_dir and not features_csv:
            raise ValueError("system mlp needs --data_dir or --features_csv")
        self.data_dir = data_dir
        self.features_csv = features_csv
        self.config = config
        self.cache_dir = cache_dir
        self.short_clips = short_clips
        self.hidden_units = tuple(hidden_units)
        self.dropout = dropout
        self.table = None

    @classmethod
    def from_flags(cls, flag_values):
        config = statistics.FeatureConfig(
            window_sizes=tuple(int(w) for w in flag_values.window_sizes),
            statistics=tuple(flag_values.statistics), n_mfcc=flag_values.n_mfcc,
            tempo=flag_values.tempo)
        return cls(flag_values.data_dir, flag_values.features_csv, config,
                   flag_values.cache_dir, flag_values.short_clips,
                   [int(u) for u in flag_values.hidden_units], flag_values.dropout)

    @property
    def sample_rate(self):
        return self.config.sample_rate

    def extractor(self):
        """What turns a decoded clip into table rows."""
        return feature_table.statistics_extractor(self.config)

    def prepare(self, report):
        if self.features_csv:
            self.table = feature_table.table_from_csv(self.features_csv)
        else:
            index = discovery.discover_clips(self.data_dir)
            self.table = feature_table.table_from_audio(
                index, self.extractor(), self.cache_dir, self.short_clips, report)
        self.song_ids = self.table.song_ids
        self.song_labels = self.table.song_labels
        self.class_names = self.table.class_names

    def _rows(self, songs):
        return self.table.rows_of(np.asarray(songs))

    def dataset(self, songs, training, batch_size, seed=0):
        rows = self._rows(songs)
        labels = self.song_labels[self.table.row_song[rows]]
        data = tf.data.Dataset.from_tensor_slices((self.table.features[rows], labels))
        if training:
            data = data.shuffle(len(rows), seed=seed, reshuffle_each_iteration=True)
        return data.batch(batch_size).prefetch(tf.data.AUTOTUNE)

    def example_songs(self, songs):
        return self.table.row_song[self._rows(songs)]

    def build_model(self, train_songs):
        return mlp.build_mlp(
            self.table.features.shape[1], len(self.class_names),
            self.table.features[self._rows(train_songs)], self.hidden_units, self.dropout)

    def search_space(self, hp):
        return {"hidden_units": hp.Choice("hidden_units", [0, 64, 128, 256, 512]),
                "dropout": hp.Float("dropout", 0.0, 0.6, step=0.1)}

    def apply_hyperparameters(self, values):
        self.hidden_units = (int(values["hidden_units"]),)
        self.dropout = float(values["dropout"])

    def export_endpoints(self, model):
        if self.features_csv:
            return {}  # Features of a foreign table: we cannot compute them from audio.
        config = self.config

        def classify_waveform(waveform):
            """Mono float32 waveform at config.sample_rate -> class probabilities."""
            short = tf.maximum(config.min_samples - tf.shape(waveform)[0], 0)
            waveform = tf.pad(waveform, [[0, short]])
            vector = statistics.compute_feature_vector(waveform, config)
            return model(vector[tf.newaxis], training=False)

        return {"classify_waveform": (
            classify_waveform, [tf.TensorSpec([None], tf.float32, name="waveform")])}

    def describe(self):
        return {
            "system": self.name,
            "features": dataclasses.asdict(self.config) if not self.features_csv
            else {"features_csv": self.features_csv},
            "n_features": int(self.table.features.shape[1]) if self.table else None,
            "hidden_units": list(self.hidden_units),
            "dropout": self.dropout,
        }
