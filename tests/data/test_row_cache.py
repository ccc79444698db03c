"""The row cache: entries round-trip, damaged entries are named and recomputed, and
writers racing on one folder never let a reader see half an entry."""

import hashlib
import os
import subprocess
import sys
import textwrap

import numpy as np
import tensorflow as tf

from genre_tf.data import row_cache

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# A writer process: saves entry ``digest`` ``rounds`` times; every entry is internally
# consistent (every row value, and n_samples, equal ``writer * 100000 + round``), with a
# row count that changes each round so files differ in size.
_WRITER = textwrap.dedent("""
    import sys
    import numpy as np
    from genre_tf.data import row_cache
    folder, digest, writer, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    cache = row_cache.RowCache(folder)
    for k in range(rounds):
        stamp = writer * 100000 + k
        n = 200 + 50 * (k % 7)
        rows = np.full((n, 256), stamp, np.float32)
        counts = np.array([n // 2, n - n // 2])
        cache.save(digest, rows, counts, stamp)
""")


class RowCacheTest(tf.test.TestCase):

    def setUp(self):
        super().setUp()
        self.folder = os.path.join(self.get_temp_dir(), self.id().split(".")[-1])
        self.cache = row_cache.RowCache(self.folder)

    def _save_valid(self, digest="abc"):
        rows = np.arange(12, dtype=np.float32).reshape(3, 4)
        self.cache.save(digest, rows, np.array([2, 1]), 4410)
        return rows, self.cache._path(digest)  # pylint: disable=protected-access

    def _assert_damaged(self, path, reason):
        with self.assertLogs(level="WARNING") as logs:
            self.assertIsNone(self.cache.load("abc"))
        self.assertLen(logs.output, 1)
        self.assertIn(path, logs.output[0])
        self.assertIn("damaged cache entry", logs.output[0])
        self.assertRegex(logs.output[0], reason)

    def test_round_trip(self):
        rows, path = self._save_valid()
        self.assertEqual(os.listdir(self.folder), ["abc.npz"])
        self.assertEqual(os.path.basename(path), "abc.npz")
        loaded_rows, counts, n_samples = self.cache.load("abc")
        self.assertEqual(loaded_rows.dtype, np.float32)
        self.assertAllEqual(loaded_rows, rows)
        self.assertAllEqual(counts, [2, 1])
        self.assertEqual(n_samples, 4410)
        self.assertIsInstance(n_samples, int)

    def test_overwrite_replaces_the_entry(self):
        self._save_valid()
        self.cache.save("abc", np.ones((1, 2), np.float32), np.array([1]), 7)
        rows, counts, n_samples = self.cache.load("abc")
        self.assertAllEqual(rows, [[1, 1]])
        self.assertAllEqual(counts, [1])
        self.assertEqual(n_samples, 7)

    def test_absent_entry_and_no_folder_load_as_none_silently(self):
        with self.assertNoLogs(level="WARNING"):
            self.assertIsNone(self.cache.load("missing"))
            self.assertIsNone(self.cache.load(None))
        no_cache = row_cache.RowCache(None)
        no_cache.save("abc", np.ones((1, 2), np.float32), np.array([1]), 1)  # no-op
        self.assertIsNone(no_cache.load("abc"))

    def test_truncated_entry_is_recomputed_with_a_warning(self):
        _, path = self._save_valid()
        with open(path, "rb") as handle:
            data = handle.read()
        with open(path, "wb") as handle:
            handle.write(data[:len(data) // 2])
        self._assert_damaged(path, r"\(.+\); recomputing")

    def test_garbage_entry_is_recomputed_with_a_warning(self):
        _, path = self._save_valid()
        with open(path, "wb") as handle:
            handle.write(b"this is not a numpy archive\n" * 10)
        self._assert_damaged(path, "recomputing")

    def test_non_finite_rows_are_recomputed_with_a_warning(self):
        path = self.cache._path("abc")  # pylint: disable=protected-access
        rows = np.ones((2, 3), np.float32)
        rows[1, 2] = np.nan
        self.cache.save("abc", rows, np.array([2]), 100)
        self._assert_damaged(path, "not finite")
        rows[1, 2] = np.inf
        self.cache.save("abc", rows, np.array([2]), 100)
        self._assert_damaged(path, "not finite")

    def test_counts_that_do_not_add_up_are_recomputed_with_a_warning(self):
        path = self.cache._path("abc")  # pylint: disable=protected-access
        self.cache.save("abc", np.ones((3, 2), np.float32), np.array([2, 2]), 100)
        self._assert_damaged(path, "do not match their counts")

    def test_rows_that_are_not_a_matrix_are_recomputed_with_a_warning(self):
        path = self.cache._path("abc")  # pylint: disable=protected-access
        self.cache.save("abc", np.ones(3, np.float32), np.array([3]), 100)
        self._assert_damaged(path, "do not match their counts")

    def test_entry_missing_a_field_is_recomputed_with_a_warning(self):
        path = self.cache._path("abc")  # pylint: disable=protected-access
        with open(path, "wb") as handle:
            np.savez(handle, rows=np.ones((1, 2), np.float32), counts=np.array([1]))
        self._assert_damaged(path, "n_samples")

    def test_file_digest_follows_content_not_name(self):
        folder = self.get_temp_dir()
        paths = [os.path.join(folder, name) for name in ("a.wav", "b.wav", "c.wav")]
        for path, content in zip(paths, (b"RIFF1234", b"RIFF1234", b"RIFF1235")):
            with open(path, "wb") as handle:
                handle.write(content)
        digests = [row_cache.file_digest(p) for p in paths]
        self.assertEqual(digests[0], digests[1])
        self.assertNotEqual(digests[0], digests[2])
        self.assertEqual(digests[2], hashlib.sha1(b"RIFF1235").hexdigest())

    def test_concurrent_writers_never_expose_a_damaged_entry(self):
        rounds = 150
        writers = [subprocess.Popen(
            [sys.executable, "-c", _WRITER, self.folder, "shared", str(w), str(rounds)],
            cwd=_ROOT, stderr=subprocess.PIPE) for w in (1, 2)]
        seen = set()
        loads = 0
        with self.assertNoLogs(level="WARNING"):
            while any(w.poll() is None for w in writers) or loads == 0:
                entry = self.cache.load("shared")
                loads += 1
                if entry is None:  # not written yet
                    self.assertEmpty(seen)
                    continue
                rows, counts, n_samples = entry
                self.assertEqual(counts.sum(), rows.shape[0])
                self.assertEqual(rows.shape[1], 256)
                self.assertAllEqual(rows, np.full(rows.shape, n_samples))
                self.assertEqual(rows.shape[0], 200 + 50 * (n_samples % 100000 % 7))
                seen.add(n_samples)
        for writer in writers:
            _, errors = writer.communicate(timeout=60)
            self.assertEqual(writer.returncode, 0, errors.decode()[-2000:])
        # The reader really raced the writers, and the last entry is a whole one.
        self.assertGreater(len(seen), 2)
        rows, _, n_samples = self.cache.load("shared")
        self.assertIn(n_samples, (100000 + rounds - 1, 200000 + rounds - 1))
        self.assertAllEqual(rows, np.full(rows.shape, n_samples))
        self.assertEqual(os.listdir(self.folder), ["shared.npz"])  # no .tmp left


if __name__ == "__main__":
    tf.test.main()


class FileDigestIndexTest(tf.test.TestCase):
    """Digests are remembered by (path, size, mtime): a rerun does not re-read files."""

    def test_unchanged_files_are_not_read_again(self):
        folder, cache = self.get_temp_dir(), os.path.join(self.get_temp_dir(), "cache")
        paths = []
        for name in ("a.wav", "b.wav"):
            paths.append(os.path.join(folder, name))
            with open(paths[-1], "wb") as handle:
                handle.write(name.encode() * 100)
        first = row_cache.file_digests(paths, cache)
        self.assertEqual(first[paths[0]], row_cache.file_digest(paths[0]))
        reads = []
        original = row_cache.file_digest
        row_cache.file_digest = lambda path: reads.append(path) or original(path)
        try:
            self.assertEqual(row_cache.file_digests(paths, cache), first)
            self.assertEqual(reads, [])
            with open(paths[1], "ab") as handle:  # changed size: read again
                handle.write(b"more")
            second = row_cache.file_digests(paths, cache)
        finally:
            row_cache.file_digest = original
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
        with open(os.path.join(cache, row_cache.DIGEST_INDEX), "w") as handle:
            handle.write("{not json")
        self.assertEqual(row_cache.file_digests([path], cache)[path],
                         hashlib.sha1(b"abc").hexdigest())
