"""Spectral features in TensorFlow ops, numerically matched to librosa 0.11.

Each ``compute_<feature>`` is one small function built on the previous ones, so the whole
feature set of a clip shares one STFT per window size (centroid, bandwidth and rolloff
are in ``spectral_shape``, ZCR and RMS in ``temporal``). librosa is used only to build
constant filter banks (mel, chroma) at trace time; everything that touches audio is a TF
op, so the functions run inside ``tf.data`` and inside an exported SavedModel.

Shapes: waveform ``[..., samples]``; every frame-level output is ``[..., frames, bins]``
(librosa's transpose). Frames are centred with zero padding of ``n_fft // 2`` samples on
each side, like ``librosa.stft(center=True, pad_mode="constant")``, so frame counts match
librosa: ``1 + samples // hop_length``.

Intended differences from librosa, all tested:
- ``compute_chroma_stft`` takes ``tuning`` (default 0.0) instead of estimating it per
  clip: an estimate makes a clip's chroma depend on a noisy pitch histogram, and a fixed
  tuning keeps the exported model a pure function of the waveform.
- Computation is float32 (librosa mixes float32 and float64), so values agree to a
  relative tolerance of about 1e-4, not bit for bit. For spectral rolloff (a bin index,
  ``spectral_shape``) that means 99.8% of frames of real music give librosa's exact frequency and the rest,
  where the running sum meets the threshold within rounding, one bin more or less.
"""

import functools

import librosa
import numpy as np
import tensorflow as tf

from genre_tf.features import dft, extremes

# power_to_db defaults of librosa: floor and dynamic range of a dB spectrogram.
DB_AMIN = 1e-10
DB_TOP = 80.0
# float32 "tiny" used by librosa.util.normalize to leave silent frames untouched.
TINY = float(np.finfo(np.float32).tiny)


def _center_pad(waveform, n_fft):
    """Pads ``n_fft // 2`` zeros on each side of the last axis, as librosa's center=True."""
    pad = n_fft // 2
    return tf.pad(waveform, [[0, 0]] * (waveform.shape.rank - 1) + [[pad, pad]])


def compute_stft(waveform, n_fft=1024, hop_length=512):
    """Complex STFT of a waveform with a periodic Hann window, centred like librosa.

    Args:
      waveform: float32 ``[..., samples]``.
      n_fft: FFT size and window length in samples.
      hop_length: samples between frames.

    Returns:
      complex64 ``[..., frames, n_fft // 2 + 1]``.
    """
    waveform = tf.convert_to_tensor(waveform, tf.float32)
    padded = _center_pad(waveform, n_fft)
    return tf.signal.stft(
        padded, frame_length=n_fft, frame_step=hop_length, fft_length=n_fft,
        window_fn=tf.signal.hann_window, pad_end=False)


def compute_stft_magnitude(waveform, n_fft=1024, hop_length=512):
    """|STFT|: ``np.abs(librosa.stft(y, n_fft, hop_length))``, time-major."""
    if dft.builtin_ops_active():  # the TFLite export: no complex tensors, no RFFT op
        padded = _center_pad(tf.convert_to_tensor(waveform, tf.float32), n_fft)
        return dft.stft_magnitude(padded, n_fft, hop_length)
    return tf.abs(compute_stft(waveform, n_fft, hop_length))


def compute_power_spectrogram(waveform, n_fft=1024, hop_length=512):
    """|STFT|^2, the input of mel, chroma and flatness.

    re^2 + im^2 directly: ``tf.abs`` of a complex tensor computes a hypot per bin only
    for the square to undo it. ``sqrt`` of this is the magnitude to float32 rounding.
    """
    if dft.builtin_ops_active():  # the TFLite export: frames without a gather, RFFT2D
        return dft.centred_stft_power(waveform, n_fft, hop_length)
    stft = compute_stft(waveform, n_fft, hop_length)
    return tf.square(tf.math.real(stft)) + tf.square(tf.math.imag(stft))


def power_to_db(power, amin=DB_AMIN, top_db=DB_TOP):
    """``librosa.power_to_db(S, ref=1.0)``: 10 log10, floored ``top_db`` below the peak.

    The peak is taken over the last two axes (one spectrogram), so a batch of clips
    gives the same numbers as one clip at a time.
    """
    log_spec = 10.0 * tf.math.log(tf.maximum(power, amin)) / tf.math.log(10.0)
    if top_db is None:
        return log_spec
    peak = tf.reduce_max(log_spec, axis=[-2, -1], keepdims=True)
    return tf.maximum(log_spec, peak - top_db)


def compute_power_db(waveform, n_fft=1024, hop_length=512):
    """Power spectrogram in dB, ``librosa.power_to_db(np.abs(stft) ** 2)``."""
    return power_to_db(compute_power_spectrogram(waveform, n_fft, hop_length))


@functools.lru_cache(maxsize=None)
def mel_filterbank(sample_rate, n_fft, n_mels=128, fmin=0.0, fmax=None):
    """librosa's Slaney mel filter bank, ``[n_fft // 2 + 1, n_mels]`` float32."""
    bank = librosa.filters.mel(sr=sample_rate, n_fft=n_fft, n_mels=n_mels,
                               fmin=fmin, fmax=fmax)
    return bank.T.astype(np.float32)


def compute_mel(waveform, sample_rate, n_fft=1024, hop_length=512, n_mels=128,
                power=None):
    """Mel power spectrogram, ``librosa.feature.melspectrogram`` (power 2.0).

    Args:
      waveform: float32 ``[..., samples]``.
      sample_rate: Hz.
      n_fft, hop_length, n_mels: as in librosa.
      power: optional precomputed power spectrogram ``[..., frames, n_fft//2+1]`` so
        several features share one STFT.

    Returns:
      float32 ``[..., frames, n_mels]``.
    """
    if power is None:
        power = compute_power_spectrogram(waveform, n_fft, hop_length)
    return tf.matmul(power, mel_filterbank(sample_rate, n_fft, n_mels))


def compute_mfcc(waveform, sample_rate, n_fft=1024, hop_length=512, n_mfcc=20,
                 n_mels=128, power=None, mel_db=None):
    """MFCC as ``librosa.feature.mfcc``: DCT-II (ortho) of the dB mel spectrogram.

    Args:
      mel_db: optional precomputed ``power_to_db(compute_mel(...))`` ``[..., frames,
        n_mels]``, so MFCC and the onset envelope share one mel spectrogram.

    Returns:
      float32 ``[..., frames, n_mfcc]``.
    """
    if mel_db is None:
        mel_db = power_to_db(compute_mel(waveform, sample_rate, n_fft, hop_length, n_mels,
                                         power=power))
    return tf.matmul(mel_db, dct_matrix(n_mels, n_mfcc))


@functools.lru_cache(maxsize=None)
def dct_matrix(n_inputs, n_outputs):
    """The first ``n_outputs`` orthonormal DCT-II basis vectors, ``[n_inputs, n_outputs]``.

    A matmul with only the kept coefficients is several times faster than
    ``tf.signal.dct`` followed by slicing, and equals scipy's ``dct(norm="ortho")``.
    """
    n = np.arange(n_inputs)[:, None]
    k = np.arange(n_outputs)[None, :]
    basis = np.cos(np.pi * k * (2 * n + 1) / (2 * n_inputs)) * np.sqrt(2.0 / n_inputs)
    basis[:, 0] /= np.sqrt(2.0)
    return basis.astype(np.float32)


@functools.lru_cache(maxsize=None)
def chroma_filterbank(sample_rate, n_fft, n_chroma=12, tuning=0.0):
    """librosa's STFT-to-chroma filter bank, ``[n_fft // 2 + 1, n_chroma]`` float32."""
    bank = librosa.filters.chroma(sr=sample_rate, n_fft=n_fft, n_chroma=n_chroma,
                                  tuning=tuning)
    return bank.T.astype(np.float32)


def normalize_max(values):
    """``librosa.util.normalize(norm=inf)`` over the last axis; silent frames stay 0."""
    peak = tf.reduce_max(tf.abs(values), axis=-1, keepdims=True)
    return values / tf.where(peak < TINY, tf.ones_like(peak), peak)


def normalize_sum(values):
    """``librosa.util.normalize(norm=1)`` over the last axis for non-negative values."""
    total = tf.reduce_sum(values, axis=-1, keepdims=True)
    return values / tf.where(total < TINY, tf.ones_like(total), total)


def compute_chroma_stft(waveform, sample_rate, n_fft=1024, hop_length=512, n_chroma=12,
                        tuning=0.0, power=None):
    """Chromagram from the power STFT, ``librosa.feature.chroma_stft(tuning=0.0)``.

    Each frame is scaled so its largest pitch class is 1 (librosa's norm=inf).

    Returns:
      float32 ``[..., frames, n_chroma]``.
    """
    if power is None:
        power = compute_power_spectrogram(waveform, n_fft, hop_length)
    raw = tf.matmul(power, chroma_filterbank(sample_rate, n_fft, n_chroma, tuning))
    return normalize_max(raw)


# Mel bands per matmul in ``compute_mel_and_chroma``. Each triangular filter is zero
# outside the bins between its neighbours' centres, so 16 consecutive bands cover about
# an eighth of the bins: eight products with 16 columns read each bin about once,
# instead of one product with 128 columns that are mostly zeros (~8x fewer multiply-adds).
MEL_BANDS_PER_GROUP = 16


@functools.lru_cache(maxsize=None)
def mel_band_groups(sample_rate, n_fft, n_mels=128, bands_per_group=MEL_BANDS_PER_GROUP):
    """Groups of consecutive mel bands with the bins their filters cover.

    Returns:
      A tuple of ``(first_bin, end_bin, first_band, end_band)``: the filter bank's
      columns ``first_band:end_band`` are exactly 0 outside rows ``first_bin:end_bin``.
    """
    bank = mel_filterbank(sample_rate, n_fft, n_mels)
    groups = []
    for first in range(0, n_mels, bands_per_group):
        end = min(first + bands_per_group, n_mels)
        rows = np.flatnonzero(np.any(bank[:, first:end] != 0, axis=1))
        low, high = (int(rows[0]), int(rows[-1]) + 1) if rows.size else (0, 1)
        groups.append((low, high, first, end))
    return tuple(groups)


def banded_mel(power, sample_rate, n_fft, n_mels=128):
    """``power @ mel_filterbank(...)`` from ``mel_band_groups``: the same sums of the
    same non-zero products, one small matmul per group of bands."""
    bank = mel_filterbank(sample_rate, n_fft, n_mels)
    return tf.concat([tf.matmul(power[..., low:high], bank[low:high, first:end])
                      for low, high, first, end in mel_band_groups(sample_rate, n_fft,
                                                                   n_mels)], axis=-1)


def compute_mel_and_chroma(power, sample_rate, n_fft, n_mels=128, n_chroma=12,
                           tuning=0.0):
    """``compute_mel`` and ``compute_chroma_stft`` of one power spectrogram.

    The mel product skips the filter bank's zeros (``banded_mel``); chroma's filters
    weigh every bin, so its 12 columns are one dense product. The TFLite trace keeps
    one product with both banks side by side, as before: its LiteRT CPU per call was
    ~10% higher with the banded mel and the two-extremes reductions of ``extremes``
    (``bench/predict.py``, two runs each).

    Returns:
      ``(mel [..., frames, n_mels], chroma [..., frames, n_chroma])`` float32.
    """
    if dft.builtin_ops_active():  # TFLite: one FULLY_CONNECTED cost less than 8 + slices
        both = tf.matmul(power, np.concatenate(
            [mel_filterbank(sample_rate, n_fft, n_mels),
             chroma_filterbank(sample_rate, n_fft, n_chroma, tuning)], axis=1))
        mel, raw_chroma = tf.split(both, [n_mels, n_chroma], axis=-1)
        return mel, normalize_max(raw_chroma)
    raw_chroma = tf.matmul(power, chroma_filterbank(sample_rate, n_fft, n_chroma, tuning))
    return banded_mel(power, sample_rate, n_fft, n_mels), normalize_max(raw_chroma)


def fft_frequencies(sample_rate, n_fft):
    """Centre frequency of each STFT bin in Hz, float32 ``[n_fft // 2 + 1]``."""
    return np.linspace(0, sample_rate / 2, n_fft // 2 + 1).astype(np.float32)


@functools.lru_cache(maxsize=None)
def contrast_bands(sample_rate, n_fft, n_bands=6, fmin=200.0, quantile=0.02):
    """Bin indices and quantile counts of librosa's octave bands for spectral contrast.

    Returns:
      A tuple of ``(bin_indices, count)`` per band, exactly the bins librosa's
      ``spectral_contrast`` sorts (including its one-bin overlaps between bands).
    """
    freq = fft_frequencies(sample_rate, n_fft)
    octa = np.zeros(n_bands + 2)
    octa[1:] = fmin * (2.0 ** np.arange(0, n_bands + 1))
    if np.any(octa[:-1] >= 0.5 * sample_rate):
        raise ValueError(f"spectral contrast bands exceed Nyquist at sr={sample_rate}: "
                         "reduce fmin or n_bands")
    bands = []
    for k, (f_low, f_high) in enumerate(zip(octa[:-1], octa[1:])):
        in_band = np.logical_and(freq >= f_low, freq <= f_high)
        idx = np.flatnonzero(in_band)
        if idx.size == 0:
            raise ValueError(f"spectral contrast band {k} ({f_low:.0f}-{f_high:.0f} Hz) "
                             f"holds no STFT bin at n_fft={n_fft}: raise n_fft")
        if k > 0:
            in_band[idx[0] - 1] = True
        if k == n_bands:
            in_band[idx[-1] + 1:] = True
        bins = np.flatnonzero(in_band)
        count = int(max(np.rint(quantile * in_band.sum()), 1))
        if k < n_bands:
            bins = bins[:-1]
        bands.append((tuple(int(b) for b in bins), count))
    return tuple(bands)


def compute_spectral_contrast(waveform, sample_rate, n_fft=1024, hop_length=512,
                              magnitude=None, n_bands=6, fmin=200.0, quantile=0.02):
    """Octave-band peak-to-valley contrast in dB, ``librosa.feature.spectral_contrast``.

    Returns:
      float32 ``[..., frames, n_bands + 1]``.
    """
    if magnitude is None:
        magnitude = compute_stft_magnitude(waveform, n_fft, hop_length)
    bands = contrast_bands(sample_rate, n_fft, n_bands, fmin, quantile)
    starts = [bins[0] for bins, _ in bands]
    if starts != [0] + [bins[-1] + 1 for bins, _ in bands[:-1]]:
        # A band edge on a bin centre: librosa's bands overlap there, so lay them out.
        magnitude = tf.concat([magnitude[..., bins[0]:bins[-1] + 1] for bins, _ in bands],
                              axis=-1)
    # Usually the bands split the bins in order (librosa's one-bin overlaps shift each
    # band's start down by one); their extremes without sorting them (``extremes``).
    peak, valley = extremes.band_extremes(magnitude,
                                          [(len(bins), count) for bins, count in bands])
    return power_to_db(peak) - power_to_db(valley)


def compute_spectral_flatness(waveform, n_fft=1024, hop_length=512, magnitude=None,
                              amin=DB_AMIN, power=2.0):
    """Geometric over arithmetic mean of the power spectrum (Wiener entropy).

    ``librosa.feature.spectral_flatness``: 1 for white noise, near 0 for a tone.

    Returns:
      float32 ``[..., frames, 1]``.
    """
    if magnitude is None:
        magnitude = compute_stft_magnitude(waveform, n_fft, hop_length)
    floored = tf.maximum(amin, magnitude ** power)
    geometric = tf.exp(tf.reduce_mean(tf.math.log(floored), axis=-1, keepdims=True))
    arithmetic = tf.reduce_mean(floored, axis=-1, keepdims=True)
    return geometric / arithmetic
