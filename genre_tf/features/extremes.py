"""The mean of the ``count`` largest or smallest values along the last axis, exactly.

Spectral contrast needs it per frame and octave band (librosa sorts each band and
averages its top and bottom 2%). ``tf.math.top_k`` costs ~10 ns per input value on CPU
(its per-row heap), twenty times a ``reduce_max``, and the contrast's top_k calls were
a third of the feature vector's CPU time. So the values go through top_k only after
cheap reductions have thinned them out:

1. The band's values are split into ``n_chunks`` groups of ``chunk`` values (strided:
   group ``j`` holds values ``j, j + n_chunks, ...``, so the grouping is a reshape, not
   a copy).
2. Each group's maximum; top_k picks the ``count`` groups with the largest maxima.
3. The mean of the ``count`` largest values in those groups (plus the few left over by
   the grouping; ``_mean_of_largest``) is the answer: a value in any other group is at
   most its group's maximum, so at most the smallest of the ``count`` chosen maxima,
   each of which is a value of the band; whatever it would displace ties with it.

With ``chunk ~ sqrt(width / count)`` about ``2 sqrt(width * count)`` values reach top_k
instead of ``width`` (242 instead of 860 for the top band at n_fft 4096).

Counts of one and two (the low bands, and the two top bands at n_fft 512) need no
top_k: a maximum, or the maximum and the largest value below it.
"""

import functools

import numpy as np
import tensorflow as tf

from genre_tf.features import dft


@functools.lru_cache(maxsize=None)
def chunking(width, count):
    """``(chunk, n_chunks)`` for ``width`` values and ``count`` extremes: about
    ``sqrt(width / count)`` values a group, at least ``count`` groups."""
    chunk = max(1, int(round(np.sqrt(width / count))))
    while width // chunk < count:
        chunk -= 1
    return chunk, width // chunk


def _two_by_reductions(count):
    """Whether a count of two takes ``_mean_of_two_largest``: in TensorFlow, not in the
    TFLite trace, where top_k on the grouped values costs less CPU per call than the
    reductions (``bench/predict.py``, LiteRT)."""
    return count == 2 and not dft.builtin_ops_active()


def _pieces(width, count):
    """Sizes of the parts of ``width`` values: the grouped ones and any left over."""
    chunk, n_chunks = chunking(width, count)
    if count == 1 or _two_by_reductions(count) or n_chunks == width \
            or chunk * n_chunks == width:
        return (width,)
    return (chunk * n_chunks, width - chunk * n_chunks)


def _mean_of_two_largest(values):
    """Mean of the two largest of ``values [..., width]`` along the last axis, ``[...]``.

    The largest, then the largest below it, or the largest again if it occurs twice:
    three reductions and two element-wise passes, exact with ties, and 35-45% less CPU
    than top_k on the grouped values for the narrow bands where contrast takes two
    (rows of 74-109 values: per-row top_k calls cost more than the passes).
    """
    largest = tf.reduce_max(values, axis=-1, keepdims=True)
    below = tf.reduce_max(tf.where(values < largest, values, -np.inf), axis=-1,
                          keepdims=True)
    repeated = tf.reduce_sum(tf.cast(tf.equal(values, largest), tf.float32), axis=-1,
                             keepdims=True) > 1.0
    return ((largest + tf.where(repeated, largest, below)) / 2.0)[..., 0]


def _mean_of_largest(values, count):
    """Mean of the ``count`` largest of ``values [..., width]`` along the last axis.

    The ``count``-th largest ``kth`` comes from NthElement (``std::nth_element``: no
    index heap, ~30% less CPU than top_k on the candidates here); the sum of the
    ``count`` largest is then ``sum(relu(values - kth)) + count * kth``, ties included.
    TFLite has no NthElement builtin, so the export's trace (``dft.builtin_ops``)
    keeps top_k.
    """
    if dft.builtin_ops_active():
        return tf.reduce_mean(tf.math.top_k(values, count, sorted=False).values, -1)
    kth = tf.raw_ops.NthElement(input=values, n=count - 1, reverse=True)
    excess = tf.reduce_sum(tf.nn.relu(values - kth[..., tf.newaxis]), axis=-1)
    return (excess + count * kth) / count


def _extreme_mean(parts, count, largest):
    """Mean of the ``count`` largest (or smallest) values of ``parts`` (``_pieces`` of one
    band's ``[..., width]``), ``[...]``. Only the small arrays (group extremes,
    candidates) are negated for the smallest."""
    sign = 1.0 if largest else -1.0
    width = sum(part.shape[-1] for part in parts)
    if count == 1:
        return (tf.reduce_max(parts[0], axis=-1) if largest
                else tf.reduce_min(parts[0], axis=-1))
    if _two_by_reductions(count):
        return sign * _mean_of_two_largest(sign * parts[0])
    chunk, n_chunks = chunking(width, count)
    if n_chunks == width:  # groups of one: plain top_k
        return sign * _mean_of_largest(sign * parts[0], count)
    leading = tf.shape(parts[0])[:-1]
    grouped = tf.reshape(parts[0], tf.concat([leading, [chunk, n_chunks]], axis=0))
    extremes = (tf.reduce_max(grouped, axis=-2) if largest
                else -tf.reduce_min(grouped, axis=-2))
    best = tf.math.top_k(extremes, count, sorted=False).indices
    chosen = tf.gather(grouped, best, axis=-1, batch_dims=parts[0].shape.rank - 1)
    candidates = tf.reshape(chosen, tf.concat([leading, [chunk * count]], axis=0))
    if len(parts) > 1:
        candidates = tf.concat([candidates, parts[1]], axis=-1)
    return sign * _mean_of_largest(sign * candidates, count)


def band_extremes(values, bands):
    """Mean of the largest and of the smallest values of consecutive bands.

    Args:
      values: float32 ``[..., width]``.
      bands: ``(width, count)`` of each band, in order; the widths add up to the last
        axis (spectral contrast's octave bands do).

    Returns:
      ``(largest, smallest)``, each float32 ``[..., n_bands]``: per band the mean of its
      ``count`` largest values and of its ``count`` smallest.
    """
    sizes = [_pieces(width, count) for width, count in bands]
    # One split of the last axis into every band's parts: a strided slice per part
    # copied the spectrum twice.
    flat = tf.split(values, [size for parts in sizes for size in parts], axis=-1)
    largest, smallest = [], []
    for (_, count), parts in zip(bands, sizes):
        band, flat = flat[:len(parts)], flat[len(parts):]
        largest.append(_extreme_mean(band, count, largest=True))
        smallest.append(_extreme_mean(band, count, largest=False))
    return tf.stack(largest, axis=-1), tf.stack(smallest, axis=-1)


def mean_of_largest(values, count):
    """Mean of the ``count`` largest values along the last axis.

    Args:
      values: float32 ``[..., width]`` with a static ``width >= count``.
      count: how many, a Python int.

    Returns:
      float32 ``[...]``.
    """
    largest, _ = band_extremes(values, [(values.shape[-1], count)])
    return largest[..., 0]


def mean_of_smallest(values, count):
    """Mean of the ``count`` smallest values along the last axis (as
    ``mean_of_largest``)."""
    _, smallest = band_extremes(values, [(values.shape[-1], count)])
    return smallest[..., 0]
