"""Excerpt plans: a draw fixed by (seed, song) alone, and ``cut`` giving the planned
length and offset of a known ramp waveform."""

import numpy as np
import tensorflow as tf

from genre_tf.data import excerpts

RATE = 1000  # Hz: one sample per millisecond keeps the expected lengths readable


def _ramp(n):
    return tf.range(n, dtype=tf.float32)


class ExcerptPlanTest(tf.test.TestCase):

    def test_fractions_are_a_fixed_draw_per_seed_and_song(self):
        plan = excerpts.ExcerptPlan(count=4, min_seconds=1.0, max_seconds=2.0, seed=3)
        first = plan.fractions("blues/blues.00001")
        self.assertEqual(first.shape, (4, 2))
        self.assertEqual(first.dtype, np.float32)
        self.assertTrue(np.all((first >= 0) & (first < 1)))
        self.assertAllEqual(first, plan.fractions("blues/blues.00001"))
        # An equal plan made elsewhere draws the same excerpts.
        self.assertAllEqual(first, excerpts.ExcerptPlan(4, 1.0, 2.0, 3).fractions(
            "blues/blues.00001"))

    def test_fractions_differ_across_songs_and_seeds(self):
        plan = excerpts.ExcerptPlan(count=3, seed=0)
        song_a = plan.fractions("jazz/jazz.00000")
        song_b = plan.fractions("jazz/jazz.00001")
        other_seed = excerpts.ExcerptPlan(count=3, seed=1).fractions("jazz/jazz.00000")
        self.assertGreater(np.abs(song_a - song_b).max(), 1e-3)
        self.assertGreater(np.abs(song_a - other_seed).max(), 1e-3)

    def test_fractions_do_not_depend_on_the_other_songs(self):
        plan = excerpts.ExcerptPlan(count=2, seed=7)
        alone = plan.fractions("rock/rock.00042")
        for k in range(20):
            plan.fractions(f"pop/pop.{k:05d}")
        self.assertAllEqual(plan.fractions("rock/rock.00042"), alone)
        # A fresh plan, asked in another order, agrees too.
        fresh = excerpts.ExcerptPlan(count=2, seed=7)
        fresh.fractions("pop/pop.00003")
        self.assertAllEqual(fresh.fractions("rock/rock.00042"), alone)

    def test_count_sets_the_rows_and_the_key(self):
        self.assertEqual(excerpts.ExcerptPlan(count=0).fractions("a").shape, (0, 2))
        first_rows = excerpts.ExcerptPlan(count=5, seed=2).fractions("a")
        self.assertEqual(first_rows.shape, (5, 2))
        keys = {excerpts.ExcerptPlan(2, 1.0, 2.0, 0).key(),
                excerpts.ExcerptPlan(3, 1.0, 2.0, 0).key(),
                excerpts.ExcerptPlan(2, 1.5, 2.0, 0).key(),
                excerpts.ExcerptPlan(2, 1.0, 2.5, 0).key(),
                excerpts.ExcerptPlan(2, 1.0, 2.0, 1).key()}
        self.assertLen(keys, 5)

    def test_bad_lengths_are_refused(self):
        with self.assertRaisesRegex(ValueError, "0 < min <= max"):
            excerpts.ExcerptPlan(count=1, min_seconds=3.0, max_seconds=2.0)
        with self.assertRaisesRegex(ValueError, "0 < min <= max"):
            excerpts.ExcerptPlan(count=1, min_seconds=0.0, max_seconds=2.0)
        excerpts.ExcerptPlan(count=0, min_seconds=3.0, max_seconds=2.0)  # unused: fine


class CutTest(tf.test.TestCase):

    def test_fixed_length_at_the_planned_offset(self):
        plan = excerpts.ExcerptPlan(count=1, min_seconds=0.5, max_seconds=0.5)
        excerpt = excerpts.cut(_ramp(2000), tf.constant([0.5, 0.9]), plan, RATE)
        # 0.5 s at 1 kHz = 500 samples, starting half-way into the 1500 free samples.
        self.assertAllEqual(excerpt, np.arange(750, 1250))

    def test_length_is_interpolated_and_rounded(self):
        plan = excerpts.ExcerptPlan(count=1, min_seconds=1.0, max_seconds=2.0)
        excerpt = excerpts.cut(_ramp(5000), tf.constant([0.0, 0.2504]), plan, RATE)
        # 1.0 + 0.2504 * (2.0 - 1.0) s = 1250.4 samples, rounded: 1250.
        self.assertLen(excerpt, 1250)
        self.assertEqual(int(excerpt[0]), 0)

    def test_extreme_offsets_stay_within_the_clip(self):
        plan = excerpts.ExcerptPlan(count=1, min_seconds=0.3, max_seconds=0.3)
        clip = _ramp(1000)
        self.assertAllEqual(excerpts.cut(clip, tf.constant([0.0, 0.0]), plan, RATE),
                            np.arange(0, 300))
        # floor(0.99999 * 700) = 699; the upper bound 1.0 ends at the clip's end.
        self.assertAllEqual(excerpts.cut(clip, tf.constant([0.99999, 0.0]), plan, RATE),
                            np.arange(699, 999))
        self.assertAllEqual(excerpts.cut(clip, tf.constant([1.0, 0.0]), plan, RATE),
                            np.arange(700, 1000))

    def test_clipped_to_the_clip_length(self):
        plan = excerpts.ExcerptPlan(count=1, min_seconds=0.5, max_seconds=0.5)
        excerpt = excerpts.cut(_ramp(300), tf.constant([0.7, 0.3]), plan, RATE)
        self.assertAllEqual(excerpt, np.arange(300))

    def test_min_samples_lengthens_short_excerpts(self):
        plan = excerpts.ExcerptPlan(count=1, min_seconds=0.1, max_seconds=0.1)
        excerpt = excerpts.cut(_ramp(2000), tf.constant([0.0, 0.0]), plan, RATE,
                               min_samples=400)
        self.assertAllEqual(excerpt, np.arange(400))
        # ... but never beyond the clip.
        excerpt = excerpts.cut(_ramp(250), tf.constant([0.5, 0.0]), plan, RATE,
                               min_samples=400)
        self.assertAllEqual(excerpt, np.arange(250))

    def test_planned_excerpts_lie_within_the_clip_and_the_length_range(self):
        plan = excerpts.ExcerptPlan(count=200, min_seconds=1.0, max_seconds=2.0, seed=5)
        fractions = plan.fractions("classical/classical.00003")
        clip = _ramp(6000)
        cut = tf.function(lambda f: excerpts.cut(clip, f, plan, RATE))
        lengths = []
        for fraction in fractions:
            excerpt = cut(tf.constant(fraction)).numpy()
            expected_length = int(np.round((np.float32(1.0) + fraction[1]) * RATE))
            self.assertLen(excerpt, expected_length)
            start = int(excerpt[0])
            self.assertBetween(start, 0, 6000 - len(excerpt))
            self.assertAllEqual(excerpt, np.arange(start, start + len(excerpt)))
            self.assertEqual(start, int(np.floor(fraction[0] * (6000 - len(excerpt)))))
            lengths.append(len(excerpt))
        self.assertBetween(min(lengths), 1000, 1100)  # the range is covered
        self.assertBetween(max(lengths), 1900, 2000)

    def test_inside_a_graph_with_unknown_length(self):
        plan = excerpts.ExcerptPlan(count=1, min_seconds=0.2, max_seconds=0.2)

        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32),
                                      tf.TensorSpec([2], tf.float32)])
        def cut(waveform, fraction):
            return excerpts.cut(waveform, fraction, plan, RATE, min_samples=100)

        self.assertAllEqual(cut(_ramp(1200), [0.5, 0.5]), np.arange(500, 700))
        self.assertAllEqual(cut(_ramp(150), [0.5, 0.5]), np.arange(150))


if __name__ == "__main__":
    tf.test.main()
