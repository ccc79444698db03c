"""System 3: frozen pretrained embeddings per frame -> a dense head -> song vote.

The front end runs a backbone (``genre_tf.backbones``: VGGish/YAMNet from TF-Hub, or
musicnn offline) over each clip once and caches one embedding per frame on disk, keyed by
file content and backbone; cross-validation and tuning then train only the head, from the
cache, in seconds. Frames of all training songs are shuffled together (the study's
batches held whole songs, and its loss jumped about); a test song is labelled by the mean
probability of its frames and by their majority vote.

``--finetune_top`` (musicnn) caches the input of musicnn's top instead and trains the
pretrained top (batch norm, dense 200, batch norm) together with the head.

Everything but the extractor, the export endpoint and the optional trainable top is
system 1's table machinery.
"""

import tensorflow as tf

from genre_tf import backbones
from genre_tf.backbones import musicnn
from genre_tf.data import feature_table
from genre_tf.models import mlp
from genre_tf.systems import feature_stats


class EmbeddingSystem(feature_stats.FeatureStatsSystem):
    """Pretrained backbone embeddings + dense head."""

    name = "embedding"

    def __init__(self, data_dir, backbone_name="MSD_musicnn", backbone_handle=None,
                 backbone_layer=None, frame_hop_seconds=None, cache_dir=None,
                 short_clips="pad", hidden_units=(256,), dropout=0.5, finetune_top=False):
        super().__init__(data_dir=data_dir, cache_dir=cache_dir, short_clips=short_clips,
                         hidden_units=hidden_units, dropout=dropout)
        self.backbone_name = backbone_name
        self.backbone_handle = backbone_handle
        self.backbone_layer = backbone_layer
        self.frame_hop_seconds = frame_hop_seconds
        self.finetune_top = finetune_top
        if finetune_top:
            if backbone_name not in musicnn.MODELS:
                raise ValueError("--finetune_top needs a musicnn backbone: a TF-Hub model "
                                 "cannot be split into frozen and trainable parts")
            self.backbone_layer = "pooled"  # the top's input is cached instead
        self._backbone = None

    @classmethod
    def from_flags(cls, flag_values):
        return cls(flag_values.data_dir, flag_values.backbone, flag_values.backbone_handle,
                   flag_values.backbone_layer, flag_values.frame_hop_seconds or None,
                   flag_values.cache_dir, flag_values.short_clips,
                   [int(u) for u in flag_values.hidden_units], flag_values.dropout,
                   flag_values.finetune_top)

    @property
    def backbone(self):
        """The backbone layer, loaded on first use: a fully cached run loads it only to
        export the final model."""
        if self._backbone is None:
            self._backbone = backbones.create_backbone(
                self.backbone_name, self.backbone_handle, self.backbone_layer,
                self.frame_hop_seconds)
        return self._backbone

    @property
    def sample_rate(self):
        return backbones.backbone_class(self.backbone_name).sample_rate

    def extractor(self):
        layer_class = backbones.backbone_class(self.backbone_name)
        key = backbones.backbone_key(self.backbone_name, self.backbone_handle,
                                     self.backbone_layer, self.frame_hop_seconds)
        return feature_table.backbone_extractor(
            key, layer_class.sample_rate, layer_class.min_samples,
            lambda: self.backbone, prefix=self.backbone_name)

    def build_model(self, train_songs):
        if not self.finetune_top:
            return super().build_model(train_songs)
        top = musicnn.build_top(self.backbone.network)
        return mlp.build_mlp(self.table.features.shape[1], len(self.class_names), None,
                             self.hidden_units, self.dropout, name="finetuned_head",
                             trunk=top)

    def export_endpoints(self, model):
        backbone = self.backbone

        def classify_waveform(waveform):
            """Mono float32 waveform at the backbone's rate -> mean frame probabilities."""
            probabilities = model(backbone(waveform), training=False)
            return tf.reduce_mean(probabilities, axis=0, keepdims=True)

        return {"classify_waveform": (
            classify_waveform, [tf.TensorSpec([None], tf.float32, name="waveform")])}

    def run_name(self):
        return self.backbone_name

    def export_trackables(self):
        return [self.backbone]

    def describe(self):
        return {"system": self.name, "backbone": self.backbone_name,
                "backbone_handle": self.backbone_handle,
                "backbone_layer": self.backbone_layer,
                "frame_hop_seconds": self.frame_hop_seconds,
                "finetune_top": self.finetune_top,
                "sample_rate": self.sample_rate,
                "n_frames": int(len(self.table.row_song)) if self.table else None,
                "hidden_units": list(self.hidden_units), "dropout": self.dropout}
