"""Discovery, song-level splits (no leakage), tf.data decoding of bad files, tables."""

import os

import numpy as np
import tensorflow as tf

from genre_tf import config
from genre_tf.audio import decode
from genre_tf.data import (discovery, example_sets, examples, feature_store, feature_table,
                           pipeline, splits)
from genre_tf.frontends import feature_stats
from genre_tf.features import statistics
from tests import fixtures


def _make_tree(root, genres=("blues", "jazz", "rock"), per_genre=4, seconds=0.3):
    for g, genre in enumerate(genres):
        for k in range(per_genre):
            fixtures.write_audio(os.path.join(root, genre, f"{genre}.{k:05d}.wav"),
                                 fixtures.tone(200.0 * (g + 1) + 10 * k, seconds))
    return root


class DiscoveryTest(tf.test.TestCase):

    def test_gtzan_layout_nested_in_genres_original(self):
        root = self.get_temp_dir()
        _make_tree(os.path.join(root, "genres_original"))
        index = discovery.discover_clips(root)
        self.assertEqual(index.class_names, ["blues", "jazz", "rock"])
        self.assertLen(index.clips, 12)
        self.assertEqual(index.clips[0].song_id, "blues/blues.00000")
        self.assertEqual(index.labels.count(2), 4)

    def test_manifest_csv(self):
        root = _make_tree(self.get_temp_dir())
        manifest = os.path.join(root, "manifest.csv")
        with open(manifest, "w") as handle:
            handle.write("path,label\nblues/blues.00000.wav,slow\njazz/jazz.00001.wav,fast\n")
        index = discovery.discover_clips(manifest)
        self.assertEqual(index.class_names, ["fast", "slow"])
        self.assertEqual([c.label for c in index.clips], [1, 0])
        self.assertTrue(os.path.isfile(index.clips[0].path))

    def test_folder_named_like_audio_is_a_clip_not_searched(self):
        root = _make_tree(self.get_temp_dir(), genres=("blues",), per_genre=1)
        album = os.path.join(root, "blues", "x.wav")
        fixtures.write_audio(os.path.join(album, "inside.wav"), fixtures.tone(300.0, 0.1))
        index = discovery.discover_clips(root)
        self.assertEqual([c.song_id for c in index.clips], ["blues/blues.00000", "blues/x"])
        self.assertEqual(index.clips[1].path, album)
        with self.assertRaisesRegex(decode.DecodeError, "^is a directory$"):
            decode.read_waveform(album, 22050)

    def test_manifest_rows_without_label_are_skipped_with_their_lines(self):
        root = _make_tree(self.get_temp_dir(), genres=("blues",), per_genre=3)
        manifest = os.path.join(root, "manifest.csv")
        with open(manifest, "w") as handle:
            handle.write("path,label\nblues/blues.00000.wav,blues\nblues/blues.00001.wav,\n"
                         "\nblues/blues.00002.wav\n")
        with self.assertLogs(level="WARNING") as logs:
            index = discovery.discover_clips(manifest)
        self.assertEqual(index.class_names, ["blues"])
        self.assertEqual([c.song_id for c in index.clips], ["blues/blues.00000"])
        self.assertLen(logs.output, 1)
        self.assertIn("manifest.csv: lines 3, 5 without a path or label; skipped",
                      logs.output[0])

    def test_header_only_manifest_has_no_rows(self):
        manifest = os.path.join(self.get_temp_dir(), "manifest.csv")
        with open(manifest, "w") as handle:
            handle.write("path,label\n")
        with self.assertRaisesRegex(ValueError, "manifest.csv: a manifest has no rows"):
            discovery.discover_clips(manifest)
        with open(manifest, "w") as handle:
            handle.write("blues/blues.00000.wav,blues\n")
        with self.assertRaisesRegex(ValueError, "needs a header with columns path,label"):
            discovery.discover_clips(manifest)

    def test_clear_errors_before_training(self):
        root = self.get_temp_dir()
        with self.assertRaisesRegex(FileNotFoundError, "does not exist"):
            discovery.discover_clips(os.path.join(root, "nowhere"))
        empty_root = os.path.join(root, "only_text")
        os.makedirs(os.path.join(empty_root, "blues"))
        with self.assertRaisesRegex(ValueError, "no audio files found"):
            discovery.discover_clips(empty_root)
        tree = _make_tree(os.path.join(root, "tree"), genres=("blues",))
        os.makedirs(os.path.join(tree, "jazz"))
        with self.assertRaisesRegex(ValueError, "classes with no usable audio files.*jazz"):
            discovery.discover_clips(tree)


class SplitsTest(tf.test.TestCase):
    labels = np.repeat(np.arange(10), 10)  # 100 songs, 10 per class

    def _assert_song_level(self, split_list):
        for split in split_list:
            parts = [set(split.train), set(split.valid), set(split.test)]
            self.assertEmpty(parts[0] & parts[1])
            self.assertEmpty(parts[0] & parts[2])
            self.assertEmpty(parts[1] & parts[2])
            self.assertLen(parts[0] | parts[1] | parts[2], 100)

    def test_shuffle_split_is_stratified_disjoint_and_seeded(self):
        result = splits.stratified_shuffle_splits(self.labels, 5, 0.2, 0.1, seed=3)
        self._assert_song_level(result)
        for split in result:
            self.assertAllEqual(np.bincount(self.labels[split.test]), [2] * 10)
            self.assertAllEqual(np.bincount(self.labels[split.valid]), [1] * 10)
        again = splits.stratified_shuffle_splits(self.labels, 5, 0.2, 0.1, seed=3)
        self.assertAllEqual(result[2].test, again[2].test)
        other = splits.stratified_shuffle_splits(self.labels, 5, 0.2, 0.1, seed=4)
        self.assertNotAllEqual(result[0].test, other[0].test)
        self.assertNotAllEqual(result[0].test, result[1].test)

    def test_kfold_tests_every_song_once(self):
        result = splits.stratified_kfold(self.labels, 5, 0.1, seed=0)
        self._assert_song_level(result)
        tested = np.concatenate([s.test for s in result])
        self.assertAllEqual(np.sort(tested), np.arange(100))

    def test_fixed_split_from_lists(self):
        folder = self.get_temp_dir()
        songs = [f"blues/blues.{k:05d}" for k in range(6)]
        for part, ks in (("train", (0, 1, 2, 9)), ("valid", (3,)), ("test", (4, 5))):
            with open(os.path.join(folder, f"{part}.txt"), "w") as handle:
                handle.write("".join(f"blues/blues.{k:05d}.wav\n" for k in ks))
        split = splits.make_splits(config.SplitConfig(kind="fixed", split_dir=folder), songs,
                                   np.zeros(6, int))[0]
        self.assertAllEqual(split.train, [0, 1, 2])  # blues.00009 is not in the data
        self.assertAllEqual(split.valid, [3])
        self.assertAllEqual(split.test, [4, 5])

    def test_fault_filtered_lists_match_mini_gtzan(self):
        if not (os.path.isdir(fixtures.SPLIT_LISTS) and os.path.isdir(fixtures.MINI_GTZAN)):
            self.skipTest("../shared/data absent")
        index = discovery.discover_clips(fixtures.MINI_GTZAN)
        song_ids = [c.song_id for c in index.clips]
        split = splits.fixed_split(song_ids, fixtures.SPLIT_LISTS)
        split.check_disjoint()
        self.assertGreater(len(split.train) + len(split.valid) + len(split.test), 10)
        listed = set(splits.read_split_list(os.path.join(fixtures.SPLIT_LISTS, "test.txt")))
        self.assertTrue(all(song_ids[i] in listed for i in split.test))

    def test_overlapping_split_is_refused(self):
        split = splits.Split("bad", np.array([0, 1]), np.array([2]), np.array([1, 3]))
        with self.assertRaisesRegex(ValueError, "in both train and test"):
            split.check_disjoint()


class PipelineTest(tf.test.TestCase):

    def test_bad_files_are_skipped_named_and_counted(self):
        root = self.get_temp_dir()
        good = [fixtures.write_audio(os.path.join(root, f"ok{k}.wav"),
                                     fixtures.tone(300.0, 0.5)) for k in range(3)]
        short = fixtures.write_audio(os.path.join(root, "short.wav"),
                                     fixtures.tone(300.0, 0.01))
        broken = os.path.join(root, "broken.wav")
        with open(broken, "w") as handle:
            handle.write("garbage")
        paths = [good[0], broken, good[1], short, good[2]]
        report = pipeline.DecodeReport()
        with self.assertLogs(level="WARNING") as logs:
            results = list(pipeline.waveform_dataset(paths, 22050, 4096, "pad", report)
                           .as_numpy_iterator())
        self.assertEqual([int(i) for _, i in results], [0, 2, 3, 4])
        self.assertEqual(results[2][0].shape, (220,))  # filled later, in the graph
        self.assertEqual(list(report.skipped), [broken])
        self.assertIn("not a WAV file", report.skipped[broken])
        self.assertEqual(report.filled, {short: "pad"})
        self.assertTrue(any("broken.wav" in line and "skipped" in line
                            for line in logs.output))
        self.assertEqual(report.summary(5), "4 of 5 files used, 1 skipped, 1 filled (short)")

        skip_report = pipeline.DecodeReport()
        kept = [int(i) for _, i in pipeline.waveform_dataset(
            paths, 22050, 4096, "skip", skip_report).as_numpy_iterator()]
        self.assertEqual(kept, [0, 2, 4])
        self.assertIn("too short", skip_report.skipped[short])


class FeatureTableTest(tf.test.TestCase):

    def test_table_from_audio_uses_the_cache(self):
        root = _make_tree(self.get_temp_dir(), per_genre=2, seconds=0.5)
        with open(os.path.join(root, "jazz", "jazz.00009.wav"), "w") as handle:
            handle.write("not audio")
        index = discovery.discover_clips(root)
        config = statistics.FeatureConfig(window_sizes=(512, 1024), tempo=False)
        cache = os.path.join(self.get_temp_dir(), "cache")
        report = pipeline.DecodeReport()
        frontend = feature_stats.FeatureStatsFrontEnd(config)
        example_config = examples.ExampleConfig(cache_dir=cache)
        table = example_sets.build_examples(index, frontend, example_config,
                                            report).to_rows()
        self.assertEqual(table.features.shape, (6, len(statistics.feature_names(config))))
        self.assertLen(report.skipped, 1)
        self.assertNotIn("jazz/jazz.00009", table.song_ids)
        self.assertAllEqual(table.song_labels, [0, 0, 1, 1, 2, 2])
        root = os.path.join(cache, "features", f"v{feature_store.FORMAT}")
        self.assertLen(feature_store.FeatureStore(
            os.path.join(root, os.listdir(root)[0])).entries(), 6)
        again = example_sets.build_examples(index, frontend, example_config).to_rows()
        self.assertAllClose(again.features, table.features)

    def test_class_left_without_decodable_clips_is_an_error(self):
        root = _make_tree(self.get_temp_dir(), genres=("blues",), per_genre=2)
        os.makedirs(os.path.join(root, "jazz"))
        with open(os.path.join(root, "jazz", "jazz.00000.wav"), "w") as handle:
            handle.write("not audio")
        frontend = feature_stats.FeatureStatsFrontEnd(
            statistics.FeatureConfig(window_sizes=(512,), tempo=False))
        with self.assertRaisesRegex(ValueError, "classes with no usable decoded clips.*jazz"):
            example_sets.build_examples(discovery.discover_clips(root), frontend,
                                         examples.ExampleConfig()).to_rows()

    def test_table_from_csv_groups_segments_by_song(self):
        path = os.path.join(self.get_temp_dir(), "features_3_sec.csv")
        with open(path, "w") as handle:
            handle.write("filename,length,centroid,rms,label\n")
            for song, label in (("blues.00000", "blues"), ("rock.00001", "rock")):
                for segment in range(3):
                    handle.write(f"{song}.{segment}.wav,66149,{segment},0.5,{label}\n")
        table = feature_table.table_from_csv(path)
        self.assertEqual(table.song_ids, ["blues.00000", "rock.00001"])
        self.assertEqual(table.feature_names, ["centroid", "rms"])
        self.assertAllEqual(table.row_song, [0, 0, 0, 1, 1, 1])
        self.assertAllEqual(table.rows_of([1]), [3, 4, 5])
        self.assertAllEqual(table.song_labels, [0, 1])


if __name__ == "__main__":
    tf.test.main()
