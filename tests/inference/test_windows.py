"""Window starts and batches: every sample heard, one batch copied at a time."""

import numpy as np
import tensorflow as tf

from genre_tf.inference import windows


class WindowStartsTest(tf.test.TestCase):

    def test_hop_grid_plus_a_window_ending_at_the_end(self):
        self.assertAllEqual(windows.window_starts(10, 4, 2), [0, 2, 4, 6])
        self.assertAllEqual(windows.window_starts(11, 4, 2), [0, 2, 4, 6, 7])
        self.assertAllEqual(windows.window_starts(13, 4, 4), [0, 4, 8, 9])
        self.assertAllEqual(windows.window_starts(4, 4, 4), [0])

    def test_input_shorter_than_a_window_is_refused(self):
        with self.assertRaisesRegex(ValueError, "shorter than one 4-sample window"):
            windows.window_starts(3, 4, 2)


class WindowBatchesTest(tf.test.TestCase):

    def test_batches_are_copies_of_the_windows(self):
        waveform = np.arange(11, dtype=np.float32)
        batches = list(windows.window_batches(waveform, 4, 2, batch_size=2))
        self.assertEqual([starts.tolist() for starts, _ in batches], [[0, 2], [4, 6], [7]])
        for starts, batch in batches:
            self.assertEqual(batch.dtype, np.float32)
            self.assertFalse(np.shares_memory(batch, waveform))
            self.assertAllEqual(batch, [waveform[s:s + 4] for s in starts])


if __name__ == "__main__":
    tf.test.main()
