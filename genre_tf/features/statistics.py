"""Summary statistics of frame-level features: the fixed-length input of system 1.

The study summarises each frame-level feature (spectral centroid, MFCC, chroma, ...) by
statistics over time, at several analysis window sizes, and concatenates them into one
vector per clip. ``compute_feature_vector`` does that in TF ops, so it runs in
``tf.data`` and inside the exported model; ``feature_names`` gives each column a name
(``mfcc_03_mean_w2048``) for tables and reports.
"""

import dataclasses

import numpy as np
import tensorflow as tf

from genre_tf.audio import params
from genre_tf.features import dft, rhythm, spectral, spectral_shape, temporal


def _mean(x):
    return tf.reduce_mean(x, axis=-2)


def _std(x):
    return tf.math.reduce_std(x, axis=-2)


def _standardised_moment(x, order):
    """E[(x - mean)^order] / std^order over frames; 0 for a constant feature (as the
    librosa twin's ``nan_to_num(scipy.stats.skew(...))``). No epsilon is added: the
    variance of features like flatness is ~1e-6, which an epsilon would swamp."""
    centred = x - tf.reduce_mean(x, axis=-2, keepdims=True)
    variance = tf.reduce_mean(centred ** 2, axis=-2)
    scale = variance ** (order / 2)
    safe = tf.where(scale > 0, scale, tf.ones_like(scale))
    return tf.where(scale > 0, tf.reduce_mean(centred ** order, axis=-2) / safe, 0.0)


# Statistics over the frame axis; each maps [..., frames, k] to [..., k].
STATISTICS = {
    "mean": _mean,
    "std": _std,
    "skew": lambda x: _standardised_moment(x, 3),
    "kurtosis": lambda x: _standardised_moment(x, 4) - 3.0,
    "min": lambda x: tf.reduce_min(x, axis=-2),
    "max": lambda x: tf.reduce_max(x, axis=-2),
}

# Frame-level features summarised at every window size, with their widths.
_N_CONTRAST_BANDS = 6


@dataclasses.dataclass(frozen=True)
class FeatureConfig:
    """What goes into a clip's feature vector; part of the feature-cache key.

    Attributes:
      sample_rate: rate the waveform is at, Hz.
      window_sizes: STFT sizes (``n_fft``); the hop is ``n_fft // 4`` as in librosa.
      statistics: names from ``STATISTICS`` applied to every frame-level feature.
      n_mfcc: MFCC coefficients per frame.
      tempo: whether to append librosa's global tempo estimate (BPM).
    """
    sample_rate: int = params.SAMPLE_RATE
    window_sizes: tuple = (512, 1024, 2048, 4096)
    statistics: tuple = ("mean", "std")
    n_mfcc: int = 20
    tempo: bool = True

    def __post_init__(self):
        unknown = set(self.statistics) - set(STATISTICS)
        if unknown:
            raise ValueError(f"unknown statistics {sorted(unknown)}; "
                             f"choose from {sorted(STATISTICS)}")
        if not self.window_sizes:
            raise ValueError("window_sizes must name at least one n_fft")

    @property
    def min_samples(self):
        """Shortest waveform that fills one frame of the largest window."""
        return max(self.window_sizes)

    def frame_features(self):
        """(name, width) of each frame-level feature, in vector order."""
        return (("mfcc", self.n_mfcc), ("chroma", 12), ("contrast", _N_CONTRAST_BANDS + 1),
                ("centroid", 1), ("bandwidth", 1), ("rolloff", 1), ("flatness", 1),
                ("zcr", 1), ("rms", 1))


# librosa's tempo analysis: onset envelope from a 2048-point STFT with a 512 hop, which
# is the hop (n_fft / 4) that the 2048 window of the feature vector already uses.
_TEMPO_N_FFT, _TEMPO_HOP = 2048, 512


def compute_frame_features(waveform, config, n_fft, zcr_and_rms=None):
    """All frame-level features of one window size from one shared STFT.

    Args:
      zcr_and_rms: optional ``(zcr, rms)`` of this window from
        ``temporal.compute_zcr_and_rms``, which serves every window size from one pass
        over the samples.

    Returns:
      A dict name -> float32 ``[..., frames, width]``, in ``config.frame_features()``,
      plus ``"power"``, the power spectrogram they came from, and ``"mel_db"``, its
      128-band dB mel spectrogram (shared by MFCC and, at n_fft 2048, the onset
      envelope of the tempo estimate).
    """
    sr, hop = config.sample_rate, n_fft // 4
    power = spectral.compute_power_spectrogram(waveform, n_fft, hop)
    magnitude = tf.sqrt(power)
    mel, chroma = spectral.compute_mel_and_chroma(power, sr, n_fft)
    mel_db = spectral.power_to_db(mel)
    if zcr_and_rms is None:
        zcr_and_rms, = temporal.compute_zcr_and_rms(waveform, [(n_fft, hop)])
    zcr, rms = zcr_and_rms
    return {
        "power": power,
        "mel_db": mel_db,
        "mfcc": spectral.compute_mfcc(waveform, sr, n_fft, hop, config.n_mfcc,
                                      mel_db=mel_db),
        "chroma": chroma,
        "contrast": spectral.compute_spectral_contrast(waveform, sr, n_fft, hop,
                                                       magnitude=magnitude),
        **spectral_shape.compute_spectral_shape(magnitude, sr, n_fft),
        "flatness": spectral.compute_spectral_flatness(waveform, n_fft, hop,
                                                       magnitude=power, power=1.0),
        "zcr": zcr,
        "rms": rms,
    }


def _vector_order(config):
    """Column indices that turn ``[n_statistics * n_columns]`` (statistic-major, as the
    reductions produce them) into the vector's feature-major, statistic, column order.

    One gather with these indices replaces a slice per (feature, statistic): fewer graph
    nodes, which matters because ``tf.data`` pays a per-node cost on every clip.
    """
    n_columns = sum(width for _, width in config.frame_features())
    order, offset = [], 0
    for _, width in config.frame_features():
        for s in range(len(config.statistics)):
            order.extend(s * n_columns + offset + k for k in range(width))
        offset += width
    return np.asarray(order, np.int32)


def compute_feature_vector(waveform, config=FeatureConfig()):
    """One clip's feature vector: statistics of every feature at every window size.

    Args:
      waveform: float32 ``[samples]`` (or ``[batch, samples]``) at
        ``config.sample_rate``, at least ``config.min_samples`` long.
      config: a ``FeatureConfig``.

    Returns:
      float32 ``[len(feature_names(config))]`` (or ``[batch, ...]``).
    """
    parts = []
    tempo_mel_db = None
    order = _vector_order(config)
    zcr_and_rms = temporal.compute_zcr_and_rms(
        waveform, [(n_fft, n_fft // 4) for n_fft in config.window_sizes])
    for n_fft, time_features in zip(config.window_sizes, zcr_and_rms):
        frame_features = compute_frame_features(waveform, config, n_fft, time_features)
        if n_fft == _TEMPO_N_FFT:
            tempo_mel_db = frame_features["mel_db"]
        # One [frames, 45] matrix per window: each statistic is one reduction, not 9.
        stacked = tf.concat([frame_features[name] for name, _ in config.frame_features()],
                            axis=-1)
        per_stat = tf.concat([STATISTICS[stat](stacked) for stat in config.statistics],
                             axis=-1)
        parts.append(tf.gather(per_stat, order, axis=-1))
    if config.tempo:
        onset = rhythm.compute_onset_strength(waveform, config.sample_rate, _TEMPO_N_FFT,
                                              _TEMPO_HOP, mel_db=tempo_mel_db)
        tempo = rhythm.compute_tempo(waveform, config.sample_rate, _TEMPO_HOP,
                                     onset_envelope=onset)
        parts.append(tempo[..., tf.newaxis])
    return tf.concat(parts, axis=-1)


_VECTOR_FUNCTIONS = {}


def feature_vector_function(config=FeatureConfig()):
    """``compute_feature_vector`` as one ``tf.function`` per config, traced once.

    Datasets and exported models that call this share one trace instead of re-tracing
    per ``Dataset.map``. The TFLite export traces its own (``dft.builtin_ops``), so the
    choice is made per call. Without AutoGraph: the feature code branches and loops on
    Python values only, and converting its ~100 functions was two thirds of the trace
    (9 s of a 2-window trace on a busy 2-core machine, 3.7 s without), paid by every
    process that extracts or exports features.
    """
    def vector(waveform):
        key = (config, dft.tracing_mode())
        if key not in _VECTOR_FUNCTIONS:
            _VECTOR_FUNCTIONS[key] = tf.function(
                lambda waveform: compute_feature_vector(waveform, config),
                input_signature=[tf.TensorSpec([None], tf.float32)], autograph=False)
        return _VECTOR_FUNCTIONS[key](waveform)
    return vector


def feature_names(config=FeatureConfig()):
    """Column names of ``compute_feature_vector``'s output, in order."""
    names = []
    for n_fft in config.window_sizes:
        for feature, width in config.frame_features():
            for stat in config.statistics:
                for k in range(width):
                    suffix = f"_{k:02d}" if width > 1 else ""
                    names.append(f"{feature}{suffix}_{stat}_w{n_fft}")
    if config.tempo:
        names.append("tempo")
    return names
