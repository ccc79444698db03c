"""Tuning scores trials as runs are scored (song vote, inner folds), never on test
songs; Hyperband continues trials from their weights; roles follow KerasTuner's."""

import json
import os
import socket
from unittest import mock

import keras
import keras_tuner
import numpy as np
import tensorflow as tf

from genre_tf import config, systems
from genre_tf.data import examples, excerpts, splits
from genre_tf.models import heads
from genre_tf.training import trainer, trial_log, tuning, tuning_cluster

# Songs 0-5 are class a, 6-11 class b (the tuning songs); 12 (a) and 13 (b) are test.
TUNING_SONGS = np.arange(12)
TEST_SONGS = np.asarray([12, 13])


class _WatchedRows(examples.RowExamples):
    """Rows that remember every song a dataset or a head's statistics were made of."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.touched = set()

    def _watch(self, songs):
        self.touched.update(int(s) for s in np.asarray(songs))

    def training_dataset(self, songs, batch_size, seed=0):
        self._watch(songs)
        return super().training_dataset(songs, batch_size, seed)

    def evaluation_dataset(self, songs, batch_size, segment=examples.SONG):
        self._watch(songs)
        return super().evaluation_dataset(songs, batch_size, segment)

    def head_sample(self, songs):
        self._watch(songs)
        return super().head_sample(songs)


def _rows():
    """14 songs of two separated classes, two noisy rows each."""
    labels = np.asarray([0] * 6 + [1] * 6 + [0, 1])
    rng = np.random.default_rng(0)
    row_song = np.repeat(np.arange(len(labels)), 2)
    features = (labels[row_song, None] * 4.0 + rng.normal(0, 0.5, (len(row_song), 3)))
    n = len(row_song)
    return _WatchedRows(features, row_song, np.full(n, examples.SONG), np.full(n, -1),
                        [f"s{i:02d}" for i in range(len(labels))], labels, ["a", "b"])


def _system():
    return systems.System(systems.SystemConfig("mlp", None,
                                               heads.DenseHead(hidden_units=(4,))))


_TRAINING = trainer.TrainConfig(epochs=8, patience=0, batch_size=8, log_every_epochs=0)


class InnerSplitsTest(tf.test.TestCase):

    def test_folds_cover_the_tuning_songs_once_and_nothing_else(self):
        labels = _rows().song_labels
        inner = tuning.inner_splits(TUNING_SONGS, labels, 3, seed=0)
        self.assertLen(inner, 3)
        scored = np.concatenate([s.valid for s in inner])
        self.assertAllEqual(np.sort(scored), TUNING_SONGS)
        for split in inner:
            self.assertAllEqual(np.sort(np.concatenate([split.train, split.valid])),
                                TUNING_SONGS)
            self.assertAllEqual(np.bincount(labels[split.valid]), [2, 2])  # stratified

    def test_tuning_songs_leave_out_the_test_songs(self):
        split = splits.Split("split_0", np.asarray([3, 1]), np.asarray([2]),
                             np.asarray([0, 4]))
        self.assertAllEqual(tuning.tuning_songs(split), [1, 2, 3])

    def test_tuning_computes_no_evaluation_excerpts_but_keeps_training_ones(self):
        plan = excerpts.ExcerptPlan(4, 1.0, 3.0)
        data = config.DataConfig("songs", examples=examples.ExampleConfig(
            train_excerpts=plan, eval_excerpts=excerpts.ExcerptPlan(4)))
        tuned = tuning.tuning_data(data).examples
        self.assertEqual(tuned.eval_excerpts.count, 0)
        self.assertEqual(tuned.train_excerpts, plan)

    def test_one_fold_is_refused(self):
        with self.assertRaisesRegex(ValueError, "at least 2 folds"):
            tuning.inner_splits(TUNING_SONGS, _rows().song_labels, 1)


class SongAccuracyTest(tf.test.TestCase):

    def test_a_song_is_answered_by_its_mean_probability(self):
        # Rows are the probabilities themselves (identity model). Song 0 (class b):
        # two rows lean a, one is sure of b -> mean says b (majority would say a).
        # Song 1 (a) is right, song 2 (a) leans b twice: 2 of 3 songs right.
        probabilities = np.asarray([[0.6, 0.4], [0.6, 0.4], [0.0, 1.0], [0.9, 0.1],
                                    [0.4, 0.6], [0.45, 0.55]], np.float32)
        row_song = np.asarray([0, 0, 0, 1, 2, 2])
        rows = examples.RowExamples(probabilities, row_song, np.full(6, examples.SONG),
                                    np.full(6, -1), ["x", "y", "z"], [1, 0, 0],
                                    ["a", "b"])
        identity = keras.Sequential([keras.Input((2,)), keras.layers.Identity()])
        self.assertAllClose(tuning.song_accuracy(identity, rows, np.arange(3), 4), 2 / 3)


class SearchTest(tf.test.TestCase):

    def _tune(self, config):
        rows = _rows()
        output = self.get_temp_dir()
        # At INFO whatever verbosity other tests left absl at.
        with self.assertLogs("absl", level="INFO") as logs:
            best = tuning.tune(_system(), rows, TUNING_SONGS, _TRAINING, config, output)
        project = os.path.join(output, tuning.PROJECT_NAME)
        return best, rows, trial_log.load_records(project), logs.output, project

    def test_objective_is_the_mean_song_accuracy_of_the_inner_folds(self):
        best, rows, records, logs, project = self._tune(tuning.TuningConfig(
            "random", max_trials=2, inner_folds=2, seed=3))
        self.assertEmpty(rows.touched & set(TEST_SONGS.tolist()))
        self.assertEqual(rows.touched, set(TUNING_SONGS.tolist()))
        self.assertLen(records, 2)
        for record in records:
            with open(os.path.join(project, f"trial_{record.trial_id}",
                                   "trial.json")) as handle:
                self.assertAllClose(json.load(handle)["score"], np.mean(record.scores))
            self.assertLen(record.scores, 2)
            for score in record.scores:  # 6 scored songs per fold: a song is 1/6
                self.assertAllClose(score * 6, round(score * 6))
            self.assertEqual(record.tuner_id, "tuner0")
            self.assertEqual(set(record.values), {"hidden_units", "dropout",
                                                  "learning_rate"})
            line = [l for l in logs if f"trial {record.trial_id} (tuner0):" in l]
            self.assertLen(line, 1)
            self.assertRegex(line[0], r"val_song_accuracy \d\.\d{4} \(\d\.\d{3} "
                                      r"\d\.\d{3}\) in \d+\.\d s")
        top = max(records, key=lambda r: r.score)
        self.assertEqual(best, top.values)
        self.assertTrue(any("2 trials: val_song_accuracy best" in l for l in logs))

    def test_hyperband_trains_one_fold_and_continues_the_best(self):
        best, _, records, logs, project = self._tune(tuning.TuningConfig(
            "hyperband", inner_folds=3, hyperband_max_epochs=3))
        # max_epochs 3, factor 3: 3 models for 1 epoch, the best continued to 3, and
        # 2 models for 3 epochs.
        self.assertLen(records, 6)
        self.assertTrue(all(len(r.scores) == 1 for r in records))
        self.assertCountEqual([r.epochs for r in records],
                              [(0, 1)] * 3 + [(1, 3)] + [(0, 3)] * 2)
        continued = [r for r in records if r.continues is not None]
        self.assertLen(continued, 1)
        first_round = [r for r in records if r.epochs == (0, 1)]
        self.assertIn(continued[0].continues, [r.trial_id for r in first_round])
        self.assertEqual(continued[0].values, next(
            r.values for r in first_round if r.trial_id == continued[0].continues))
        self.assertNotIn("tuner/epochs", best)
        self.assertTrue(any("epochs 1->3 from trial" in l for l in logs))
        for record in records:
            self.assertTrue(os.path.isfile(os.path.join(
                project, f"trial_{record.trial_id}", "checkpoint.weights.h5")))

    def test_every_registered_tuner_scores_song_accuracy_on_its_folds(self):
        rows = _rows()
        inner = tuning.inner_splits(TUNING_SONGS, rows.song_labels, 3)
        for name, tuner_class in tuning.TUNERS.items():
            with self.subTest(name):
                search = tuner_class(
                    hypermodel=tuning.SystemHyperModel(_system(), rows, TUNING_SONGS,
                                                       _TRAINING),
                    inner_splits=inner, seed=0, directory=self.get_temp_dir(),
                    project_name=name, **tuner_class.budget(tuning.TuningConfig()))
                self.assertLen(search.inner_splits, 1 if name == "hyperband" else 3)
                self.assertEqual(search.oracle.objective.name, "val_song_accuracy")
                self.assertEqual(search.oracle.objective.direction, "max")

    def test_hyperband_continues_from_the_earlier_trials_weights(self):
        rows = _rows()
        inner = tuning.inner_splits(TUNING_SONGS, rows.song_labels, 2)
        search = tuning.OneSplitHyperband(
            hypermodel=tuning.SystemHyperModel(_system(), rows, TUNING_SONGS, _TRAINING),
            inner_splits=inner, seed=0, max_epochs=3, directory=self.get_temp_dir(),
            project_name="continue")
        self.assertLen(search.inner_splits, 1)
        hp = keras_tuner.HyperParameters()
        earlier = search.hypermodel.build_for(hp, inner[0].train)
        earlier.fit(rows.training_dataset(inner[0].train, 8), epochs=2, verbose=0,
                    shuffle=False)
        search.keep(earlier, keras_tuner.engine.trial.Trial(hp, trial_id="0007"))
        hp.values["tuner/trial_id"] = "0007"
        keras.utils.set_random_seed(1)
        later = search.hypermodel.build_for(hp, inner[0].train)
        self.assertNotAllClose(later.get_weights()[-2], earlier.get_weights()[-2])
        search.continue_from(later, hp)
        for mine, theirs in zip(later.get_weights(), earlier.get_weights()):
            self.assertAllClose(mine, theirs)
        self.assertEqual(int(later.optimizer.iterations), 4)  # 2 epochs of 2 batches
        for mine, theirs in zip(later.optimizer.variables, earlier.optimizer.variables):
            self.assertAllClose(mine, theirs)


class TrialLogTest(tf.test.TestCase):

    def test_records_round_trip_and_summarize_the_noise(self):
        folder = self.get_temp_dir()
        for trial_id, scores in (("0", (0.5, 0.7)), ("1", (0.8, 0.8))):
            os.makedirs(os.path.join(folder, f"trial_{trial_id}"), exist_ok=True)
            trial_log.TrialRecord(trial_id, "tuner1", {"dropout": 0.2}, scores,
                                  1.5).save(os.path.join(folder, f"trial_{trial_id}"))
        records = trial_log.load_records(folder)
        self.assertEqual([r.trial_id for r in records], ["0", "1"])
        self.assertAllClose([r.score for r in records], [0.6, 0.8])
        self.assertEqual(records[0].line("acc"),
                         "trial 0 (tuner1): dropout=0.2 -> acc 0.6000 (0.500 0.700) "
                         "in 1.5 s")
        self.assertEqual(trial_log.summarize([r.score for r in records], records, "acc"),
                         "2 trials: acc best 0.8000, median 0.7000, worst 0.6000; inner "
                         "splits of one trial differ by 0.050 (standard deviation, mean "
                         "over trials)")

    def test_best_flags_name_their_own_run_and_drop_bookkeeping(self):
        path = os.path.join(self.get_temp_dir(), "best.flags")
        values = trial_log.searched_values({"dropout": 0.3, "batch_norm": True,
                                            "tuner/epochs": 9, "tuner/trial_id": "01"})
        tuning.write_best_flags(path, values, "MSD_musicnn_tuned")
        with open(path) as handle:
            lines = [line.strip() for line in handle if line.startswith("--")]
        self.assertEqual(lines, ["--run_name=MSD_musicnn_tuned", "--batch_norm=true",
                                 "--dropout=0.3"])


class TuningRoleTest(tf.test.TestCase):

    ENVIRONMENTS = {
        "alone": {},
        "chief": {"KERASTUNER_ORACLE_IP": "10.0.0.1", "KERASTUNER_ORACLE_PORT": "8000",
                  "KERASTUNER_TUNER_ID": "chief"},
        "worker": {"KERASTUNER_ORACLE_IP": "10.0.0.1", "KERASTUNER_ORACLE_PORT": "8000",
                   "KERASTUNER_TUNER_ID": "tuner1"},
    }

    def test_roles_match_keras_tuners_own_reading(self):
        from keras_tuner.src.distribute import utils  # what BaseTuner itself calls
        for name, environ in self.ENVIRONMENTS.items():
            with self.subTest(name), mock.patch.dict(os.environ, environ, clear=True):
                role = tuning_cluster.role_from_environment(os.environ)
                self.assertEqual(role.distributed, utils.has_chief_oracle())
                self.assertEqual(role.is_chief, utils.is_chief_oracle())
                self.assertEqual(role.writes_outputs, name != "worker")
        self.assertEqual(tuning_cluster.role_from_environment(
            self.ENVIRONMENTS["worker"]).describe(), "tuner1, worker at 10.0.0.1:8000")

    def test_a_half_configured_cluster_is_refused_before_any_work(self):
        with self.assertRaisesRegex(ValueError, "KERASTUNER_TUNER_ID"):
            tuning_cluster.role_from_environment({"KERASTUNER_ORACLE_IP": "10.0.0.1",
                                                  "KERASTUNER_ORACLE_PORT": "8000"})

    def test_a_worker_waits_until_the_chief_listens(self):
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen()
            port = listener.getsockname()[1]
            tuning_cluster.TuningRole("tuner0", "127.0.0.1", port).wait_for_oracle(5.0)
        with self.assertRaisesRegex(TimeoutError, f"127.0.0.1:{port}"):
            tuning_cluster.TuningRole("tuner0", "127.0.0.1", port).wait_for_oracle(0.3)
        tuning_cluster.TuningRole("chief", "127.0.0.1", port).wait_for_oracle(0.0)


if __name__ == "__main__":
    tf.test.main()
