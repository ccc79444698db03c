"""System 2's head: the study's block-stacking spectrogram CNN, and its stronger variant.

The study adds conv(3x3, stride 1, same padding) + ReLU + 2x2 max-pool blocks until the
feature map is ``final_conv_dim`` x ``final_conv_dim`` (4x4), then FC -> FC/2 -> softmax.
``build_spectrogram_cnn`` does exactly that; ``batch_norm`` and ``spec_augment`` turn on
the changes that let a mel CNN go far past the study's ~50% on GTZAN.

Two more choices matter on small data (a hundred songs), each a registry entry here:
- ``standardization``: one mean and variance for the whole image (the study), or one
  per frequency row (``per_band``): after each image's min-max scaling, low mel bands
  still sit far above high ones, and per-band statistics let every band count alike;
- ``classifier``: the study's flatten -> FC -> FC/2 (over a million weights on a 4x4x256
  map, which memorise 70 songs), or no hidden dense layer: ``global_pool`` (the mean of
  each final feature map) or ``time_pool`` (its mean over time, one per band) ->
  dropout -> softmax.
"""

import keras
from keras import layers


def _halvings(size, final):
    """How many 2x poolings take ``size`` down to ``final``; raises if none does."""
    count, current = 0, size
    while current > final:
        current //= 2
        count += 1
    if current != final or size != final * 2 ** count:
        raise ValueError(f"input side {size} is not {final} x a power of two; resize the "
                         f"spectrogram (e.g. --image_size={final * 2 ** max(count, 1)})")
    return count


def conv_blocks_needed(input_shape, final_conv_dim=4):
    """Blocks the builder adds for an input ``(height, width, channels)``."""
    return max(_halvings(input_shape[0], final_conv_dim),
               _halvings(input_shape[1], final_conv_dim))


@keras.saving.register_keras_serializable(package="genre_tf")
class SpecAugment(layers.Layer):
    """SpecAugment-style masking (Park et al. 2019), active only in training.

    Zeroes ``n_masks`` random bands of up to ``max_freq`` rows and as many stretches of
    up to ``max_time`` columns of each ``[batch, freq, time, channels]`` example (after
    standardisation, so zero is the mean).
    """

    def __init__(self, max_freq=16, max_time=16, n_masks=2, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.max_freq = max_freq
        self.max_time = max_time
        self.n_masks = n_masks
        self.seed = seed
        self._generator = keras.random.SeedGenerator(seed)

    def _mask(self, shape, axis_size, max_width, axis):
        batch = shape[0]
        width = keras.random.randint((batch, 1), 0, max_width + 1, seed=self._generator)
        start = keras.random.randint((batch, 1), 0, axis_size, seed=self._generator)
        position = keras.ops.arange(axis_size)[None, :]
        inside = keras.ops.logical_and(position >= start, position < start + width)
        target = [batch, 1, 1, 1]
        target[axis] = axis_size
        return keras.ops.reshape(inside, target)

    def call(self, inputs, training=None):
        if not training:
            return inputs
        shape = keras.ops.shape(inputs)
        keep = keras.ops.ones_like(inputs, dtype="bool")
        for _ in range(self.n_masks):
            for axis, limit in ((1, self.max_freq), (2, self.max_time)):
                masked = self._mask(shape, shape[axis], limit, axis)
                keep = keras.ops.logical_and(keep, keras.ops.logical_not(masked))
        return keras.ops.where(keep, inputs, keras.ops.zeros_like(inputs))

    def get_config(self):
        return {**super().get_config(), "max_freq": self.max_freq,
                "max_time": self.max_time, "n_masks": self.n_masks, "seed": self.seed}


# --standardization -> the axes of ``[batch, freq, time, channels]`` that keep their own
# mean and variance (None: one scalar for the whole image).
STANDARDIZATION_AXES = {"global": None, "per_band": (1, 3)}


def fully_connected(x, fc_units, dropout):
    """The study's classifier: flatten -> dropout -> FC -> dropout -> FC/2."""
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dropout(dropout, name="dropout_fc")(x)
    x = layers.Dense(fc_units, activation="relu", name="fc")(x)
    x = layers.Dropout(dropout, name="dropout_fc_half")(x)
    return layers.Dense(max(1, fc_units // 2), activation="relu", name="fc_half")(x)


def global_pool(x, fc_units, dropout):
    """A compact classifier: the mean of each feature map -> dropout (``fc_units``
    unused: no hidden dense layer)."""
    del fc_units
    x = layers.GlobalAveragePooling2D(name="global_pool")(x)
    return layers.Dropout(dropout, name="dropout_pool")(x)


def time_pool(x, fc_units, dropout):
    """A compact classifier that keeps where in frequency a feature fired (a genre's
    bass or cymbals sit in their bands; ``global_pool`` forgets that): the mean over
    time of each feature map -> flatten ``[bands x filters]`` -> dropout."""
    del fc_units
    x = layers.AveragePooling2D((1, int(x.shape[2])), name="time_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    return layers.Dropout(dropout, name="dropout_pool")(x)


# --classifier -> fn(final feature map, fc_units, dropout) -> features for the softmax.
CLASSIFIERS = {"fc": fully_connected, "global_pool": global_pool, "time_pool": time_pool}


def build_spectrogram_cnn(input_shape, n_classes, train_images, final_conv_dim=4,
                          base_filters=16, max_filters=256, fc_units=256, dropout=0.5,
                          batch_norm=False, spec_augment=False, standardization="global",
                          classifier="fc"):
    """Standardise -> [conv-ReLU-pool] x k until final_conv_dim -> classifier -> softmax.

    Args:
      input_shape: ``(height, width, channels)``; each side must be
        ``final_conv_dim * 2**k``.
      n_classes: output width.
      train_images: a sample of training inputs (array or batched dataset of images)
        whose mean and variance standardise every input, inside the model.
      final_conv_dim: side of the last feature map (the study: 4).
      base_filters: filters of the first block; doubled each block up to max_filters.
      fc_units: width of the first fully connected layer; the second has half.
      dropout: dropout before each fully connected layer.
      batch_norm: batch normalisation after each convolution (not in the study).
      spec_augment: random frequency/time masking in training (not in the study).
      standardization: a key of ``STANDARDIZATION_AXES`` (the study: ``global``).
      classifier: a key of ``CLASSIFIERS`` (the study: ``fc``, FC -> FC/2).

    Returns:
      An uncompiled ``keras.Model``.

    Raises:
      ValueError: an unknown ``standardization`` or ``classifier``, or an input side
        that is not ``final_conv_dim`` x a power of two.
    """
    for name, value, registry in (("standardization", standardization,
                                   STANDARDIZATION_AXES),
                                  ("classifier", classifier, CLASSIFIERS)):
        if value not in registry:
            raise ValueError(f"unknown --{name}={value}; choose from {', '.join(registry)}")
    n_blocks = conv_blocks_needed(input_shape, final_conv_dim)
    standardize = layers.Normalization(axis=STANDARDIZATION_AXES[standardization],
                                       name="standardize")
    standardize.adapt(train_images)
    inputs = keras.Input(input_shape, name="spectrogram")
    x = standardize(inputs)
    if spec_augment:
        x = SpecAugment(max_freq=max(1, input_shape[0] // 8),
                        max_time=max(1, input_shape[1] // 8), name="spec_augment")(x)
    height, width = input_shape[0], input_shape[1]
    for block in range(n_blocks):
        filters = min(base_filters * 2 ** block, max_filters)
        x = layers.Conv2D(filters, 3, strides=1, padding="same", use_bias=not batch_norm,
                          name=f"conv{block}")(x)
        if batch_norm:
            x = layers.BatchNormalization(name=f"bn{block}")(x)
        x = layers.ReLU(name=f"relu{block}")(x)
        pool = (2 if height > final_conv_dim else 1, 2 if width > final_conv_dim else 1)
        height, width = height // pool[0], width // pool[1]
        x = layers.MaxPooling2D(pool, name=f"pool{block}")(x)
    x = CLASSIFIERS[classifier](x, fc_units, dropout)
    outputs = layers.Dense(n_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="spectrogram_cnn")


def final_map_side(model):
    """(height, width) of the last conv block's feature map (what the classifier reads)."""
    pools = [layer for layer in model.layers if layer.name.startswith("pool")]
    shape = pools[-1].output.shape
    return int(shape[1]), int(shape[2])

