"""Keeping the C decoders' chatter off the terminal, without losing anything else.

libsndfile's MP3 reader (libmpg123) writes its own warnings straight to file descriptor
2, e.g. ``[src/libmpg123/parse.c:do_readahead():1083] warning: Cannot read next header,
a one-frame stream? Duh...`` for random bytes named ``.mp3``, next to the reason
``predict.py`` already prints for the file. Python cannot catch those lines; only
pointing descriptor 2 elsewhere can.

``without_decoder_noise`` does that around one decode: descriptor 2 goes to a temporary
file, and afterwards every captured line except libmpg123's goes back to the real
stderr, so a line another thread writes meanwhile is delayed, never lost. Descriptor 2
belongs to the whole process, so this is done only on the main thread: a decode on a
tf.data worker thread (training decodes many files at once) could otherwise restore
another decode's redirection and leave stderr pointing at a deleted file. There the
lines still show.
"""

import contextlib
import os
import re
import sys
import tempfile
import threading

# Warnings and errors libmpg123 prints itself: "[src/libmpg123/<file>:<function>():<line>]".
DECODER_NOISE = re.compile(rb"^\[src/libmpg123/")


@contextlib.contextmanager
def redirected_descriptor_2(captured):
    """Points file descriptor 2 at ``captured`` (an open binary file) while the block
    runs, then back."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:  # entered before the switch: descriptor 2 is restored whatever happens after
        os.dup2(captured.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)  # first: nothing below may leave stderr pointing elsewhere
        os.close(saved)


@contextlib.contextmanager
def without_decoder_noise():
    """Drops libmpg123's own lines from descriptor 2 while the block runs (main thread
    only; elsewhere the block runs unchanged)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    try:
        captured = tempfile.TemporaryFile()
    except OSError:  # no writable temporary folder: the noise shows, decoding goes on
        yield
        return
    with captured:
        try:
            with redirected_descriptor_2(captured):
                yield
        finally:
            captured.seek(0)
            kept = b"".join(line for line in captured if not DECODER_NOISE.match(line))
            if kept:
                os.write(2, kept)
