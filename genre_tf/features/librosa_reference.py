"""librosa twins of the TF features: the same numbers, computed with librosa and NumPy.

``feature_vector`` mirrors ``statistics.compute_feature_vector``; ``spectrogram`` mirrors
``spectrograms.compute_spectrogram``. The tests require the TF versions to equal these,
and ``bench/`` times the tf.data pipelines against them.
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


def spectrogram(y, kind, config):
    """``spectrograms.compute_spectrogram(y, kind, config)`` with librosa, ``[frames, bins]``.

    The CQT family is librosa's composition of the same steps (``pseudo_cqt`` with
    tuning 0, the 12-bin chroma fold, ``tonnetz`` of that chroma).
    """
    sr, n_fft, hop = config.sample_rate, config.n_fft, config.hop_length
    if kind in ("cqt", "chroma_cqt", "tonnetz"):
        pseudo = librosa.pseudo_cqt(y, sr=sr, hop_length=hop, n_bins=config.n_cqt_bins,
                                    bins_per_octave=config.cqt_bins_per_octave,
                                    tuning=0.0, sparsity=0.0)
        if kind == "cqt":
            return librosa.amplitude_to_db(pseudo).T
        fold = librosa.filters.cq_to_chroma(config.n_cqt_bins,
                                            bins_per_octave=config.cqt_bins_per_octave)
        chroma = librosa.util.normalize(fold @ pseudo, norm=np.inf, axis=0)
        return (chroma if kind == "chroma_cqt" else librosa.feature.tonnetz(chroma=chroma)).T
    if kind == "tempogram":
        onset = librosa.onset.onset_strength(y=y, sr=sr, n_fft=n_fft, hop_length=hop)
        return librosa.feature.tempogram(onset_envelope=onset, sr=sr, hop_length=hop).T
    stft = librosa.stft(y, n_fft=n_fft, hop_length=hop)
    result = {
        "stft_db": lambda: librosa.amplitude_to_db(np.abs(stft)),
        "power_db": lambda: librosa.power_to_db(np.abs(stft) ** 2),
        "phase": lambda: np.angle(stft),
        "chroma_stft": lambda: librosa.feature.chroma_stft(S=np.abs(stft) ** 2, sr=sr,
                                                           tuning=0.0),
        "mfcc": lambda: librosa.feature.mfcc(y=y, sr=sr, n_fft=n_fft, hop_length=hop,
                                             n_mfcc=config.n_mfcc, n_mels=config.n_mels),
        "mel": lambda: librosa.power_to_db(librosa.feature.melspectrogram(
            y=y, sr=sr, n_fft=n_fft, hop_length=hop, n_mels=config.n_mels)),
    }
    if kind not in result:
        raise ValueError(f"unknown spectrogram {kind!r}")
    return result[kind]().T
