"""The study's ten spectrogram types in TF ops, and their CQT-based building blocks.

``compute_spectrogram(waveform, kind, config)`` returns ``[frames, bins]`` for any of
``SPECTROGRAM_TYPES``. Each is checked against librosa in the tests.

Intended differences from librosa, each documented where it is built:
- ``cqt`` is librosa's *pseudo* CQT (one long STFT times a fixed constant-Q basis,
  ``librosa.pseudo_cqt``), not the multi-rate ``librosa.cqt``; it equals
  ``librosa.pseudo_cqt(tuning=0, sparsity=0)``; in dB it correlates 0.8-0.9 with
  ``librosa.cqt`` on real music (the multi-rate CQT resolves low notes better).
- ``chroma_cqt`` folds that 12-bins-per-octave pseudo-CQT into pitch classes; librosa
  folds a 36-bins-per-octave CQT with an estimated tuning (correlation about 0.7 on real
  music). A 36-bin pseudo-CQT would need a 65536-point FFT per frame; the 12-bin one
  needs 16384.
- ``tonnetz`` is librosa's tonal centroid transform of *our* ``chroma_cqt``.
- ``stft_db`` (``amplitude_to_db(|S|)``) and ``power_db`` (``power_to_db(|S|^2)``) are
  the same numbers in librosa too; both are kept because the study lists both.
"""

import dataclasses
import functools

import librosa
import numpy as np
import tensorflow as tf

from genre_tf.audio import params
from genre_tf.features import rhythm, spectral

# librosa's CQT defaults: C1, 7 octaves of 12 bins.
CQT_FMIN = float(librosa.note_to_hz("C1"))


@dataclasses.dataclass(frozen=True)
class SpectrogramConfig:
    """Analysis settings, with librosa's names; defaults are the study's."""
    sample_rate: int = params.SAMPLE_RATE
    n_fft: int = 1024
    hop_length: int = 512
    n_mels: int = 128
    n_mfcc: int = 20
    n_cqt_bins: int = 84
    cqt_bins_per_octave: int = 12
    tempogram_win_length: int = 384

    def n_bins(self, kind):
        """Height of spectrogram type ``kind``."""
        return _registered(kind).n_bins(self)


@functools.lru_cache(maxsize=None)
def pseudo_cqt_basis(sample_rate, n_bins=84, bins_per_octave=12, fmin=CQT_FMIN,
                     hop_length=512):
    """|FFT| of librosa's constant-Q wavelet filters: ``([n_fft//2+1, n_bins], n_fft)``.

    Built as ``librosa.pseudo_cqt`` builds it (Hann-windowed wavelets with equal-
    temperament bandwidth, L1-normalised, padded to a power of two, rescaled by their
    length over the FFT size), without sparsification.
    """
    freqs = librosa.cqt_frequencies(n_bins=n_bins, fmin=fmin,
                                    bins_per_octave=bins_per_octave)
    ratio = 2.0 ** (1.0 / bins_per_octave)
    alpha = np.full(n_bins, (ratio ** 2 - 1) / (ratio ** 2 + 1))
    basis, lengths = librosa.filters.wavelet(freqs=freqs, sr=sample_rate, norm=1,
                                             pad_fft=True, window="hann", alpha=alpha)
    n_fft = max(basis.shape[1], int(2.0 ** (1 + np.ceil(np.log2(hop_length)))))
    basis = basis * (lengths[:, np.newaxis] / float(n_fft))
    fft_basis = np.abs(np.fft.fft(basis, n=n_fft, axis=1)[:, :n_fft // 2 + 1])
    return fft_basis.T.astype(np.float32), n_fft


def compute_pseudo_cqt(waveform, sample_rate, hop_length=512, n_bins=84,
                       bins_per_octave=12, fmin=CQT_FMIN):
    """Constant-Q magnitude, ``librosa.pseudo_cqt(tuning=0, sparsity=0)``.

    Returns:
      float32 ``[..., frames, n_bins]`` with ``1 + samples // hop_length`` frames.
    """
    basis, n_fft = pseudo_cqt_basis(sample_rate, n_bins, bins_per_octave, fmin,
                                    hop_length)
    magnitude = spectral.compute_stft_magnitude(waveform, n_fft, hop_length)
    return tf.matmul(magnitude, basis) / np.sqrt(n_fft).astype(np.float32)


def amplitude_to_db(magnitude):
    """``librosa.amplitude_to_db(S, ref=1.0)``: 20 log10, floored 80 dB below the peak."""
    return spectral.power_to_db(tf.square(magnitude), amin=1e-10)


@functools.lru_cache(maxsize=None)
def cq_to_chroma_matrix(n_bins, bins_per_octave, fmin=CQT_FMIN):
    """librosa's CQT-bin to pitch-class folding matrix, ``[n_bins, 12]``."""
    return librosa.filters.cq_to_chroma(n_input=n_bins, bins_per_octave=bins_per_octave,
                                        n_chroma=12, fmin=fmin).T.astype(np.float32)


def compute_chroma_cqt(waveform, sample_rate, hop_length=512, n_bins=84,
                       bins_per_octave=12, cqt=None):
    """Pitch-class profile from the pseudo-CQT, scaled to a peak of 1 per frame.

    Returns:
      float32 ``[..., frames, 12]``.
    """
    if cqt is None:
        cqt = compute_pseudo_cqt(waveform, sample_rate, hop_length, n_bins,
                                 bins_per_octave)
    chroma = tf.matmul(cqt, cq_to_chroma_matrix(n_bins, bins_per_octave))
    return spectral.normalize_max(chroma)


@functools.lru_cache(maxsize=None)
def tonnetz_matrix():
    """librosa's 6 x 12 tonal centroid basis (fifths, minor and major thirds), ``[12, 6]``."""
    dim_map = np.linspace(0, 12, num=12, endpoint=False)
    scale = np.asarray([7.0 / 6, 7.0 / 6, 3.0 / 2, 3.0 / 2, 2.0 / 3, 2.0 / 3])
    vectors = np.multiply.outer(scale, dim_map)
    vectors[::2] -= 0.5  # sin rows
    radii = np.asarray([1, 1, 1, 1, 0.5, 0.5])
    return (radii[:, np.newaxis] * np.cos(np.pi * vectors)).T.astype(np.float32)


def compute_tonnetz(chroma):
    """Tonal centroids of a chromagram, ``librosa.feature.tonnetz(chroma=...)``.

    Returns:
      float32 ``[..., frames, 6]``.
    """
    return tf.matmul(spectral.normalize_sum(tf.abs(chroma)),
                     tonnetz_matrix())


def _cqt(waveform, config):
    return compute_pseudo_cqt(waveform, config.sample_rate, config.hop_length,
                              config.n_cqt_bins, config.cqt_bins_per_octave)


def _chroma_cqt(waveform, config):
    return compute_chroma_cqt(waveform, config.sample_rate, config.hop_length,
                              config.n_cqt_bins, config.cqt_bins_per_octave,
                              cqt=_cqt(waveform, config))


def _stft_db(waveform, config):
    return amplitude_to_db(spectral.compute_stft_magnitude(waveform, config.n_fft,
                                                           config.hop_length))


def _stft_bins(config):
    return config.n_fft // 2 + 1


@dataclasses.dataclass(frozen=True)
class SpectrogramType:
    """One registered spectrogram: how to compute it and how many bins it has."""
    compute: object  # (waveform, SpectrogramConfig) -> [..., frames, bins]
    n_bins: object  # SpectrogramConfig -> int


# The study's ten types; a new type is one entry here.
SPECTROGRAMS = {
    "stft_db": SpectrogramType(_stft_db, _stft_bins),
    "power_db": SpectrogramType(_stft_db, _stft_bins),  # the same numbers (see above)
    "phase": SpectrogramType(
        lambda w, c: tf.math.angle(spectral.compute_stft(w, c.n_fft, c.hop_length)),
        _stft_bins),
    "chroma_stft": SpectrogramType(
        lambda w, c: spectral.compute_chroma_stft(w, c.sample_rate, c.n_fft, c.hop_length),
        lambda c: 12),
    "chroma_cqt": SpectrogramType(_chroma_cqt, lambda c: 12),
    "mfcc": SpectrogramType(
        lambda w, c: spectral.compute_mfcc(w, c.sample_rate, c.n_fft, c.hop_length,
                                           c.n_mfcc, c.n_mels),
        lambda c: c.n_mfcc),
    "mel": SpectrogramType(
        lambda w, c: spectral.power_to_db(spectral.compute_mel(
            w, c.sample_rate, c.n_fft, c.hop_length, c.n_mels)),
        lambda c: c.n_mels),
    "cqt": SpectrogramType(lambda w, c: amplitude_to_db(_cqt(w, c)),
                           lambda c: c.n_cqt_bins),
    "tempogram": SpectrogramType(
        lambda w, c: rhythm.compute_tempogram(
            rhythm.compute_onset_strength(w, c.sample_rate, c.n_fft, c.hop_length),
            c.tempogram_win_length),
        lambda c: c.tempogram_win_length),
    "tonnetz": SpectrogramType(lambda w, c: compute_tonnetz(_chroma_cqt(w, c)),
                               lambda c: 6),
}
SPECTROGRAM_TYPES = tuple(SPECTROGRAMS)


def _registered(kind):
    try:
        return SPECTROGRAMS[kind]
    except KeyError:
        raise ValueError(f"unknown spectrogram {kind!r}; choose from "
                         f"{', '.join(SPECTROGRAM_TYPES)}") from None


def compute_spectrogram(waveform, kind, config=SpectrogramConfig()):
    """One of the study's spectrograms of a mono waveform.

    Args:
      waveform: float32 ``[..., samples]`` at ``config.sample_rate``.
      kind: one of ``SPECTROGRAM_TYPES``.
      config: a ``SpectrogramConfig``.

    Returns:
      float32 ``[..., frames, config.n_bins(kind)]``, ``frames = 1 + samples // hop``.

    Raises:
      ValueError: unknown ``kind``.
    """
    return _registered(kind).compute(waveform, config)
