"""Search a system's head hyperparameters with KerasTuner; write them as a flag file.

    python tuner.py --flagfile=musicnn.flags --data_dir=PATH --max_trials=20
    python train.py --flagfile=musicnn.flags --data_dir=PATH \\
        --flagfile=saved_models/MSD_musicnn_tuning/best.flags

The search uses the first split's training songs and scores on its validation songs;
test songs are never seen. Outputs land in saved_models/<run_name>_tuning/.
"""

from genre_tf import console

console.import_tensorflow()  # first: keeps TF's C++ start-up noise out

import sys  # noqa: E402

from absl import flags  # noqa: E402

from genre_tf import cli, systems  # noqa: E402
from genre_tf import flags as project_flags  # noqa: E402
from genre_tf.data import splits  # noqa: E402
from genre_tf.training import experiment, tuning  # noqa: E402

flags.adopt_module_key_flags(project_flags)
flags.DEFINE_integer("max_trials", 20, "KerasTuner trials.")
flags.DEFINE_enum("tuner", "random", ["random", "bayesian"], "KerasTuner search algorithm.")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    run = cli.run_config(run_name_suffix="_tuning")
    cli.write_flags_file(f"{run.output_dir}/flags.txt", extra_modules=[sys.argv[0]])
    system = systems.System(run.system)
    examples = experiment.build_examples(system, run.data)
    split = splits.make_splits(run.splits, examples.song_ids, examples.song_labels,
                               run.seed)[0]
    best = tuning.tune(system, examples, split, run.training, run.output_dir,
                       FLAGS.max_trials, FLAGS.tuner, run.seed)
    print(f"best hyperparameters: {best}; flag file: {run.output_dir}/best.flags")


if __name__ == "__main__":
    console.run_command(main, configuration_errors=(ValueError, FileNotFoundError))
