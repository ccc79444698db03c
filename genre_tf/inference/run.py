"""A predict run: inputs in, records out, and an exit status a script can trust.

People script ``predict.py``, so the outcome is in the exit status (``exit_status``),
not only in the text: 1 when any input failed, with every other input still classified;
2 when ``--saved_model`` is not an export.

Records go to ``out`` (stdout); warnings and the failure count to ``err`` (stderr), one
line each, so ``--format=json`` output stays parseable.
"""

import sys

from genre_tf.inference import classify, exit_status, inputs, model, records


def _printer(stream):
    def warn(line):
        print(line, file=stream, flush=True)
    return warn


def run_inputs(export, paths, settings=classify.Settings(), output_format="text",
               out=None, err=None):
    """Classifies every input named by ``paths`` with a loaded export.

    Args:
      export: a ``model.Export``.
      paths: files and folders (searched recursively for audio).
      settings: ``classify.Settings``.
      output_format: one of ``records.FORMATS``.
      out, err: streams for records and for warnings (default stdout, stderr).

    Returns:
      ``exit_status.OK`` or ``exit_status.INPUT_FAILED``.
    """
    out = out or sys.stdout
    warn = _printer(err or sys.stderr)
    if export.info.synthetic_demo:
        warn(f"warning: {export.directory} was trained on the synthetic demo data; its "
             "answers say nothing about real music")
    writer = records.make_writer(output_format, out, settings.top_k, settings.timeline)
    found = inputs.collect_inputs(paths)
    failures = 0
    for item in found:
        record = (records.Record(item.path, error=item.problem) if item.problem
                  else classify.classify_file(export, item.path, settings, warn))
        failures += not record.ok
        writer.write(record)
    writer.close()
    if failures:
        warn(f"{failures} of {len(found)} inputs failed")
        return exit_status.INPUT_FAILED
    return exit_status.OK


def predict(saved_model, paths, settings=classify.Settings(), output_format="text",
            out=None, err=None):
    """Loads the export in ``saved_model`` and runs ``run_inputs``.

    Returns:
      An exit status: ``exit_status.USAGE`` (with one line on ``err``) when
      ``saved_model`` is not an export, else what ``run_inputs`` returns.
    """
    try:
        export = model.load_export(saved_model)
    except model.ExportError as error:
        _printer(err or sys.stderr)(f"--saved_model={saved_model}: {error}")
        return exit_status.USAGE
    return run_inputs(export, paths, settings, output_format, out, err)
