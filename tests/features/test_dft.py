"""The matmul DFTs of the TFLite export equal ``tf.signal``'s FFTs."""

import contextlib

import numpy as np
import tensorflow as tf

from genre_tf.features import dft, rhythm, spectral
from tests import fixtures


class DftTest(tf.test.TestCase):

    def test_factor_pair(self):
        self.assertEqual(dft.factor_pair(4096), (64, 64))
        self.assertEqual(dft.factor_pair(2048), (32, 64))
        self.assertEqual(dft.factor_pair(1000), (25, 40))
        self.assertEqual(dft.factor_pair(13), (1, 13))  # prime: one plain DFT matmul

    def test_rfft_equals_tf_signal(self):
        rng = np.random.default_rng(0)
        for n in (512, 2048, 1000, 13):  # powers of two, composite, prime
            frames = rng.standard_normal((2, 5, n)).astype(np.float32)
            expected = np.fft.rfft(frames.astype(np.float64))
            with dft.builtin_ops():
                real, imag = dft.rfft_parts(tf.constant(frames), n)
            self.assertEqual(real.shape, (2, 5, n // 2 + 1))
            scale = np.abs(expected).max()
            self.assertAllClose(real, expected.real, atol=2e-5 * scale, rtol=0)
            self.assertAllClose(imag, expected.imag, atol=2e-5 * scale, rtol=0)
            # Outside builtin_ops(): tf.signal itself.
            real, imag = dft.rfft_parts(tf.constant(frames), n)
            self.assertAllClose(real, expected.real, atol=2e-5 * scale, rtol=0)

    def test_rfft2d_for_powers_of_two_matmuls_otherwise(self):
        """TFLite's RFFT2D takes powers of two only; it is faster than the matmuls."""
        for n, fft in ((512, True), (1000, False)):
            with dft.builtin_ops():
                graph = tf.function(lambda x, n=n: dft.rfft_power(x, n),
                                    input_signature=[tf.TensorSpec([None, n])]
                                    ).get_concrete_function().graph
            types = {op.type for op in graph.get_operations()}
            self.assertEqual("RFFT" in types, fft, msg=str(n))
            self.assertEqual("MatMul" in types, not fft, msg=str(n))

    def test_short_frames_are_zero_padded(self):
        frames = np.arange(6, dtype=np.float32)[None]
        with dft.builtin_ops():
            power = dft.rfft_power(tf.constant(frames), 16)
        self.assertAllClose(power, np.abs(np.fft.rfft(frames, 16)) ** 2, atol=1e-3)
        self.assertAllClose(power[0, 0], 15.0 ** 2, atol=1e-3)  # DC: the sum squared

    def test_irfft_of_real_spectrum_is_the_autocorrelation(self):
        x = np.random.default_rng(1).standard_normal((3, 40)).astype(np.float32)
        power = np.abs(np.fft.rfft(x, 128)) ** 2
        expected = np.stack([np.correlate(row, row, "full")[39:39 + 30] for row in x])
        for builtin in (False, True):
            with dft.builtin_ops() if builtin else contextlib.nullcontext():
                lags = dft.irfft_of_real(tf.constant(power, tf.float32), 128, 30)
            self.assertAllClose(lags, expected, atol=1e-3, rtol=1e-4)

    def test_stft_magnitude_and_tempogram_match_the_fft_path(self):
        waveform = fixtures.music_like(2.0, sr=22050, seed=3)
        for n_fft in (512, 2048):
            expected = spectral.compute_stft_magnitude(waveform, n_fft, n_fft // 4)
            with dft.builtin_ops():
                self.assertTrue(dft.builtin_ops_active())
                ours = spectral.compute_stft_magnitude(waveform, n_fft, n_fft // 4)
            self.assertFalse(dft.builtin_ops_active())
            self.assertEqual(ours.shape, expected.shape)
            self.assertAllClose(ours, expected, atol=1e-5 * np.abs(expected).max(), rtol=0)
        onset = rhythm.compute_onset_strength(waveform, 22050)
        expected = rhythm.compute_tempogram(onset, 64)
        with dft.builtin_ops():
            ours = rhythm.compute_tempogram(onset, 64)
        self.assertAllClose(ours, expected, atol=1e-4)
        self.assertAllClose(ours[:, 0], np.ones(ours.shape[0]), atol=1e-6)  # lag 0 peaks


if __name__ == "__main__":
    tf.test.main()
