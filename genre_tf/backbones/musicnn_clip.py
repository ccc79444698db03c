"""musicnn's front end computed once per clip rather than once per patch.

At the 1.5 s hop of ``musicnn.flags`` adjacent 3 s patches share half their frames, and
the timbral convolutions (7 frames by 38 or 67 bands, 204 filters each: most of the
network's multiply-adds) see the same 7 frames wherever a frame lies more than 3 frames
from a patch edge. ``ClipNetwork`` runs them once over the clip's whole spectrogram and
cuts the result into patches; only the 3 frames at each end of a patch, where the
patch's zero padding enters, are computed per patch. The temporal convolutions (32-128
frames of "same" padding: most output frames touch a patch edge) stay per patch; the
mid end and top run per patch on the assembled front-end features (``back_end``).

Each front-end branch is ``max over bands of batch_norm(relu(conv + bias))``; it is
reduced as ``signed_band_max``: the one band maximum of the convolution with each filter
multiplied by the sign of its batch norm's scale, then bias, ReLU and batch norm on the
pooled ``[frames, filters]``, never on the ``[frames, bands, filters]`` tensor; and
``band_max_in_pieces`` takes that maximum over a few bands at a time.
"""

import functools

import keras
import numpy as np
import tensorflow as tf

from genre_tf.backbones import musicnn_input

# The timbral convolutions' output frames read 3 frames either side ("same" in time).
TIMBRAL_EDGE_FRAMES = 3
TIMBRAL_CONVS = (("conv2d", "batch_normalization_1"), ("conv2d_1", "batch_normalization_2"))
TEMPORAL_CONVS = (("conv2d_2", "batch_normalization_3"), ("conv2d_3", "batch_normalization_4"),
                  ("conv2d_4", "batch_normalization_5"))
# Output bands per piece of ``band_max_in_pieces``. One product over all bands writes a
# [patches, frames, bands, filters] tensor (40-90 MB for a 17-30 s clip) only to reduce
# it; in pieces of 24 bands the network took 0.40 s of CPU per 17 s clip instead of
# 0.46 (2 cores, one process; 12 bands: 0.40 too, with 400 more ops to trace).
BANDS_PER_PIECE = 24


def back_end(network):
    """``network`` from its front-end features ``[batch, frames, 561]`` on (mid end,
    pooling, top), sharing its layers and weights."""
    return keras.Model(network.get_layer("front_features").output, network.output,
                       name="musicnn_back_end")


def norm_signs(norm):
    """Per channel, +1 where inference batch norm ``norm`` increases with its input, -1
    where it decreases (negative scale)."""
    return tf.where(norm.gamma < 0, -1.0, 1.0)


def signed_band_max(conv, norm, band_max_of_signed):
    """``max over bands of norm(relu(conv(x)))`` from ``band_max_of_signed``: the band
    maximum of ``conv(x)`` without bias, with each filter times ``norm_signs(norm)``.

    Why exact: a per-filter affine map (batch norm), ReLU and adding the bias are
    monotone, also in float rounding, so the band maximum of the normalised output is
    the image of the band maximum where the scale is positive and of the band minimum
    where it is negative; and ``max(-y) = -min(y)`` exactly. One reduction instead of
    two, and no elementwise pass over the ``[frames, bands, filters]`` tensor.
    """
    signs = norm_signs(norm)
    return norm(conv.activation(signs * band_max_of_signed + conv.bias))


def band_max_in_pieces(band_max, inputs, width, axis=2):
    """``max`` over output bands of a convolution ``width`` bands wide ("valid" in
    frequency) of ``inputs`` (bands on ``axis``), from ``band_max`` (inputs -> their
    band maximum) applied to ``BANDS_PER_PIECE`` output bands at a time (exact: a
    maximum of maxima)."""
    positions = inputs.shape[axis] - width + 1
    pieces = -(-positions // BANDS_PER_PIECE)
    bounds = np.linspace(0, positions, pieces + 1).round().astype(int)
    before = (slice(None),) * axis
    return functools.reduce(tf.maximum, [
        band_max(inputs[before + (slice(start, stop + width - 1),)])
        for start, stop in zip(bounds[:-1], bounds[1:])])


class ClipNetwork:
    """A loaded musicnn ``network`` (``musicnn.build_musicnn``) run on a whole clip:
    log-mel spectrogram ``[frames, 96]`` -> the network's outputs for its patches.

    The outputs equal ``network(tf.signal.frame(spectrogram, patch_frames, hop_frames))``
    up to float rounding (sums in another order), ``patch_frames`` being
    ``musicnn_input.patch_frames``.
    """

    def __init__(self, network, hop_frames):
        self.hop_frames = hop_frames
        self.input_norm = network.get_layer("batch_normalization")
        self.timbral = [(network.get_layer(c), network.get_layer(n)) for c, n in TIMBRAL_CONVS]
        self.temporal = [(network.get_layer(c), network.get_layer(n))
                         for c, n in TEMPORAL_CONVS]
        self.back_end = back_end(network)

    def __call__(self, spectrogram):
        """``[frames >= 2 * TIMBRAL_EDGE_FRAMES, 96]`` -> dict of ``[patches, ...]``."""
        clip = self.input_norm(spectrogram[None, :, :, None])  # [1, frames, 96, 1]
        length = musicnn_input.patch_frames(tf.shape(spectrogram)[0])
        patches = tf.signal.frame(clip[0], length, self.hop_frames, axis=0)
        front = [self._timbral(conv, norm, clip, patches, length)
                 for conv, norm in self.timbral]
        front += [self._temporal(conv, norm, patches[..., 0]) for conv, norm in self.temporal]
        return self.back_end(tf.concat(front, axis=2), training=False)

    def _timbral(self, conv, norm, clip, patches, length):
        """One timbral branch, ``[patches, length, 204]``: interior frames from the
        clip, the ``TIMBRAL_EDGE_FRAMES`` at each patch end from the patch."""
        edge = TIMBRAL_EDGE_FRAMES
        kernel = conv.kernel * norm_signs(norm)

        def piece_max(bands):
            # The static band and channel counts, which the TFLite converter loses
            # through the slices (it then runs the convolution through Flex).
            bands = tf.reshape(bands, [-1, tf.shape(bands)[1], bands.shape[2], 1])
            return tf.reduce_max(tf.nn.conv2d(bands, kernel, 1, "VALID"), axis=2)

        def band_max(frames):  # [b, t + 2 * edge, 96, 1] -> [b, t, 204]
            return signed_band_max(conv, norm, band_max_in_pieces(piece_max, frames,
                                                                  kernel.shape[1]))

        padding = [[0, 0], [edge, edge], [0, 0], [0, 0]]
        inner = tf.signal.frame(band_max(tf.pad(clip, padding)), length, self.hop_frames,
                                axis=1)[0, :, edge:length - edge]
        zeros = tf.zeros_like(patches[:, :edge])
        ends = band_max(tf.concat([
            tf.concat([zeros, patches[:, :2 * edge]], 1),
            tf.concat([patches[:, length - 2 * edge:], zeros], 1)], 0))
        heads, tails = tf.split(ends, 2)
        return tf.concat([heads, inner, tails], 1)

    @staticmethod
    def _temporal(conv, norm, patches):
        """One temporal branch, ``[patches, length, 51]``, per patch: the windows and
        the band of taps built once, the products and maxima a few bands at a time."""
        band = conv.band(norm_signs(norm))
        maxima = band_max_in_pieces(
            lambda windows: tf.reduce_max(conv.products(windows, band), axis=1),
            conv.windows(patches), 1, axis=1)
        return signed_band_max(conv, norm, maxima[:, :tf.shape(patches)[1]])
