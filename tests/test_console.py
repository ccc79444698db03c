"""The exit statuses every command shares (``genre_tf.console.guarded``)."""

import contextlib
import io
import sys
from unittest import mock

import tensorflow as tf

from genre_tf import backbones, console
from tests import fixtures


def _run(main, **kwargs):
    """(exit status or None, stderr) of ``guarded(main)`` as ``train.py``."""
    stderr = io.StringIO()
    with mock.patch.object(sys, "argv", ["train.py"]), \
            contextlib.redirect_stderr(stderr):
        try:
            console.guarded(main, **kwargs)(["train.py"])
        except SystemExit as exit_:
            return exit_.code, stderr.getvalue()
    return None, stderr.getvalue()


class GuardedTest(tf.test.TestCase):

    def test_a_configuration_error_is_one_line_and_exit_2(self):
        def main(argv):
            raise backbones.BackboneUnavailableError("could not load the TF-Hub model")
        status, stderr = _run(main, configuration_errors=(
            ValueError, backbones.BackboneUnavailableError))
        self.assertEqual(status, console.USAGE_ERROR)
        self.assertEqual(stderr, "train.py: error: could not load the TF-Hub model\n")

    def test_ctrl_c_is_one_line_with_the_hint_and_exit_130(self):
        def main(argv):
            raise KeyboardInterrupt
        status, stderr = _run(main, interrupted_hint="; rerun to resume")
        self.assertEqual(status, 130)
        self.assertEqual(stderr, "train.py: interrupted; rerun to resume\n")

    def test_other_errors_keep_their_traceback(self):
        def main(argv):
            raise RuntimeError("a bug")
        with self.assertRaisesRegex(RuntimeError, "a bug"):
            _run(main, configuration_errors=(ValueError,))

    def test_a_finished_main_returns_its_value(self):
        self.assertEqual(_run(lambda argv: None), (None, ""))


class ProgressTest(tf.test.TestCase):

    def setUp(self):
        super().setUp()
        fixtures.log_info_during(self)

    def test_a_redirected_stdout_gets_log_lines_not_escapes(self):
        stdout = io.StringIO()  # not a terminal
        with contextlib.redirect_stdout(stdout), \
                self.assertLogs(level="INFO") as logs:
            progress = console.progress(3, "clip")
            self.assertIsInstance(progress, console.LoggedProgress)
            progress.every_seconds = 0.0
            progress.add(1)
            progress.update(3, finalize=True)
        self.assertEqual(stdout.getvalue(), "")
        self.assertLen(logs.output, 2)
        self.assertIn("1/3 clips", logs.output[0])
        self.assertIn("3/3 clips", logs.output[1])

    def test_lines_come_at_most_every_few_seconds_and_at_the_end(self):
        with self.assertLogs(level="INFO") as logs:
            progress = console.LoggedProgress(100, "clip", every_seconds=3600)
            for _ in range(100):
                progress.add(1)
            progress.update(100, finalize=True)
        self.assertLen(logs.output, 1)
        self.assertIn("100/100 clips", logs.output[0])


if __name__ == "__main__":
    tf.test.main()
