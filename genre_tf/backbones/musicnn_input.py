"""musicnn's input in TF ops: log-compressed mel spectrograms and their 3 s patches.

The constants are in ``musicnn_params``; the network is in ``musicnn``.
"""

import tensorflow as tf

from genre_tf.backbones import musicnn_params as P
from genre_tf.features import spectral


def log_mel(waveform):
    """16 kHz mono waveform -> musicnn's log-compressed mel spectrogram ``[frames, 96]``.

    ``log10(10000 * mel + 1)`` of librosa's mel power spectrogram (cast to float16 first,
    as musicnn does).
    """
    mel = spectral.compute_mel(waveform, P.SAMPLE_RATE, P.N_FFT, P.HOP_LENGTH, P.N_MELS)
    mel = tf.cast(tf.cast(mel, tf.float16), tf.float32)
    return tf.math.log(P.LOG_SCALE * mel + 1.0) / tf.math.log(10.0)


def patch_frames(frames):
    """Frames per patch of a ``frames``-long spectrogram: 187, or all of them if fewer.

    Input shorter than one patch gives one patch of its real length (at least
    ``MIN_PATCH_FRAMES`` for the caller to fill): musicnn pools over time, so a 2.5 s
    snippet is better described by its own frames than by a patch a sixth silent.
    ``min`` rather than a ``tf.cond``: TFLite loses the shapes through a cond and falls
    back to Flex for the convolutions behind it.
    """
    return tf.minimum(frames, P.PATCH_FRAMES)

