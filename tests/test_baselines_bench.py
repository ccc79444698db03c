"""bench/baselines.py fits its baselines on the head's rows, splits and standardisation;
bench/segment_table.py writes a table that train.py reads with a song's rows together.

A tiny in-memory ``RowExamples``: 3 classes x 4 songs, each song two ``SONG`` rows (two
frames), two ``TRAIN_EXCERPT`` rows and one ``EVAL_EXCERPT`` row. Evaluation excerpts
and the test songs' training excerpts sit far from everything else, so any of them in a
fit or a standardisation shows in the numbers. A nearest-centroid stand-in records what
it is fitted on; the scikit-learn baselines run where scikit-learn is installed.
"""

import importlib.util
import json
import os
import sys
import unittest

import numpy as np
import tensorflow as tf

from genre_tf import config
from genre_tf.data import examples, feature_table, splits
from genre_tf.models import mlp
from tests import fixtures

_BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench")
try:
    import sklearn  # noqa: F401  (bench-only: requirements-bench.txt)
    _HAS_SKLEARN = True
except ImportError:
    _HAS_SKLEARN = False
_POISON = 1000.0  # added to rows no baseline may fit on


def _bench(name="baselines"):
    """bench/<name>.py, loaded once (it defines flags)."""
    if name not in sys.modules:
        sys.path.insert(0, _BENCH)
        spec = importlib.util.spec_from_file_location(name,
                                                      os.path.join(_BENCH, f"{name}.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def _rows():
    """Returns (rows, split): class c near (3c, -3c); test songs 3, 7 and 11; rows no
    baseline may fit on moved by ``_POISON``."""
    split = splits.Split("split_0", np.asarray([0, 1, 4, 5, 8, 9]),
                         np.asarray([2, 6, 10]), np.asarray([3, 7, 11]))
    rng = np.random.default_rng(0)
    features, row_song, row_segment, row_part = [], [], [], []
    for song in range(12):
        label = song // 4
        for segment, part in [(examples.SONG, -1), (examples.SONG, -1),
                              (examples.TRAIN_EXCERPT, 0), (examples.TRAIN_EXCERPT, 1),
                              (examples.EVAL_EXCERPT, 0)]:
            x = np.asarray([3.0 * label, -3.0 * label]) + 0.3 * rng.standard_normal(2)
            if segment == examples.EVAL_EXCERPT or (
                    song in split.test and segment == examples.TRAIN_EXCERPT):
                x[1] += _POISON
            features.append(x)
            row_song.append(song)
            row_segment.append(segment)
            row_part.append(part)
    rows = examples.RowExamples(features, row_song, row_segment, row_part,
                                [f"g{s // 4}/g{s // 4}.{s:05d}" for s in range(12)],
                                np.arange(12) // 4, ["g0", "g1", "g2"])
    return rows, split


class _NearestCentroid:
    """Records what it is fitted on; probabilities from distances to class means."""
    fitted = []

    def fit(self, x, y):
        self.classes_ = np.unique(y)
        self.centroids = np.stack([x[y == c].mean(axis=0) for c in self.classes_])
        _NearestCentroid.fitted.append((x, y))
        return self

    def predict_proba(self, x):
        logits = -np.linalg.norm(x[:, None] - self.centroids[None], axis=-1)
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)


class BaselineRowsTest(tf.test.TestCase):

    def setUp(self):
        super().setUp()
        self.bench = _bench()
        self.rows, self.split = _rows()
        _NearestCentroid.fitted = []

    def _expected_fit_rows(self, songs):
        return np.flatnonzero(np.isin(self.rows.row_song, songs) & np.isin(
            self.rows.row_segment, [examples.SONG, examples.TRAIN_EXCERPT]))

    def test_fits_train_and_valid_training_rows_never_a_test_song(self):
        scored = self.bench.score_split(self.rows, self.split,
                                        {"centroid": _NearestCentroid})
        fit_songs = np.concatenate([self.split.train, self.split.valid])
        expected = self._expected_fit_rows(fit_songs)
        self.assertAllEqual(scored["fit_rows"], expected)  # 9 songs x (2 SONG + 2 excerpt)
        self.assertLen(expected, 36)
        self.assertEmpty(np.intersect1d(self.rows.row_song[scored["fit_rows"]],
                                        self.split.test))
        x, y = _NearestCentroid.fitted[0]
        self.assertEqual(x.shape, (36, 2))
        self.assertAllEqual(y, self.rows.song_labels[self.rows.row_song[expected]])
        # Standardised on the fitted rows: the poisoned rows would put means near 100+.
        self.assertAllClose(x.mean(axis=0), [0.0, 0.0], atol=1e-5)
        self.assertAllClose(x.std(axis=0), [1.0, 1.0], atol=1e-5)
        self.assertAllClose(np.squeeze(scored["standardiser"].mean),
                            self.rows.features[expected].mean(axis=0), atol=1e-5)
        self.assertEqual(scored["accuracy"]["centroid"], 1.0)

    def test_train_only_rows_and_standardisation_are_the_heads(self):
        scored = self.bench.score_split(self.rows, self.split,
                                        {"centroid": _NearestCentroid}, use_valid=False)
        fit = scored["fit_rows"]
        self.assertAllEqual(fit, self._expected_fit_rows(self.split.train))
        self.assertAllEqual(self.rows.features[fit],
                            self.rows.head_sample(self.split.train))
        head = mlp.build_mlp(2, 3, self.rows.head_sample(self.split.train))
        layer = head.get_layer("standardize")
        self.assertAllClose(np.squeeze(scored["standardiser"].mean), np.squeeze(layer.mean))
        self.assertAllClose(np.squeeze(scored["standardiser"].variance),
                            np.squeeze(layer.variance))

    def test_a_song_is_the_mean_probability_of_its_song_rows(self):
        rows, split = self.rows, self.split
        # Song 3 (class 0): one frame moved to class 2, less confidently than the other
        # frame says class 0 (the mean probability keeps class 0) ...
        frames = np.flatnonzero((rows.row_song == 3) & (rows.row_segment == examples.SONG))
        rows.features[frames[1]] = [5.0, -5.0]
        scored = self.bench.score_split(rows, split, {"centroid": _NearestCentroid})
        self.assertEqual(scored["accuracy"]["centroid"], 1.0)
        # ... both frames on class 2: song 3 is wrong, 2 of 3 test songs right.
        rows.features[frames[0]] = [6.0, -6.0]
        scored = self.bench.score_split(rows, split, {"centroid": _NearestCentroid})
        self.assertAllClose(scored["accuracy"]["centroid"], 2 / 3)

    def test_pooled_rows_are_one_mean_song_row_per_song(self):
        pooled = self.bench.pool_songs(self.rows)
        self.assertTrue(self.bench.has_several_rows_per_song(self.rows))
        self.assertFalse(self.bench.has_several_rows_per_song(pooled))
        self.assertAllEqual(pooled.row_song, np.arange(12))
        self.assertAllEqual(pooled.row_segment, np.full(12, examples.SONG))
        song_5 = (self.rows.row_song == 5) & (self.rows.row_segment == examples.SONG)
        self.assertAllClose(pooled.features[5], self.rows.features[song_5].mean(axis=0))
        scored = self.bench.score_split(pooled, self.split, {"centroid": _NearestCentroid})
        self.assertEqual(scored["n_fit_rows"], 9)
        self.assertEqual(scored["accuracy"]["centroid"], 1.0)

    def test_head_minus_baseline_counts_splits_below(self):
        compared = self.bench.compare([0.8, 0.9, 0.7], [0.85, 0.8, 0.7])
        self.assertAllClose(compared["mean_difference"], 0.05 / 3)
        self.assertEqual(compared["below_on"], 1)
        self.assertEqual(compared["n_splits"], 3)

    def test_metrics_of_other_splits_are_refused(self):
        run = config.RunConfig(system=None, data=config.DataConfig(data_dir="music"),
                               output_dir=self.get_temp_dir())
        path = os.path.join(self.get_temp_dir(), "metrics.json")
        recorded = {"splits_config": {"kind": "shuffle", "folds": 5, "test_size": 0.2,
                                      "validation_fraction": 0.1, "split_dir": None},
                    "seed": 0, "data": {"source": "music"},
                    "splits": [{"name": "split_0", "accuracy": 0.75, "n_test": 3}]}
        with open(path, "w") as handle:
            json.dump(recorded, handle)
        self.assertEqual(self.bench.head_from_metrics(path, run, [self.split]), [0.75])
        recorded["seed"] = 1
        with open(path, "w") as handle:
            json.dump(recorded, handle)
        with self.assertRaisesRegex(ValueError, "not the same splits.*differing: seed"):
            self.bench.head_from_metrics(path, run, [self.split])

    @unittest.skipUnless(_HAS_SKLEARN, "scikit-learn is not installed "
                                       "(pip install -r requirements-bench.txt)")
    def test_scikit_learn_baselines_learn_separable_songs(self):
        baselines = self.bench.make_baselines()
        self.assertEqual(sorted(baselines), ["logreg", "svm_rbf"])
        scored = self.bench.score_split(self.rows, self.split,
                                        {n: b.make for n, b in baselines.items()})
        self.assertEqual(scored["accuracy"], {"logreg": 1.0, "svm_rbf": 1.0})


class SegmentTableTest(tf.test.TestCase):
    """A 7 s tone becomes two 3 s rows of the published columns, grouped as one song."""

    def setUp(self):
        super().setUp()
        self.bench = _bench("segment_table")

    def _tone_file(self, name, seconds=7.0, hz=441.0):
        rate = self.bench.SAMPLE_RATE
        t = np.arange(int(seconds * rate)) / rate
        path = os.path.join(self.get_temp_dir(), name)
        return fixtures.write_audio(
            path, (0.5 * np.sin(2 * np.pi * hz * t)).astype(np.float32), rate)

    def test_rows_have_the_published_columns_and_known_values(self):
        rows = self.bench.clip_rows(self._tone_file("blues.00007.wav"), "blues")
        self.assertEqual([r["filename"] for r in rows],
                         ["blues.00007.0.wav", "blues.00007.1.wav"])  # 1 s left over
        self.assertEqual(list(rows[0]), self.bench.COLUMNS)
        self.assertLen(self.bench.COLUMNS, 60)  # filename, length, 57 features, label
        self.assertEqual(rows[0]["length"], 3 * self.bench.SAMPLE_RATE)
        # A 441 Hz sine crosses zero 882 times a second; its centroid is its pitch.
        self.assertAllClose(rows[0]["zero_crossing_rate_mean"], 882 / 22050, rtol=0.02)
        self.assertAllClose(rows[0]["spectral_centroid_mean"], 441.0, rtol=0.05)
        self.assertAllClose(rows[0]["rms_mean"], 0.5 / np.sqrt(2), rtol=0.05)

    def test_a_clips_segments_stay_one_song(self):
        rows = (self.bench.clip_rows(self._tone_file("blues.00007.wav"), "blues")
                + self.bench.clip_rows(self._tone_file("my song.wav", 4.0, 220.0), "rock"))
        path = self.bench.write_table(rows, os.path.join(self.get_temp_dir(), "t.csv"))
        table = feature_table.table_from_csv(path)
        self.assertEqual(table.song_ids, ["blues.00007", "my song.0"])
        self.assertAllEqual(table.row_song, [0, 0, 1])
        self.assertLen(table.feature_names, 57)
        self.assertEqual(table.class_names, ["blues", "rock"])

    def test_a_clip_shorter_than_a_segment_is_one_row(self):
        rows = self.bench.clip_rows(self._tone_file("jazz.00001.wav", 1.0), "jazz")
        self.assertLen(rows, 1)
        self.assertEqual(rows[0]["length"], self.bench.SAMPLE_RATE)


class SelectHeadTest(tf.test.TestCase):
    """bench/select_head.py scores candidates on split 0's train+valid songs only."""

    def setUp(self):
        super().setUp()
        from genre_tf import systems  # pylint: disable=import-outside-toplevel
        from genre_tf.models import heads  # pylint: disable=import-outside-toplevel
        from genre_tf.training import trainer  # pylint: disable=import-outside-toplevel
        self.run = config.RunConfig(
            system=systems.SystemConfig("mlp", None, heads.DenseHead(hidden_units=(8,))),
            data=config.DataConfig(), output_dir=self.get_temp_dir(),
            training=trainer.TrainConfig(learning_rate=1e-4, patience=30))

    def test_folds_score_every_tuning_song_once_and_never_a_test_song(self):
        labels = np.arange(40) % 4
        ids = [f"{'abcd'[c]}/{'abcd'[c]}.{i:05d}" for i, c in enumerate(labels)]
        outer = splits.make_splits(self.run.splits, ids, labels, self.run.seed)[0]
        folds = _bench("select_head").validation_folds(self.run, ids, labels, 3)
        scored = np.concatenate([f.test for f in folds])
        self.assertAllEqual(np.sort(scored),
                            np.sort(np.concatenate([outer.train, outer.valid])))
        for fold in folds:
            fold.check_disjoint()
            self.assertEmpty(np.intersect1d(
                np.concatenate([fold.train, fold.valid, fold.test]), outer.test))
            self.assertEqual(len(fold.train) + len(fold.valid) + len(fold.test), 32)
            self.assertNotEmpty(fold.valid)

    def test_outer_splits_fold_each_split_and_never_score_its_test_songs(self):
        labels = np.arange(40) % 4
        ids = [f"{'abcd'[c]}/{'abcd'[c]}.{i:05d}" for i, c in enumerate(labels)]
        outer = splits.make_splits(self.run.splits, ids, labels, self.run.seed)
        folds = _bench("select_head").validation_folds(self.run, ids, labels, 3, 2)
        self.assertLen(folds, 6)
        for k, split in enumerate(outer[:2]):
            own = folds[3 * k:3 * k + 3]
            self.assertTrue(all(f.name.startswith(split.name + "_") for f in own))
            self.assertAllEqual(np.sort(np.concatenate([f.test for f in own])),
                                np.sort(np.concatenate([split.train, split.valid])))
            for fold in own:
                self.assertEmpty(np.intersect1d(
                    np.concatenate([fold.train, fold.valid, fold.test]), split.test))
        with self.assertRaisesRegex(ValueError, "only 5 splits"):
            _bench("select_head").validation_folds(self.run, ids, labels, 3, 6)

    def test_a_candidate_replaces_only_its_values(self):
        head, training = _bench("select_head").candidate_settings(
            self.run, {"hidden_units": [], "l2": 5e-4, "learning_rate": 1e-3,
                       "refit": True})
        self.assertEqual((head.hidden_units, head.l2, head.dropout), ((), 5e-4, 0.5))
        self.assertEqual((training.learning_rate, training.refit, training.patience),
                         (1e-3, True, 30))


if __name__ == "__main__":
    tf.test.main()
