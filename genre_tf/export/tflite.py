"""TFLite export of a SavedModel endpoint, for apps on phones.

Converts from the SavedModel that ``saved_model.export_saved_model`` wrote (on TF 2.16
conversion works from such a SavedModel, not from a Keras model directly). The
``classify_waveform`` endpoint carries the whole front end (STFT, mel, statistics...),
so an app feeds raw audio; its few ops without a TFLite builtin (RFFT of non-power-of-two
sizes, some reductions) run through SELECT_TF_OPS (the Flex delegate). The unquantised
model gives the SavedModel's probabilities to float precision. ``quantize`` (dynamic
range, 8-bit constants, ~4x smaller) also quantises the front end's filter banks and DCT
matrices, and was seen to flip predictions of the feature-statistics model: check it on
your own audio before shipping it.
"""

import os

import tensorflow as tf
from absl import logging

TFLITE_FILE = "model.tflite"


def export_tflite(saved_model_dir, output_path, signature="classify_waveform",
                  quantize=False):
    """Converts one signature of a SavedModel; returns ``output_path``.

    Raises:
      ValueError: the SavedModel has no such signature.
    """
    loaded = tf.saved_model.load(saved_model_dir)
    if signature not in loaded.signatures:
        raise ValueError(f"{saved_model_dir} has no signature {signature!r}; it has "
                         f"{sorted(loaded.signatures)}")
    converter = tf.lite.TFLiteConverter.from_saved_model(saved_model_dir,
                                                         signature_keys=[signature])
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS,
                                           tf.lite.OpsSet.SELECT_TF_OPS]
    if quantize:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    blob = converter.convert()
    with open(output_path, "wb") as handle:
        handle.write(blob)
    logging.info("Wrote %s (%.1f MB, signature %s)", output_path, len(blob) / 2 ** 20,
                 signature)
    return output_path


def export_tflite_or_warn(saved_model_dir, output_dir, quantize=False):
    """``export_tflite`` of ``classify_waveform`` that logs, rather than raises, a
    failure: the SavedModel is the main product of a run."""
    path = os.path.join(output_dir, TFLITE_FILE)
    try:
        return export_tflite(saved_model_dir, path, quantize=quantize)
    except Exception as error:  # pylint: disable=broad-except
        logging.warning("TFLite export of %s failed (%s); the SavedModel is unaffected",
                        saved_model_dir, str(error).strip().splitlines()[0][:300])
        return None
