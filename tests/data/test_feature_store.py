"""The feature store: whole shards only, damaged shards named, removed and recomputed,
and concurrent writers (two runs or extraction workers) never expose half a shard."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from genre_tf.data import feature_store

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# A writer process: writes ``rounds`` shards of 3 entries; every row value of an entry
# equals its n_samples, and row counts vary so shards differ in size.
_WRITER = textwrap.dedent("""
    import sys
    import numpy as np
    from genre_tf.data import feature_store
    folder, writer, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    store = feature_store.FeatureStore(folder)
    for k in range(rounds):
        with feature_store.ShardWriter(store, clips_per_shard=3) as shards:
            for j in range(3):
                stamp = writer * 100000 + k * 10 + j
                n = 20 + 5 * ((k + j) % 7)
                shards.add(f"w{writer}-{k}-{j}", np.full((n, 64), stamp, np.float32),
                           [n // 2, n - n // 2], stamp)
""")


def _read_all(store):
    """{key: rows} of every entry, read back through the TFRecord path."""
    found = {}
    for path in store.shard_paths(list(store.entries())):
        for record in tf.data.TFRecordDataset(path):
            key, rows, _ = feature_store.parse_record(record, store.row_shape or (64,))
            found[key.numpy().decode()] = rows.numpy()
    return found


class FeatureStoreTest(tf.test.TestCase):

    def setUp(self):
        super().setUp()
        self.folder = os.path.join(self.get_temp_dir(), self.id().split(".")[-1])
        self.store = feature_store.FeatureStore(self.folder)

    def _write(self, entries, clips_per_shard=256):
        with feature_store.ShardWriter(self.store, clips_per_shard) as writer:
            for key, rows, counts in entries:
                writer.add(key, rows, counts, 100 * len(rows))

    def _reopen(self):
        return feature_store.FeatureStore(self.folder)

    def _entries(self, n=4):
        return [(f"k{i}", np.arange(6 * (i + 1), dtype=np.float32).reshape(-1, 2) + i,
                 [i + 1, 2 * (i + 1)]) for i in range(n)]

    def test_round_trip_over_shards(self):
        entries = self._entries()
        self._write(entries, clips_per_shard=3)
        store = self._reopen()
        self.assertLen([f for f in os.listdir(self.folder) if f.endswith(".tfrecord")], 2)
        self.assertEqual(sorted(store.entries()), ["k0", "k1", "k2", "k3"])
        self.assertEqual(store.entries()["k2"].counts, [3, 6])
        self.assertEqual(store.entries()["k2"].n_samples, 900)
        read = _read_all(store)
        for key, rows, _ in entries:
            self.assertAllEqual(read[key], rows)
        self.assertEmpty([f for f in os.listdir(self.folder) if f.endswith(".tmp")])

    def _damage(self, how):
        self._write(self._entries(2))
        shard = [os.path.join(self.folder, f) for f in os.listdir(self.folder)
                 if f.endswith(".tfrecord")][0]
        os.remove(os.path.join(self.folder, "verified.json"))  # as another run sees it
        with open(shard, "rb") as handle:
            data = bytearray(handle.read())
        how(shard, data)
        with self.assertLogs(level="WARNING") as logs:
            entries = self._reopen().entries()
        self.assertEmpty(entries)
        self.assertLen(logs.output, 1)
        self.assertIn("damaged feature shard", logs.output[0])
        self.assertIn(shard[:-len(".tfrecord")], logs.output[0])
        self.assertEmpty([f for f in os.listdir(self.folder)  # shard and index removed
                          if f != "verified.json"])
        return logs.output[0]

    def test_truncated_shard_is_removed_with_a_warning(self):
        def truncate(shard, data):
            with open(shard, "wb") as handle:
                handle.write(data[:len(data) // 2])
        self.assertIn("bytes, its index says", self._damage(truncate))

    def test_flipped_byte_is_caught_by_the_checksum(self):
        def flip(shard, data):
            data[len(data) // 2] ^= 0xFF
            with open(shard, "wb") as handle:
                handle.write(data)
        self.assertIn("SHA-256 does not match", self._damage(flip))

    def test_missing_shard_file(self):
        self.assertIn("shard file is missing", self._damage(
            lambda shard, data: os.remove(shard)))

    def test_a_shard_of_another_format_is_left_alone(self):
        self._write(self._entries(2))
        index_path = [os.path.join(self.folder, f) for f in os.listdir(self.folder)
                      if f.startswith("rows-") and f.endswith(".json")][0]
        with open(index_path) as handle:
            index = json.load(handle)
        index["format"] = 1
        with open(index_path, "w") as handle:
            json.dump(index, handle)
        with self.assertLogs(level="WARNING") as logs:
            self.assertEmpty(self._reopen().entries())
        self.assertIn("record format 1, this version reads", logs.output[0])
        self.assertTrue(os.path.isfile(index_path))  # another version may still use it

    def test_leftovers_of_killed_writers_are_removed_after_a_day(self):
        self._write(self._entries(1))
        old, fresh = (os.path.join(self.folder, name) for name in
                      ("rows-dead.tfrecord.tmp", "rows-orphan.tfrecord"))
        for path in (old, fresh):
            with open(path, "wb") as handle:
                handle.write(b"half")
        os.utime(old, (0, 0))
        self.assertLen(self._reopen().entries(), 1)
        self.assertFalse(os.path.exists(old))
        self.assertTrue(os.path.exists(fresh))  # may be a live writer's

    def test_one_record_per_key(self):
        rows = np.ones((2, 2), np.float32)
        self._write([("same", rows, [2]), ("same", 2 * rows, [2])])
        self.assertAllEqual(_read_all(self._reopen())["same"], rows)

    def test_non_finite_rows_are_caught_when_verified(self):
        self._write([("bad", np.full((2, 2), np.nan, np.float32), [2])])
        os.remove(os.path.join(self.folder, "verified.json"))
        with self.assertLogs(level="WARNING") as logs:
            self.assertEmpty(self._reopen().entries())
        self.assertIn("non-finite rows in entry bad", logs.output[0])

    def test_a_verified_shard_is_not_read_again(self):
        self._write(self._entries(2))
        self._reopen().entries()
        original = feature_store._verify
        calls = []
        feature_store._verify = lambda *args: calls.append(args)
        try:
            self.assertLen(self._reopen().entries(), 2)
        finally:
            feature_store._verify = original
        self.assertEmpty(calls)

    @pytest.mark.slow  # four writer processes, ~45 s
    def test_concurrent_writers_never_expose_a_damaged_shard(self):
        rounds = 40
        writers = [subprocess.Popen(
            [sys.executable, "-c", _WRITER, self.folder, str(w), str(rounds)],
            cwd=_ROOT, stderr=subprocess.PIPE) for w in (1, 2)]
        reads, seen = 0, set()
        with self.assertNoLogs(level="WARNING"):
            while any(w.poll() is None for w in writers) or reads == 0:
                store = self._reopen()
                for key, rows in _read_all(store).items():
                    self.assertAllEqual(rows, np.full(rows.shape, rows[0, 0]))
                    self.assertEqual(store.entries()[key].n_samples, int(rows[0, 0]))
                    seen.add(key)
                reads += 1
        for writer in writers:
            _, errors = writer.communicate(timeout=120)
            self.assertEqual(writer.returncode, 0, errors.decode()[-2000:])
        self.assertGreater(reads, 2)
        self.assertLen(self._reopen().entries(), 2 * rounds * 3)
        self.assertEmpty([f for f in os.listdir(self.folder) if f.endswith(".tmp")])


if __name__ == "__main__":
    tf.test.main()
