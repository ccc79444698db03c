"""Content digests of audio files: the keys of the feature store (renamed or moved
files still hit) and part of a run's identity (changed audio under the same names does
not reuse stale results). A large corpus is hashed once: digests are remembered by
(path, size, mtime, ctime) in the cache folder.
"""

import json
import os

from absl import logging

from genre_tf import files


def file_digest(path):
    """SHA-1 of a file's bytes."""
    return files.hash_file(path, "sha1")


DIGEST_INDEX = "file_digests.json"


def file_digests(paths, cache_dir=None):
    """{path: SHA-1 of its bytes, or None if it cannot be read}, re-reading only files
    whose (size, mtime, ctime) changed since the last run: a large corpus is hashed
    once, not on every rerun. The index lives in ``cache_dir`` (none: every file is
    read). An unreadable file gets None: decoding then names the reason."""
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
        key = os.path.abspath(path)
        try:
            stamp = files.stamp(path)
            entry = known.get(key)
            if entry and entry[:-1] == stamp:
                digests[path] = entry[-1]
                continue
            digests[path] = file_digest(path)
        except OSError:
            digests[path] = None
            continue
        known[key] = stamp + [digests[path]]
        changed = True
    if index_path and changed:
        files.write_atomically(index_path, json.dumps(known).encode())
    return digests
