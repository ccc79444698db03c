"""The band extremes of spectral contrast against a full sort."""

import contextlib

import numpy as np
import tensorflow as tf

from genre_tf.features import dft, extremes


class ExtremeMeansTest(tf.test.TestCase):

    def test_equal_the_mean_of_the_sorted_ends(self):
        rng = np.random.default_rng(0)
        # Widths and counts of contrast's bands at n_fft 512..4096, and edge cases:
        # groups of one (count near width), a remainder after grouping, many ties.
        for width, count in ((74, 2), (109, 2), (149, 3), (217, 4), (595, 12),
                             (860, 17), (5, 4), (6, 6), (38, 1)):
            values = rng.gamma(0.5, size=(2, 40, width)).astype(np.float32)
            values[0, :, ::3] = np.median(values)  # a third of the values tie
            ordered = np.sort(values, axis=-1)
            # NthElement in TensorFlow; top_k in the TFLite trace (no NthElement builtin).
            for tflite_trace in (False, True):
                with self.subTest(width=width, count=count, tflite_trace=tflite_trace), \
                        (dft.builtin_ops() if tflite_trace else contextlib.nullcontext()):
                    self.assertAllClose(extremes.mean_of_largest(values, count),
                                        ordered[..., -count:].mean(-1), rtol=1e-6)
                    self.assertAllClose(extremes.mean_of_smallest(values, count),
                                        ordered[..., :count].mean(-1), rtol=1e-6)

    def test_two_extremes_with_the_extreme_repeated_or_not(self):
        values = np.array([[3.0, 9.0, 1.0, 9.0, 2.0],    # largest twice: 9 + 9
                           [3.0, 9.0, 1.0, 7.0, 1.0],    # 9 + 7; smallest twice: 1 + 1
                           [4.0, 4.0, 4.0, 4.0, 4.0]],   # all tie
                          np.float32)
        self.assertAllEqual(extremes.mean_of_largest(values, 2), [9.0, 8.0, 4.0])
        self.assertAllEqual(extremes.mean_of_smallest(values, 2), [1.5, 1.0, 4.0])

    def test_chunking_thins_the_top_band_and_keeps_enough_groups(self):
        chunk, n_chunks = extremes.chunking(860, 17)
        self.assertEqual((chunk, n_chunks), (7, 122))
        # Values reaching top_k: group maxima, the chosen groups, the remainder.
        self.assertLess(n_chunks + 17 * chunk + 860 - chunk * n_chunks, 860 // 3)
        self.assertEqual(extremes.chunking(6, 6), (1, 6))


if __name__ == "__main__":
    tf.test.main()
