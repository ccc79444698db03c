"""Splits: a one-song class is trained on in every split and never tested; fixed split
lists (``blues/blues.00012.wav``) match a features table's songs (``blues.00012``) as
well as audio songs (``blues/blues.00012``)."""

import os

import numpy as np
import tensorflow as tf

from genre_tf import config
from genre_tf.data import discovery, feature_table, splits
from tests import fixtures

GENRES = ("blues", "jazz", "rock")


def _write_lists(folder, parts):
    """Fault-filtered-style lists: ``{part: [song id, ...]}`` -> ``<part>.txt`` naming
    ``<genre>/<song>.wav`` per line."""
    os.makedirs(folder, exist_ok=True)
    for part, songs in parts.items():
        with open(os.path.join(folder, f"{part}.txt"), "w") as handle:
            handle.write("".join(f"{song.split('.')[0]}/{song}.wav\n" for song in songs))
    return folder


def _segment_table(path, songs_per_genre=6, segments=3):
    """A ``features_3_sec.csv``-layout table (``blues.00012.3.wav``, length, features,
    label) of ``songs_per_genre`` songs per genre."""
    with open(path, "w") as handle:
        handle.write("filename,length,chroma_stft_mean,rms_mean,label\n")
        for g, genre in enumerate(GENRES):
            for k in range(songs_per_genre):
                for segment in range(segments):
                    handle.write(f"{genre}.{k:05d}.{segment}.wav,66149,{g + 0.1 * k},"
                                 f"{segment},{genre}\n")
    return feature_table.table_from_csv(path)


class SingleSongClassTest(tf.test.TestCase):
    # Classes 0-3 have five songs each; class 4 has one (song 20).
    labels = np.concatenate([np.repeat(np.arange(4), 5), [4]])
    song_ids = [f"g{label}/song{i}" for i, label in enumerate(labels)]

    def _assert_trainable(self, split_list):
        for split in split_list:
            split.check_disjoint()
            self.assertIn(20, split.train, split.name)
            tested = set(self.labels[split.test])
            self.assertContainsSubset(tested, set(self.labels[split.train]), split.name)

    def test_kfold_trains_on_the_song_in_every_fold(self):
        folds = splits.stratified_kfold(self.labels, 5, 0.1, seed=0)
        self._assert_trainable(folds)
        tested = np.sort(np.concatenate([f.test for f in folds]))
        self.assertAllEqual(tested, np.arange(20))  # every other song tested once

    def test_shuffle_and_final_splits_train_on_the_song(self):
        self._assert_trainable(splits.stratified_shuffle_splits(self.labels, 5, 0.4, 0.3,
                                                                seed=1))
        final = splits.final_split(self.labels, 0.5, seed=2)
        self.assertIn(20, final.train)
        self.assertNotIn(20, final.valid)

    def test_make_splits_warns_naming_the_song(self):
        for kind in ("shuffle", "kfold"):
            with self.assertLogs(level="WARNING") as logs:
                result = splits.make_splits(config.SplitConfig(kind=kind), self.song_ids,
                                            self.labels)
            self.assertIn("g4/song20 is the only song of its class", "\n".join(logs.output))
            self._assert_trainable(result)


class TooFewSongsTest(tf.test.TestCase):

    def test_a_split_without_test_songs_is_refused_before_training(self):
        # One song per class: no class can be tested.
        labels = np.arange(3)
        for kind in ("shuffle", "kfold"):
            with self.assertRaisesRegex(ValueError, "has no test songs: 3 songs in 3 "
                                        f"classes are too few for --split={kind}"):
                splits.make_splits(config.SplitConfig(kind=kind),
                                   [f"g{c}/song" for c in labels], labels)
        # Kfold with more folds than testable songs leaves a fold empty.
        labels = np.repeat(np.arange(2), 2)
        with self.assertRaisesRegex(ValueError, "fold_4 has no test songs"):
            splits.make_splits(config.SplitConfig(kind="kfold", folds=5),
                               [f"s{i}" for i in range(4)], labels)


class FixedSplitTest(tf.test.TestCase):

    def test_lists_match_a_segment_table_by_stem(self):
        table = _segment_table(os.path.join(self.get_temp_dir(), "features_3_sec.csv"))
        lists = _write_lists(os.path.join(self.get_temp_dir(), "lists"), {
            "train": [f"{g}.{k:05d}" for g in GENRES for k in (0, 1, 2, 3)] + ["pop.00007"],
            "valid": [f"{g}.00004" for g in GENRES],
            "test": [f"{g}.00005" for g in GENRES]})
        split = splits.make_splits(config.SplitConfig(kind="fixed", split_dir=lists),
                                   table.song_ids, table.song_labels)[0]
        self.assertEqual([table.song_ids[i] for i in split.test],
                         ["blues.00005", "jazz.00005", "rock.00005"])
        self.assertEqual([table.song_ids[i] for i in split.valid],
                         ["blues.00004", "jazz.00004", "rock.00004"])
        self.assertLen(split.train, 12)  # pop.00007 is not in the table

    def test_valid_list_matching_nothing_falls_back_to_training_songs(self):
        table = _segment_table(os.path.join(self.get_temp_dir(), "features_3_sec.csv"))
        lists = _write_lists(os.path.join(self.get_temp_dir(), "lists"), {
            "train": [f"{g}.{k:05d}" for g in GENRES for k in range(5)],
            "valid": ["pop.00001", "pop.00002"],
            "test": [f"{g}.00005" for g in GENRES]})
        run_config = config.SplitConfig(kind="fixed", split_dir=lists,
                                        validation_fraction=0.2)
        with self.assertLogs(level="WARNING") as logs:
            split = splits.make_splits(run_config, table.song_ids, table.song_labels,
                                       seed=3)[0]
        self.assertIn("valid.txt: none of its songs is in the data; early stopping uses "
                      "20% of the training songs", "\n".join(logs.output))
        split.check_disjoint()
        self.assertAllEqual(np.bincount(table.song_labels[split.valid]), [1, 1, 1])
        self.assertLen(split.train, 12)
        again = splits.make_splits(run_config, table.song_ids, table.song_labels, seed=3)
        self.assertAllEqual(again[0].valid, split.valid)

    def test_train_or_test_list_matching_nothing_is_an_error(self):
        song_ids = ["blues.00000", "blues.00001", "blues.00002"]
        for empty in ("train", "test"):
            parts = {"train": ["blues.00000"], "valid": ["blues.00001"],
                     "test": ["blues.00002"]}
            parts[empty] = ["pop.00009"]
            lists = _write_lists(os.path.join(self.get_temp_dir(), empty), parts)
            with self.assertRaisesRegex(ValueError, rf"{empty}\.txt: none of its songs"):
                splits.fixed_split(song_ids, lists, np.zeros(3, int))

    def test_training_songs_missing_a_class_is_an_error_naming_lists_and_classes(self):
        # The published full-GTZAN lists on a subset: blues only in valid (and one
        # blues song in no list), jazz only in test.
        song_ids = [f"{g}/{g}.{k:05d}" for g in GENRES for k in range(4)]
        labels = np.repeat(np.arange(3), 4)
        lists = _write_lists(os.path.join(self.get_temp_dir(), "subset"), {
            "train": ["rock.00000", "rock.00001"],
            "valid": ["blues.00000", "blues.00001", "blues.00002", "rock.00002"],
            "test": ["jazz.00000", "jazz.00001", "jazz.00002", "jazz.00003",
                     "rock.00003"]})
        run_config = config.SplitConfig(kind="fixed", split_dir=lists)
        with self.assertRaises(ValueError) as caught:
            splits.make_splits(run_config, song_ids, labels, class_names=GENRES)
        self.assertEqual(str(caught.exception), (
            f"--split=fixed: the training songs of {lists}/train.txt miss 2 of 3 "
            "classes: blues, jazz (their 8 songs: 3 in valid.txt, 4 in test.txt, 1 in no "
            "list); a head cannot learn a class it never trains on: use lists that train "
            "every class, or --split=shuffle"))
        # The same lists on a features table's stems; without class names, labels.
        stems = [os.path.basename(song) for song in song_ids]
        with self.assertRaisesRegex(ValueError, "miss 2 of 3 classes: blues, jazz "):
            splits.make_splits(run_config, stems, labels, class_names=GENRES)
        with self.assertRaisesRegex(ValueError, "miss 2 of 3 classes: label 0, label 1 "):
            splits.make_splits(run_config, stems, labels)

    def test_songs_in_no_list_are_counted_in_one_warning(self):
        song_ids = [f"{g}/{g}.{k:05d}" for g in GENRES for k in range(4)]
        lists = _write_lists(os.path.join(self.get_temp_dir(), "partial"), {
            "train": [f"{g}.00000" for g in GENRES] + [f"{g}.00001" for g in GENRES],
            "valid": ["rock.00002"], "test": ["blues.00002", "jazz.00002"]})
        with self.assertLogs(level="WARNING") as logs:
            split = splits.make_splits(config.SplitConfig(kind="fixed", split_dir=lists),
                                       song_ids, np.repeat(np.arange(3), 4))[0]
        self.assertEqual(len(split.train) + len(split.valid) + len(split.test), 9)
        self.assertIn(f"{lists}: 3 of 12 songs of the data are in none of train.txt, "
                      "valid.txt, test.txt; left out", "\n".join(logs.output))

    def test_a_class_in_no_list_is_a_warning_not_an_error(self):
        song_ids = [f"{g}/{g}.{k:05d}" for g in GENRES for k in range(4)]
        lists = _write_lists(os.path.join(self.get_temp_dir(), "extra_genre"), {
            "train": ["blues.00000", "blues.00001", "rock.00000", "rock.00001"],
            "valid": ["rock.00002"], "test": ["blues.00002", "rock.00003"]})
        with self.assertLogs(level="WARNING") as logs:
            split = splits.make_splits(config.SplitConfig(kind="fixed", split_dir=lists),
                                       song_ids, np.repeat(np.arange(3), 4),
                                       class_names=GENRES)[0]
        self.assertLen(split.train, 4)
        self.assertIn("no list names a song of jazz; never trained or tested",
                      "\n".join(logs.output))

    def test_audio_ids_match_by_path_and_table_ids_by_unique_stem(self):
        audio = splits.song_lookup(["a/x", "b/x", "c/y", "d/z"])
        self.assertEqual(audio["a/x"], 0)
        self.assertEqual(audio["b/x"], 1)
        self.assertNotIn("y", audio)  # a list's "y" could be another folder's song
        table = splits.song_lookup(["x.00001", "x.00002", "y.00003"])
        self.assertEqual(table["x.00001"], 0)
        self.assertEqual(table["y.00003"], 2)

    def test_list_line_without_extension_keeps_its_number(self):
        path = os.path.join(self.get_temp_dir(), "list.txt")
        with open(path, "w") as handle:
            handle.write("blues/blues.00012.wav\nblues\\blues.00013.WAV\nblues/blues.00014\n")
        self.assertEqual(splits.read_split_list(path), [
            "blues/blues.00012", "blues/blues.00013", "blues/blues.00014"])

    def test_fault_filtered_lists_match_table_ids_of_mini_gtzan(self):
        if not (os.path.isdir(fixtures.SPLIT_LISTS) and os.path.isdir(fixtures.MINI_GTZAN)):
            self.skipTest("../shared/data absent")
        index = discovery.discover_clips(fixtures.MINI_GTZAN)
        stems = [os.path.basename(c.song_id) for c in index.clips]  # a table's song ids
        by_stem = splits.fixed_split(stems, fixtures.SPLIT_LISTS, index.labels)
        by_path = splits.fixed_split([c.song_id for c in index.clips],
                                     fixtures.SPLIT_LISTS, index.labels)
        for part in ("train", "valid", "test"):
            self.assertAllEqual(getattr(by_stem, part), getattr(by_path, part))
        # Of the mini set's 100 clips, the lists hold 38 train, 51 valid and 4 test songs.
        self.assertEqual([len(by_stem.train), len(by_stem.valid), len(by_stem.test)],
                         [38, 51, 4])
        self.assertEqual([stems[i] for i in by_stem.test],
                         ["disco.00001", "hiphop.00000", "pop.00000", "pop.00001"])
        # ... and train no blues, classical or country: refused before any training.
        with self.assertRaisesRegex(ValueError, r"train\.txt miss 3 of 10 classes: blues, "
                                    r"classical, country \(their 30 songs: 29 in "
                                    r"valid\.txt, 1 in no list\)"):
            splits.make_splits(config.SplitConfig(kind="fixed",
                                                  split_dir=fixtures.SPLIT_LISTS),
                               stems, index.labels, class_names=index.class_names)

if __name__ == "__main__":
    tf.test.main()
