"""Small file primitives the caches and reports share, written once.

``write_atomically`` writes to a uniquely named temporary file in the target's folder
and renames it into place, so a reader (another run sharing a cache, a resumed run)
sees the old file or the new one, never half of one, and two writers never share a
temporary file. The file gets the permissions a plain ``open()`` would give it (0666
less the umask, e.g. 0644), not ``tempfile.mkstemp``'s private 0600, which left
``metrics.json`` unreadable to everyone else. ``hash_file`` and ``stamp`` let caches
tell changed files from unchanged ones.
"""

import hashlib
import os
import secrets


# Who may read and write a new file before the umask takes its share: open()'s default.
_NEW_FILE_MODE = 0o666
_TEMPORARY_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


def _create_temporary(folder):
    """``(descriptor, path)`` of a new, uniquely named ``*.tmp`` file in ``folder``.

    Created as ``open()`` creates files (mode 0666, which the kernel reduces by the
    umask and the folder's default ACL), and exclusively (``O_EXCL``), as ``mkstemp``
    does. Letting the kernel apply the umask is the one race-free way to honour it:
    reading it means ``os.umask(0)`` then setting it back, and a thread creating a file
    in between would create it with no umask at all."""
    while True:
        temporary = os.path.join(folder, f"tmp{secrets.token_hex(8)}.tmp")
        try:
            return os.open(temporary, _TEMPORARY_FLAGS, _NEW_FILE_MODE), temporary
        except FileExistsError:
            continue  # 2**64 names: only ever a coincidence


def write_atomically(path, data):
    """Writes ``data`` (bytes, or a function that writes to a binary handle) to
    ``path`` via a temporary file and a rename; the file's mode is a plain
    ``open()``'s (``_create_temporary``)."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, temporary = _create_temporary(folder)
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
