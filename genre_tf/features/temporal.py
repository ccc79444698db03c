"""Waveform-domain frame features, ``librosa.feature.zero_crossing_rate`` and ``rms``.

Both are sums over centred frames of a per-sample signal (sign changes, squares). A
frame of ``n_fft`` samples with hop ``n_fft // 4``, centred by ``n_fft // 2`` samples of
padding, covers exactly four hop-sized blocks of the unpadded signal, and the blocks of
every window size are sums of the smallest hop's blocks. So ``compute_zcr_and_rms`` reads
the samples once for all window sizes of the feature vector: one per-sample pass and
one block sum, then a few ops on a few thousand block sums per window (the per-window
sample passes were 27 ms of a clip's 4 windows; see ``bench/features.py``).

Shapes: waveform ``[..., samples]``; outputs ``[..., frames, 1]`` with librosa's frame
count ``1 + samples // hop_length`` (even frame lengths).
"""

import functools
import math

import tensorflow as tf

# Longest frame, in blocks, that block sums serve (the feature vector's is 4).
_MAX_BLOCKS_PER_FRAME = 16


def _zero_crossings(waveform, threshold):
    """1.0 where sample ``n`` has the other sign than sample ``n - 1`` (0.0 at ``n = 0``),
    librosa's rule: samples within ``threshold`` of zero count as positive.

    The edge padding librosa's frames add repeats the first and last sample, so it adds
    no crossing: the padded signal's crossings are these with zeros around them.
    """
    negative = waveform < -threshold
    change = tf.cast(tf.not_equal(negative[..., 1:], negative[..., :-1]), tf.float32)
    return tf.pad(change, [[0, 0]] * (change.shape.rank - 1) + [[1, 0]])


def _blockwise(windows):
    """Whether every ``(frame_length, hop_length)`` is whole blocks of its hop, centred
    by whole blocks, and every hop a multiple of the smallest."""
    base = min(hop for _, hop in windows)
    return all(length % hop == 0 and (length // 2) % hop == 0 and hop % base == 0
               and length // hop <= _MAX_BLOCKS_PER_FRAME for length, hop in windows)


def _n_frames(n_samples, frame_length, hop_length):
    """Frames of a signal padded by ``frame_length // 2`` on each side (librosa)."""
    pad = frame_length // 2
    return 1 + (n_samples + 2 * pad - frame_length) // hop_length


def centred_frame_sums(values, windows):
    """Sums of ``values [..., samples]`` over librosa's centred, zero-padded frames.

    Args:
      values: float32 ``[..., samples]``.
      windows: ``(frame_length, hop_length)`` pairs.

    Returns:
      One float32 ``[..., frames]`` per window, equal to
      ``reduce_sum(frame(pad(values, frame_length // 2), frame_length, hop_length), -1)``.
    """
    n_samples = tf.shape(values)[-1]
    rank = values.shape.rank
    leading = tf.shape(values)[:-1]
    if not _blockwise(windows):
        return [tf.reduce_sum(tf.signal.frame(
            tf.pad(values, [[0, 0]] * (rank - 1) + [[length // 2, length // 2]]),
            length, hop), axis=-1) for length, hop in windows]
    base = min(hop for _, hop in windows)
    whole = functools.reduce(math.lcm, (hop for _, hop in windows))
    longest = max(length for length, _ in windows)
    # Zeros after the samples: the last frames reach up to frame_length / 2 past the end.
    padded_length = (n_samples + longest + whole - 1) // whole * whole
    padded = tf.pad(values, [[0, 0]] * (rank - 1) + [[0, padded_length - n_samples]])
    base_blocks = tf.reduce_sum(tf.reshape(padded, tf.concat(
        [leading, [padded_length // base, base]], axis=0)), axis=-1)
    sums = []
    for length, hop in windows:
        blocks = base_blocks
        if hop != base:
            blocks = tf.reduce_sum(tf.reshape(blocks, tf.concat(
                [leading, [padded_length // hop, hop // base]], axis=0)), axis=-1)
        # The centring padding is whole blocks of zeros before the first sample.
        blocks = tf.pad(blocks, [[0, 0]] * (rank - 1) + [[length // 2 // hop, 0]])
        n_frames = _n_frames(n_samples, length, hop)
        sums.append(tf.add_n([blocks[..., k:k + n_frames] for k in range(length // hop)]))
    return sums


def _first_sample_crossings(crossings, frame_length, hop_length, n_frames):
    """The crossing into each centred frame's first sample, ``[..., frames]``: librosa
    counts crossings between a frame's samples only."""
    pad = frame_length // 2
    rank = crossings.shape.rank
    if pad % hop_length:
        padded = tf.pad(crossings, [[0, 0]] * (rank - 1) + [[pad, 0]])
        return padded[..., ::hop_length][..., :n_frames]
    firsts = tf.pad(crossings[..., ::hop_length], [[0, 0]] * (rank - 1)
                    + [[pad // hop_length, 0]])
    return firsts[..., :n_frames]


def _rate(crossing_sums, crossings, frame_length, hop_length):
    """Crossings per sample of each frame, ``[..., frames, 1]``."""
    firsts = _first_sample_crossings(crossings, frame_length, hop_length,
                                     tf.shape(crossing_sums)[-1])
    return ((crossing_sums - firsts) / frame_length)[..., tf.newaxis]


def _root_mean(square_sums, frame_length):
    """RMS of each frame from its sum of squares, ``[..., frames, 1]``."""
    return tf.sqrt(tf.nn.relu(square_sums) / frame_length)[..., tf.newaxis]


def compute_zcr_and_rms(waveform, windows, threshold=1e-10):
    """Zero-crossing rate and RMS of every window size from one pass over the samples.

    Args:
      waveform: float32 ``[..., samples]``.
      windows: ``(frame_length, hop_length)`` pairs.
      threshold: as ``compute_zero_crossing_rate``.

    Returns:
      One ``(zcr, rms)`` per window, each float32 ``[..., frames, 1]``.
    """
    waveform = tf.convert_to_tensor(waveform, tf.float32)
    crossings = _zero_crossings(waveform, threshold)
    both = tf.stack([crossings, tf.square(waveform)], axis=-2)  # one block pass for both
    results = []
    for (length, hop), sums in zip(windows, centred_frame_sums(both, windows)):
        crossing_sums, square_sums = tf.unstack(sums, axis=-2)
        results.append((_rate(crossing_sums, crossings, length, hop),
                        _root_mean(square_sums, length)))
    return results


def compute_zero_crossing_rate(waveform, frame_length=2048, hop_length=512,
                               threshold=1e-10):
    """Fraction of sign changes per frame, ``librosa.feature.zero_crossing_rate``.

    Frames are centred with edge-value padding, as librosa does; samples within
    ``threshold`` of zero count as positive.

    Returns:
      float32 ``[..., frames, 1]``.
    """
    waveform = tf.convert_to_tensor(waveform, tf.float32)
    crossings = _zero_crossings(waveform, threshold)
    sums, = centred_frame_sums(crossings, [(frame_length, hop_length)])
    return _rate(sums, crossings, frame_length, hop_length)


def compute_rms(waveform, frame_length=2048, hop_length=512):
    """Root-mean-square energy per frame, ``librosa.feature.rms`` (centred, zero pad).

    Returns:
      float32 ``[..., frames, 1]``.
    """
    waveform = tf.convert_to_tensor(waveform, tf.float32)
    sums, = centred_frame_sums(tf.square(waveform), [(frame_length, hop_length)])
    return _root_mean(sums, frame_length)
