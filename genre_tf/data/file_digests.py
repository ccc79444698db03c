"""Content digests of audio files: the keys of the feature store (renamed or moved
files still hit) and part of a run's identity (changed audio under the same names does
not reuse stale results). A large corpus is hashed once: digests are remembered by
(path, size, mtime) in the cache folder.
"""

import hashlib
import json
import os
import tempfile

from absl import logging


def file_digest(path):
    """SHA-1 of a file's bytes."""
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
