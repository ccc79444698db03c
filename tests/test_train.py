"""train.py end to end on audio the test writes: metrics, plot, export, resume.

Three "genres" of tones at well separated pitches plus noise make a task any working
pipeline learns (chance is 1/3); one corrupt file must be skipped without stopping the run.
"""

import json
import os
import shutil
import tempfile

import numpy as np
import pytest
import tensorflow as tf

from genre_tf.features import statistics
from tests import fixtures

PITCH = fixtures.TONE_GENRES


def _train(*args):
    return fixtures.run_train(
        "--flagfile=mlp.flags", "--window_sizes=512,1024", "--learning_rate=0.01",
        "--epochs=60", "--patience=0", "--folds=3", "--log_every_epochs=0", *args)


@pytest.mark.slow
class TrainCliTest(tf.test.TestCase):

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)
        super().tearDownClass()

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.work = tempfile.mkdtemp(prefix="genre_tf_cli_")
        cls.data = fixtures.write_tone_genres(os.path.join(cls.work, "data"))
        with open(os.path.join(cls.data, "mid", "mid.00099.wav"), "wb") as handle:
            handle.write(b"RIFF\x00\x00")
        cls.output = os.path.join(cls.work, "run")
        cls.cache = os.path.join(cls.work, "cache")
        cls.first = _train(f"--data_dir={cls.data}", f"--output_dir={cls.output}",
                           f"--cache_dir={cls.cache}")

    def test_metrics_plot_and_skipped_file(self):
        with open(os.path.join(self.output, "metrics.json")) as handle:
            result = json.load(handle)
        self.assertGreaterEqual(result["mean_accuracy"], 0.8)
        self.assertIn("std_accuracy", result)
        self.assertLen(result["splits"], 3)
        self.assertEqual(result["level"], "song")
        self.assertEqual(result["n_songs"], 18)
        self.assertEqual(list(result["data"]["skipped"]),
                         [os.path.join(self.data, "mid", "mid.00099.wav")])
        self.assertIn("song-level accuracy", self.first.stdout)
        with open(os.path.join(self.output, "confusion_matrix.png"), "rb") as handle:
            self.assertEqual(handle.read(8), b"\x89PNG\r\n\x1a\n")
        self.assertTrue(os.path.isfile(os.path.join(self.output, "flags.txt")))
        self.assertTrue(os.path.isfile(os.path.join(self.output, "split_0", "history.csv")))

    def test_exported_model_names_genres_from_features_and_waveforms(self):
        export_dir = os.path.join(self.output, "saved_model")
        with open(os.path.join(export_dir, "class_names.txt")) as handle:
            self.assertEqual(handle.read().split(), ["high", "low", "mid"])
        reloaded = tf.saved_model.load(export_dir)  # keep a reference while calling
        config = statistics.FeatureConfig(window_sizes=(512, 1024))
        for genre in PITCH:
            y = fixtures.tone_genre_clip(genre, 7)  # a clip the model never saw
            from_waveform = reloaded.classify_waveform(tf.constant(y))
            self.assertEqual(from_waveform["class_name"].numpy()[0].decode(), genre)
            from_features = reloaded.serve(
                statistics.compute_feature_vector(y, config)[tf.newaxis])
            self.assertAllClose(from_features["probabilities"],
                                from_waveform["probabilities"], atol=1e-5)

    def test_run_output_is_clean_and_flags_file_holds_project_flags(self):
        for noise in ("Unable to register", "cuFFT", "Assets written", "fingerprint",
                      "signature_serialization", "Traceback"):
            self.assertNotIn(noise, self.first.stderr)
        with open(os.path.join(self.output, "flags.txt")) as handle:
            names = [line.split("=")[0] for line in handle if line.strip()]
        self.assertIn("--short_clips", names)
        self.assertIn("--data_dir", names)
        for foreign in ("--logtostderr", "--verbosity", "--flagfile", "--helpshort"):
            self.assertNotIn(foreign, names)

    def test_metrics_score_excerpts_and_export_records_its_input(self):
        with open(os.path.join(self.output, "metrics.json")) as handle:
            result = json.load(handle)
        excerpt = result["excerpt_accuracy"]
        self.assertGreaterEqual(excerpt["mean"], 0.7)
        self.assertEqual(sum(excerpt["predicted_histogram"].values()),
                         excerpt["n_excerpts"])
        self.assertEqual(excerpt["n_excerpts"], 3 * 3 * 4)  # 3 splits x 3 test songs x 4
        self.assertEqual(set(excerpt["per_class"]), set(PITCH))
        with open(os.path.join(self.output, "saved_model", "model_info.json")) as handle:
            info = json.load(handle)
        self.assertEqual(info["sample_rate"], 22050)
        self.assertEqual(info["class_names"], ["high", "low", "mid"])
        self.assertEqual(info["short_clips"], "repeat")
        self.assertFalse(info["synthetic_demo"])
        self.assertIsNone(info["window_samples"])  # one vector per whole clip

    def test_short_input_is_filled_in_the_graph_as_in_training(self):
        reloaded = tf.saved_model.load(os.path.join(self.output, "saved_model"))
        snippet = fixtures.tone_genre_clip("high", 7)[:600]  # shorter than a 1024 window
        tiled = np.tile(snippet, 2)[:1024]
        self.assertAllClose(reloaded.classify_waveform(tf.constant(snippet))["probabilities"],
                            reloaded.classify_waveform(tf.constant(tiled))["probabilities"],
                            atol=1e-6)
        windows = np.stack([fixtures.tone_genre_clip(g, 7)[:22050] for g in PITCH])
        names = reloaded.classify_windows(tf.constant(windows))["class_name"].numpy()
        self.assertEqual([n.decode() for n in names], list(PITCH))

    def test_helpshort_lists_the_commands_own_flags(self):
        for script, own in (("train.py", "--short_clips"), ("tuner.py", "--max_trials")):
            with self.subTest(script=script):
                result = fixtures.run_train("--helpshort", script=script)
                self.assertIn(own, result.stdout)
                self.assertIn("--data_dir", result.stdout)

    def test_tflite_model_takes_raw_audio(self):
        interpreter = tf.lite.Interpreter(
            model_path=os.path.join(self.output, "model.tflite"))
        runner = interpreter.get_signature_runner("classify_waveform")
        reloaded = tf.saved_model.load(os.path.join(self.output, "saved_model"))
        for genre in PITCH:
            y = fixtures.tone_genre_clip(genre, 7)
            lite = runner(waveform=y)
            self.assertEqual(lite["class_name"][0].decode(), genre)
            self.assertAllClose(lite["probabilities"],
                                reloaded.classify_waveform(tf.constant(y))["probabilities"],
                                atol=1e-4)

    def test_rerun_resumes_finished_splits(self):
        before = os.path.getmtime(os.path.join(self.output, "split_1", "result.json"))
        again = _train(f"--data_dir={self.data}", f"--output_dir={self.output}",
                       f"--cache_dir={self.cache}", "--final_fit=false")
        self.assertIn("split_1: already done", again.stderr)
        self.assertEqual(os.path.getmtime(os.path.join(self.output, "split_1",
                                                       "result.json")), before)

    def test_tuner_writes_a_flag_file_that_train_accepts(self):
        output = os.path.join(self.work, "tuning")
        fixtures.run_train("--flagfile=mlp.flags", "--window_sizes=512,1024",
                           f"--data_dir={self.data}", f"--cache_dir={self.cache}",
                           f"--output_dir={output}", "--max_trials=2", "--epochs=5",
                           "--folds=3", script="tuner.py")
        best = os.path.join(output, "best.flags")
        with open(best) as handle:
            lines = [line for line in handle if line.startswith("--")]
        self.assertEqual(sorted(line.split("=")[0] for line in lines),
                         ["--dropout", "--hidden_units", "--learning_rate", "--run_name"])
        self.assertTrue(os.path.isdir(os.path.join(output, "search")))
        tuned = os.path.join(self.work, "tuned_run")
        _train(f"--data_dir={self.data}", f"--output_dir={tuned}", f"--cache_dir={self.cache}",
               f"--flagfile={best}", "--final_fit=false")
        with open(os.path.join(tuned, "flags.txt")) as handle:
            self.assertIn(lines[0].strip(), handle.read())

    def test_features_csv(self):
        csv_path = os.path.join(self.work, "features.csv")
        rng = np.random.default_rng(0)
        with open(csv_path, "w") as handle:
            handle.write("filename,length,f1,f2,label\n")
            for g, genre in enumerate(PITCH):
                for k in range(10):
                    for segment in range(3):
                        f1, f2 = rng.normal(3.0 * g, 0.5), rng.normal(0, 1)
                        handle.write(f"{genre}.{k:05d}.{segment}.wav,66149,{f1},{f2},"
                                     f"{genre}\n")
        output = os.path.join(self.work, "csv_run")
        # 16 hidden units: mlp.flags' width rule gives 2 units for 2 features, which
        # with dropout 0.5 ends 60 epochs at ~0.55 train accuracy: 0.78-0.83 songs,
        # whatever the shuffle order. 16 units learn the 6-sigma classes: 1.0.
        _train(f"--features_csv={csv_path}", f"--output_dir={output}",
               "--final_fit=false", "--hidden_units=16", "--dropout=0.1")
        with open(os.path.join(output, "metrics.json")) as handle:
            result = json.load(handle)
        self.assertEqual(result["n_songs"], 30)
        self.assertGreaterEqual(result["mean_accuracy"], 0.95)


if __name__ == "__main__":
    tf.test.main()
