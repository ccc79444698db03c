"""The discrete Fourier transforms of the front ends in TFLite builtin ops.

``tf.signal.irfft`` and ``tf.complex`` have no TFLite builtin and need the Flex
delegate; ``tf.signal.rfft`` becomes the builtin RFFT2D only for power-of-two sizes.
Inside ``builtin_ops()`` (which the TFLite export enters while it traces the model) the
STFT power and magnitude and the tempogram's autocorrelation are computed here:

- ``rfft``: RFFT2D for power-of-two sizes (every window of the front ends). It is
  slower than TensorFlow's FFT, but per op profile it is the fastest DFT TFLite runs
  here: 1.3-1.6x less CPU than the matmul DFT below at 512-4096 points, and deeper
  matmul factorisations (3 or 4 stages, radix 8-16) were slower still: their
  transposes and twiddles cost more than the multiply-adds they save
  (``bench/predict.py``, README). Other sizes: one Cooley-Tukey step,
  ``n = n1 * n2``: a DFT of size ``n2`` over the strided sub-sequences, twiddle
  factors, a DFT of size ``n1``; both DFTs are matmuls with constant cos/sin matrices,
  ``n * (n1 + n2)`` multiply-adds per frame instead of the ``n * n`` of a plain DFT
  matrix, and only the ``n // 2 + 1`` non-negative frequencies are computed.
- ``irfft_of_real``: the inverse of a real, even spectrum (a power spectrum) is a cosine
  sum; only the lags asked for are computed.

Outside ``builtin_ops()`` the same functions call ``tf.signal``, so training, the
SavedModel and every cached feature are unchanged. The tests check both ways against
``tf.signal.rfft`` and ``tf.signal.irfft``.
"""
import contextlib
import functools
import threading

import numpy as np
import tensorflow as tf

_STATE = threading.local()


@contextlib.contextmanager
def builtin_ops():
    """While active, features trace to TFLite builtin ops (matmul DFTs)."""
    previous = builtin_ops_active()
    _STATE.active = True
    try:
        yield
    finally:
        _STATE.active = previous


def builtin_ops_active():
    """Whether the graph being traced is meant for TFLite builtins (``builtin_ops``)."""
    return getattr(_STATE, "active", False)


def tracing_mode():
    """``"builtin_ops"`` inside ``builtin_ops()``, else ``"tensorflow"``.

    A ``tf.function``'s cache does not know the mode, so a function called both while
    training (or in the SavedModel) and while the TFLite export traces must be one
    ``tf.function`` per mode, keyed by this (a string: such a dict on a Keras layer is
    saved with the SavedModel, and its keys must be strings)."""
    return "builtin_ops" if builtin_ops_active() else "tensorflow"


def is_power_of_two(n):
    """Whether TFLite's RFFT2D builtin takes a DFT of size ``n``."""
    return n > 0 and n & (n - 1) == 0


def factor_pair(n):
    """``(n1, n2)`` with ``n1 * n2 == n`` and ``n1 <= n2`` as close as possible."""
    n1 = int(np.floor(np.sqrt(n)))
    while n % n1:
        n1 -= 1
    return n1, n // n1


@functools.lru_cache(maxsize=None)
def _rfft_matrices(n):
    """Constants of the two-step real DFT of size ``n`` (see ``_rfft_parts_matmul``).

    Returns:
      ``first [n2, 2 * n2]`` (cos | -sin of the size-``n2`` DFT of a real input),
      ``twiddle_real``, ``twiddle_imag`` ``[n1, n2]`` (exp(-2 pi i n1 k2 / n)), and
      ``second [2 * n1, 2 * k1]`` (the size-``n1`` complex DFT, real input rows then
      imaginary, real output columns then imaginary, only the ``k1 = n1 // 2 + 1``
      output rows that reach frequency ``n // 2``).
    """
    n1, n2 = factor_pair(n)
    k1 = n1 // 2 + 1
    angle2 = 2 * np.pi * np.outer(np.arange(n2), np.arange(n2)) / n2
    first = np.concatenate([np.cos(angle2), -np.sin(angle2)], axis=1)
    twiddle = -2 * np.pi * np.outer(np.arange(n1), np.arange(n2)) / n
    angle1 = 2 * np.pi * np.outer(np.arange(n1), np.arange(k1)) / n1
    cos1, sin1 = np.cos(angle1), np.sin(angle1)
    # (zr + i zi)(cos - i sin) = (zr cos + zi sin) + i (zi cos - zr sin)
    second = np.block([[cos1, -sin1], [sin1, cos1]])
    return tuple(m.astype(np.float32) for m in
                 (first, np.cos(twiddle), np.sin(twiddle), second))


def _rfft_parts_matmul(frames, n):
    """(real, imag) ``[..., n // 2 + 1]`` of the DFT of real ``frames [..., n]``.

    Sample ``m = a + n1 * b`` (``a < n1``, ``b < n2``) and frequency
    ``k = c + n2 * d`` (``c < n2``, ``d < n1``):
    ``X[k] = sum_a W_n1^(a d) W_n^(a c) sum_b x[a + n1 b] W_n2^(b c)``.
    Both sums are 2-D matmuls with a constant right side (TFLite's FULLY_CONNECTED,
    which XNNPack runs fast; a broadcast batch matmul is several times slower).
    """
    n1, n2 = factor_pair(n)
    k1 = n1 // 2 + 1
    bins = n // 2 + 1
    first, twiddle_real, twiddle_imag, second = _rfft_matrices(n)
    leading = tf.shape(frames)[:-1]
    grid = tf.reshape(frames, [-1, n2, n1])  # [rows, b, a]
    inner = tf.matmul(tf.reshape(tf.transpose(grid, [0, 2, 1]), [-1, n2]), first)
    inner_real, inner_imag = tf.split(tf.reshape(inner, [-1, n1, 2 * n2]), 2, axis=-1)
    turned_real = inner_real * twiddle_real - inner_imag * twiddle_imag  # [rows, a, c]
    turned_imag = inner_real * twiddle_imag + inner_imag * twiddle_real
    turned = tf.transpose(tf.concat([turned_real, turned_imag], axis=1), [0, 2, 1])
    outer = tf.matmul(tf.reshape(turned, [-1, 2 * n1]), second)  # [rows * c, 2 * d]
    outer = tf.transpose(tf.reshape(outer, [-1, n2, 2 * k1]), [0, 2, 1])  # [rows, 2d, c]
    parts = []
    for part in tf.split(outer, 2, axis=1):  # k = c + n2 * d: d-major is natural order
        natural = tf.reshape(part, [-1, k1 * n2])
        natural = tf.split(natural, [bins, k1 * n2 - bins], axis=-1)[0]
        parts.append(tf.reshape(natural, tf.concat([leading, [bins]], axis=0)))
    return tuple(parts)


def rfft_parts(frames, n):
    """(real, imag) float32 ``[..., n // 2 + 1]``: ``tf.signal.rfft(frames, [n])`` of
    real ``frames [..., <= n]`` (zero-padded to ``n``) as two real tensors."""
    if builtin_ops_active():
        short = n - frames.shape[-1]
        if short:
            frames = tf.pad(frames, [[0, 0]] * (frames.shape.rank - 1) + [[0, short]])
        if not is_power_of_two(n):  # RFFT2D takes powers of two only
            return _rfft_parts_matmul(frames, n)
    spectrum = tf.signal.rfft(frames, fft_length=[n])
    return tf.math.real(spectrum), tf.math.imag(spectrum)


def rfft_power(frames, n):
    """``|tf.signal.rfft(frames, [n])|^2`` of real ``frames [..., <= n]``."""
    real, imag = rfft_parts(frames, n)
    return real * real + imag * imag


def stft_power(padded, n_fft, hop_length):
    """``|tf.signal.stft(padded, n_fft, hop_length)|^2`` (periodic Hann window, no end
    padding): ``[..., frames, n_fft // 2 + 1]``."""
    frames = tf.signal.frame(padded, n_fft, hop_length)
    return rfft_power(frames * tf.signal.hann_window(n_fft), n_fft)


def stft_magnitude(padded, n_fft, hop_length):
    """``|tf.signal.stft(padded, n_fft, hop_length)|``, as ``stft_power``."""
    return tf.sqrt(stft_power(padded, n_fft, hop_length))


def centred_stft_power(waveform, n_fft, hop_length):
    """``stft_power`` of ``waveform [..., samples]`` zero-padded by ``n_fft // 2`` on
    both sides (librosa's ``center=True``): the power spectrogram of
    ``spectral.compute_power_spectrogram``, for the TFLite export."""
    waveform = tf.convert_to_tensor(waveform, tf.float32)
    paddings = [[0, 0]] * (waveform.shape.rank - 1) + [[n_fft // 2, n_fft // 2]]
    return stft_power(tf.pad(waveform, paddings), n_fft, hop_length)


@functools.lru_cache(maxsize=None)
def _inverse_cosine_matrix(n, n_outputs):
    """``[n // 2 + 1, n_outputs]``: irfft of a real spectrum, first ``n_outputs`` samples."""
    bins = np.arange(n // 2 + 1)[:, None]
    weight = np.full((n // 2 + 1, 1), 2.0)
    weight[0] = 1.0
    if n % 2 == 0:
        weight[-1] = 1.0
    lags = np.arange(n_outputs)[None, :]
    return (weight * np.cos(2 * np.pi * bins * lags / n) / n).astype(np.float32)


def irfft_of_real(spectrum, n, n_outputs, nonnegative=False):
    """First ``n_outputs`` samples of ``tf.signal.irfft(spectrum, [n])`` for a real
    ``spectrum [..., n // 2 + 1]`` (e.g. a power spectrum: its inverse is the
    autocorrelation).

    ``nonnegative``: the result is known to be >= 0 (the autocorrelation of a
    non-negative signal), so the matmul path clamps its rounding errors at 0: with
    float16 constants (``genre_tf.export.float16``) small lags come out slightly
    negative, and a log of them is NaN.
    """
    if builtin_ops_active():
        result = tf.matmul(spectrum, _inverse_cosine_matrix(n, n_outputs))
        return tf.nn.relu(result) if nonnegative else result
    return tf.signal.irfft(tf.cast(spectrum, tf.complex64), fft_length=[n])[..., :n_outputs]
