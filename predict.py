"""Name the genre of audio files and folders with an exported model.

    python predict.py --saved_model=saved_models/<run>/saved_model PATH [PATH ...]

PATHs are audio files or folders; folders are searched recursively for audio
(.wav .flac .ogg .mp3 .au .aif .aiff). Each file is decoded at the model's rate (from
model_info.json) and classified by the export; one record per file goes to stdout:

  --format=text  path: genre 0.97, genre 0.02, genre 0.01 (12.0 s)
                 or path: error: reason
  --format=json  one JSON list of objects: path, genres [{genre, probability}],
                 duration_seconds, filled, windows, error (and timeline)
  --format=csv   header row, then one row per file

"filled" says how input shorter than the model's minimum was filled (repeat, pad;
null when it was long enough). Input shorter than --min_seconds (0.5 s), or silent (no
sample above -90 dBFS), is not classified: its record says why. Files up to
--stream_above_seconds long are classified whole; longer ones in windows,
--batch_windows at a time, and the answer is the mean of the windows. --timeline adds
the top genre of each window. Warnings (short input, a model trained on the synthetic
demo data) go to stderr, one line each.

Exit status: 0 when every input was classified; 1 when any input failed (file not
found, is a directory, empty file, not a WAV file, cannot decode (...), no audio
samples, too short (...), silent (...); the other inputs are still classified and
reported); 2 for usage errors, including a --saved_model that is not a genre_tf export.
"""

import sys

from absl import flags

# Only modules free of TensorFlow here, so --helpshort and usage errors answer at once;
# main() imports TensorFlow (without its start-up noise) and the rest.
from genre_tf import console
from genre_tf.inference import exit_status, records

# --- The model ------------------------------------------------------------------------
flags.DEFINE_string("saved_model", None,
                    "Export folder: saved_models/<run>/saved_model (with "
                    "saved_model.pb and model_info.json).")
# --- Output ---------------------------------------------------------------------------
flags.DEFINE_enum("format", "text", records.FORMATS,
                  "Records on stdout: text lines, one JSON list, or CSV with a header.")
flags.DEFINE_integer("top_k", 3, "Genres reported per file, best first.", lower_bound=1)
flags.DEFINE_boolean("timeline", False,
                     "Also report the top genre of every window (start, end, genre, "
                     "probability).")
# --- Short and silent input ----------------------------------------------------------
flags.DEFINE_float("min_seconds", 0.5,
                   "Input shorter than this is reported as an error (too short), not "
                   "classified; from here up to the model's own minimum it is filled by "
                   "the model's short-clip policy. Silent input (no sample above -90 "
                   "dBFS) is always an error.", lower_bound=0.0)
# --- Long input -----------------------------------------------------------------------
flags.DEFINE_float("stream_above_seconds", 120.0,
                   "Files up to this long are classified whole by classify_waveform; "
                   "longer ones window by window, and the windows' mean is the answer.",
                   lower_bound=0.0)
flags.DEFINE_integer("batch_windows", 16,
                     "Windows per model call when streaming (memory: one batch).",
                     lower_bound=1)
flags.DEFINE_float("window_seconds", 3.0,
                   "Window of models that take whole clips (model_info.json "
                   "window_samples null); windowed models use their own.",
                   lower_bound=0.001)

FLAGS = flags.FLAGS

def main(argv):
    paths = argv[1:]
    if not FLAGS.saved_model or not paths:
        print("predict.py: give --saved_model=DIR and at least one audio file or folder "
              "(--helpshort for help)", file=sys.stderr)
        return exit_status.USAGE
    console.import_tensorflow()
    from genre_tf.inference import classify, run  # pylint: disable=import-outside-toplevel
    settings = classify.Settings(
        top_k=FLAGS.top_k, timeline=FLAGS.timeline, window_seconds=FLAGS.window_seconds,
        stream_above_seconds=FLAGS.stream_above_seconds, batch_windows=FLAGS.batch_windows,
        min_seconds=FLAGS.min_seconds)
    return run.predict(FLAGS.saved_model, paths, settings, FLAGS.format)


if __name__ == "__main__":
    console.run_command(main)
