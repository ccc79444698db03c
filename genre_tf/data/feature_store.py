"""Extracted rows on disk as sharded, checksummed TFRecord files that training streams.

Computing embeddings or feature vectors is the slow part of a run, and a large corpus's
rows do not fit in memory (100k four-minute tracks of musicnn frames are ~50 GB), so
rows go to a store once and every later pass streams them.

A store is one folder per front end and settings (``<cache_dir>/features/<key>``).
Each shard is ``rows-<id>.tfrecord`` (one ``tf.train.Example`` per clip: its entry key,
its rows as raw float32 bytes, rows per segment, the decoded length) plus ``rows-<id>.json``: the
entries it holds, the file's size and SHA-256. Entry keys are content digests (plus the
song id where the rows depend on it, see ``examples``); labels live outside the store,
since GTZAN holds byte-identical audio under two genres.

Safety:
- a shard is written to a temporary name and renamed, its index written last, so
  readers (another run sharing the store, another extraction worker) only see whole
  shards; names are unique per writer, so workers never write over each other;
- a shard is verified once (SHA-256, TFRecord CRCs, row counts, finite values) and the
  verification remembered by (size, mtime); a shard that fails is named in a warning,
  removed, and its clips extracted again;
- a killed extraction loses at most the shard it was writing (``CLIPS_PER_SHARD``).
"""

import json
import os
import time
import uuid

import numpy as np
import tensorflow as tf
from absl import logging

from genre_tf import files

CLIPS_PER_SHARD = 256
_LEFTOVER_SECONDS = 24 * 3600
# The record layout; a shard of another layout (an older genre_tf) is extracted again.
FORMAT = 2
_VERIFIED = "verified.json"
_INDEX_SUFFIX = ".json"
_SHARD_SUFFIX = ".tfrecord"


def _example(key, rows, counts, n_samples):
    feature = tf.train.Feature
    return tf.train.Example(features=tf.train.Features(feature={
        "key": feature(bytes_list=tf.train.BytesList(value=[key.encode()])),
        # Raw little-endian float32: ~50x faster to write and parse than a FloatList.
        "rows": feature(bytes_list=tf.train.BytesList(
            value=[np.ascontiguousarray(rows, "<f4").tobytes()])),
        "counts": feature(int64_list=tf.train.Int64List(value=counts)),
        "n_samples": feature(int64_list=tf.train.Int64List(value=[n_samples])),
    })).SerializeToString()


_RECORD_SPEC = {
    "key": tf.io.FixedLenFeature([], tf.string),
    "rows": tf.io.FixedLenFeature([], tf.string),
    "counts": tf.io.VarLenFeature(tf.int64),
    "n_samples": tf.io.FixedLenFeature([], tf.int64),
}


def parse_raw_record(record):
    """``(key, raw rows, counts [parts])`` of one serialised entry; the rows stay bytes
    until ``decode_rows``, so records a split does not need are never decoded."""
    parsed = tf.io.parse_single_example(record, _RECORD_SPEC)
    return parsed["key"], parsed["rows"], tf.sparse.to_dense(parsed["counts"])


def decode_rows(raw_rows, row_shape):
    """float32 ``[n, *row_shape]`` from an entry's raw rows."""
    values = tf.io.decode_raw(raw_rows, tf.float32, little_endian=True)
    return tf.reshape(values, [-1, *row_shape])


def parse_record(record, row_shape):
    """``(key, rows [n, *row_shape], counts [parts])`` of one serialised entry."""
    key, raw_rows, counts = parse_raw_record(record)
    return key, decode_rows(raw_rows, row_shape), counts


def _verify(shard, index):
    """Raises ValueError unless the shard is exactly what its index describes: its
    SHA-256, every record's CRC (TFRecord checks them on read), one record per key,
    sizes, finite rows."""
    if files.hash_file(shard, "sha256") != index["sha256"]:
        raise ValueError("SHA-256 does not match its index")

    def summary(record):
        key, raw_rows, _ = parse_raw_record(record)
        values = tf.io.decode_raw(raw_rows, tf.float32, little_endian=True)
        return key, tf.size(values), tf.reduce_all(tf.math.is_finite(values))

    row_size = int(np.prod(index["row_shape"], dtype=np.int64))
    expected = {key: int(sum(counts)) * row_size
                for key, (counts, _) in index["entries"].items()}
    seen, records = {}, 0
    for key, size, finite in tf.data.TFRecordDataset(shard).map(summary).as_numpy_iterator():
        if not finite:
            raise ValueError(f"non-finite rows in entry {key.decode()}")
        seen[key.decode()] = int(size)
        records += 1
    if seen != expected or records != len(expected):
        raise ValueError("its records do not match its index")


class Entry:
    """Where one clip's rows are and how many: ``shard`` file, ``counts`` per segment
    part, ``n_samples`` of the decoded clip."""
    __slots__ = ("shard", "counts", "n_samples")

    def __init__(self, shard, counts, n_samples):
        self.shard, self.counts, self.n_samples = shard, counts, n_samples

    @property
    def n_rows(self):
        return int(sum(self.counts))


class FeatureStore:
    """One folder of shards for one (front end, policy, segment plan) key."""

    def __init__(self, folder, row_shape=None):
        self.folder = folder
        self.row_shape = tuple(row_shape) if row_shape is not None else None
        os.makedirs(folder, exist_ok=True)
        self._entries = None

    # --- reading ---------------------------------------------------------------------
    def entries(self):
        """{key: Entry} of every verified shard (verifying new ones first)."""
        if self._entries is None:
            self._entries = {}
            self._clean_leftovers()
            verified = self._read_verified()
            changed = False
            for name in sorted(os.listdir(self.folder)):
                if name.endswith(_INDEX_SUFFIX) and name != _VERIFIED:
                    index = self._load_index(name, verified)
                    if index is None:
                        continue
                    if self.row_shape is None:
                        self.row_shape = tuple(index["row_shape"])
                    changed |= verified.get(index["shard"]) != files.stamp(
                        os.path.join(self.folder, index["shard"]))
                    verified[index["shard"]] = files.stamp(
                        os.path.join(self.folder, index["shard"]))
                    for key, (counts, n_samples) in index["entries"].items():
                        self._entries.setdefault(key, Entry(index["shard"], counts,
                                                            n_samples))
            if changed:
                files.write_atomically(os.path.join(self.folder, _VERIFIED),
                                  json.dumps(verified).encode())
        return self._entries

    def shard_paths(self, keys):
        """The shard files holding any of ``keys``."""
        entries = self.entries()
        return sorted({os.path.join(self.folder, entries[k].shard) for k in keys
                       if k in entries})

    def _read_verified(self):
        try:
            with open(os.path.join(self.folder, _VERIFIED)) as handle:
                return json.load(handle)
        except (OSError, ValueError):
            return {}

    def _load_index(self, name, verified):
        """A shard's index, or None: a shard of another format is left alone (another
        genre_tf version may share the cache); one that is damaged is named in a
        warning and removed, so its clips are extracted again; one that cannot be read
        now (an I/O error) is skipped for this run."""
        index_path = os.path.join(self.folder, name)
        index = None
        try:
            with open(index_path) as handle:
                index = json.load(handle)
            if index.get("format") != FORMAT:
                logging.warning("%s: record format %s, this version reads %s; ignored",
                                index_path, index.get("format"), FORMAT)
                return None
            shard = os.path.join(self.folder, index["shard"])
            if not os.path.isfile(shard):
                raise ValueError("its shard file is missing")
            if os.path.getsize(shard) != index["bytes"]:
                raise ValueError(f"{os.path.getsize(shard)} bytes, its index says "
                                 f"{index['bytes']}")
            if self.row_shape and tuple(index["row_shape"]) != self.row_shape:
                raise ValueError(f"rows of shape {index['row_shape']}, expected "
                                 f"{list(self.row_shape)}")
            if verified.get(index["shard"]) != files.stamp(shard):
                _verify(shard, index)
        except (ValueError, KeyError, TypeError, tf.errors.DataLossError,
                tf.errors.InvalidArgumentError) as error:
            reason = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
            held = (len(index["entries"]) if isinstance(index, dict)
                    and isinstance(index.get("entries"), dict) else "its")
            logging.warning("%s: damaged feature shard (%s); removed, its %s clips are "
                            "extracted again", index_path, reason, held)
            self._remove(index_path)
            return None
        except (OSError, tf.errors.OpError) as error:
            logging.warning("%s: cannot be read now (%s); its clips are extracted again",
                            index_path, str(error).splitlines()[0][:200])
            return None
        return index

    def _clean_leftovers(self):
        """Removes what killed writers left: temporary files and shards whose index was
        never written, once they are a day old (a live writer finishes long before)."""
        now = time.time()
        names = set(os.listdir(self.folder))
        for name in names:
            orphan = name.endswith(_SHARD_SUFFIX) and (
                name[:-len(_SHARD_SUFFIX)] + _INDEX_SUFFIX) not in names
            if name.endswith(".tmp") or orphan:
                path = os.path.join(self.folder, name)
                try:
                    if now - os.path.getmtime(path) > _LEFTOVER_SECONDS:
                        os.remove(path)
                except OSError:
                    pass

    def _remove(self, index_path):
        for path in (index_path, index_path[:-len(_INDEX_SUFFIX)] + _SHARD_SUFFIX):
            try:
                os.remove(path)
            except OSError:
                pass

    # --- writing ---------------------------------------------------------------------
    def writer(self):
        return ShardWriter(self)

    def _added(self, shard, entries, stamp):
        """Records a shard this process wrote (and so need not verify)."""
        if self._entries is not None:
            for key, (counts, n_samples) in entries.items():
                self._entries.setdefault(key, Entry(shard, counts, n_samples))
        verified = self._read_verified()  # Another writer's update may be lost: it is
        verified[shard] = stamp           # then verified once more, nothing worse.
        files.write_atomically(os.path.join(self.folder, _VERIFIED),
                          json.dumps(verified).encode())


class ShardWriter:
    """Writes entries into new shards of a store, ``CLIPS_PER_SHARD`` per shard; use as
    a context manager (the last shard is closed on exit, also after an error)."""

    def __init__(self, store, clips_per_shard=CLIPS_PER_SHARD):
        self.store = store
        self.clips_per_shard = clips_per_shard
        self._writer = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def add(self, key, rows, counts, n_samples):
        rows = np.asarray(rows, np.float32)
        if self.store.row_shape is None:
            self.store.row_shape = rows.shape[1:]
        if self._writer is None:
            self._open()
        counts = [int(c) for c in counts]
        if key in self._index:
            return  # one record per key (the same content under two names)
        self._writer.write(_example(key, rows, counts, int(n_samples)))
        self._index[key] = [counts, int(n_samples)]
        if len(self._index) >= self.clips_per_shard:
            self.close()

    def _open(self):
        self._name = f"rows-{uuid.uuid4().hex[:16]}"
        self._temporary = os.path.join(self.store.folder, self._name + ".tfrecord.tmp")
        self._writer = tf.io.TFRecordWriter(self._temporary)
        self._index = {}

    def close(self):
        """Renames the shard into place, then writes its index: readers see whole
        shards only."""
        if self._writer is None:
            return
        self._writer.close()
        self._writer = None
        shard = self._name + _SHARD_SUFFIX
        path = os.path.join(self.store.folder, shard)
        os.replace(self._temporary, path)
        index = {"format": FORMAT, "shard": shard, "bytes": os.path.getsize(path),
                 "sha256": files.hash_file(path, "sha256"),
                 "row_shape": list(self.store.row_shape), "entries": self._index}
        files.write_atomically(os.path.join(self.store.folder, self._name + _INDEX_SUFFIX),
                          json.dumps(index).encode())
        self.store._added(shard, self._index, files.stamp(path))  # pylint: disable=protected-access
