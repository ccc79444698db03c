"""Constants of musicnn's input and models (Pons and Serra, 2019; PyPI ``musicnn`` 0.1.0).

As in musicnn's ``configuration.py``: log-compressed 96-band mel spectrograms of 16 kHz
audio (512-point FFT, 256 hop), fed in 3 s patches of 187 frames.
"""

SAMPLE_RATE = 16000
N_FFT = 512
HOP_LENGTH = 256
N_MELS = 96
# librosa.time_to_frames(3 s, sr=16000, n_fft=512, hop_length=256) + 1
PATCH_FRAMES = 187
# The patch covers (187 - 1) * 256 + 512 samples: 3.008 s.
PATCH_SAMPLES = (PATCH_FRAMES - 1) * HOP_LENGTH + N_FFT
# Input compression: log10(LOG_SCALE * mel + 1), the mel power cast to float16 first.
LOG_SCALE = 10000.0
# tf.compat.v1.layers.batch_normalization's epsilon.
BN_EPSILON = 1e-3
# Input shorter than a patch runs as one patch of its real length (the network is
# convolutional in time and pools over time; a 187-frame patch gives bit-identical
# embeddings either way), down to this many frames (1.5 s); shorter input is filled by
# the short-clip policy first. Measured on gtzan_mini (500 excerpts; a head trained on
# whole patches): 2.5 s excerpts score 0.87 at their real length, 0.85 tiled to a patch,
# 0.61 zero-padded; below 1.5 s the real length falls off (0.70 at 1 s, 0.40 at 0.5 s)
# while tiling holds (0.77 at 1 s), hence the floor.
MIN_PATCH_FRAMES = 94
MIN_SAMPLES = (MIN_PATCH_FRAMES - 1) * HOP_LENGTH + N_FFT
