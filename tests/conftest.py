"""Runs the files holding end-to-end (``slow``) tests first.

The test command spreads files over two processes (pytest-xdist, ``--dist loadfile``:
a file's tests share their ``setUpClass`` work, so a file stays in one process). The
slow files are a few long subprocess runs each (train.py, tuner.py, several workers);
started last, as plain collection order put them (``tests/test_*.py`` after the
folders), one process was left running them alone for minutes at the end. Longest
first keeps both busy to the end. Within a file the order is unchanged.
"""


def pytest_collection_modifyitems(config, items):
    del config
    slow_files = {item.nodeid.split("::")[0] for item in items
                  if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.nodeid.split("::")[0] not in slow_files)
