"""Content digests of audio files, and the index that spares a rerun re-reading them."""

import hashlib
import os

import tensorflow as tf

from genre_tf.data import file_digests


class FileDigestTest(tf.test.TestCase):

    def test_file_digest_follows_content_not_name(self):
        folder = self.get_temp_dir()
        paths = [os.path.join(folder, name) for name in ("a.wav", "b.wav", "c.wav")]
        for path, content in zip(paths, (b"RIFF1234", b"RIFF1234", b"RIFF1235")):
            with open(path, "wb") as handle:
                handle.write(content)
        digests = [file_digests.file_digest(p) for p in paths]
        self.assertEqual(digests[0], digests[1])
        self.assertNotEqual(digests[0], digests[2])
        self.assertEqual(digests[2], hashlib.sha1(b"RIFF1235").hexdigest())


class FileDigestIndexTest(tf.test.TestCase):
    """Digests are remembered by (path, size, mtime): a rerun does not re-read files."""

    def test_unchanged_files_are_not_read_again(self):
        folder, cache = self.get_temp_dir(), os.path.join(self.get_temp_dir(), "cache")
        paths = []
        for name in ("a.wav", "b.wav"):
            paths.append(os.path.join(folder, name))
            with open(paths[-1], "wb") as handle:
                handle.write(name.encode() * 100)
        first = file_digests.file_digests(paths, cache)
        self.assertEqual(first[paths[0]], file_digests.file_digest(paths[0]))
        reads = []
        original = file_digests.file_digest
        file_digests.file_digest = lambda path: reads.append(path) or original(path)
        try:
            self.assertEqual(file_digests.file_digests(paths, cache), first)
            self.assertEqual(reads, [])
            with open(paths[1], "ab") as handle:  # changed size: read again
                handle.write(b"more")
            second = file_digests.file_digests(paths, cache)
        finally:
            file_digests.file_digest = original
        self.assertEqual(reads, [paths[1]])
        self.assertEqual(second[paths[0]], first[paths[0]])
        self.assertNotEqual(second[paths[1]], first[paths[1]])

    def test_a_damaged_index_is_rebuilt(self):
        folder = self.get_temp_dir()
        path = os.path.join(folder, "a.wav")
        with open(path, "wb") as handle:
            handle.write(b"abc")
        cache = os.path.join(folder, "cache_damaged")
        os.makedirs(cache)
        with open(os.path.join(cache, file_digests.DIGEST_INDEX), "w") as handle:
            handle.write("{not json")
        self.assertEqual(file_digests.file_digests([path], cache)[path],
                         hashlib.sha1(b"abc").hexdigest())


if __name__ == "__main__":
    tf.test.main()
