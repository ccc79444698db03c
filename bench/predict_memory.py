"""Peak memory of predict on an hour of audio: bounded by the waveform, not the windows.

    python bench/predict_memory.py [--saved_model=DIR] [--minutes=60] [--batch_windows=16]

Writes a synthetic recording to a temp folder (a tone that changes pitch every 20 s,
plus noise; 16-bit WAV at the model's rate, so no resampling muddies the number; written
a block at a time, so writing costs no memory), warms predict up on a short clip, then
runs it on the recording in this process and prints the growth of peak RSS over the warm
process, the decoded waveform's size, their ratio, and the seconds taken. Without
``--saved_model`` it uses ``genre_tf.inference.reference_export``: 3 s windows hopping
``--hop_seconds`` at 16 kHz. Were all windows materialised at a 1.5 s hop they alone
would take twice the waveform; streamed, the growth is the decoder's (file bytes plus a
float copy or two) and one batch.

Standalone: it defines its own flags and does not import bench/common.py; its helpers
(``write_recording``, ``measure``) are importable, and tests use them.
"""

import io
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from genre_tf import console  # noqa: E402

console.import_tensorflow()  # first: keeps TF's C++ start-up noise out

import numpy as np  # noqa: E402
import soundfile  # noqa: E402
from absl import app, flags  # noqa: E402

from genre_tf.inference import classify, model, reference_export, run  # noqa: E402

FLAGS = flags.FLAGS

_PITCHES_HZ = (150.0, 700.0, 3000.0)  # one per reference class: low, mid, high
_SEGMENT_SECONDS = 20  # each pitch lasts this long, then the next
_BLOCK_SECONDS = 10  # written at a time (divides the segment)


def write_recording(path, seconds, sample_rate):
    """Writes ``seconds`` of changing tones as 16-bit WAV, a block at a time."""
    rng = np.random.default_rng(0)
    block = _BLOCK_SECONDS * sample_rate
    with soundfile.SoundFile(path, "w", sample_rate, 1, "PCM_16") as handle:
        for first in range(0, int(seconds * sample_rate), block):
            n = min(block, int(seconds * sample_rate) - first)
            pitch = _PITCHES_HZ[(first // (_SEGMENT_SECONDS * sample_rate)) % 3]
            t = (first + np.arange(n)) / sample_rate
            handle.write(0.5 * np.sin(2 * np.pi * pitch * t)
                         + 0.02 * rng.standard_normal(n))
    return path


def _status_kb(field):
    """A ``/proc/self/status`` field (VmRSS: now, VmHWM: peak) in kB."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def _reset_peak():
    """Restarts the peak RSS count where Linux allows it (else the growth measured is
    an overestimate: the peak so far minus the current RSS)."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        pass


def measure(export, path, settings):
    """(peak RSS growth in bytes, seconds, the JSON record) of predict on ``path``."""
    out = io.StringIO()
    before = _status_kb("VmRSS")
    _reset_peak()
    started = time.perf_counter()
    run.run_inputs(export, [path], settings, "json", out=out)
    seconds = time.perf_counter() - started
    return (_status_kb("VmHWM") - before) * 1024, seconds, out.getvalue()


def main(argv):
    del argv
    folder = tempfile.mkdtemp(prefix="predict_memory_")
    try:
        saved_model = FLAGS.saved_model
        if not saved_model:
            with console.quiet_export():
                saved_model = reference_export.write_reference_export(
                    os.path.join(folder, "export"), hop_seconds=FLAGS.hop_seconds)
        export = model.load_export(saved_model)
        rate = export.info.sample_rate
        settings = classify.Settings(batch_windows=FLAGS.batch_windows)
        warm_up = write_recording(os.path.join(folder, "warm_up.wav"), 30, rate)
        run.run_inputs(export, [warm_up], classify.Settings(stream_above_seconds=0),
                       "json", out=io.StringIO())
        path = write_recording(os.path.join(folder, "recording.wav"), FLAGS.minutes * 60,
                               rate)
        growth, seconds, record = measure(export, path, settings)
        waveform_bytes = int(FLAGS.minutes * 60 * rate) * 4
        print(f"audio: {FLAGS.minutes:.1f} min at {rate} Hz "
              f"({os.path.getsize(path) / 1e6:.1f} MB as 16-bit WAV)")
        print(f"waveform: {waveform_bytes / 1e6:.1f} MB (float32)")
        print(f"peak RSS growth: {growth / 1e6:.1f} MB = "
              f"{growth / waveform_bytes:.2f} x the waveform")
        print(f"seconds: {seconds:.1f}")
        print("record:", " ".join(record.split()))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _define_flags():
    """Flags exist only when this runs as a script, so a test can import the helpers
    beside commands that define flags of the same names."""
    flags.DEFINE_string("saved_model", None,
                        "Export to measure; default: a reference export in the temp "
                        "folder.")
    flags.DEFINE_float("minutes", 60.0, "Length of the synthetic recording.")
    flags.DEFINE_float("hop_seconds", 1.5, "Window hop of the reference export.")
    flags.DEFINE_integer("batch_windows", 16, "Windows per model call.")


if __name__ == "__main__":
    _define_flags()
    app.run(main)
