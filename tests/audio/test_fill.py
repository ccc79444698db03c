"""The short-clip policy (``genre_tf.audio.fill``): repeat tiles, pad zero-pads, skip
refuses, and long input passes every policy unchanged, eagerly and inside a graph."""

import numpy as np
import tensorflow as tf

from genre_tf.audio import fill


class FillTest(tf.test.TestCase):

    def test_repeat_tiles_the_clip(self):
        self.assertAllEqual(fill.fill([1.0, 2.0, 3.0], 7, "repeat"),
                            [1, 2, 3, 1, 2, 3, 1])
        self.assertAllEqual(fill.fill([1.0, 2.0, 3.0], 6, "repeat"), [1, 2, 3, 1, 2, 3])
        self.assertAllEqual(fill.fill([4.0], 3, "repeat"), [4, 4, 4])

    def test_pad_appends_zeros(self):
        self.assertAllEqual(fill.fill([1.0, 2.0, 3.0], 5, "pad"), [1, 2, 3, 0, 0])
        self.assertAllEqual(fill.fill([-1.0], 4, "pad"), [-1, 0, 0, 0])

    def test_input_at_least_target_is_unchanged_by_every_policy(self):
        waveform = np.arange(1, 6, dtype=np.float32)
        for policy in fill.POLICIES:
            for target in (3, 5):  # longer than the target, and exactly the target
                with self.subTest(policy=policy, target=target):
                    result = fill.fill(waveform, target, policy)
                    self.assertEqual(result.dtype, tf.float32)
                    self.assertAllEqual(result, waveform)

    def test_target_may_be_a_tensor(self):
        self.assertAllEqual(fill.fill([1.0, 2.0], tf.constant(5), "repeat"),
                            [1, 2, 1, 2, 1])

    def test_skip_refuses_short_input_inside_a_graph(self):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
        def skip_to_four(waveform):
            return fill.fill(waveform, 4, "skip")

        self.assertAllEqual(skip_to_four(tf.constant([1.0, 2.0, 3.0, 4.0, 5.0])),
                            [1, 2, 3, 4, 5])
        with self.assertRaisesRegex(tf.errors.InvalidArgumentError, "short-clip policy"):
            skip_to_four(tf.constant([1.0, 2.0, 3.0]))

    def test_skip_refuses_short_input_eagerly(self):
        with self.assertRaises(tf.errors.InvalidArgumentError):
            fill.fill([1.0, 2.0], 3, "skip")

    def test_unknown_policy_is_a_value_error_naming_the_choices(self):
        with self.assertRaisesRegex(ValueError, "'loop'.*repeat, pad, skip"):
            fill.fill([1.0, 2.0], 4, "loop")
        with self.assertRaisesRegex(ValueError, "unknown short-clip policy"):
            fill.check_policy("zero")
        self.assertEqual(fill.check_policy("pad"), "pad")

    def test_one_graph_serves_every_input_length(self):
        traced = {policy: tf.function(
            lambda waveform, policy=policy: fill.fill(waveform, 7, policy),
            input_signature=[tf.TensorSpec([None], tf.float32)])
                  for policy in ("repeat", "pad")}
        cases = {
            (2, "repeat"): [0, 1, 0, 1, 0, 1, 0],
            (2, "pad"): [0, 1, 0, 0, 0, 0, 0],
            (3, "repeat"): [0, 1, 2, 0, 1, 2, 0],
            (7, "repeat"): [0, 1, 2, 3, 4, 5, 6],
            (9, "pad"): [0, 1, 2, 3, 4, 5, 6, 7, 8],
            (9, "repeat"): [0, 1, 2, 3, 4, 5, 6, 7, 8],
        }
        for (length, policy), expected in cases.items():
            with self.subTest(length=length, policy=policy):
                result = traced[policy](tf.range(length, dtype=tf.float32))
                self.assertAllEqual(result, expected)
        for function in traced.values():  # one trace, not one per length
            self.assertEqual(function.experimental_get_tracing_count(), 1)


if __name__ == "__main__":
    tf.test.main()
