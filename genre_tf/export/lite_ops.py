"""Tracing a model for TFLite builtin ops only, and for builtins that run fast.

Four things in the front ends' graphs have no TFLite builtin, or a slow one (found with
``bench/tflite_ops.py``, a per-op CPU profile of a .tflite file):

- FFTs: ``tf.signal.irfft`` and complex tensors have no builtin;
  ``genre_tf.features.dft.builtin_ops`` computes the DFTs from RFFT2D (power-of-two
  sizes) or constant matrices.
- Slices written ``x[..., a:b]`` or ``x[..., tf.newaxis]``: ``tf.StridedSlice`` with an
  ellipsis or a new axis on a tensor of unknown length (every waveform has one) is not
  legalised to the builtin STRIDED_SLICE. And a STRIDED_SLICE whose bounds are computed
  at run time (``x[:n]``; every slice of a waveform-length tensor) runs in TFLite's
  element-by-element kernel: ~15 ms for one slice of a 30 s clip, 20x the SLICE
  builtin on the same bounds; the mlp file spent ~1/4 of its time in them. While
  ``builtin_ops`` is active, indexing a tensor of known rank spells the ellipsis out,
  turns new axes into ``tf.expand_dims`` and step-1 slices into ``tf.slice``: the same
  values, ops the converter knows and runs fast. Slices of ``tf.shape`` vectors are
  left alone (a few integers; TensorFlow's static shapes are read from them).
- ``tf.signal.frame`` gathers its frames after such a slice; ``frame_by_blocks`` (used
  while ``builtin_ops`` is active) builds frames whose hop divides their length from
  shifted views of hop-sized blocks: slices and a concat.
- The power spectrogram frames inside ``tf.signal.stft``, which the two rewrites above
  do not reach; ``spectral.compute_power_spectrogram`` itself calls
  ``dft.centred_stft_power`` while ``dft.builtin_ops`` is active.

Only the TFLite export enters ``builtin_ops``; training and the SavedModel trace the
graph as before. The replacements check ``dft.builtin_ops_active()`` (per thread), so
another thread tracing at the same time gets TensorFlow's own ops. A tf.function's
trace cache does not know the mode: a front end's inner tf.function must be one per
mode (``statistics.feature_vector_function``, ``MusicnnBackbone.outputs_of_log_mel``),
or the TFLite export reuses the trace made for the SavedModel.
"""

import contextlib

import tensorflow as tf

from genre_tf.features import dft

_TENSOR_GETITEM = tf.Tensor.__getitem__
_SIGNAL_FRAME = tf.signal.frame
# Frames of length ``hop * k`` are joined from ``k`` shifted block views up to this k;
# beyond it (the tempogram's hop 1) TensorFlow's gather is fewer ops.
MAX_BLOCKS_PER_FRAME = 8


def _plain_item(item):
    """An index item this rewrite understands (else indexing is left to TensorFlow)."""
    if item is Ellipsis or item is None or isinstance(item, (int, slice)):
        return True
    return isinstance(item, tf.Tensor) and item.shape.rank == 0 and item.dtype.is_integer


def _bound(value, length, default):
    """A Python slice bound as an index in ``[0, length]`` (Python's clipping)."""
    if value is None:
        return default
    if isinstance(value, int) and isinstance(length, int):
        return min(max(value + length if value < 0 else value, 0), length)
    if isinstance(value, int) and value >= 0:
        return tf.minimum(value, length)
    if isinstance(value, int):
        return tf.maximum(length + value, 0)
    value = tf.cast(value, tf.int32)
    return tf.clip_by_value(tf.where(value < 0, value + length, value), 0, length)


def _contiguous_slice(tensor, items):
    """``tensor[items]`` (one int or step-1 slice per axis) as ``tf.slice``."""
    dynamic = tf.shape(tensor)
    begins, sizes, dropped = [], [], []
    for axis, item in enumerate(items):
        length = tensor.shape[axis]
        length = dynamic[axis] if length is None else length
        if isinstance(item, slice):
            begin = _bound(item.start, length, 0)
            end = _bound(item.stop, length, length)
            if isinstance(begin, int) and isinstance(end, int):
                size = max(end - begin, 0)
            else:
                size = tf.maximum(end - begin, 0)
        else:  # one index: a slice of one, dropped below
            begin = item + length if isinstance(item, int) and item < 0 else item
            if isinstance(begin, tf.Tensor):
                begin = tf.where(begin < 0, begin + length, begin)
            size = 1
            dropped.append(axis)
        begins.append(begin)
        sizes.append(size)
    result = tf.slice(tensor, tf.stack(begins), tf.stack(sizes))
    return tf.squeeze(result, dropped) if dropped else result


def _contiguous(item):
    return not isinstance(item, slice) or item.step in (None, 1)


def explicit_getitem(tensor, spec):
    """``tensor[spec]`` without ellipsis or new-axis masks, and step-1 slices as
    ``tf.slice``, when the rank is known."""
    items = spec if isinstance(spec, tuple) else (spec,)
    rank = tensor.shape.rank
    if rank is None or not all(_plain_item(i) for i in items):
        return _TENSOR_GETITEM(tensor, spec)
    ellipses = [k for k, item in enumerate(items) if item is Ellipsis]
    indexing = [i for i in items if i is not Ellipsis and i is not None]
    if len(ellipses) > 1 or len(indexing) > rank:
        return _TENSOR_GETITEM(tensor, spec)
    if ellipses:
        k = ellipses[0]
        items = (items[:k] + (slice(None),) * (rank - len(indexing)) + items[k + 1:])
    sliced = tuple(item for item in items if item is not None)
    sliced += (slice(None),) * (rank - len(sliced))
    full = slice(None)
    result = tensor
    if any(not (isinstance(item, slice) and item == full) for item in sliced):
        if all(_contiguous(item) for item in sliced):
            result = _contiguous_slice(tensor, sliced)
        else:
            result = _TENSOR_GETITEM(tensor, sliced)
    axis = 0  # output axis of the next item
    for item in items:
        if item is None:
            result = tf.expand_dims(result, axis)
            axis += 1
        elif isinstance(item, slice):
            axis += 1
    return result


def frame_by_blocks(signal, frame_length, frame_step):
    """``tf.signal.frame(signal, frame_length, frame_step)`` on the last axis, for a
    ``frame_step`` that divides ``frame_length``: the signal's whole hop-sized blocks
    ``[..., blocks, frame_step]``, and frame ``f`` the concatenation of blocks ``f`` to
    ``f + frame_length / frame_step - 1``."""
    per_frame = frame_length // frame_step
    length = tf.shape(signal)[-1]
    leading = tf.shape(signal)[:-1]
    n_frames = tf.maximum(1 + (length - frame_length) // frame_step, 0)
    n_blocks = length // frame_step
    whole = signal[..., :n_blocks * frame_step]
    blocks = tf.reshape(whole, tf.concat([leading, [n_blocks, frame_step]], axis=0))
    # begin <= n_blocks even when there are no frames (an empty slice).
    views = [blocks[..., tf.minimum(k, n_blocks):tf.minimum(k, n_blocks) + n_frames, :]
             for k in range(per_frame)]
    return views[0] if per_frame == 1 else tf.concat(views, axis=-1)


def builtin_frame(signal, frame_length, frame_step, pad_end=False, pad_value=0,
                  axis=-1, name=None):
    """``tf.signal.frame``, as ``frame_by_blocks`` where that applies and the graph
    is traced for TFLite."""
    if (dft.builtin_ops_active() and not pad_end and axis == -1
            and isinstance(frame_length, int) and isinstance(frame_step, int)
            and frame_length % frame_step == 0
            and frame_length // frame_step <= MAX_BLOCKS_PER_FRAME
            and tf.convert_to_tensor(signal).shape.rank is not None):
        return frame_by_blocks(tf.convert_to_tensor(signal), frame_length, frame_step)
    return _SIGNAL_FRAME(signal, frame_length, frame_step, pad_end, pad_value, axis, name)


def _is_shape_vector(tensor):
    """Whether ``tensor`` is a ``tf.shape`` result: slices of it stay StridedSlice,
    which TensorFlow's static shape inference reads (``constant_value_as_shape``
    understands StridedSlice of Shape, not Slice: ``tf.reshape(x, tf.concat(
    [tf.shape(x)[:-1], ...]))`` would lose every known dimension), and which the
    converter folds or runs on a few integers."""
    op = getattr(tensor, "op", None)  # eager tensors have no op
    return op is not None and op.type == "Shape"


def _getitem_while_active(tensor, spec):
    if dft.builtin_ops_active() and not _is_shape_vector(tensor):
        return explicit_getitem(tensor, spec)
    return _TENSOR_GETITEM(tensor, spec)


@contextlib.contextmanager
def builtin_ops():
    """While active, models trace to graphs of TFLite builtin ops (see module doc)."""
    tf.Tensor.__getitem__ = _getitem_while_active
    tf.signal.frame = builtin_frame
    try:
        with dft.builtin_ops():
            yield
    finally:
        tf.Tensor.__getitem__ = _TENSOR_GETITEM
        tf.signal.frame = _SIGNAL_FRAME
