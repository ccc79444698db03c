"""System 3's front end: a frozen pretrained backbone's embedding per frame.

The backbone (``genre_tf.backbones``: VGGish/YAMNet from TF-Hub, or musicnn offline) is
loaded on first use only: embeddings are cached as rows by the shared data layer, so a
cached rerun, cross-validation and tuning train only the head and never load it.
"""

import dataclasses
import hashlib

from genre_tf import backbones
from genre_tf.frontends import base


class EmbeddingFrontEnd(base.FrontEnd):
    """Waveform at the backbone's rate -> ``[frames, dim]`` embeddings."""

    name = "embedding"

    def __init__(self, config=backbones.BackboneConfig()):
        self.config = backbones.resolve(config)
        self._layer_class = backbones.layer_class(self.config)
        self._backbone = None

    @property
    def backbone(self):
        """The backbone layer, loaded on first use."""
        if self._backbone is None:
            self._backbone = backbones.create_backbone(self.config)
        return self._backbone

    def load(self):
        _ = self.backbone
        return self

    @property
    def sample_rate(self):
        return self._layer_class.sample_rate

    @property
    def min_samples(self):
        return self._layer_class.min_samples

    @property
    def window_samples(self):
        return self._layer_class.window_samples

    @property
    def hop_samples(self):
        return self._layer_class.hop_samples_for(self.config.frame_hop_seconds)

    @property
    def key(self):
        text = repr((dataclasses.astuple(self.config), self.min_samples,
                     self.window_samples))
        return "embedding-" + hashlib.sha1(text.encode()).hexdigest()[:12]

    def examples(self, waveform):
        return self.backbone(waveform)

    @property
    def example_shape(self):
        return (self.backbone.dim,)

    def run_name(self):
        return self.config.name

    def trackables(self):
        return [self.backbone]

    def describe(self):
        return {"frontend": self.name, "backbone": self.config.name,
                "backbone_handle": self.config.handle,
                "backbone_layer": self.config.layer,
                "frame_hop_seconds": self.config.frame_hop_seconds,
                "sample_rate": self.sample_rate}
