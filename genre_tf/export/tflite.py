"""TFLite export of the ``classify_waveform`` endpoint, for apps on phones.

The endpoint carries the whole front end (STFT, mel, statistics, musicnn...), so an app
feeds raw audio. It is traced a second time, inside ``lite_ops.builtin_ops()``, into a
temporary SavedModel (on TF 2.16 conversion works from a SavedModel, not from a Keras
model): FFTs become RFFT2D or matmul DFTs, and slices and frames become builtins that
TFLite runs fast (``lite_ops``), so the mlp, cnn and musicnn files use TFLite builtin
ops only and run in the edge runtime (``ai-edge-litert``) without the Flex delegate.
There the cnn and musicnn files cost about the SavedModel's CPU time or less, the mlp
file ~1.5x (RFFT2D and TOPK_V2 are most of it; ``bench/predict.py``,
``bench/tflite_ops.py``, README). Ops that still lack
a builtin (the ``phase`` spectrogram's complex angle, a TF-Hub backbone's) fall back to
SELECT_TF_OPS, and the export logs their names: such a file needs the Flex delegate.

Quantisation (``QUANTIZATIONS``): ``float16`` stores the large constants (weights,
filter banks, DFT matrices) as float16, about half the size, and computes in float32:
its answers equal the float file's (``tests/export/test_tflite.py``); small constants
and vectors (the STFT windows) stay float32 (``float16.py`` says why, and why the
converter's own float16 option breaks the front ends). ``dynamic_range`` (8-bit weights, ~4x smaller) also quantises the front
end's filter banks and DFT matrices: TF 2.16 cannot exempt single ops, and it was seen
to flip answers of the feature-statistics model: check it on your own audio first.
"""

import os
import re
import tempfile

import tensorflow as tf
from absl import logging
from tensorflow.core.protobuf import saved_model_pb2

from genre_tf.export import endpoints, float16, lite_ops, saved_model

TFLITE_FILE = "model.tflite"
SIGNATURE = "classify_waveform"


def _dynamic_range(converter):
    converter.optimizations = [tf.lite.Optimize.DEFAULT]


def _float32(converter):
    del converter


# Name -> (how it sets up the converter, how it rewrites the converted bytes);
# None: float32.
QUANTIZATIONS = {None: (_float32, bytes),
                 "float16": (_float32, float16.quantize_large_constants),
                 "dynamic_range": (_dynamic_range, bytes)}


def flex_ops(blob):
    """Names of the TF ops a TFLite file runs through the Flex delegate (sorted)."""
    return sorted({name.decode() for name in re.findall(rb"Flex([A-Z][A-Za-z0-9]*)",
                                                         blob)})


def _signature_names(saved_model_dir):
    """The signatures of a SavedModel, read from its ``saved_model.pb`` alone: loading
    it (musicnn's functions and variables) to look took seconds of the export, and the
    converter loads it again anyway."""
    proto = saved_model_pb2.SavedModel()
    with open(os.path.join(saved_model_dir, "saved_model.pb"), "rb") as handle:
        proto.ParseFromString(handle.read())
    return {name for graph in proto.meta_graphs for name in graph.signature_def
            if not name.startswith("__")}  # not the loader's own __saved_model_init_op


def convert(saved_model_dir, signature=SIGNATURE, quantization=None):
    """One signature of a SavedModel as TFLite bytes; builtin ops where they exist.

    Raises:
      ValueError: unknown ``quantization``, or no such signature.
    """
    if quantization not in QUANTIZATIONS:
        raise ValueError(f"unknown TFLite quantization {quantization!r}; choose from "
                         f"{sorted(q for q in QUANTIZATIONS if q)} or None")
    signatures = _signature_names(saved_model_dir)
    if signature not in signatures:
        raise ValueError(f"{saved_model_dir} has no signature {signature!r}; it has "
                         f"{sorted(signatures)}")
    converter = tf.lite.TFLiteConverter.from_saved_model(saved_model_dir,
                                                         signature_keys=[signature])
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS,
                                           tf.lite.OpsSet.SELECT_TF_OPS]
    set_up, rewrite = QUANTIZATIONS[quantization]
    set_up(converter)
    return rewrite(converter.convert())


def export_tflite(model, frontend, policy, class_names, output_path, quantization=None):
    """Writes ``classify_waveform`` of ``model`` behind ``frontend`` as TFLite.

    Args:
      model: the trained head.
      frontend: its (loaded) front end.
      policy: the short-clip policy (``genre_tf.audio.fill``).
      class_names: label of each output index.
      output_path: the ``.tflite`` file to write.
      quantization: a key of ``QUANTIZATIONS``.

    Returns:
      ``output_path``.
    """
    function, signature = endpoints.waveform_endpoints(frontend, model, policy)[SIGNATURE]
    with tempfile.TemporaryDirectory(prefix="genre_tf_tflite_") as folder:
        with lite_ops.builtin_ops():
            saved_model.write_signature(folder, SIGNATURE, function, signature,
                                        class_names, frontend.trackables())
        blob = convert(folder, SIGNATURE, quantization)
    with open(output_path, "wb") as handle:
        handle.write(blob)
    flex = flex_ops(blob)
    if flex:
        logging.warning("%s needs the TFLite Flex delegate for %s", output_path,
                        ", ".join(flex))
    logging.info("Wrote %s (%.1f MB, %s, %s)", output_path, len(blob) / 2 ** 20,
                 quantization or "float32", "Flex ops" if flex else "builtin ops only")
    return output_path


def export_tflite_or_warn(model, frontend, policy, class_names, output_dir,
                          quantization=None):
    """``export_tflite`` to ``<output_dir>/model.tflite`` that logs, rather than raises,
    a failure: the SavedModel is the main product of a run."""
    path = os.path.join(output_dir, TFLITE_FILE)
    try:
        return export_tflite(model, frontend, policy, class_names, path, quantization)
    except Exception as error:  # pylint: disable=broad-except
        logging.warning("TFLite export to %s failed (%s); the SavedModel is unaffected",
                        path, str(error).strip().splitlines()[0][:300])
        return None
