"""System 1's front end: one vector of feature statistics per clip.

``genre_tf.features.statistics`` summarises frame-level features (MFCC, chroma,
spectral shape, ZCR, RMS, tempo) over time at several window sizes; the whole clip gives
one example, so there is no window: long files are streamed in ``--window_seconds``
windows by ``predict.py``.
"""

import dataclasses
import hashlib
import json

import tensorflow as tf

from genre_tf.features import statistics
from genre_tf.frontends import base


class FeatureStatsFrontEnd(base.FrontEnd):
    """Waveform at ``config.sample_rate`` -> ``[1, n_features]``."""

    name = "mlp"

    def __init__(self, config=statistics.FeatureConfig()):
        self.config = config
        self._vector = statistics.feature_vector_function(config)

    @property
    def sample_rate(self):
        return self.config.sample_rate

    @property
    def min_samples(self):
        return self.config.min_samples

    @property
    def key(self):
        text = json.dumps(dataclasses.asdict(self.config), sort_keys=True)
        return "statistics-" + hashlib.sha1(text.encode()).hexdigest()[:12]

    def examples(self, waveform):
        return self._vector(waveform)[tf.newaxis]

    @property
    def example_shape(self):
        return (len(statistics.feature_names(self.config)),)

    def feature_names(self):
        return list(statistics.feature_names(self.config))

    def describe(self):
        return {"frontend": self.name, "features": dataclasses.asdict(self.config)}
