"""Name the genre of audio files with an exported model.

    python predict.py --saved_model=saved_models/MSD_musicnn/saved_model song.mp3 ...

Each file is decoded at the model's rate (from model_info.json) and passed to the
model's ``classify_waveform`` endpoint, which runs the whole front end; the top genres
are printed with their probabilities. A file that cannot be decoded is reported and
skipped.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Keep TF's C++ start-up noise out.

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from absl import app, logging  # noqa: E402

from genre_tf.audio import decode  # noqa: E402
from genre_tf.export import saved_model  # noqa: E402
from genre_tf.flags import FLAGS  # noqa: E402


def main(argv):
    paths = argv[1:]
    if not FLAGS.saved_model or not paths:
        raise app.UsageError("usage: predict.py --saved_model=DIR AUDIO_FILE [...]")
    info = saved_model.read_model_info(FLAGS.saved_model)
    model = tf.saved_model.load(FLAGS.saved_model)  # keep a reference while calling
    failures = 0
    for path in paths:
        try:
            waveform = decode.read_waveform(path, info["sample_rate"])
        except decode.DecodeError as error:
            logging.warning("%s: %s; skipped", path, error)
            failures += 1
            continue
        probabilities = model.classify_waveform(tf.constant(waveform))["probabilities"]
        probabilities = np.asarray(probabilities)[0]
        best = np.argsort(probabilities)[::-1][:FLAGS.top_k]
        ranked = ", ".join(f"{info['class_names'][i]} {probabilities[i]:.2f}" for i in best)
        print(f"{path}: {ranked}")
    return 1 if failures == len(paths) else 0


if __name__ == "__main__":
    app.run(main)
