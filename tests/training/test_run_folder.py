"""A run folder resumes the same run, refuses another one, and ``--overwrite`` leaves
nothing of the earlier run beside the new one."""

import os
import shutil

import tensorflow as tf

from genre_tf import config, systems
from genre_tf.models import heads
from genre_tf.training import experiment, run_folder, trainer
from tests import fixtures

_LEFTOVERS = ("metrics.json", "split_0/result.json", "split_2/result.json",
              "saved_model/saved_model.pb", "model.tflite", "flags.txt")


def _run(output_dir, epochs=2, overwrite=False, folds=2):
    return config.RunConfig(
        system=systems.SystemConfig("mlp", None, heads.DenseHead(hidden_units=(4,))),
        data=config.DataConfig(data_dir="/data/songs"), output_dir=output_dir,
        splits=config.SplitConfig(folds=folds, validation_fraction=0.0),
        training=trainer.TrainConfig(epochs=epochs, patience=0, log_every_epochs=0,
                                     batch_size=4),
        export=config.ExportConfig(final_fit=False), overwrite=overwrite)


def _folder(run):
    return run_folder.RunFolder(run.output_dir, run_folder.settings_identity(run),
                                run.overwrite)


def _touch(root, relative):
    path = os.path.join(root, relative)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        handle.write("{}")


class RunFolderTest(tf.test.TestCase):

    def setUp(self):
        super().setUp()
        self.output = os.path.join(self.get_temp_dir(), "run")
        os.makedirs(self.output, exist_ok=True)
        first = _folder(_run(self.output))
        first.claim()
        first.confirm_data("digest-a")
        for relative in _LEFTOVERS:
            _touch(self.output, relative)
        _touch(self.output, "notes/mine.txt")  # not a run output: never removed

    def test_the_same_run_resumes_with_its_outputs(self):
        again = _folder(_run(self.output))
        again.claim()
        again.confirm_data("digest-a")
        for relative in _LEFTOVERS:
            self.assertTrue(os.path.isfile(os.path.join(self.output, relative)), relative)

    def test_other_data_is_refused_before_anything_is_removed(self):
        again = _folder(_run(self.output))
        again.claim()
        with self.assertRaisesRegex(run_folder.RunFolderError,
                                    "holds another run .other data.*--overwrite"):
            again.confirm_data("digest-b")
        self.assertTrue(os.path.isfile(os.path.join(self.output, "split_2/result.json")))

    def test_other_data_names_the_songs_that_differ(self):
        output = os.path.join(self.get_temp_dir(), "named")
        first = _folder(_run(output))
        first.claim()
        first.confirm_data("digest-a", {"a.wav": "1", "b.wav": "2", "d.wav": "5"})
        again = _folder(_run(output))
        again.claim()
        with self.assertRaisesRegex(
                run_folder.RunFolderError,
                r"other data: 1 changed \(b\.wav\), 1 added \(c\.wav\), "
                r"1 removed \(d\.wav\)\); pass --overwrite"):
            again.confirm_data("digest-b", {"a.wav": "1", "b.wav": "3", "c.wav": "4"})

    def test_other_settings_are_named_and_refused_at_the_start(self):
        with self.assertRaisesRegex(run_folder.RunFolderError,
                                    r"other settings: splits\.folds, training\.epochs"):
            _folder(_run(self.output, epochs=3, folds=3)).claim()

    def test_overwrite_leaves_nothing_of_the_earlier_run(self):
        fresh = _folder(_run(self.output, epochs=3, overwrite=True))
        fresh.claim()
        fresh.confirm_data("digest-b")
        self.assertEqual(sorted(os.listdir(self.output)), ["notes", "run.json"])

    def test_outputs_without_a_record_are_refused(self):
        os.remove(os.path.join(self.output, "run.json"))
        with self.assertRaisesRegex(run_folder.RunFolderError,
                                    "metrics.json, model.tflite.*without a run.json"):
            _folder(_run(self.output)).claim()

    def test_an_empty_folder_or_one_with_only_flags_is_a_fresh_run(self):
        for name in os.listdir(self.output):
            if name != "flags.txt":
                path = os.path.join(self.output, name)
                if os.path.isdir(path):
                    shutil.rmtree(path)
                else:
                    os.remove(path)
        _folder(_run(self.output, epochs=7)).claim()


class ExperimentRunFolderTest(tf.test.TestCase):
    """``run_experiment`` on changed audio with the same song names: refused, then
    started clean with overwrite."""

    def test_changed_data_in_the_same_folder(self):
        output = os.path.join(self.get_temp_dir(), "experiment")
        build = experiment.build_examples
        try:
            experiment.build_examples = lambda system, data, index=None: fixtures.two_class_rows(0.0)
            experiment.run_experiment(_run(output))
            self.assertTrue(os.path.isfile(os.path.join(output, "split_1", "result.json")))
            experiment.build_examples = lambda system, data, index=None: fixtures.two_class_rows(3.0)
            with self.assertRaisesRegex(run_folder.RunFolderError, "other data"):
                experiment.run_experiment(_run(output))
            result = experiment.run_experiment(_run(output, overwrite=True))
        finally:
            experiment.build_examples = build
        self.assertLen(result["splits"], 2)
        self.assertNotEqual(result["splits"][0]["accuracy"], None)


if __name__ == "__main__":
    tf.test.main()
