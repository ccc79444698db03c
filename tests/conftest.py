"""Collection: TensorFlow's ``test_session`` is not a test; files of slow tests first;
a numba cache per test process.

Every ``tf.test.TestCase`` inherits ``test_session``, a deprecated context manager whose
name starts with ``test``: pytest collects it once per class and TensorFlow skips it
("Not a test"), so each class added one skip that was no test at all, and the real
skips (no real music, no GPU) drowned in them. Those items are dropped here, found by
the function they run (TensorFlow's own), so a test of ours named ``test_session``
would still run.

The test command spreads files over two processes (pytest-xdist, ``--dist loadfile``:
a file's tests share their ``setUpClass`` work, so a file stays in one process). The
slow files are a few long subprocess runs each (train.py, tuner.py, several workers);
started last, as plain collection order put them (``tests/test_*.py`` after the
folders), one process was left running them alone for minutes at the end. Longest
first keeps both busy to the end. Within a file the order is unchanged.
"""

import getpass
import os
import tempfile


def _numba_cache_per_worker():
    """librosa's numba functions are compiled with ``cache=True`` into librosa's own
    ``__pycache__``: the two test processes compiling the same function at once wrote
    one index over the other's cache files, and the next run loaded the wrong machine
    code and crashed (a segfault in ``librosa.util.localmax``, after a green run). Each
    pytest process (and the commands its tests start) gets a numba cache of its own,
    kept between runs. An explicit ``NUMBA_CACHE_DIR`` wins."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(
        tempfile.gettempdir(), f"genre_tf_numba_{getpass.getuser()}_{worker}"))


_numba_cache_per_worker()  # before any test module imports librosa (and numba)

# Where ``tf.test.TestCase.test_session`` is defined; named, not imported, so
# collection does not need TensorFlow.
_TENSORFLOW_TEST_UTIL = "tensorflow.python.framework.test_util"


def is_tensorflow_test_session(item):
    """Whether ``item`` is TensorFlow's inherited ``test_session`` rather than a test."""
    function = getattr(getattr(item, "obj", None), "__func__", None)
    return (item.name == "test_session"
            and getattr(function, "__module__", None) == _TENSORFLOW_TEST_UTIL)


def pytest_collection_modifyitems(config, items):
    del config
    items[:] = [item for item in items if not is_tensorflow_test_session(item)]
    slow_files = {item.nodeid.split("::")[0] for item in items
                  if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.nodeid.split("::")[0] not in slow_files)
