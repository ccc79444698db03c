"""Spectral centroid, bandwidth and rolloff from one matmul of the magnitude spectrum.

All three are weighted sums over a frame's bins: the centroid is ``sum |S| f / sum |S|``,
the (p = 2) bandwidth needs ``sum |S| f^2`` besides, and the rolloff the running sum of
``|S|``. Against a constant matrix whose columns are ``f``, ``f^2`` and the running-sum
indicator of every block of ``rolloff_block`` bins (its last column, all ones, is the
total), one matmul reads the spectrum once for all of them; computing each on its own
read it five times (42 of a clip's ~280 CPU ms over 4 windows, ``bench/features.py``).

Shapes as in ``spectral``: magnitude ``[..., frames, n_fft // 2 + 1]``, each output
``[..., frames, 1]`` in Hz, numerically librosa 0.11's (the tests compare).
"""

import functools

import numpy as np
import tensorflow as tf

from genre_tf.features import spectral


def rolloff_block(n_bins):
    """Bins per block of the rolloff search: a power of two near ``sqrt(n_bins)``, so the
    block running sums (matmul columns) and the search inside one block (a gather of
    ``block`` bins per frame) both stay small."""
    return 2 ** int(round(np.log2(n_bins) / 2))


@functools.lru_cache(maxsize=None)
def shape_matrix(sample_rate, n_fft):
    """``[n_bins, 2 + n_blocks]`` float32: ``f``, ``f^2`` (Hz), then for each rolloff
    block the indicator of the bins up to its end (the last column is all ones)."""
    freq = spectral.fft_frequencies(sample_rate, n_fft).astype(np.float64)
    n_bins = freq.size
    block = rolloff_block(n_bins)
    block_ends = np.minimum(np.arange(block, n_bins + block, block), n_bins)
    running = (np.arange(n_bins)[:, None] < block_ends[None, :]).astype(np.float64)
    return np.concatenate([freq[:, None], freq[:, None] ** 2, running],
                          axis=1).astype(np.float32)


@functools.lru_cache(maxsize=None)
def _upper_triangle(n):
    """``[n, n]`` float32 ones on and above the diagonal: ``x @ it`` is ``cumsum(x)``."""
    return np.triu(np.ones((n, n), np.float32))


def _safe(total):
    """The frame totals with 0 replaced by 1, so silent frames give 0, not NaN."""
    return tf.where(total < spectral.TINY, tf.ones_like(total), total)


def _first_reaching(magnitude, block_running, share):
    """Per frame, the first bin whose running sum of ``magnitude`` reaches ``share`` of
    the total, given the running sums at the end of each block (``shape_matrix``).

    The block that crosses the threshold comes from the block sums, then a running sum
    over that block's bins only: the same bin as a cumsum over all of them for a
    fraction of the work (tf.searchsorted would be simpler but has no TFLite kernel).
    """
    rank = magnitude.shape.rank
    n_bins = magnitude.shape[-1]
    block = rolloff_block(n_bins)
    threshold = share * block_running[..., -1:]
    crossing = tf.argmax(tf.cast(block_running >= threshold, tf.int32), axis=-1,
                         output_type=tf.int32)
    before = tf.gather(tf.pad(block_running, [[0, 0]] * (rank - 1) + [[1, 0]]), crossing,
                       batch_dims=rank - 1)
    bins = tf.minimum(crossing[..., tf.newaxis] * block + tf.range(block), n_bins - 1)
    # A cumsum along a short last axis is slow on CPU (~50 ns a value); a matmul with
    # a triangle of ones is the same sums.
    running = tf.matmul(tf.gather(magnitude, bins, batch_dims=rank - 1),
                        _upper_triangle(block))
    # Bins still short of the threshold; a rounding shortfall stops at the block's end.
    short = tf.reduce_sum(tf.cast(running + before[..., tf.newaxis] < threshold, tf.int32),
                          axis=-1)
    return tf.minimum(crossing * block + tf.minimum(short, block - 1), n_bins - 1)


def compute_spectral_shape(magnitude, sample_rate, n_fft, roll_percent=0.85):
    """Centroid, p = 2 bandwidth and rolloff of every frame, from one matmul.

    Args:
      magnitude: float32 ``[..., frames, n_fft // 2 + 1]``, ``|STFT|``.
      sample_rate: Hz.
      n_fft: the STFT size.
      roll_percent: the rolloff's share of the magnitude.

    Returns:
      A dict ``centroid``, ``bandwidth``, ``rolloff`` -> float32 ``[..., frames, 1]``.
    """
    sums = tf.matmul(magnitude, shape_matrix(sample_rate, n_fft))
    total = _safe(sums[..., -1:])
    centroid = sums[..., 0:1] / total
    # E[(f - c)^2] = E[f^2] - c^2.
    bandwidth = tf.sqrt(tf.nn.relu(sums[..., 1:2] / total - tf.square(centroid)))
    first = _first_reaching(magnitude, sums[..., 2:], roll_percent)
    rolloff = tf.gather(spectral.fft_frequencies(sample_rate, n_fft), first)
    return {"centroid": centroid, "bandwidth": bandwidth,
            "rolloff": rolloff[..., tf.newaxis]}


def compute_spectral_centroid(waveform, sample_rate, n_fft=1024, hop_length=512,
                              magnitude=None):
    """Spectral centroid in Hz per frame, ``librosa.feature.spectral_centroid``.

    Returns:
      float32 ``[..., frames, 1]``.
    """
    if magnitude is None:
        magnitude = spectral.compute_stft_magnitude(waveform, n_fft, hop_length)
    freq = spectral.fft_frequencies(sample_rate, n_fft)
    total = tf.reduce_sum(magnitude, axis=-1, keepdims=True)
    return tf.matmul(magnitude, freq[:, None]) / _safe(total)


def compute_spectral_bandwidth(waveform, sample_rate, n_fft=1024, hop_length=512,
                               magnitude=None, p=2.0):
    """p-th order spectral bandwidth in Hz, ``librosa.feature.spectral_bandwidth``.

    Returns:
      float32 ``[..., frames, 1]``.
    """
    if magnitude is None:
        magnitude = spectral.compute_stft_magnitude(waveform, n_fft, hop_length)
    if p == 2.0:
        return compute_spectral_shape(magnitude, sample_rate, n_fft)["bandwidth"]
    centroid = compute_spectral_centroid(waveform, sample_rate, n_fft, hop_length,
                                         magnitude=magnitude)
    deviation = tf.abs(spectral.fft_frequencies(sample_rate, n_fft) - centroid)
    weighted = tf.reduce_sum(spectral.normalize_sum(magnitude) * deviation ** p, axis=-1,
                             keepdims=True)
    return weighted ** (1.0 / p)


def compute_spectral_rolloff(waveform, sample_rate, n_fft=1024, hop_length=512,
                             magnitude=None, roll_percent=0.85):
    """Frequency below which ``roll_percent`` of the magnitude lies, in Hz.

    ``librosa.feature.spectral_rolloff``: the lowest bin whose cumulative magnitude
    reaches ``roll_percent`` of the frame's total.

    Returns:
      float32 ``[..., frames, 1]``.
    """
    if magnitude is None:
        magnitude = spectral.compute_stft_magnitude(waveform, n_fft, hop_length)
    return compute_spectral_shape(magnitude, sample_rate, n_fft, roll_percent)["rolloff"]
