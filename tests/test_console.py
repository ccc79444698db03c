"""The exit statuses every command shares (``genre_tf.console.guarded``)."""

import contextlib
import io
import sys
from unittest import mock

import tensorflow as tf

from genre_tf import backbones, console


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


if __name__ == "__main__":
    tf.test.main()
