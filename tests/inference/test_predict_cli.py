"""predict.py as scripts run it: exit statuses, stderr without tracebacks, --helpshort.

Usage errors and help answer before TensorFlow is imported, so they are quick. Runs
that classify pay a TensorFlow import each; they start together in setUpClass and are
marked slow, like the project's other end-to-end runs (``run_inputs`` is tested
in-process in test_predict.py).
"""

import csv
import io
import os
import subprocess
import sys

import pytest
import tensorflow as tf

from tests import inference as helpers

_SCRIPT = os.path.join(helpers.PROJECT_ROOT, "predict.py")


def _run_together(commands):
    """``{name: (exit status, stdout, stderr)}`` of predict.py runs started at once."""
    running = {name: subprocess.Popen(
        [sys.executable, _SCRIPT, *args], cwd=helpers.PROJECT_ROOT, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE) for name, args in commands.items()}
    results = {}
    for name, process in running.items():
        out, err = process.communicate(timeout=300)
        results[name] = (process.returncode, out, err)
    return results


class _CliTestCase(tf.test.TestCase):

    results = {}

    def _result(self, name, status):
        code, out, err = self.results[name]
        self.assertEqual(code, status, msg=err)
        self.assertNotIn("Traceback", err)
        return out, err


class PredictUsageTest(_CliTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.results = _run_together({"no_inputs": ["--saved_model=somewhere"],
                                     "bad_flag": ["--format=xml", "song.wav"],
                                     "help": ["--helpshort"]})

    def test_usage_errors_exit_2_with_one_line(self):
        for name, message in (("no_inputs", "give --saved_model=DIR and at least one"),
                              ("bad_flag", "--format")):
            with self.subTest(name):
                _, err = self._result(name, 2)
                self.assertLen(err.splitlines(), 1)
                self.assertStartsWith(err, "predict.py: ")
                self.assertIn(message, err)

    def test_helpshort_lists_predicts_own_flags_and_exits_0(self):
        out, _ = self._result("help", 0)
        self.assertIn("Exit status: 0 when every input was classified; 1 when", out)
        for flag in ("saved_model", "format", "top_k", "timeline", "window_seconds",
                     "stream_above_seconds", "batch_windows", "min_seconds"):
            self.assertRegex(out, rf"\n  --(\[no\])?{flag}: ")
        self.assertNotIn("--data_dir", out)  # not the training flags


@pytest.mark.slow
class PredictExitStatusTest(_CliTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.folder = helpers.class_folder(cls, "predict_cli")
        export = helpers.write_export(cls.folder, "export", window_seconds=1.0)
        cls.low = helpers.write_tones(os.path.join(cls.folder, "low.wav"), ("low", 2.0))
        cls.high = helpers.write_tones(os.path.join(cls.folder, "high.wav"), ("high", 2.0))
        cls.missing = os.path.join(cls.folder, "missing.wav")
        saved_model = f"--saved_model={export}"
        cls.results = _run_together({
            "ok": [saved_model, "--format=csv", cls.low, cls.high],
            "one_failed": [saved_model, cls.low, cls.missing, cls.high],
            "not_export": [f"--saved_model={cls.folder}", cls.low],
        })

    def test_all_inputs_classified_exits_0(self):
        out, err = self._result("ok", 0)
        rows = list(csv.DictReader(io.StringIO(out)))
        self.assertEqual([(r["path"], r["genre_1"]) for r in rows],
                         [(self.low, "low"), (self.high, "high")])
        self.assertEqual(err, "")

    def test_a_failed_input_exits_1_and_the_others_are_still_reported(self):
        out, err = self._result("one_failed", 1)
        lines = out.splitlines()
        self.assertLen(lines, 3)
        self.assertStartsWith(lines[0], f"{self.low}: low 1.00, ")
        self.assertEqual(lines[1], f"{self.missing}: error: file not found")
        self.assertStartsWith(lines[2], f"{self.high}: high 1.00, ")
        self.assertEqual(err, "1 of 3 inputs failed\n")

    def test_a_folder_that_is_not_an_export_exits_2_with_one_line(self):
        out, err = self._result("not_export", 2)
        self.assertEqual(out, "")
        self.assertEqual(err, f"--saved_model={self.folder}: not a genre_tf export "
                              "(no model_info.json)\n")


if __name__ == "__main__":
    tf.test.main()
