"""Collection: TensorFlow's ``test_session`` is not a test; files of slow tests first.

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
