"""Search a system's head hyperparameters with KerasTuner; write them as a flag file.

    python tuner.py --flagfile=musicnn.flags --data_dir=PATH --max_trials=20
    python train.py --flagfile=musicnn.flags --data_dir=PATH \\
        --flagfile=saved_models/MSD_musicnn_tuning/best.flags

The search uses the first split's training songs and scores on its validation songs;
test songs are never seen. Outputs land in saved_models/<run_name>_tuning/.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Keep TF's C++ start-up noise out.

from absl import app  # noqa: E402

from genre_tf import cli  # noqa: E402
from genre_tf.data import pipeline  # noqa: E402
from genre_tf.flags import FLAGS  # noqa: E402
from genre_tf.training import tuning  # noqa: E402


def main(argv):
    del argv
    system, _ = cli.set_up_run(run_name_suffix="_tuning")
    system.prepare(pipeline.DecodeReport())
    split = cli.split_maker()(system.song_ids, system.song_labels)[0]
    best = tuning.tune(system, split, cli.train_config(), FLAGS.output_dir,
                       FLAGS.max_trials, FLAGS.tuner, FLAGS.seed)
    print(f"best hyperparameters: {best}; flag file: "
          f"{os.path.join(FLAGS.output_dir, 'best.flags')}")


if __name__ == "__main__":
    app.run(main)
