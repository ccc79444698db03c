"""float16 storage of a TFLite model's large constants, small ones left float32.

The converter's own float16 option (``target_spec.supported_types = [tf.float16]``)
rounds every float constant, scalars included, and the front ends hold scalars that
float16 cannot: librosa's dB floor 1e-10 and the float32 ``tiny`` of silent-frame
guards become 0 (silence then divides by zero), the tempo estimate's 1e6 becomes inf
(its argmax, then a gather, fails). ``quantize_large_constants`` instead rewrites a
float32 model: each float matrix constant of at least ``min_elements`` (weights,
filter banks, DFT matrices: nearly all the bytes) is stored as float16 behind a
DEQUANTIZE op, the same graph the converter writes, and computation stays float32.

Vectors stay float32: they are few bytes, and among them are the STFT windows, where
float16 rounding is noise added to the window's smooth edges: its spectral leakage
floor rises to about -60 dB, which the quietest bands of every frame feel (spectral
contrast's valleys, flatness' geometric mean). In the mlp file the three windows of
1024-4096 samples moved the probabilities by up to 0.02 (each alone 0.004-0.02);
every other constant alone by at most 1.4e-4 (`bench/predict.py`'s float16 column).
"""

import numpy as np
from tensorflow.lite.python import schema_py_generated as schema
from tensorflow.lite.tools import flatbuffer_utils

# The converter's threshold for quantising a weight (dynamic range) too.
MIN_ELEMENTS = 1024
_DEQUANTIZE_VERSION = 3  # DEQUANTIZE from float16


def _opcode_index(model, builtin):
    for index, code in enumerate(model.operatorCodes):
        if max(code.builtinCode, code.deprecatedBuiltinCode) == builtin:
            return index
    code = schema.OperatorCodeT()
    code.builtinCode = builtin
    code.deprecatedBuiltinCode = min(builtin, 127)
    code.version = _DEQUANTIZE_VERSION
    model.operatorCodes.append(code)
    return len(model.operatorCodes) - 1


def _half(values):
    """``values`` as float16, or None where float16 cannot hold them (overflow, or an
    error above 1e-3 of the largest value: e.g. squared frequencies in Hz)."""
    with np.errstate(over="ignore"):
        half = values.astype(np.float16)
    error = np.abs(half.astype(np.float32) - values)
    if not np.all(np.isfinite(half)) or error.max() > 1e-3 * np.abs(values).max():
        return None
    return half


def quantize_large_constants(blob, min_elements=MIN_ELEMENTS):
    """A float32 TFLite model (bytes) with float constants of ``min_elements`` or more
    stored as float16; returns the new model's bytes."""
    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(blob))
    dequantize = _opcode_index(model, schema.BuiltinOperator.DEQUANTIZE)
    for subgraph in model.subgraphs:
        users = {}
        for tensor in subgraph.tensors:
            users[tensor.buffer] = users.get(tensor.buffer, 0) + 1
        added = []
        for index, tensor in enumerate(list(subgraph.tensors)):
            data = model.buffers[tensor.buffer].data if tensor.buffer else None
            if (tensor.type != schema.TensorType.FLOAT32 or data is None
                    or len(data) < 4 * min_elements or tensor.isVariable
                    or len(tensor.shape) < 2):  # vectors: windows (module doc)
                continue
            half = _half(np.frombuffer(bytes(bytearray(data)), np.float32))
            if half is None:
                continue
            stored_buffer = schema.BufferT()
            stored_buffer.data = np.frombuffer(half.tobytes(), np.uint8)
            model.buffers.append(stored_buffer)
            stored = schema.TensorT()
            stored.shape = tensor.shape
            stored.type = schema.TensorType.FLOAT16
            stored.buffer = len(model.buffers) - 1
            stored.name = (tensor.name or b"") + b"_float16"
            subgraph.tensors.append(stored)
            users[tensor.buffer] -= 1
            if not users[tensor.buffer]:  # the float32 bytes are no longer read
                model.buffers[tensor.buffer].data = None
            tensor.buffer = 0  # now the output of the op below
            op = schema.OperatorT()
            op.opcodeIndex = dequantize
            op.inputs = [len(subgraph.tensors) - 1]
            op.outputs = [index]
            added.append(op)
        subgraph.operators = added + list(subgraph.operators)
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))
