"""Small file primitives the caches and reports share, written once.

``write_atomically`` writes to a uniquely named temporary file in the target's folder
and renames it into place, so a reader (another run sharing a cache, a resumed run)
sees the old file or the new one, never half of one, and two writers never share a
temporary file. ``hash_file`` and ``stamp`` let caches tell changed files from
unchanged ones.
"""

import hashlib
import os
import tempfile


def write_atomically(path, data):
    """Writes ``data`` (bytes, or a function that writes to a binary handle) to
    ``path`` via a temporary file and a rename."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            if callable(data):
                data(stream)
            else:
                stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def hash_file(path, algorithm="sha1"):
    """Hex digest of a file's bytes, read a MiB at a time."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def stamp(path):
    """``[size, mtime_ns, ctime_ns]``: changes whenever the content may have (``cp -p``
    and ``rsync -t`` keep the mtime, but not the ctime)."""
    stat = os.stat(path)
    return [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns]
