"""The collection hook of ``tests/conftest.py``: TensorFlow's ``test_session`` is no
test (pytest counted one skip per ``tf.test.TestCase`` class for it); another function
of that name is left to run."""

import types
import unittest

import tensorflow as tf

from tests import conftest


class _Ours(unittest.TestCase):
    """Not TensorFlow's (whose setUp skips any test of that name): a real test."""

    __test__ = False  # here for the hook to sort, not to run

    def test_session(self):
        self.assertEqual(1 + 1, 2)

    def test_sum(self):
        self.assertEqual(sum([1, 2]), 3)


class _Inherits(tf.test.TestCase):

    __test__ = False

    def test_sum(self):
        self.assertEqual(sum([1, 2]), 3)


def _item(case, name, slow=False):
    """What the hook reads of a pytest item: name, nodeid, obj, markers."""
    return types.SimpleNamespace(
        name=name, nodeid=f"tests/{'slow' if slow else 'fast'}.py::{case.__name__}::{name}",
        obj=getattr(case(name), name),
        get_closest_marker=lambda marker, slow=slow: slow if marker == "slow" else None)


class CollectionTest(tf.test.TestCase):

    def test_tensorflows_test_session_is_dropped_others_kept(self):
        items = [_item(_Inherits, "test_session"), _item(_Inherits, "test_sum"),
                 _item(_Ours, "test_session"), _item(_Ours, "test_sum", slow=True)]
        conftest.pytest_collection_modifyitems(None, items)
        self.assertEqual([item.nodeid for item in items], [
            "tests/slow.py::_Ours::test_sum",  # slow files first
            "tests/fast.py::_Inherits::test_sum",
            "tests/fast.py::_Ours::test_session"])
        self.assertTrue(conftest.is_tensorflow_test_session(_item(self.__class__,
                                                                   "test_session")))


if __name__ == "__main__":
    tf.test.main()
