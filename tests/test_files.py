"""``genre_tf.files.write_atomically``: whole files, and the permissions open() gives."""

import os
import stat

import tensorflow as tf

from genre_tf import files


class WriteAtomicallyTest(tf.test.TestCase):

    def _mode_under(self, umask, name):
        path = os.path.join(self.get_temp_dir(), name)
        previous = os.umask(umask)
        try:
            files.write_atomically(path, b'{"mean_accuracy": 0.5}')
            with open(os.path.join(self.get_temp_dir(), f"plain_{name}"), "wb"):
                pass
        finally:
            os.umask(previous)
        plain = stat.S_IMODE(os.stat(os.path.join(self.get_temp_dir(), f"plain_{name}"))
                             .st_mode)
        return stat.S_IMODE(os.stat(path).st_mode), plain

    def test_mode_is_what_open_gives_under_the_umask(self):
        for umask, expected in ((0o022, 0o644), (0o002, 0o664), (0o077, 0o600)):
            with self.subTest(umask=oct(umask)):
                written, plain = self._mode_under(umask, f"metrics_{umask:o}.json")
                self.assertEqual(oct(written), oct(expected))
                self.assertEqual(written, plain)

    def test_content_lands_whole_and_no_temporary_is_left(self):
        folder = os.path.join(self.get_temp_dir(), "new", "run")
        path = os.path.join(folder, "result.json")
        files.write_atomically(path, b"first")
        files.write_atomically(path, lambda handle: handle.write(b"second"))
        with open(path, "rb") as handle:
            self.assertEqual(handle.read(), b"second")
        with self.assertRaises(ZeroDivisionError):
            files.write_atomically(path, lambda handle: 1 / 0)
        with open(path, "rb") as handle:
            self.assertEqual(handle.read(), b"second")
        self.assertEqual(os.listdir(folder), ["result.json"])


if __name__ == "__main__":
    tf.test.main()
