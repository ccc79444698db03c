"""System 2: spectrogram images computed on the fly in tf.data -> a 2-D CNN.

Two regimes share this front end:
- the study (``--crop_seconds=0``, ``cnn.flags``): every clip is cropped to the shortest
  clip in the data, each spectrogram scaled to [0, 1] and resized to
  ``image_size`` x ``image_size``, one image per song;
- crops (``--crop_seconds=3``, ``cnn_plus.flags``): training draws
  ``crops_per_song`` random crops of each song per epoch; evaluation cuts every song into
  crops (hop ``crop_hop_seconds``) and votes over them.

Nothing holds the dataset's spectrograms in memory: they are recomputed each epoch from
decoded audio, unless ``--spectrogram_cache`` asks tf.data to cache them on disk.
The exported model's ``classify_waveform`` endpoint does the whole front end itself.
"""

import dataclasses
import hashlib
import os

import numpy as np
import tensorflow as tf
from absl import logging

from genre_tf.data import discovery, pipeline
from genre_tf.features import spectrograms
from genre_tf.models import cnn
from genre_tf.systems import base

# Songs whose images estimate the standardisation mean and variance.
_STANDARDIZE_SAMPLE_SONGS = 64
# Songs' worth of examples in the training shuffle buffer (songs already arrive in a
# random order, so this only mixes crops of neighbouring songs): 32 x 1 MB at 512x512.
_SHUFFLE_BUFFER = 32


@dataclasses.dataclass(frozen=True)
class ImageConfig:
    """How waveforms become CNN inputs.

    Attributes:
      kinds: spectrogram types stacked as channels.
      spectrogram: analysis settings.
      image_size: square side to resize to (0: keep ``[bins, frames]``; then one kind).
      crop_samples: samples per example.
    """
    kinds: tuple
    spectrogram: spectrograms.SpectrogramConfig
    image_size: int
    crop_samples: int

    def input_shape(self):
        if self.image_size:
            return (self.image_size, self.image_size, len(self.kinds))
        frames = 1 + self.crop_samples // self.spectrogram.hop_length
        return (self.spectrogram.n_bins(self.kinds[0]), frames, 1)


def waveform_to_image(waveform, config):
    """Crop-length waveform(s) ``[..., crop_samples]`` -> image(s) ``[..., H, W, C]``.

    Each spectrogram is transposed to ``[bins, frames]`` (low frequencies first), scaled
    to [0, 1] by its own minimum and maximum (the study's normalisation), resized if
    ``config.image_size`` is set, and the kinds are stacked as channels.
    """
    channels = []
    for kind in config.kinds:
        spec = spectrograms.compute_spectrogram(waveform, kind, config.spectrogram)
        spec = tf.linalg.matrix_transpose(spec)
        low = tf.reduce_min(spec, axis=[-2, -1], keepdims=True)
        high = tf.reduce_max(spec, axis=[-2, -1], keepdims=True)
        spec = (spec - low) / tf.maximum(high - low, 1e-6)
        spec = spec[..., tf.newaxis]
        if config.image_size:
            spec = tf.image.resize(spec, [config.image_size, config.image_size])
        channels.append(spec)
    return tf.concat(channels, axis=-1)


def crop_starts(n_samples, crop_samples, hop_samples):
    """Start offsets of the evaluation crops of a clip (at least one)."""
    return np.arange(1 + max(0, n_samples - crop_samples) // hop_samples) * hop_samples


class SpectrogramSystem(base.System):
    """Spectrograms + CNN."""

    name = "cnn"

    def __init__(self, data_dir, kinds=("mel",), spectrogram=spectrograms.SpectrogramConfig(),
                 image_size=512, crop_seconds=0.0, crop_hop_seconds=0.0, crops_per_song=1,
                 short_clips="pad", cache_dir=None, spectrogram_cache=False,
                 model_options=None):
        super().__init__()
        unknown = set(kinds) - set(spectrograms.SPECTROGRAM_TYPES)
        if unknown:
            raise ValueError(f"unknown --spectrogram {sorted(unknown)}; choose from "
                             f"{', '.join(spectrograms.SPECTROGRAM_TYPES)}")
        if not image_size and len(kinds) > 1:
            raise ValueError("stacking several spectrogram types needs --image_size")
        self.data_dir = data_dir
        self.kinds = tuple(kinds)
        self.spectrogram = spectrogram
        self.image_size = image_size
        self.crop_seconds = crop_seconds
        self.crop_hop_seconds = crop_hop_seconds or crop_seconds / 2
        self.crops_per_song = max(1, crops_per_song)
        self.short_clips = short_clips
        self.cache_dir = cache_dir
        self.spectrogram_cache = spectrogram_cache
        self.model_options = dict(model_options or {})
        self.image_config = None
        self.paths = None
        self.lengths = None
        self.report = None

    @classmethod
    def from_flags(cls, flag_values):
        config = spectrograms.SpectrogramConfig(
            n_fft=flag_values.n_fft, hop_length=flag_values.hop_length,
            n_mels=flag_values.n_mels, n_mfcc=flag_values.n_mfcc)
        model_options = dict(
            final_conv_dim=flag_values.final_conv_dim, base_filters=flag_values.base_filters,
            max_filters=flag_values.max_filters, fc_units=flag_values.fc_units,
            dropout=flag_values.dropout, batch_norm=flag_values.batch_norm,
            spec_augment=flag_values.spec_augment)
        return cls(flag_values.data_dir, tuple(flag_values.spectrogram), config,
                   flag_values.image_size, flag_values.crop_seconds,
                   flag_values.crop_hop_seconds, flag_values.crops_per_song,
                   flag_values.short_clips, flag_values.cache_dir,
                   flag_values.spectrogram_cache, model_options)

    @property
    def sample_rate(self):
        return self.spectrogram.sample_rate

    def prepare(self, report):
        """Decodes every clip once to learn its length (and drop unreadable files)."""
        self.report = report
        index = discovery.discover_clips(self.data_dir)
        lengths = {}
        dataset = pipeline.waveform_dataset([c.path for c in index.clips],
                                            self.sample_rate, 1, "pad", report)
        for n_samples, i in dataset.map(lambda y, i: (tf.shape(y)[0], i)).as_numpy_iterator():
            lengths[int(i)] = int(n_samples)
        kept = sorted(lengths)
        if not kept:
            raise ValueError(f"no clip under {index.root} could be decoded")
        if self.crop_seconds:
            crop = int(round(self.crop_seconds * self.sample_rate))
        else:
            crop = min(lengths.values())
            logging.info("Cropping every clip to the shortest: %.2f s",
                         crop / self.sample_rate)
        if self.short_clips == "skip":
            for i in [i for i in kept if lengths[i] < crop]:
                report.skip(index.clips[i].path, f"too short ({lengths[i]} samples, "
                                                 f"need {crop})")
            kept = [i for i in kept if lengths[i] >= crop]
        index.subset(kept).check_every_class_has_clips("decoded clips")
        clips = [index.clips[i] for i in kept]
        self.paths = [c.path for c in clips]
        self.lengths = np.asarray([lengths[i] for i in kept])
        self.song_ids = [c.song_id for c in clips]
        self.song_labels = np.asarray([c.label for c in clips])
        self.class_names = list(index.class_names)
        self.image_config = ImageConfig(self.kinds, self.spectrogram, self.image_size, crop)
        logging.info("%s: input %s per example", "+".join(self.kinds),
                     self.image_config.input_shape())

    # -- examples ----------------------------------------------------------------------
    def _crop_hop(self):
        return max(1, int(round(self.crop_hop_seconds * self.sample_rate)))

    def _crops(self, waveform, training):
        """One waveform -> ``[n, crop_samples]`` crops for this regime."""
        crop = self.image_config.crop_samples
        if not self.crop_seconds:  # the study: the first `crop` samples of every clip
            return waveform[tf.newaxis, :crop]
        if training:
            offsets = tf.random.uniform([self.crops_per_song], 0,
                                        tf.shape(waveform)[0] - crop + 1, dtype=tf.int32)
            return tf.map_fn(lambda start: waveform[start:start + crop], offsets,
                             fn_output_signature=tf.float32)
        return tf.signal.frame(waveform, crop, self._crop_hop())

    def _cache_path(self, songs):
        key = hashlib.sha1(repr((sorted(int(s) for s in songs),
                                 self.image_config)).encode()).hexdigest()
        folder = os.path.join(self.cache_dir, "spectrograms")
        os.makedirs(folder, exist_ok=True)
        return os.path.join(folder, key[:16])

    def dataset(self, songs, training, batch_size, seed=0):
        songs = np.asarray(songs)
        labels = tf.constant(self.song_labels[songs], tf.int32)
        paths = [self.paths[s] for s in songs]
        config = self.image_config
        cached = self.spectrogram_cache and self.cache_dir and not (
            training and self.crop_seconds)  # random crops differ every epoch
        # Training visits songs in a new order each epoch (only paths are shuffled), so
        # the image shuffle buffer stays small; a cache must see one fixed order.
        waves = pipeline.waveform_dataset(
            paths, self.sample_rate, config.crop_samples, self.short_clips, self.report,
            shuffle_seed=seed if training and not cached else None)

        def to_crops(waveform, k):
            crops = self._crops(waveform, training)
            return crops, tf.fill([tf.shape(crops)[0]], tf.gather(labels, k))

        images = waves.map(to_crops, num_parallel_calls=tf.data.AUTOTUNE).unbatch()
        images = images.map(lambda crop, label: (waveform_to_image(crop, config), label),
                            num_parallel_calls=tf.data.AUTOTUNE)
        if cached:
            images = images.cache(self._cache_path(songs))
        if training:
            # A cached stream comes in a fixed order: mix over a wider (still bounded)
            # window.
            window = _SHUFFLE_BUFFER * self.crops_per_song * (4 if cached else 1)
            images = images.shuffle(window, seed=seed, reshuffle_each_iteration=True)
        return images.batch(batch_size).prefetch(tf.data.AUTOTUNE)

    def example_songs(self, songs):
        songs = np.asarray(songs)
        if not self.crop_seconds:
            return songs
        counts = [len(crop_starts(max(self.lengths[s], self.image_config.crop_samples),
                                  self.image_config.crop_samples, self._crop_hop()))
                  for s in songs]
        return np.repeat(songs, counts)

    # -- model -------------------------------------------------------------------------
    def build_model(self, train_songs):
        rng = np.random.default_rng(0)
        sample = rng.permutation(np.asarray(train_songs))[:_STANDARDIZE_SAMPLE_SONGS]
        images = self.dataset(np.sort(sample), training=False, batch_size=16).map(
            lambda x, y: x)
        return cnn.build_spectrogram_cnn(self.image_config.input_shape(),
                                         len(self.class_names), images,
                                         **self.model_options)

    def search_space(self, hp):
        return {"base_filters": hp.Choice("base_filters", [8, 16, 32]),
                "fc_units": hp.Choice("fc_units", [64, 128, 256]),
                "dropout": hp.Float("dropout", 0.0, 0.6, step=0.1),
                "batch_norm": hp.Boolean("batch_norm")}

    def apply_hyperparameters(self, values):
        self.model_options.update(values)

    def export_endpoints(self, model):
        config = self.image_config
        crop, hop = config.crop_samples, self._crop_hop()
        whole_clip = not self.crop_seconds

        def classify_waveform(waveform):
            """Mono float32 waveform at the system's rate -> mean crop probabilities."""
            waveform = tf.pad(waveform, [[0, tf.maximum(crop - tf.shape(waveform)[0], 0)]])
            crops = (waveform[tf.newaxis, :crop] if whole_clip
                     else tf.signal.frame(waveform, crop, hop))
            probabilities = model(waveform_to_image(crops, config), training=False)
            return tf.reduce_mean(probabilities, axis=0, keepdims=True)

        return {"classify_waveform": (
            classify_waveform, [tf.TensorSpec([None], tf.float32, name="waveform")])}

    def describe(self):
        return {"system": self.name, "spectrograms": list(self.kinds),
                "spectrogram_config": dataclasses.asdict(self.spectrogram),
                "image_size": self.image_size, "crop_seconds": self.crop_seconds,
                "crop_samples": self.image_config.crop_samples if self.image_config else None,
                "crop_hop_seconds": self.crop_hop_seconds,
                "crops_per_song": self.crops_per_song, "model": self.model_options}
