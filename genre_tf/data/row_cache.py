"""On-disk cache of a clip's example rows, keyed by file content and every setting that
changes them.

Computing embeddings or feature vectors is the slow part of a run; heads train in
seconds from cached rows. An entry is ``<folder>/<file sha1>.npz`` holding ``rows``
``[n, dim]``, ``counts`` (rows per segment) and ``n_samples`` (the decoded clip's
length, so a cached rerun reports short clips exactly as the first run did). Writes go
to a temporary file renamed into place, so a reader never sees half an entry; an entry
that fails to load or holds non-finite values is reported and recomputed.
"""

import hashlib
import json
import os
import tempfile

import numpy as np
from absl import logging


def file_digest(path):
    """SHA-1 of a file's bytes: the cache key, so renamed or moved files still hit."""
    digest = hashlib.sha1()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


DIGEST_INDEX = "file_digests.json"


def file_digests(paths, cache_dir=None):
    """{path: SHA-1 of its bytes}, re-reading only files whose (size, mtime) changed
    since the last run: a large corpus is hashed once, not on every rerun. The index
    lives in ``cache_dir`` (none: every file is read)."""
    index_path = os.path.join(cache_dir, DIGEST_INDEX) if cache_dir else None
    known = {}
    if index_path and os.path.isfile(index_path):
        try:
            with open(index_path) as handle:
                known = json.load(handle)
        except (OSError, ValueError):
            logging.warning("%s: damaged digest index; reading every file again",
                            index_path)
    digests, changed = {}, False
    for path in paths:
        stat = os.stat(path)
        key = os.path.abspath(path)
        stamp = [stat.st_size, stat.st_mtime_ns]
        entry = known.get(key)
        if entry and entry[:2] == stamp:
            digests[path] = entry[2]
            continue
        digests[path] = file_digest(path)
        known[key] = stamp + [digests[path]]
        changed = True
    if index_path and changed:
        _write_atomically(index_path, json.dumps(known).encode())
    return digests


def _write_atomically(path, data):
    """Temporary file in the same folder, renamed into place."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


class RowCache:
    """One folder of entries for one (front end, policy, segment plan) key."""

    def __init__(self, folder):
        self.folder = folder
        if folder:
            os.makedirs(folder, exist_ok=True)

    def _path(self, digest):
        return os.path.join(self.folder, digest + ".npz")

    def load(self, digest):
        """``(rows, counts, n_samples)`` or None when absent or damaged."""
        if not self.folder or not digest:
            return None
        path = self._path(digest)
        if not os.path.isfile(path):
            return None
        try:
            with np.load(path) as entry:
                rows = entry["rows"].astype(np.float32)
                counts = entry["counts"].astype(np.int64)
                n_samples = int(entry["n_samples"])
            if rows.ndim < 2 or counts.sum() != rows.shape[0] or not np.all(
                    np.isfinite(rows)):
                raise ValueError("rows do not match their counts or are not finite")
        except Exception as error:  # pylint: disable=broad-except
            logging.warning("%s: damaged cache entry (%s); recomputing", path,
                            str(error).splitlines()[0][:200] if str(error) else
                            type(error).__name__)
            return None
        return rows, counts, n_samples

    def save(self, digest, rows, counts, n_samples):
        if not self.folder or not digest:
            return
        handle, temporary = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as stream:
                np.savez(stream, rows=rows, counts=counts, n_samples=n_samples)
            os.replace(temporary, self._path(digest))
        except BaseException:
            if os.path.exists(temporary):
                os.remove(temporary)
            raise
