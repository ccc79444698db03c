"""musicnn rebuilt as a Keras functional model and loaded from its TF1 checkpoints.

The PyPI package ``musicnn`` 0.1.0 ships checkpoints of taggers trained on the Million
Song Dataset (``MSD_musicnn``, 50 tags) and MagnaTagATune (``MTT_musicnn``); its own code
is TF1 graph code. ``build_musicnn`` reproduces the published architecture layer for layer
(musically motivated front end: timbral 7x38 / 7x67 and temporal 128/64/32 filters
max-pooled over frequency; a dense-residual mid end of 7-frame convolutions; temporal
max and mean pooling; dense 200 -> tags), with layer names equal to the checkpoint's
variable scopes, so ``load_checkpoint`` is a name-for-name copy. Its input, log-compressed
mel patches, is computed in TF ops (``musicnn_input``); ``musicnn_clip`` runs the
network on a whole clip's spectrogram, its front end once per clip.

The tests run the original TF1 graph on the same audio and compare taggrams.
"""

import os

import keras
import tensorflow as tf
from keras import layers

from genre_tf.backbones import musicnn_clip, musicnn_input
from genre_tf.backbones import musicnn_params as P
from genre_tf.features import dft

# Checkpoints in the musicnn wheel, with their tag vocabularies' sizes.
MODELS = {"MSD_musicnn": 50, "MTT_musicnn": 50}
# Embeddings a MusicnnBackbone can return, with their widths.
EMBEDDING_LAYERS = {"max_pool": 753, "mean_pool": 753, "penultimate": 200, "taggram": 50,
                    "pooled": 1506}
# The top of the network, from "pooled" to "penultimate": what --finetune_top retrains.
TOP_LAYERS = ("batch_normalization_9", "dense", "batch_normalization_10")


def checkpoint_dir(model):
    """The checkpoint folder inside the installed ``musicnn`` package.

    Raises:
      FileNotFoundError: the package is not installed (``pip install --no-deps
        musicnn==0.1.0``).
    """
    try:
        import musicnn as package  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise FileNotFoundError(
            "the musicnn checkpoints come with the PyPI package musicnn: "
            "pip install --no-deps musicnn==0.1.0") from None
    folder = os.path.join(os.path.dirname(package.__file__), model)
    if not os.path.isfile(os.path.join(folder, ".index")):
        raise FileNotFoundError(f"{folder}: no checkpoint for {model}")
    return folder


def _batch_norm(index):
    name = "batch_normalization" + (f"_{index}" if index else "")
    return layers.BatchNormalization(epsilon=P.BN_EPSILON, name=name)


def _conv(index, filters, kernel, padding, conv_class=layers.Conv2D):
    name = "conv2d" + (f"_{index}" if index else "")
    return conv_class(filters, kernel, padding=padding, activation="relu", name=name)


class TemporalConv(layers.Conv2D):
    """A ``(length, 1)`` "same" convolution along time of a one-channel input
    ``[batch, frames, bands, 1]``, computed as matrix products with a banded (Toeplitz)
    matrix of its taps.

    Why: the direct convolution of a single input channel with a 32-128-tap kernel runs
    far below the CPU's matrix-product speed. The output is cut into blocks of
    ``block_frames`` frames; each block is one row of the product of the block's input
    window (``block_frames + length - 1`` frames, zero beyond the input's ends) with the
    ``[window, block_frames * filters]`` band of taps, which does only
    ``(block_frames + length - 1) / length`` times the multiply-adds of the direct
    convolution (one band over all 187 frames did 1.5-6x). The sums are the same, in
    another order (float rounding only). Weights, names and output are a ``Conv2D``'s:
    the checkpoint loads unchanged.
    """

    @property
    def block_frames(self):
        """A quarter of the taps, at least 16: fewer multiply-adds for smaller blocks,
        fewer and larger products for larger ones (32/16/16 for musicnn's 128/64/32
        taps were the fastest on 2 cores, 17 s clips)."""
        return max(16, self.kernel_size[0] // 4)

    def windows(self, inputs):
        """``[batch, frames, bands]`` -> ``[batch, bands, blocks, window]``: the input
        frames each block of ``block_frames`` output frames reads, zero beyond the
        input's ends ("same" padding; the last block may run past the last frame)."""
        length, block = self.kernel_size[0], self.block_frames
        frames = tf.shape(inputs)[1]
        blocks = (frames + block - 1) // block
        before = (length - 1) // 2  # output t reads t - before + tap
        columns = tf.pad(tf.transpose(inputs, [0, 2, 1]),
                         [[0, 0], [0, 0], [before, blocks * block + length - 1 - before
                                           - frames]])
        return tf.signal.frame(columns, block + length - 1, block, axis=2)

    def band(self, signs=1.0):
        """``[window, block_frames * filters]``: window row i feeds output j of the
        block through tap ``i - j``, each filter's taps times ``signs``."""
        length, filters, block = self.kernel_size[0], self.filters, self.block_frames
        taps = tf.concat([self.kernel[:, 0, 0, :] * signs, tf.zeros([1, filters])], 0)
        tap = tf.range(block + length - 1)[:, None] - tf.range(block)[None, :]
        band = tf.gather(taps, tf.where((tap >= 0) & (tap < length), tap, length))
        return tf.reshape(band, [block + length - 1, block * filters])

    def products(self, windows, band):
        """``windows`` (of some bands) times ``band``: the convolution without bias
        or activation, ``[batch, bands, blocks * block_frames, filters]``."""
        shape = tf.shape(windows)
        outputs = tf.matmul(tf.reshape(windows, [-1, shape[3]]), band)
        return tf.reshape(outputs, [shape[0], shape[1], -1, self.filters])

    def call(self, inputs):
        outputs = self.products(self.windows(inputs[..., 0]), self.band())
        outputs = tf.transpose(outputs, [0, 2, 1, 3])[:, :tf.shape(inputs)[1]]
        return self.activation(tf.nn.bias_add(outputs, self.bias))


def band_max_of_batch_norm(batch_norm, features):
    """``max(batch_norm(features), axis=2)`` (over mel bands), normalising only the
    band maximum and minimum.

    Why: inference batch norm is a per-channel affine map, so the band maximum of its
    output is the image of the band maximum or minimum of its input (whichever is larger
    after the map); float rounding keeps such a map monotone, so the result is
    bit-identical while the front end's largest tensors ``[batch, frames, bands, 204]``
    are read twice instead of normalised element by element.
    """
    ops = keras.ops
    return ops.maximum(batch_norm(ops.max(features, axis=2)),
                       batch_norm(ops.min(features, axis=2)))


def build_musicnn(n_tags=50, n_frames=None, num_filt_midend=64,
                  num_units_backend=200):
    """The musicnn tagger as a Keras model from log-mel patches ``[batch, frames, 96]``.

    ``n_frames`` None takes patches of any length (published: 187 frames, 3 s); every
    layer is convolutional in time or pools over it.

    Returns:
      A ``keras.Model`` whose outputs are a dict: ``taggram`` (sigmoid tag
      probabilities), ``max_pool`` and ``mean_pool`` (``[batch, 753]`` temporal pooling
      of front- and mid-end features), ``pooled`` (both, interleaved, ``[batch, 1506]``,
      the input of the top) and ``penultimate`` (``[batch, 200]``).
    """
    ops = keras.ops
    patches = keras.Input((n_frames, P.N_MELS), name="log_mel")
    x = _batch_norm(0)(ops.expand_dims(patches, -1))  # [b, t, 96, 1]
    padded = layers.ZeroPadding2D(((3, 3), (0, 0)))(x)
    front = []
    for index, width in ((0, int(0.4 * P.N_MELS)), (1, int(0.7 * P.N_MELS))):  # timbral
        y = _conv(index, 204, (7, width), "valid")(padded)
        front.append(band_max_of_batch_norm(_batch_norm(index + 1), y))
    for index, length in ((2, 128), (3, 64), (4, 32)):  # temporal
        y = _conv(index, 51, (length, 1), "same", TemporalConv)(x)
        front.append(band_max_of_batch_norm(_batch_norm(index + 1), y))
    # Named: the mid end onwards is also a model of its own (``musicnn_clip.back_end``).
    front_features = layers.Concatenate(axis=2, name="front_features")(front)  # [b, t, 561]

    mid = [ops.expand_dims(front_features, -1)]  # [b, t, 561, 1]
    previous = None
    for index in range(3):  # dense-residual mid end
        source = mid[-1]
        y = _conv(5 + index, num_filt_midend, (7, source.shape[2]), "valid")(
            layers.ZeroPadding2D(((3, 3), (0, 0)))(source))
        y = ops.transpose(_batch_norm(6 + index)(y), (0, 1, 3, 2))  # [b, t, 64, 1]
        previous = y if previous is None else y + previous
        mid.append(previous)
    features = ops.concatenate(mid, axis=2)  # [b, t, 753, 1]

    max_pool = ops.max(features, axis=1)
    mean_pool = ops.mean(features, axis=1)
    pooled = layers.Flatten()(ops.concatenate([max_pool, mean_pool], axis=2))  # [b, 1506]
    y = layers.Dropout(0.5)(_batch_norm(9)(pooled))
    penultimate = _batch_norm(10)(
        layers.Dense(num_units_backend, activation="relu", name="dense")(y))
    logits = layers.Dense(n_tags, name="dense_1")(layers.Dropout(0.5)(penultimate))
    outputs = {"taggram": ops.sigmoid(logits), "max_pool": ops.squeeze(max_pool, -1),
               "mean_pool": ops.squeeze(mean_pool, -1), "pooled": pooled,
               "penultimate": penultimate}
    return keras.Model(patches, outputs, name="musicnn")


def build_top(network, name="musicnn_top"):
    """musicnn's top, ``pooled`` -> ``penultimate``, as a trainable model initialised
    with ``network``'s pretrained weights (batch norm, dense 200 + ReLU, batch norm).

    Fine-tuning it on cached ``pooled`` embeddings adapts the last pretrained layers to
    genres without running the convolutional layers again.
    """
    pooled = keras.Input((EMBEDDING_LAYERS["pooled"],), name="pooled")
    norm_in = _batch_norm(9)
    dense = layers.Dense(network.get_layer("dense").units, activation="relu", name="dense")
    norm_out = _batch_norm(10)
    outputs = norm_out(dense(layers.Dropout(0.5)(norm_in(pooled))))
    top = keras.Model(pooled, outputs, name=name)
    for layer_name in TOP_LAYERS:
        top.get_layer(layer_name).set_weights(network.get_layer(layer_name).get_weights())
    return top


def load_checkpoint(model, folder):
    """Copies the TF1 checkpoint in ``folder`` into ``model``, layer name by layer name.

    Raises:
      ValueError: a layer's variables are missing from the checkpoint or have another
        shape (the architecture does not match).
    """
    reader = tf.compat.v1.train.NewCheckpointReader(os.path.join(folder, ""))
    suffixes = {layers.Conv2D: ("kernel", "bias"), layers.Dense: ("kernel", "bias"),
                layers.BatchNormalization: ("gamma", "beta", "moving_mean",
                                            "moving_variance")}
    loaded = 0
    for layer in model.layers:
        names = next((names for kind, names in suffixes.items()
                      if isinstance(layer, kind)), None)
        if not names:
            continue
        values = []
        for suffix in names:
            key = f"{layer.name}/{suffix}"
            if not reader.has_tensor(key):
                raise ValueError(f"{folder}: checkpoint has no {key}")
            values.append(reader.get_tensor(key))
        layer.set_weights(values)
        loaded += 1
    return loaded


@keras.saving.register_keras_serializable(package="genre_tf")
class MusicnnBackbone(keras.layers.Layer):
    """Frozen musicnn: 16 kHz mono waveform -> ``[patches, dim]`` embeddings.

    Args:
      model: a key of ``MODELS``.
      layer: which embedding, a key of ``EMBEDDING_LAYERS`` (``max_pool`` is what the
        musicnn authors recommend for transfer learning).
      frame_hop_seconds: hop between 3 s patches; None: non-overlapping, as musicnn.
    """

    sample_rate = P.SAMPLE_RATE
    min_samples = P.MIN_SAMPLES  # shorter than a patch: one patch of the real length
    window_samples = P.PATCH_SAMPLES

    @staticmethod
    def hop_frames_for(frame_hop_seconds):
        """Mel frames between patches (None: non-overlapping patches, as musicnn)."""
        if not frame_hop_seconds:
            return P.PATCH_FRAMES
        return max(1, int(round(frame_hop_seconds * P.SAMPLE_RATE / P.HOP_LENGTH)))

    @classmethod
    def hop_samples_for(cls, frame_hop_seconds):
        """Samples between patches for a ``frame_hop_seconds`` setting."""
        return cls.hop_frames_for(frame_hop_seconds) * P.HOP_LENGTH

    def __init__(self, model="MSD_musicnn", layer="max_pool", frame_hop_seconds=None,
                 **kwargs):
        super().__init__(**kwargs)
        if model not in MODELS:
            raise ValueError(f"unknown musicnn model {model!r}; choose from {sorted(MODELS)}")
        if layer not in EMBEDDING_LAYERS:
            raise ValueError(f"unknown musicnn layer {layer!r}; choose from "
                             f"{sorted(EMBEDDING_LAYERS)}")
        self.model_name = model
        self.layer_name = layer
        self.frame_hop_seconds = frame_hop_seconds
        self.hop_frames = self.hop_frames_for(frame_hop_seconds)
        self.network = build_musicnn(MODELS[model])
        load_checkpoint(self.network, checkpoint_dir(model))
        self.network.trainable = False
        self.trainable = False
        self.dim = EMBEDDING_LAYERS[layer]
        self.built = True  # its weights live in `network`, built above
        # The network on a clip's spectrogram (its front end once per clip, the rest per
        # patch: ``musicnn_clip``) as one function, traced once per process: every
        # tf.data pass and export that calls the layer then calls this graph instead of
        # tracing the Keras network into its own (seconds per trace). One function per
        # tracing mode (``dft.tracing_mode``): the TFLite export's slices and frames
        # differently; with one function for both, the TFLite file would get the
        # SavedModel's trace (slow STRIDED_SLICE, gathers).
        self.traces = 0
        self.clip_network = musicnn_clip.ClipNetwork(self.network, self.hop_frames)
        self._clip_functions = {}

    def _outputs_of_log_mel(self, spectrogram):
        self.traces += 1  # Python: counts traces, not calls
        return self.clip_network(spectrogram)

    def outputs_of_log_mel(self, spectrogram):
        """The network's outputs for a clip's log-mel spectrogram ``[frames, 96]``."""
        mode = dft.tracing_mode()
        if mode not in self._clip_functions:
            self._clip_functions[mode] = tf.function(
                self._outputs_of_log_mel, autograph=False,
                input_signature=[tf.TensorSpec([None, P.N_MELS], tf.float32)])
        return self._clip_functions[mode](spectrogram)

    def outputs(self, waveform):
        """The network's outputs (``build_musicnn``) for the waveform's patches."""
        return self.outputs_of_log_mel(musicnn_input.log_mel(waveform))

    def call(self, waveform):
        """``[samples >= MIN_SAMPLES]`` -> ``[patches, dim]``."""
        return self.outputs(waveform)[self.layer_name]

    def taggram(self, waveform):
        """Tag probabilities per patch, ``[patches, 50]`` (for checking the port)."""
        return self.outputs(waveform)["taggram"]

    def get_config(self):
        return {**super().get_config(), "model": self.model_name, "layer": self.layer_name,
                "frame_hop_seconds": self.frame_hop_seconds}

