"""Export of a run's final model: the SavedModel (with ``classify_waveform``,
``classify_windows`` and ``serve``), ``model_info.json`` and the TFLite file."""

import os

from absl import logging

from genre_tf import console
from genre_tf.export import endpoints, saved_model, tflite

SAVED_MODEL_DIR = "saved_model"


def export_run(model, system, examples, run):
    """Writes ``<output_dir>/saved_model`` (and ``model.tflite``); returns its path.

    A run on a features CSV exports only ``serve``: features of a foreign table cannot
    be computed from audio.
    """
    policy = run.data.examples.short_clips
    frontend = system.frontend
    extra, trackables, info = {}, [], {"system": system.describe(),
                                       "synthetic_demo": run.data.synthetic_demo}
    if frontend is not None:
        frontend.load()
        extra = endpoints.waveform_endpoints(frontend, model, policy)
        trackables = frontend.trackables()
        info = endpoints.model_info(frontend, policy, run.data.synthetic_demo,
                                    system.describe(), system.run_name())
    with console.quiet_export():
        export_dir = saved_model.export_saved_model(
            model, os.path.join(run.output_dir, SAVED_MODEL_DIR), examples.class_names,
            extra, trackables, info=info)
    logging.info("Exported SavedModel to %s", export_dir)
    if run.export.tflite and frontend is not None:
        with console.quiet_export():
            tflite.export_tflite_or_warn(
                model, frontend, policy, examples.class_names, run.output_dir,
                "float16" if run.export.tflite_quantize else None)
    return export_dir


def written_files(run, export_dir):
    """The files whose presence says ``export_run`` finished: the SavedModel's
    ``model_info.json`` (written last) and ``model.tflite`` where one was written (a
    failed TFLite conversion only warns)."""
    files = [os.path.join(export_dir, saved_model.INFO_FILE)]
    lite = os.path.join(run.output_dir, tflite.TFLITE_FILE)
    if run.export.tflite and os.path.isfile(lite):
        files.append(lite)
    return files
