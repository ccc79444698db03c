"""Where a TFLite file spends its CPU time: each op timed alone, on its real inputs.

    python bench/tflite_ops.py --tflite_file=saved_models/<run>/model.tflite \
        [--sample_rate=22050] [--top=30]

The file's ``classify_waveform`` runs once on the first clip of ``--data_dir`` (30 s at
``--sample_rate``, tiled if shorter; a synthetic clip when the folder is absent) with
every intermediate tensor kept. Then each op of the main graph becomes a one-op model
(its constant inputs kept, the others fed the values of that run, shapes fixed) and is
timed in CPU seconds of this process (``--repeats`` calls, one thread): the sum comes
close to one whole call, and CPU time, unlike wall time, holds up on a busy machine.
Prints the time per op type and the ``--top`` ops with their input shapes. It found
the slow STRIDED_SLICE with run-time bounds and the matmul DFTs' transposes
(``genre_tf/export/lite_ops.py``, ``genre_tf/features/dft.py``).

An op alone may be delegated to XNNPack (fixed shapes) where inside the file it is
not, and a RESHAPE that shares its input's memory in the file copies here: read the
ranking, not the last millisecond. Uses ``ai_edge_litert`` when importable
(``requirements-bench.txt``), else ``tf.lite``.
"""

import common  # noqa: F401  (first: quiet TensorFlow, project on sys.path, flags)

import collections  # noqa: E402
import copy  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from absl import app, flags  # noqa: E402
from tensorflow.lite.python import schema_py_generated as schema  # noqa: E402
from tensorflow.lite.tools import flatbuffer_utils  # noqa: E402

from genre_tf.audio import decode  # noqa: E402
from genre_tf.export import tflite  # noqa: E402
from tests import fixtures  # noqa: E402

try:
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
except ImportError:
    Interpreter, OpResolverType = tf.lite.Interpreter, tf.lite.experimental.OpResolverType

FLAGS = flags.FLAGS
flags.DEFINE_string("tflite_file", None, "The .tflite file to profile.")
flags.DEFINE_integer("sample_rate", 22050, "Rate of the model's waveform input, Hz.")
flags.DEFINE_integer("seconds", 30, "Length of the clip fed to the model.")
flags.DEFINE_integer("repeats", 5, "Timed calls per op.")
flags.DEFINE_integer("top", 30, "Most expensive ops to list.")
flags.mark_flag_as_required("tflite_file")

_OP_NAMES = {code: name for name, code in vars(schema.BuiltinOperator).items()
             if not name.startswith("_")}


def _clip():
    """``--seconds`` of the first clip of ``--data_dir`` (tiled), else synthetic."""
    samples = FLAGS.seconds * FLAGS.sample_rate
    try:
        path = common.sample_paths()[0]
        return np.resize(decode.read_waveform(path, FLAGS.sample_rate), samples).astype(
            np.float32)
    except (OSError, ValueError, IndexError):
        return fixtures.music_like(FLAGS.seconds, sr=FLAGS.sample_rate, seed=0)


def _tensor_values(path, clip):
    """Every tensor of the main graph after one call on ``clip`` (index -> array)."""
    interpreter = Interpreter(
        model_path=path, experimental_preserve_all_tensors=True,
        experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interpreter.get_signature_runner(tflite.SIGNATURE)(waveform=clip)
    values = {}
    for detail in interpreter.get_tensor_details():
        try:
            values[detail["index"]] = interpreter.get_tensor(detail["index"])
        except ValueError:  # no value (e.g. an optional input)
            pass
    return values


def _one_op_model(model, op, values):
    """(bytes of a model running only ``op``, its fed tensors' indices)."""
    graph = model.subgraphs[0]
    single = schema.SubGraphT()
    single.tensors, fed, index = [], [], {}
    for tensor_id in list(op.inputs) + list(op.outputs):
        if tensor_id < 0 or tensor_id in index:
            continue
        tensor = copy.copy(graph.tensors[tensor_id])
        constant = tensor.buffer and model.buffers[tensor.buffer].data is not None
        if values.get(tensor_id) is not None:
            tensor.shape = np.array(values[tensor_id].shape, np.int32)
            tensor.shapeSignature = None
        if not constant:
            tensor.buffer = 0
            if tensor_id in op.inputs:
                fed.append(tensor_id)
        index[tensor_id] = len(single.tensors)
        single.tensors.append(tensor)
    alone = copy.copy(op)
    alone.inputs = [index.get(t, -1) for t in op.inputs]
    alone.outputs = [index[t] for t in op.outputs]
    single.operators = [alone]
    single.inputs = [index[t] for t in fed]
    single.outputs = list(alone.outputs)
    one = copy.copy(model)
    one.subgraphs, one.signatureDefs = [single], []
    return bytes(flatbuffer_utils.convert_object_to_bytearray(one)), fed


def _cpu_ms(blob, fed, values):
    interpreter = Interpreter(model_content=blob, num_threads=1)
    for detail, tensor_id in zip(interpreter.get_input_details(), fed):
        interpreter.resize_tensor_input(detail["index"], values[tensor_id].shape)
    interpreter.allocate_tensors()
    for detail, tensor_id in zip(interpreter.get_input_details(), fed):
        interpreter.set_tensor(detail["index"], values[tensor_id])
    interpreter.invoke()
    started = time.process_time()
    for _ in range(FLAGS.repeats):
        interpreter.invoke()
    return 1e3 * (time.process_time() - started) / FLAGS.repeats


def main(argv):
    del argv
    clip = _clip()
    values = _tensor_values(FLAGS.tflite_file, clip)
    model = flatbuffer_utils.read_model(FLAGS.tflite_file)
    graph = model.subgraphs[0]
    rows, failed = [], []
    for position, op in enumerate(graph.operators):
        code = model.operatorCodes[op.opcodeIndex]
        name = _OP_NAMES.get(max(code.builtinCode, code.deprecatedBuiltinCode), "?")
        try:
            ms = _cpu_ms(*_one_op_model(model, op, values), values)
        except (RuntimeError, ValueError) as error:
            failed.append(f"#{position} {name}: {str(error)[:80]}")
            continue
        shapes = [tuple(values[t].shape) for t in op.inputs
                  if t >= 0 and values.get(t) is not None]
        rows.append((ms, position, name, shapes,
                     graph.tensors[op.outputs[0]].name.decode()[:60]))
    whole = Interpreter(model_path=FLAGS.tflite_file, num_threads=1).get_signature_runner(
        tflite.SIGNATURE)
    whole(waveform=clip)
    started = time.process_time()
    whole(waveform=clip)
    call_ms = 1e3 * (time.process_time() - started)
    print(f"{FLAGS.tflite_file}: {len(graph.operators)} ops; one call {call_ms:.0f} ms "
          f"CPU; the ops alone sum to {sum(r[0] for r in rows):.0f} ms")
    by_type = collections.Counter()
    for row in rows:
        by_type[row[2]] += row[0]
    print("by op type (ms): " + ", ".join(f"{name} {ms:.0f}"
                                          for name, ms in by_type.most_common(12)))
    for ms, position, name, shapes, output in sorted(rows, reverse=True)[:FLAGS.top]:
        print(f"{ms:7.1f} ms  #{position:<5d} {name:16s} {shapes}  {output}")
    if failed:
        print(f"{len(failed)} ops could not run alone: " + "; ".join(failed[:5]))


if __name__ == "__main__":
    app.run(main)
