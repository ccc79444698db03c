"""The librosa twin of ``statistics.compute_feature_vector``: same vector, NumPy speed.

Used by the tests (the TF vector must equal this one) and by ``bench/features.py`` (the
baseline the tf.data pipeline is timed against). It shares one STFT per window size
through librosa's ``S=`` arguments, as a careful librosa user would.
"""

import librosa
import numpy as np
import scipy.stats

_STATISTICS = {
    "mean": lambda x: x.mean(axis=1),
    "std": lambda x: x.std(axis=1),
    "skew": lambda x: np.nan_to_num(scipy.stats.skew(x, axis=1)),
    "kurtosis": lambda x: np.nan_to_num(scipy.stats.kurtosis(x, axis=1)),
    "min": lambda x: x.min(axis=1),
    "max": lambda x: x.max(axis=1),
}


def frame_features(y, sr, n_fft, n_mfcc=20, shared_stft=True):
    """librosa's frame-level features of one window size, ``[bins, frames]`` each.

    ``shared_stft=False`` calls every feature on the waveform, so each computes its own
    STFT: the same numbers, the common (slower) way of writing it.
    """
    hop = n_fft // 4
    frames = dict(n_fft=n_fft, hop_length=hop)
    if shared_stft:
        magnitude = np.abs(librosa.stft(y, **frames))
        power = magnitude ** 2
        mel_db = librosa.power_to_db(librosa.feature.melspectrogram(S=power, sr=sr))
        source = dict(S=magnitude, sr=sr, **frames)
        mfcc_source, chroma_source = dict(S=mel_db), dict(S=power, sr=sr)
        flatness_source = dict(S=magnitude)
    else:
        source = mfcc_source = chroma_source = dict(y=y, sr=sr, **frames)
        flatness_source = dict(y=y, **frames)
    return {
        "mfcc": librosa.feature.mfcc(**mfcc_source, n_mfcc=n_mfcc),
        "chroma": librosa.feature.chroma_stft(**chroma_source, tuning=0.0),
        "contrast": librosa.feature.spectral_contrast(**source),
        "centroid": librosa.feature.spectral_centroid(**source),
        "bandwidth": librosa.feature.spectral_bandwidth(**source),
        "rolloff": librosa.feature.spectral_rolloff(**source),
        "flatness": librosa.feature.spectral_flatness(**flatness_source),
        "zcr": librosa.feature.zero_crossing_rate(y, frame_length=n_fft, hop_length=hop),
        "rms": librosa.feature.rms(y=y, frame_length=n_fft, hop_length=hop),
    }


def feature_vector(y, config, shared_stft=True):
    """``compute_feature_vector(y, config)`` computed with librosa and NumPy."""
    parts = []
    for n_fft in config.window_sizes:
        features = frame_features(y, config.sample_rate, n_fft, config.n_mfcc, shared_stft)
        for name, _ in config.frame_features():
            for stat in config.statistics:
                parts.append(_STATISTICS[stat](features[name]))
    if config.tempo:
        parts.append(librosa.feature.tempo(y=y, sr=config.sample_rate))
    return np.concatenate(parts).astype(np.float32)
