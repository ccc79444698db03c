"""Loading exports: the contract's endpoints, old exports, and folders that are not one."""

import io
import json
import os
import shutil

import numpy as np
import tensorflow as tf

from genre_tf.inference import exit_status, model, run
from tests import inference as helpers


class ModelInfoTest(tf.test.TestCase):

    def test_old_exports_read_as_whole_clip_zero_padding_systems(self):
        info = model.ModelInfo.from_dict({"sample_rate": 22050, "class_names": ["a", "b"],
                                          "system": {"name": "mlp"}})
        self.assertEqual(info, model.ModelInfo(22050, ("a", "b"), system={"name": "mlp"}))
        self.assertIsNone(info.window_samples)
        self.assertEqual((info.min_samples, info.short_clips, info.synthetic_demo),
                         (1, "pad", False))

    def test_hop_defaults_to_the_window(self):
        info = model.ModelInfo.from_dict({"sample_rate": 16000, "class_names": ["a"],
                                          "window_samples": 48000,
                                          "window_hop_samples": None})
        self.assertEqual(info.window_hop_samples, 48000)

    def test_unusable_info_is_refused(self):
        for bad, reason in (({"class_names": ["a"]},
                             "no sample_rate: the model takes no audio"),
                            ({"sample_rate": 1, "class_names": []}, "no class_names"),
                            ({"sample_rate": 1, "class_names": ["a"], "short_clips": "x"},
                             "unknown short_clips 'x'")):
            with self.assertRaisesRegex(model.ExportError, reason):
                model.ModelInfo.from_dict(bad)


class LoadExportTest(tf.test.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.folder = helpers.class_folder(cls, "model")
        cls.windowed = helpers.write_export(cls.folder, "windowed", window_seconds=1.0)
        cls.old = helpers.write_export(cls.folder, "old", window_seconds=None,
                                       windows_endpoint=False)

    def test_reloaded_export_names_the_pitch(self):
        export = model.load_export(self.windowed)
        self.assertTrue(export.has_windows_endpoint)
        self.assertEqual(export.info.window_samples, helpers.SR)
        reloaded = tf.saved_model.load(self.windowed)  # keep a reference while calling
        for genre in helpers.PITCH:
            output = reloaded.classify_waveform(tf.constant(helpers.tones((genre, 0.5))))
            self.assertEqual(output["class_name"].numpy()[0].decode(), genre)
            self.assertGreater(export.classify_waveform(helpers.tones((genre, 2.0)))[
                export.info.class_names.index(genre)], 0.99)

    def test_exports_without_classify_windows_classify_each_window_alone(self):
        old = model.load_export(self.old)
        self.assertFalse(old.has_windows_endpoint)
        batch = np.stack([helpers.tones(("low", 1.0)), helpers.tones(("high", 1.0))])
        expected = model.load_export(self.windowed).classify_windows(batch)
        self.assertAllClose(old.classify_windows(batch), expected, atol=1e-6)
        self.assertEqual(expected.shape, (2, 3))

    def test_folders_that_are_not_exports(self):
        run_folder = os.path.join(self.folder, "run")
        shutil.copytree(self.windowed, os.path.join(run_folder, "saved_model"))
        no_graph = os.path.join(self.folder, "no_graph")
        os.makedirs(no_graph)
        shutil.copy(os.path.join(self.windowed, "model_info.json"), no_graph)
        bad_json = os.path.join(self.folder, "bad_json")
        shutil.copytree(self.windowed, bad_json)
        with open(os.path.join(bad_json, "model_info.json"), "w") as handle:
            handle.write("{not json")
        a_file = os.path.join(self.windowed, "class_names.txt")
        cases = {os.path.join(self.folder, "missing"): r"\(no such folder\)$",
                 a_file: r"\(a file, not an export folder\)$",
                 run_folder: r"^not a genre_tf export \(no model_info.json\); did you mean "
                             + run_folder + "/saved_model\\?$",
                 no_graph: r"\(no saved_model.pb\)$",
                 bad_json: r"^unreadable model_info.json \("}
        for folder, reason in cases.items():
            with self.subTest(folder=os.path.basename(folder)):
                with self.assertRaisesRegex(model.ExportError, reason):
                    model.load_export(folder)

    def test_predict_on_a_non_export_is_a_usage_error_of_one_line(self):
        err = io.StringIO()
        status = run.predict(self.folder, ["song.wav"], out=io.StringIO(), err=err)
        self.assertEqual(status, exit_status.USAGE)
        self.assertEqual(err.getvalue(), f"--saved_model={self.folder}: not a genre_tf "
                                         "export (no model_info.json)\n")

    def test_model_info_of_the_reference_export(self):
        with open(os.path.join(self.windowed, "model_info.json")) as handle:
            info = json.load(handle)
        self.assertEqual(info["window_samples"], helpers.SR)
        self.assertEqual(info["min_samples"], helpers.SR)
        self.assertEqual(info["short_clips"], "repeat")
        self.assertFalse(info["synthetic_demo"])


if __name__ == "__main__":
    tf.test.main()
