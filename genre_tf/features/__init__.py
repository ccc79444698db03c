"""Frame-level audio features in TensorFlow ops, each checked against librosa.

Conventions: a waveform is a float32 tensor ``[..., samples]``; a frame-level feature is
``[..., frames, bins]`` (time-major, as ``tf.signal.stft`` returns it; librosa returns the
transpose ``[bins, frames]``). Parameter names follow librosa (``n_fft``, ``hop_length``,
``n_mels``, ``n_mfcc``...).
"""

from genre_tf.features.spectral import (  # noqa: F401
    compute_stft, compute_stft_magnitude, compute_power_spectrogram, power_to_db,
    compute_power_db, compute_mel, compute_mfcc, compute_chroma_stft,
    compute_mel_and_chroma, compute_spectral_contrast, compute_spectral_flatness,
)
from genre_tf.features.spectral_shape import (  # noqa: F401
    compute_spectral_shape, compute_spectral_centroid, compute_spectral_bandwidth,
    compute_spectral_rolloff,
)
from genre_tf.features.temporal import (  # noqa: F401
    compute_zero_crossing_rate, compute_rms, compute_zcr_and_rms,
)
from genre_tf.features.rhythm import (  # noqa: F401
    compute_onset_strength, compute_tempogram, compute_tempo,
)
from genre_tf.features.spectrograms import (  # noqa: F401
    SPECTROGRAM_TYPES, SpectrogramConfig, compute_spectrogram, compute_pseudo_cqt,
    compute_chroma_cqt, compute_tonnetz,
)
