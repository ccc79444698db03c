"""Tracing a model for TFLite builtin ops only, so it runs without the Flex delegate.

Two things in the front ends' graphs have no TFLite builtin:

- FFTs: ``tf.signal.irfft`` and complex tensors have none, and the RFFT2D builtin is
  slow; ``genre_tf.features.dft.builtin_ops`` swaps them for matmul DFTs.
- Slices written ``x[..., a:b]`` or ``x[..., tf.newaxis]``: ``tf.StridedSlice`` with an
  ellipsis or a new axis on a tensor of unknown length (every waveform has one) is not
  legalised to the builtin STRIDED_SLICE. The feature code keeps its rank-agnostic
  ``...`` (it serves batches too); while ``builtin_ops`` is active, indexing a tensor of
  known rank spells the ellipsis out as full slices and turns new axes into
  ``tf.expand_dims``: the same values, ops the converter knows.

Only the TFLite export enters ``builtin_ops``; training and the SavedModel trace the
graph as before.
"""

import contextlib

import tensorflow as tf

from genre_tf.features import dft

_TENSOR_GETITEM = tf.Tensor.__getitem__


def _plain_item(item):
    """An index item this rewrite understands (else indexing is left to TensorFlow)."""
    if item is Ellipsis or item is None or isinstance(item, (int, slice)):
        return True
    return isinstance(item, tf.Tensor) and item.shape.rank == 0 and item.dtype.is_integer


def explicit_getitem(tensor, spec):
    """``tensor[spec]`` without ellipsis or new-axis masks when the rank is known."""
    items = spec if isinstance(spec, tuple) else (spec,)
    rank = tensor.shape.rank
    special = [item is Ellipsis or item is None for item in items]
    if rank is None or not any(special) or not all(_plain_item(i) for i in items):
        return _TENSOR_GETITEM(tensor, spec)
    ellipses = [k for k, item in enumerate(items) if item is Ellipsis]
    indexing = [i for i in items if i is not Ellipsis and i is not None]
    if ellipses:
        k = ellipses[0]
        items = (items[:k] + (slice(None),) * (rank - len(indexing)) + items[k + 1:])
    sliced = tuple(item for item in items if item is not None)
    full = slice(None)
    result = tensor
    if any(not (isinstance(item, slice) and item == full) for item in sliced):
        result = _TENSOR_GETITEM(tensor, sliced)
    axis = 0  # output axis of the next item
    for item in items:
        if item is None:
            result = tf.expand_dims(result, axis)
            axis += 1
        elif isinstance(item, slice):
            axis += 1
    return result


@contextlib.contextmanager
def builtin_ops():
    """While active, models trace to graphs of TFLite builtin ops (see module doc)."""
    tf.Tensor.__getitem__ = explicit_getitem
    try:
        with dft.builtin_ops():
            yield
    finally:
        tf.Tensor.__getitem__ = _TENSOR_GETITEM
