"""A finished split is reused only for the same songs, settings and *content*."""

import dataclasses
import os
from unittest import mock

import numpy as np
import tensorflow as tf

from genre_tf import config, systems
from genre_tf.data import splits
from genre_tf.models import heads
from genre_tf.training import compiled_heads, distribute, experiment, seeding, trainer
from tests import fixtures


class RunTestCase(tf.test.TestCase):
    """A tiny mlp run on in-memory rows (``fixtures.two_class_rows``)."""

    def setUp(self):
        super().setUp()
        fixtures.log_info_during(self)
        seeding.seed_run(0)  # as run_experiment (training.seeding)
        self.system = systems.System(systems.SystemConfig(
            "mlp", None, heads.DenseHead(hidden_units=(4,))))
        self.run = config.RunConfig(
            system=self.system.config, data=config.DataConfig(),
            output_dir=self.get_temp_dir(),
            training=trainer.TrainConfig(epochs=2, patience=0, log_every_epochs=0,
                                         batch_size=4))
        self.split = splits.Split("split_0", np.asarray([1, 2, 3, 5, 6, 7]),
                                  np.asarray([], np.int64), np.asarray([0, 4]))


class SplitReuseTest(RunTestCase):

    def test_data_digest_follows_content_not_names(self):
        same, again, changed = fixtures.two_class_rows(0.0), fixtures.two_class_rows(0.0), fixtures.two_class_rows(1.0)
        songs = np.arange(8)
        self.assertEqual(same.data_digest(songs), again.data_digest(songs))
        self.assertNotEqual(same.data_digest(songs), changed.data_digest(songs))
        self.assertEqual(same.data_digest(songs[1:]), changed.data_digest(songs[1:]))

    def test_rerun_on_changed_audio_with_the_same_names_trains_again(self):
        first = experiment.run_split(self.system, fixtures.two_class_rows(0.0), self.split, 0, self.run)
        with self.assertLogs(level="INFO") as logs:
            reused = experiment.run_split(self.system, fixtures.two_class_rows(0.0), self.split, 0, self.run)
        self.assertTrue(any("already done" in line for line in logs.output))
        self.assertEqual(reused["identity"], first["identity"])
        with self.assertLogs(level="INFO") as logs:
            fresh = experiment.run_split(self.system, fixtures.two_class_rows(3.0), self.split, 0, self.run)
        self.assertFalse(any("already done" in line for line in logs.output))
        self.assertTrue(any("holds another split" in line for line in logs.output))
        self.assertNotEqual(fresh["identity"]["data"], first["identity"]["data"])
        self.assertTrue(os.path.isfile(os.path.join(self.run.output_dir, "split_0",
                                                    "result.json")))


class FinalModelReuseTest(RunTestCase):
    """A rerun of a finished run does not fit and export the final model again."""

    def test_a_finished_export_is_reused_and_other_data_is_exported_again(self):
        rows = fixtures.two_class_rows(0.0)
        run = dataclasses.replace(self.run, export=config.ExportConfig(tflite=False))
        experiment.export_final_model(self.system, rows, run, distribute.Distribution(),
                                      None)
        saved = os.path.join(run.output_dir, "saved_model", "saved_model.pb")
        written = os.path.getmtime(saved)
        with self.assertLogs(level="INFO") as logs:
            experiment.export_final_model(self.system, rows, run,
                                          distribute.Distribution(), None)
        self.assertTrue(any("already trained and exported" in line
                            for line in logs.output))
        self.assertEqual(os.path.getmtime(saved), written)
        # An export killed before its last file: done again, not reused.
        os.remove(os.path.join(run.output_dir, "saved_model", "model_info.json"))
        with self.assertLogs(level="INFO") as logs:
            experiment.export_final_model(self.system, rows, run,
                                          distribute.Distribution(), None)
        self.assertFalse(any("already trained" in line for line in logs.output))
        self.assertTrue(os.path.isfile(os.path.join(run.output_dir, "saved_model",
                                                    "model_info.json")))
        # Other data (or settings) under the same folder: trained and exported again.
        with self.assertLogs(level="INFO") as logs:
            experiment.export_final_model(self.system, fixtures.two_class_rows(3.0), run,
                                          distribute.Distribution(), None)
        self.assertFalse(any("already trained" in line for line in logs.output))
        self.assertTrue(os.path.isfile(saved))

    def test_a_worker_follows_the_chiefs_finished_export(self):
        """Another worker writes in a folder of its own, empty on a rerun: the chief's
        answer decides, and the worker does not read a result it does not have."""
        worker = mock.Mock(is_chief=False)
        worker.from_chief.return_value = 1  # the chief's export is done
        with self.assertLogs(level="INFO") as logs:
            experiment.export_final_model(self.system, fixtures.two_class_rows(0.0),
                                          self.run, worker, None)
        self.assertIn("already trained and exported by the chief", "\n".join(logs.output))
        worker.from_chief.assert_called_once_with(False)


class SplitListsCheckedFirstTest(RunTestCase):

    def test_lists_that_miss_a_class_fail_before_any_extraction(self):
        root = fixtures.write_tone_genres(os.path.join(self.get_temp_dir(), "tones"),
                                          per_genre=2)
        lists = os.path.join(self.get_temp_dir(), "lists")
        os.makedirs(lists)
        for part, songs in (("train", "high/high.00000 mid/mid.00000"),
                            ("valid", "low/low.00000"), ("test", "high/high.00001")):
            with open(os.path.join(lists, f"{part}.txt"), "w") as handle:
                handle.write("".join(f"{song}.wav\n" for song in songs.split()))
        run = dataclasses.replace(
            self.run, data=config.DataConfig(data_dir=root),
            splits=config.SplitConfig(kind="fixed", split_dir=lists))
        with mock.patch.object(experiment, "build_examples",
                               side_effect=AssertionError("extracted")) as extract:
            with self.assertRaisesRegex(ValueError, "miss 1 of 3 classes: low "):
                experiment.run_experiment(run)
        extract.assert_not_called()


class SplitIndependenceTest(RunTestCase):
    """A split trains the same whatever ran before it in the process: each fit seeds
    Python and NumPy, not TensorFlow (``training.seeding``), and nothing it draws may
    depend on the random state earlier fits left (minibatch shuffles, dropout)."""

    def test_a_split_trains_the_same_after_another_split(self):
        rows = fixtures.two_class_rows(0.0)
        x = rows.features
        other = splits.Split("split_1", np.asarray([0, 2, 4, 6]), np.asarray([], np.int64),
                             np.asarray([1, 5]))
        training = dataclasses.replace(self.run.training, epochs=3)
        work = self.get_temp_dir()

        def fitted(split, seed, folder, heads):
            model = experiment.train_split(self.system, rows, split, training,
                                           os.path.join(work, folder), seed, heads=heads)
            return model.predict(x, verbose=0)

        alone = fitted(self.split, 4, "alone", compiled_heads.CompiledHeads())
        heads = compiled_heads.CompiledHeads()
        another_seed = fitted(other, 9, "other", heads)
        after = fitted(self.split, 4, "after", heads)
        self.assertAllClose(after, alone, atol=1e-6)
        self.assertNotAllClose(another_seed, alone, atol=1e-3)


if __name__ == "__main__":
    tf.test.main()
