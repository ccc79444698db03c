"""Examples from audio: one row per song (plus training and evaluation excerpts), the
datasets built on them, the row cache, and short or broken clips reported the same way
on a cached rerun; spectrogram crops streamed from decoded audio."""

import os

import numpy as np
import tensorflow as tf

from genre_tf.audio import decode
from genre_tf.data import (discovery, example_sets, examples, excerpts, feature_store,
                           stored_examples)
from genre_tf.features import statistics
from genre_tf.frontends import feature_stats, spectrogram
from tests import fixtures

SR = fixtures.SR
FEATURES = statistics.FeatureConfig(window_sizes=(512, 1024))  # min_samples 1024
TRAIN_PLAN = excerpts.ExcerptPlan(count=2, min_seconds=0.3, max_seconds=0.6, seed=1)
EVAL_PLAN = excerpts.ExcerptPlan(count=3, min_seconds=0.25, max_seconds=0.5, seed=2)
SHORT_SAMPLES = 220  # 0.01 s, shorter than the 1024 samples of one 1024-point frame
TRUNCATED_HEADER = "cannot decode (truncated header)"


def _counting(frontend):
    """Wraps ``frontend.examples`` so ``frontend.calls`` counts its calls (or traces)."""
    frontend.calls = 0
    examples_of = frontend.examples

    def counted(waveform):
        frontend.calls += 1
        return examples_of(waveform)

    frontend.examples = counted
    return frontend


def _collect(dataset):
    """All batches of a dataset, concatenated per component."""
    parts = list(dataset.as_numpy_iterator())
    return [np.concatenate([p[i] for p in parts]) for i in range(len(parts[0]))]


def _sorted_rows(matrix):
    return matrix[np.lexsort(matrix.T[::-1])]


class _CompiledOnceTestCase(tf.test.TestCase):
    """``tf.test.TestCase`` sets the global seed before every test, which clears TF's
    cache of instantiated functions, so every test would re-optimise the feature graph
    (seconds each). Nothing here depends on that seed."""

    def setUp(self):
        self._set_default_seed = False  # pylint: disable=attribute-defined-outside-init
        super().setUp()


class RowExamplesFromAudioTest(_CompiledOnceTestCase):
    """3 tone genres x 4 clips of 1 s through the feature-statistics front end."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root = fixtures.write_tone_genres(
            os.path.join(tf.compat.v1.test.get_temp_dir(), "tones"), per_genre=4)
        cls.cache_dir = os.path.join(tf.compat.v1.test.get_temp_dir(), "tones_cache")
        cls.index = discovery.discover_clips(cls.root)
        cls.frontend = feature_stats.FeatureStatsFrontEnd(FEATURES)
        cls.config = examples.ExampleConfig(train_excerpts=TRAIN_PLAN,
                                            eval_excerpts=EVAL_PLAN,
                                            cache_dir=cls.cache_dir)
        cls.stored = example_sets.build_examples(cls.index, cls.frontend, cls.config)
        cls.data = cls.stored.to_rows()

    def _rows(self, song, segment):
        return np.flatnonzero((self.data.row_song == song)
                              & (self.data.row_segment == segment))

    def test_rows_per_song_and_segment(self):
        data = self.data
        self.assertIsInstance(self.stored, stored_examples.StoredExamples)
        self.assertEqual(data.song_ids, [c.song_id for c in self.index.clips])
        self.assertEqual(data.song_ids[:2], ["high/high.00000", "high/high.00001"])
        self.assertAllEqual(data.song_labels, np.repeat([0, 1, 2], 4))
        self.assertEqual(data.class_names, ["high", "low", "mid"])
        self.assertEqual(data.excerpts_per_song, 3)
        self.assertEqual(data.example_shape, self.frontend.example_shape)
        self.assertEqual(data.feature_names(), self.frontend.feature_names())
        self.assertLen(data.features, 12 * (1 + 2 + 3))
        self.assertTrue(np.all(np.isfinite(data.features)))
        for song in range(12):
            self.assertLen(self._rows(song, examples.SONG), 1)
            self.assertLen(self._rows(song, examples.TRAIN_EXCERPT), TRAIN_PLAN.count)
            eval_rows = self._rows(song, examples.EVAL_EXCERPT)
            self.assertLen(eval_rows, EVAL_PLAN.count)
            self.assertAllEqual(data.row_part[eval_rows], [0, 1, 2])
            self.assertAllEqual(data.row_part[self._rows(song, examples.SONG)], [-1])
        self.assertEqual(data.report.as_dict(), {"skipped": {}, "filled": {}})

    def test_rows_are_the_front_end_of_the_song_and_its_planned_excerpts(self):
        song = 5
        clip = self.index.clips[song]
        waveform = decode.read_waveform(clip.path, SR)
        self.assertAllClose(self.data.features[self._rows(song, examples.SONG)],
                            self.frontend.examples(waveform), rtol=1e-4, atol=1e-4)
        for segment, plan in ((examples.TRAIN_EXCERPT, TRAIN_PLAN),
                              (examples.EVAL_EXCERPT, EVAL_PLAN)):
            fractions = plan.fractions(clip.song_id)
            rows = self.data.features[self._rows(song, segment)]
            for k in range(plan.count):
                excerpt = excerpts.cut(waveform, fractions[k], plan, SR)
                self.assertBetween(len(excerpt), round(plan.min_seconds * SR),
                                   round(plan.max_seconds * SR))
                self.assertAllClose(rows[k], self.frontend.examples(excerpt)[0],
                                    rtol=1e-4, atol=1e-4)

    def test_training_dataset_covers_only_the_given_songs(self):
        songs = [0, 5, 9]
        x, y = _collect(self.stored.training_dataset(songs, batch_size=4, seed=3))
        rows = np.flatnonzero(np.isin(self.data.row_song, songs) & np.isin(
            self.data.row_segment, [examples.SONG, examples.TRAIN_EXCERPT]))
        self.assertLen(rows, 3 * (1 + TRAIN_PLAN.count))
        self.assertAllEqual(_sorted_rows(x), _sorted_rows(self.data.features[rows]))
        self.assertAllEqual(np.bincount(y, minlength=3), [3, 3, 3])
        for features, label in zip(x, y):  # every row keeps its song's label
            row = np.flatnonzero(np.all(self.data.features == features, axis=1))[0]
            self.assertEqual(label, self.data.song_labels[self.data.row_song[row]])
        sample = np.concatenate(list(self.stored.head_sample(songs).as_numpy_iterator()))
        self.assertAllEqual(_sorted_rows(sample), _sorted_rows(self.data.features[rows]))

    def test_streamed_from_disk_equals_cached_in_memory(self):
        streamed = stored_examples.StoredExamples(
            self.stored.segments, self.stored.song_ids, self.stored.song_labels,
            self.stored.class_names, self.frontend, self.stored.report,
            self.stored.excerpts_per_song, memory_budget_bytes=0)
        songs = [0, 3, 4, 8, 11]
        self.assertFalse(streamed._fits_in_memory(songs, [examples.SONG]))
        for seed in (0, 1):
            a, ya = _collect(streamed.training_dataset(songs, batch_size=5, seed=seed))
            b, yb = _collect(self.stored.training_dataset(songs, batch_size=5, seed=seed))
            self.assertAllEqual(_sorted_rows(np.c_[a, ya]), _sorted_rows(np.c_[b, yb]))
        for segment in (examples.SONG, examples.EVAL_EXCERPT):
            a = _collect(streamed.evaluation_dataset(songs, 4, segment))
            b = _collect(self.stored.evaluation_dataset(songs, 4, segment))
            for part_a, part_b in zip(a, b):
                self.assertAllEqual(part_a, part_b)

    def test_held_rows_shuffled_are_the_same_rows(self):
        songs = [0, 3, 4, 8, 11]
        segments = [examples.SONG, examples.TRAIN_EXCERPT]
        self.assertIsNotNone(self.stored._held_rows())
        plain = _collect(self.stored._dataset(songs, segments).batch(64))
        shuffled = _collect(self.stored._dataset(songs, segments, shuffle_seed=3).batch(64))
        self.assertAllEqual(_sorted_rows(shuffled[0]), _sorted_rows(plain[0]))
        self.assertFalse(np.array_equal(shuffled[0], plain[0]))

    def test_evaluation_groups_are_songs_and_excerpts(self):
        songs = [1, 6, 11]  # (rows come in store order: by content digest)
        x, y, group = _collect(self.stored.evaluation_dataset(songs, batch_size=2))
        order = np.argsort(group)
        self.assertAllEqual(group[order], songs)
        self.assertAllEqual(y[order], [0, 1, 2])
        self.assertAllEqual(x[order], self.data.features[
            [self._rows(s, examples.SONG)[0] for s in songs]])
        _, y, group = _collect(self.stored.evaluation_dataset(
            songs, batch_size=4, segment=examples.EVAL_EXCERPT))
        order = np.argsort(group, kind="stable")
        self.assertAllEqual(group[order], [3, 4, 5, 18, 19, 20, 33, 34, 35])  # song*3 + k
        self.assertAllEqual(y[order], np.repeat([0, 1, 2], 3))
        x, y = _collect(self.stored.validation_dataset(songs, batch_size=8))
        self.assertEqual(x.shape, (3,) + self.frontend.example_shape)

    def test_a_second_build_reads_every_row_from_the_cache(self):
        frontend = _counting(feature_stats.FeatureStatsFrontEnd(FEATURES))
        self.assertEqual(frontend.key, self.frontend.key)
        again = example_sets.build_examples(self.index, frontend, self.config).to_rows()
        self.assertEqual(frontend.calls, 0)  # no clip went through the front end
        self.assertAllEqual(again.features, self.data.features)
        for name in ("row_song", "row_segment", "row_part"):
            self.assertAllEqual(getattr(again, name), getattr(self.data, name))
        folder_names = [f"{frontend.key}-repeat",
                        f"{frontend.key}-repeat-{TRAIN_PLAN.key()}",
                        f"{frontend.key}-repeat-{EVAL_PLAN.key()}"]
        for name in folder_names:  # one shard holding every clip in each segment's store
            store = feature_store.FeatureStore(os.path.join(
                self.cache_dir, "features", f"v{feature_store.FORMAT}", name))
            self.assertLen(store.entries(), 12)
            files = sorted(os.listdir(store.folder))
            self.assertLen([f for f in files if f.endswith(".tfrecord")], 1)
            self.assertLen(files, 3)  # the shard, its index, verified.json

    def test_another_plan_is_not_served_from_this_cache(self):
        frontend = _counting(feature_stats.FeatureStatsFrontEnd(FEATURES))
        plan = excerpts.ExcerptPlan(count=1, min_seconds=0.3, max_seconds=0.3, seed=9)
        config = examples.ExampleConfig(eval_excerpts=plan, cache_dir=self.cache_dir)
        data = example_sets.build_examples(self.index, frontend, config).to_rows()
        self.assertEqual(frontend.calls, 1)  # traced once for the new excerpts only
        self.assertLen(data.features, 12 * 2)
        self.assertAllEqual(data.features[data.row_segment == examples.SONG],
                            self.data.features[self.data.row_segment == examples.SONG])


class ShuffledBatchesTest(tf.test.TestCase):

    def test_the_batches_of_a_row_shuffle_pass_by_pass_gathered_by_row_number(self):
        """The training order of held rows did not change when they became gathered:
        pass k of either is the same batches (last one short), and so is pass k of one
        repeated iterator (the trainer's)."""
        rng = np.random.default_rng(0)
        columns = (rng.standard_normal((103, 6)).astype(np.float32), np.arange(103) % 7)

        def row_shuffled():
            return tf.data.Dataset.from_tensor_slices(columns).shuffle(
                103, seed=5, reshuffle_each_iteration=True).batch(16)

        def passes(data, count):
            return [[batch[1].numpy() for batch in data] for _ in range(count)]

        tf.random.set_seed(1)
        expected = passes(row_shuffled(), 3)
        tf.random.set_seed(1)
        gathered = passes(examples.shuffled_batches(columns, 16, seed=5), 3)
        tf.random.set_seed(1)
        repeated = iter(examples.shuffled_batches(columns, 16, seed=5).repeat())
        one_iterator = [[next(repeated)[1].numpy() for _ in range(7)] for _ in range(3)]
        self.assertFalse(np.array_equal(expected[0][0], expected[1][0]))  # reshuffled
        for got in (gathered, one_iterator):
            self.assertEqual([[len(b) for b in p] for p in got], [[16] * 6 + [7]] * 3)
            for want_pass, got_pass in zip(expected, got):
                for want, batch in zip(want_pass, got_pass):
                    self.assertAllEqual(batch, want)
        x, y = next(iter(examples.shuffled_batches(columns, 16, seed=5)))
        self.assertAllEqual(x, columns[0][np.asarray(
            [np.flatnonzero(columns[0][:, 0] == row)[0] for row in x[:, 0]])])

    def test_a_batch_of_every_row_is_one_batch_in_row_order_of_unknown_length(self):
        columns = (np.arange(30, dtype=np.float32).reshape(10, 3), np.arange(10) % 4)
        for name, full in (("shuffled", examples.shuffled_batches(columns, 10, seed=5)),
                           ("ordered", examples.ordered_batches(columns, 64))):
            with self.subTest(name):
                self.assertEqual(int(full.cardinality()), 1)
                self.assertEqual(full.element_spec[0].shape.as_list(), [None, 3])
                for x, y in full.repeat(2):
                    self.assertAllEqual(x, columns[0])
                    self.assertAllEqual(y, columns[1])
                # No graph rewrite per iterator (it serialised the rows every time).
                self.assertFalse(full.prefetch(1).options()
                                 .experimental_optimization.apply_default_optimizations)


class RowDigestTest(tf.test.TestCase):

    def test_a_songs_digest_hashes_its_rows_in_row_order(self):
        """Rows of interleaved songs: each song's digest is its id, label and rows in
        row order (the definition run folders recorded), whatever the grouping."""
        import hashlib  # pylint: disable=import-outside-toplevel
        rng = np.random.default_rng(0)
        row_song = rng.integers(0, 7, 60)
        rows = examples.RowExamples(
            rng.standard_normal((60, 3)).astype(np.float32), row_song, np.zeros(60),
            np.full(60, -1), [f"g/s{k}" for k in range(7)], np.arange(7) % 2, ["a", "b"])

        def by_mask(songs):
            digest = hashlib.sha1()
            for song in songs:
                digest.update(f"g/s{song}|{song % 2}|".encode())
                digest.update(rows.features[row_song == song].tobytes())
            return digest.hexdigest()
        self.assertEqual(rows.data_digest(np.arange(7)), by_mask(range(7)))
        self.assertEqual(rows.data_digest([4, 1]), by_mask([4, 1]))
        self.assertEqual(rows.song_digests([2])["g/s2"], by_mask([2])[:16])


class StoredEdgeCasesTest(_CompiledOnceTestCase):

    def test_identical_audio_under_two_names_is_computed_and_stored_once(self):
        root = fixtures.write_tone_genres(os.path.join(self.get_temp_dir(), "twins"),
                                          per_genre=2)
        original = os.path.join(root, "low", "low.00000.wav")
        with open(original, "rb") as src, open(os.path.join(root, "mid", "mid.twin.wav"),
                                               "wb") as dst:
            dst.write(src.read())  # GTZAN holds such byte-identical pairs
        frontend = _counting(feature_stats.FeatureStatsFrontEnd(FEATURES))
        plan = excerpts.ExcerptPlan(count=3, min_seconds=0.3, max_seconds=0.5, seed=1)
        config = examples.ExampleConfig(train_excerpts=plan,  # more than eval's 0
                                        cache_dir=os.path.join(self.get_temp_dir(), "c"))
        data = example_sets.build_examples(discovery.discover_clips(root), frontend, config)
        rows = data.to_rows()
        twin, first = data.song_ids.index("mid/mid.twin"), data.song_ids.index(
            "low/low.00000")
        for song in (twin, first):
            self.assertLen(np.flatnonzero((rows.row_song == song)
                                          & (rows.row_segment == examples.SONG)), 1)
            parts = rows.row_part[(rows.row_song == song)
                                  & (rows.row_segment == examples.TRAIN_EXCERPT)]
            self.assertAllEqual(parts, [0, 1, 2])
        song_rows = rows.features[rows.row_segment == examples.SONG]
        self.assertAllEqual(song_rows[twin], song_rows[first])
        self.assertEqual(rows.song_labels[twin], 2)  # each keeps its own label
        self.assertLen(rows.features, 7 * (1 + 3))
        _, y = _collect(data.training_dataset([twin, first], batch_size=16))
        self.assertAllEqual(np.bincount(y, minlength=3), [0, 4, 4])

    def test_no_songs_give_empty_datasets(self):
        root = fixtures.write_tone_genres(os.path.join(self.get_temp_dir(), "few"), 1)
        data = example_sets.build_examples(
            discovery.discover_clips(root), feature_stats.FeatureStatsFrontEnd(FEATURES),
            examples.ExampleConfig())
        self.assertEmpty(list(data.evaluation_dataset([], 4)))
        self.assertEmpty(list(data.evaluation_dataset([], 4, examples.EVAL_EXCERPT)))
        self.assertEmpty(list(data.training_dataset(np.zeros(0, int), 4)))


class ShortAndBrokenClipsTest(_CompiledOnceTestCase):
    """Tone genres with one 0.01 s clip and one file that is only a truncated header."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = os.path.join(tf.compat.v1.test.get_temp_dir(), "messy")
        root = fixtures.write_tone_genres(os.path.join(cls.tmp, "data"), per_genre=2)
        cls.short = fixtures.write_audio(os.path.join(root, "low", "low.short.wav"),
                                         fixtures.tone(150.0, SHORT_SAMPLES / SR))
        cls.corrupt = os.path.join(root, "mid", "mid.corrupt.wav")
        with open(cls.corrupt, "wb") as handle:
            handle.write(b"RIFF\x00\x00")
        cls.index = discovery.discover_clips(root)
        cls.frontend = feature_stats.FeatureStatsFrontEnd(FEATURES)
        cls.short_waveform = decode.read_waveform(cls.short, SR)

    def _build(self, policy, cache=None):
        config = examples.ExampleConfig(
            short_clips=policy, cache_dir=cache and os.path.join(self.tmp, cache))
        return example_sets.build_examples(self.index, self.frontend, config)

    def _short_row(self, data):
        rows = data.to_rows()
        return rows.features[data.song_ids.index("low/low.short")]

    def test_repeat_fills_the_short_clip_and_a_cached_rerun_says_so_again(self):
        self.assertLen(self.short_waveform, SHORT_SAMPLES)
        first = self._build("repeat", cache="cache_repeat")
        expected = {"skipped": {self.corrupt: TRUNCATED_HEADER},
                    "filled": {self.short: "repeat"}}
        self.assertEqual(first.report.as_dict(), expected)
        self.assertLen(first.song_ids, 7)
        self.assertEqual(first.report.summary(8), "7 of 8 files used, 1 skipped, "
                                                  "1 filled (short)")
        tiled = np.tile(self.short_waveform, 5)[:1024]  # 220 * 5 >= 1024
        self.assertAllClose(self._short_row(first), self.frontend.examples(tiled)[0],
                            rtol=1e-4, atol=1e-4)

        with self.assertLogs("absl", level="INFO") as logs:
            second = self._build("repeat", cache="cache_repeat")
        self.assertEqual(second.report.as_dict(), expected)
        self.assertAllEqual(second.to_rows().features, first.to_rows().features)
        # Only the file that never decoded is tried again; the short clip came from the
        # cache and is still reported as filled.
        computing = [line for line in logs.output if "Computing" in line]
        self.assertLen(computing, 1)
        self.assertIn("of 1 clips (7 stored)", computing[0])
        self.assertTrue(any(self.short in line and "filled by repeat" in line
                            for line in logs.output))

    def test_skip_drops_the_short_clip_on_every_build(self):
        expected = {"skipped": {self.corrupt: TRUNCATED_HEADER,
                                self.short: f"too short ({SHORT_SAMPLES} samples, "
                                            f"need 1024)"},
                    "filled": {}}
        for build in ("first", "cached"):
            with self.subTest(build=build):
                data = self._build("skip", cache="cache_skip")
                self.assertEqual(data.report.as_dict(), expected)
                self.assertNotIn("low/low.short", data.song_ids)
                self.assertLen(data.song_ids, 6)

    def test_pad_fills_with_silence(self):
        data = self._build("pad")
        self.assertEqual(data.report.filled, {self.short: "pad"})
        self.assertEqual(data.report.skipped, {self.corrupt: TRUNCATED_HEADER})
        padded = np.pad(self.short_waveform, (0, 1024 - SHORT_SAMPLES))
        self.assertAllClose(self._short_row(data), self.frontend.examples(padded)[0],
                            rtol=1e-4, atol=1e-4)
        tiled = self.frontend.examples(np.tile(self.short_waveform, 5)[:1024])[0]
        self.assertGreater(np.abs(self._short_row(data) - tiled).max(), 1e-3)


class _NaNForOneLength(feature_stats.FeatureStatsFrontEnd):
    """Feature statistics that turn non-finite for clips of exactly ``NAN_SAMPLES``."""
    NAN_SAMPLES = 15000

    @property
    def key(self):
        return "nan-test-" + super().key

    def examples(self, waveform):
        rows = super().examples(waveform)
        return tf.where(tf.shape(waveform)[0] == self.NAN_SAMPLES, rows * np.nan, rows)


class NonFiniteRowsTest(_CompiledOnceTestCase):

    def test_a_clip_with_non_finite_features_is_skipped_on_every_build(self):
        tmp = self.get_temp_dir()
        root = fixtures.write_tone_genres(os.path.join(tmp, "data"), per_genre=2)
        poisoned = fixtures.write_audio(
            os.path.join(root, "low", "low.nan.wav"),
            fixtures.tone(150.0, _NaNForOneLength.NAN_SAMPLES / SR))
        config = examples.ExampleConfig(train_excerpts=TRAIN_PLAN,
                                        cache_dir=os.path.join(tmp, "cache"))
        index = discovery.discover_clips(root)
        for build in ("first", "cached"):
            with self.subTest(build=build):
                data = example_sets.build_examples(index, _NaNForOneLength(FEATURES),
                                                   config).to_rows()
                self.assertEqual(data.report.skipped, {
                    poisoned: "non-finite features in 1 of 1 song rows"})
                self.assertNotIn("low/low.nan", data.song_ids)
                self.assertLen(data.song_ids, 6)
                self.assertTrue(np.all(np.isfinite(data.features)))


class StreamedExamplesTest(_CompiledOnceTestCase):
    """0.5 s mel crops of the tone genres, recomputed from audio every epoch."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        root = fixtures.write_tone_genres(
            os.path.join(tf.compat.v1.test.get_temp_dir(), "streamed"), per_genre=4)
        cls.index = discovery.discover_clips(root)
        cls.plan = excerpts.ExcerptPlan(count=2, min_seconds=0.55, max_seconds=0.8, seed=4)
        frontend = spectrogram.SpectrogramFrontEnd(spectrogram.ImageConfig(
            kinds=("mel",), image_size=0, crop_seconds=0.5, crops_per_song=2))
        cls.data = example_sets.build_examples(cls.index, frontend,
                                           examples.ExampleConfig(eval_excerpts=cls.plan))

    def test_songs_and_shape(self):
        self.assertIsInstance(self.data, examples.StreamedExamples)
        self.assertEqual(self.data.song_ids, [c.song_id for c in self.index.clips])
        self.assertAllEqual(self.data.song_labels, np.repeat([0, 1, 2], 4))
        self.assertEqual(self.data.example_shape, (128, 22, 1))  # 1 + 11025 // 512 frames

    def test_training_dataset_gives_crops_per_song_images(self):
        songs = [1, 4, 7, 10]
        x, y = _collect(self.data.training_dataset(songs, batch_size=3, seed=0))
        self.assertEqual(x.shape, (8, 128, 22, 1))
        self.assertAllInRange(x, 0.0, 1.0)
        self.assertAllEqual(np.sort(y), [0, 0, 1, 1, 1, 1, 2, 2])

    def test_evaluation_groups_are_the_songs(self):
        songs = [1, 4, 7, 10]
        x, y, group = _collect(self.data.evaluation_dataset(songs, batch_size=5))
        per_song = self.data.frontend.examples_per_clip(SR)  # 1 s clips: 3 crops
        self.assertEqual(per_song, 3)
        self.assertAllEqual(group, np.repeat(songs, 3))
        self.assertAllEqual(y, np.repeat([0, 1, 1, 2], 3))
        waveform = decode.read_waveform(self.index.clips[4].path, SR)
        self.assertAllClose(x[3:6], self.data.frontend.examples(waveform), atol=1e-5)

    def test_evaluation_excerpt_groups(self):
        songs = [2, 9]
        _, y, group = _collect(self.data.evaluation_dataset(
            songs, batch_size=4, segment=examples.EVAL_EXCERPT))
        expected = []
        for song in songs:
            fractions = self.plan.fractions(self.data.song_ids[song])
            for k in range(self.plan.count):
                length = int(round(float(self.plan.min_seconds + fractions[k, 1] * (
                    self.plan.max_seconds - self.plan.min_seconds)) * SR))
                expected += [song * 2 + k] * self.data.frontend.examples_per_clip(length)
        self.assertAllEqual(group, expected)
        self.assertAllEqual(y, self.data.song_labels[np.asarray(expected) // 2])



class BackboneRowsTest(tf.test.TestCase):
    """Rows computed inside tf.data must come from the pretrained weights: a backbone
    first built while its function is traced kept its random initialisation once (the
    weight assignment became a graph op that never ran)."""

    def test_cached_rows_equal_the_backbone_applied_eagerly(self):
        from genre_tf.backbones import BackboneConfig  # pylint: disable=import-outside-toplevel
        from genre_tf.frontends import embedding  # pylint: disable=import-outside-toplevel
        try:
            import musicnn  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
        except ImportError:
            self.skipTest("pip install --no-deps musicnn==0.1.0")
        root = self.get_temp_dir()
        waveform = fixtures.music_like(4.0, sr=16000, seed=3)
        fixtures.write_audio(os.path.join(root, "data", "a", "a.00000.wav"), waveform,
                             sr=16000)
        fixtures.write_audio(os.path.join(root, "data", "b", "b.00000.wav"), -waveform,
                             sr=16000)
        config = BackboneConfig("MSD_musicnn", layer="max_pool")
        rows = example_sets.build_examples(
            discovery.discover_clips(os.path.join(root, "data")),
            embedding.EmbeddingFrontEnd(config), examples.ExampleConfig()).to_rows()
        decoded = decode.read_waveform(os.path.join(root, "data", "a", "a.00000.wav"),
                                       16000)
        eager = embedding.EmbeddingFrontEnd(config).load().examples(tf.constant(decoded))
        self.assertAllClose(rows.features[rows.row_song == 0], eager, atol=1e-4, rtol=1e-4)


if __name__ == "__main__":
    tf.test.main()
