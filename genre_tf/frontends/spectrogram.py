"""System 2's front end: spectrogram images of fixed-length crops.

Two regimes:
- the study (``crop_seconds=0``, ``cnn.flags``): every clip is cropped to the shortest
  clip in the data (``fit_to_data``), one image per clip;
- crops (``crop_seconds=3``, ``cnn_plus.flags``): training draws ``crops_per_song``
  random crops of each clip per epoch; evaluation and the export cut every clip into
  crops every ``crop_hop_seconds`` and vote over them.

Each spectrogram is transposed to ``[bins, frames]`` (low frequencies first), scaled to
[0, 1] by its own minimum and maximum (the study's normalisation), resized if
``image_size`` is set, and the kinds are stacked as channels.
"""

import dataclasses
import hashlib

import tensorflow as tf
from absl import logging

from genre_tf.features import spectrograms
from genre_tf.frontends import base


@dataclasses.dataclass(frozen=True)
class ImageConfig:
    """How waveforms become CNN inputs.

    Attributes:
      kinds: spectrogram types stacked as channels.
      spectrogram: analysis settings.
      image_size: square side to resize to (0: keep ``[bins, frames]``; then one kind).
      crop_seconds: crop length; 0: the shortest clip of the data (the study).
      crop_hop_seconds: hop between evaluation crops; 0: half a crop.
      crops_per_song: random training crops per clip per epoch.
      crop_samples: resolved crop length in samples (set by ``fit_to_data`` when
        ``crop_seconds`` is 0).
    """
    kinds: tuple = ("mel",)
    spectrogram: spectrograms.SpectrogramConfig = spectrograms.SpectrogramConfig()
    image_size: int = 512
    crop_seconds: float = 0.0
    crop_hop_seconds: float = 0.0
    crops_per_song: int = 1
    crop_samples: int = 0

    def __post_init__(self):
        unknown = set(self.kinds) - set(spectrograms.SPECTROGRAM_TYPES)
        if unknown:
            raise ValueError(f"unknown --spectrogram {sorted(unknown)}; choose from "
                             f"{', '.join(spectrograms.SPECTROGRAM_TYPES)}")
        if not self.image_size and len(self.kinds) > 1:
            raise ValueError("stacking several spectrogram types needs --image_size")

    def input_shape(self):
        if self.image_size:
            return (self.image_size, self.image_size, len(self.kinds))
        frames = 1 + self.crop_samples // self.spectrogram.hop_length
        return (self.spectrogram.n_bins(self.kinds[0]), frames, 1)


def waveform_to_image(waveform, config):
    """Crop-length waveform(s) ``[..., crop_samples]`` -> image(s) ``[..., H, W, C]``."""
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


class SpectrogramFrontEnd(base.FrontEnd):
    """Waveform -> ``[crops, H, W, C]`` spectrogram images."""

    name = "cnn"
    cacheable = False  # training crops are drawn anew every epoch

    def __init__(self, config=ImageConfig()):
        if config.crop_seconds and not config.crop_samples:
            config = dataclasses.replace(config, crop_samples=int(round(
                config.crop_seconds * config.spectrogram.sample_rate)))
        self.config = config

    @property
    def sample_rate(self):
        return self.config.spectrogram.sample_rate

    @property
    def min_samples(self):
        return self._crop()

    @property
    def window_samples(self):
        return self._crop()

    @property
    def hop_samples(self):
        if not self.config.crop_seconds:
            return self._crop()
        seconds = self.config.crop_hop_seconds or self.config.crop_seconds / 2
        return max(1, int(round(seconds * self.sample_rate)))

    def _crop(self):
        if not self.config.crop_samples:
            raise ValueError("the crop length follows the data: call fit_to_data first")
        return self.config.crop_samples

    def fit_to_data(self, clip_lengths):
        if self.config.crop_seconds:
            return self
        crop = int(min(clip_lengths))
        logging.info("Cropping every clip to the shortest: %.2f s", crop / self.sample_rate)
        return SpectrogramFrontEnd(dataclasses.replace(self.config, crop_samples=crop))

    @property
    def key(self):
        return "spectrogram-" + hashlib.sha1(repr(self.config).encode()).hexdigest()[:12]

    def _images(self, crops):
        return waveform_to_image(crops, self.config)

    def examples(self, waveform):
        crop = self._crop()
        if not self.config.crop_seconds:  # the study: the first `crop` samples
            return self._images(waveform[tf.newaxis, :crop])
        return self._images(tf.signal.frame(waveform, crop, self.hop_samples))

    @property
    def training_examples_per_clip(self):
        return self.config.crops_per_song if self.config.crop_seconds else 1

    def training_examples(self, waveform, seed=None):
        if not self.config.crop_seconds:
            return self.examples(waveform)
        crop = self._crop()
        offsets = tf.random.uniform([self.config.crops_per_song], 0,
                                    tf.shape(waveform)[0] - crop + 1, dtype=tf.int32,
                                    seed=seed)
        crops = tf.map_fn(lambda start: waveform[start:start + crop], offsets,
                          fn_output_signature=tf.float32)
        return self._images(crops)

    def examples_per_clip(self, n_samples):
        """How many examples ``examples`` gives for a clip of ``n_samples`` (>= min)."""
        if not self.config.crop_seconds:
            return 1
        return 1 + (max(n_samples, self._crop()) - self._crop()) // self.hop_samples

    @property
    def example_shape(self):
        return self.config.input_shape()

    def describe(self):
        return {"frontend": self.name, "spectrograms": list(self.config.kinds),
                "spectrogram_config": dataclasses.asdict(self.config.spectrogram),
                "image_size": self.config.image_size,
                "crop_seconds": self.config.crop_seconds,
                "crop_samples": self.config.crop_samples or None,
                "crop_hop_seconds": self.config.crop_hop_seconds,
                "crops_per_song": self.config.crops_per_song}
