"""Rhythm features in TensorFlow ops: onset strength, autocorrelation tempogram, tempo.

They follow librosa 0.11 step by step (``onset.onset_strength``,
``feature.tempogram``, ``feature.tempo``) so that a global tempo computed here equals
librosa's for the same audio; the tests check it on click tracks of known tempo and on
real music.

Shapes: onset envelope ``[..., frames]``; tempogram ``[..., frames, win_length]``
(librosa's transpose); tempo ``[...]`` in beats per minute.
"""

import numpy as np
import tensorflow as tf

from genre_tf.features import dft, spectral


def compute_onset_strength(waveform, sample_rate, n_fft=2048, hop_length=512,
                           n_mels=128, power=None, mel_db=None):
    """Spectral-flux onset envelope, ``librosa.onset.onset_strength`` with defaults.

    The positive first difference of the dB mel spectrogram, averaged over mel bands,
    delayed so that each value lines up with the frame that holds the onset.

    Args:
      waveform: float32 ``[..., samples]``.
      sample_rate, n_fft, hop_length, n_mels: as in librosa.
      power: optional power spectrogram of the same ``n_fft``/``hop_length``, so a
        caller that has one does not pay for a second STFT.
      mel_db: optional dB mel spectrogram of the same frames (``n_mels`` bands), so a
        caller that computed one for MFCC does not pay for a second mel projection.

    Returns:
      float32 ``[..., frames]`` with the STFT's frame count.
    """
    if mel_db is None:
        mel_db = spectral.power_to_db(spectral.compute_mel(
            waveform, sample_rate, n_fft, hop_length, n_mels, power=power))
    flux = tf.reduce_mean(tf.nn.relu(mel_db[..., 1:, :] - mel_db[..., :-1, :]), axis=-1)
    delay = 1 + n_fft // (2 * hop_length)
    rank = flux.shape.rank
    flux = tf.pad(flux, [[0, 0]] * (rank - 1) + [[delay, 0]])
    n_frames = tf.shape(mel_db)[-2]
    return flux[..., :n_frames]


def _linear_ramp_pad(envelope, width):
    """``np.pad(mode="linear_ramp", end_values=0)`` on the last axis of a 1-D+ tensor."""
    ramp = tf.range(width, dtype=envelope.dtype) / float(width)
    left = envelope[..., :1] * ramp
    right = envelope[..., -1:] * tf.reverse(ramp, [0])
    # np.pad's ramp ends one step before the edge value on each side.
    return tf.concat([left, envelope, right], axis=-1)


def compute_tempogram(onset_envelope, win_length=384):
    """Local autocorrelation of the onset envelope, ``librosa.feature.tempogram``.

    Each frame is a Hann-windowed stretch of ``win_length`` onset values centred on it;
    its autocorrelation (via FFT) is scaled so that its largest lag is 1.

    Args:
      onset_envelope: float32 ``[..., frames]``.
      win_length: autocorrelation window in onset frames (384 = 8.9 s at 22050/512).

    Returns:
      float32 ``[..., frames, win_length]``: lag in frames along the last axis.
    """
    n_frames = tf.shape(onset_envelope)[-1]
    padded = _linear_ramp_pad(onset_envelope, win_length // 2)
    frames = tf.signal.frame(padded, win_length, 1)[..., :n_frames, :]
    frames = frames * tf.signal.hann_window(win_length, periodic=True)
    fft_length = int(2 ** np.ceil(np.log2(2 * win_length - 1)))
    power = dft.rfft_power(frames, fft_length)
    autocorr = dft.irfft_of_real(power, fft_length, win_length, nonnegative=True)
    return spectral.normalize_max(autocorr)


def tempo_frequencies(n_bins, sample_rate, hop_length):
    """BPM of each autocorrelation lag (lag 0 is infinite), ``librosa.tempo_frequencies``."""
    bpms = np.full(n_bins, np.inf)
    bpms[1:] = 60.0 * sample_rate / (hop_length * np.arange(1.0, n_bins))
    return bpms


def _tempo_log_prior(n_bins, sample_rate, hop_length, start_bpm, std_bpm, max_tempo):
    """librosa's log-normal tempo prior around ``start_bpm``; -inf above ``max_tempo``."""
    bpms = tempo_frequencies(n_bins, sample_rate, hop_length)
    with np.errstate(invalid="ignore", divide="ignore"):
        prior = -0.5 * ((np.log2(bpms) - np.log2(start_bpm)) / std_bpm) ** 2
    prior[:int(np.argmax(bpms < max_tempo))] = -np.inf
    return prior.astype(np.float32)


def compute_tempo(waveform, sample_rate, hop_length=512, start_bpm=120.0, std_bpm=1.0,
                  ac_size=8.0, max_tempo=320.0, onset_envelope=None):
    """Global tempo in BPM, ``librosa.feature.tempo`` with its defaults.

    The time-averaged tempogram, weighted by a log-normal prior around ``start_bpm``,
    picks the most likely beat period.

    Returns:
      float32 ``[...]`` beats per minute.
    """
    if onset_envelope is None:
        onset_envelope = compute_onset_strength(waveform, sample_rate,
                                                hop_length=hop_length)
    win_length = int(np.floor(ac_size * sample_rate / hop_length))
    tempogram = tf.reduce_mean(compute_tempogram(onset_envelope, win_length), axis=-2)
    prior = _tempo_log_prior(win_length, sample_rate, hop_length, start_bpm, std_bpm,
                             max_tempo)
    best_lag = tf.argmax(tf.math.log1p(1e6 * tempogram) + prior, axis=-1)
    bpms = tempo_frequencies(win_length, sample_rate, hop_length).astype(np.float32)
    return tf.gather(bpms, best_lag)
