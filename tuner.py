"""Search a system's head hyperparameters with KerasTuner; write them as a flag file.

    python tuner.py --flagfile=musicnn.flags --data_dir=PATH --max_trials=20
    python train.py --flagfile=musicnn.flags --data_dir=PATH \\
        --flagfile=saved_models/MSD_musicnn_tuning/best.flags

A trial is scored as train.py scores a run: song accuracy by vote, here averaged over
--inner_folds folds of the first split's train and valid songs (its test songs are never
seen); --tuner=hyperband uses one inner fold. Outputs land in
saved_models/<run_name>_tuning/; best.flags names the tuned run <run_name>_tuned, so it
does not write over the untuned run.

On many machines, start this same command everywhere with KerasTuner's variables:
KERASTUNER_ORACLE_IP and KERASTUNER_ORACLE_PORT (the chief's address) and
KERASTUNER_TUNER_ID=chief on one machine (it serves the trials and writes best.flags),
tuner0, tuner1... on the others (they run the trials).
"""

from genre_tf import console

console.import_tensorflow()  # first: keeps TF's C++ start-up noise out

import os  # noqa: E402
import sys  # noqa: E402

from absl import flags  # noqa: E402

from genre_tf import backbones, cli, systems  # noqa: E402
from genre_tf import flags as project_flags  # noqa: E402
from genre_tf.data import splits  # noqa: E402
from genre_tf.training import experiment, tuning, tuning_cluster  # noqa: E402

flags.adopt_module_key_flags(project_flags)
flags.DEFINE_enum("tuner", "random", list(tuning.TUNERS),
                  "KerasTuner search algorithm: random and bayesian score every trial on "
                  "every inner fold; hyperband trains many models briefly on the first "
                  "inner fold and continues the best.")
flags.DEFINE_integer("max_trials", 20, "Trials of random and bayesian search.",
                     lower_bound=1)
flags.DEFINE_integer("inner_folds", 3,
                     "Stratified folds of the tuning songs: a trial trains on all but "
                     "one, stops early on it and scores it, once per fold.",
                     lower_bound=2)
flags.DEFINE_integer("hyperband_max_epochs", 27,
                     "Most epochs --tuner=hyperband gives one model; it sizes its search "
                     "from this (--max_trials and --epochs do not apply to it).",
                     lower_bound=1)
FLAGS = flags.FLAGS


def tuning_config():
    return tuning.TuningConfig(FLAGS.tuner, FLAGS.max_trials, FLAGS.inner_folds,
                               FLAGS.hyperband_max_epochs, FLAGS.seed)


RESUME_HINT = "; rerun the same command to resume (finished trials are kept)"


def main(argv):
    del argv
    role = tuning_cluster.role_from_environment(os.environ)
    run = cli.run_config(run_name_suffix="_tuning")
    if run.distribution != "none":
        raise ValueError("--distribution is for train.py; tuner.py spreads trials over "
                         "machines with KerasTuner's KERASTUNER_* variables (see --help)")
    if run.data.extraction.num_shards > 1:
        raise ValueError("--num_shards is for train.py's extraction workers; tuner.py "
                         "tunes on a store they filled (same --cache_dir)")
    if role.writes_outputs:
        cli.write_flags_file(f"{run.output_dir}/flags.txt", extra_modules=[sys.argv[0]])
    system = systems.System(run.system)
    examples = experiment.build_examples(system, tuning.tuning_data(run.data))
    split = splits.make_splits(run.splits, examples.song_ids, examples.song_labels,
                               run.seed, examples.class_names)[0]
    best = tuning.tune(system, examples, tuning.tuning_songs(split), run.training,
                       tuning_config(), run.output_dir, role, overwrite=run.overwrite)
    if best is None:
        print(f"{role.tuner_id}: no trials left; the chief writes best.flags")
        return
    tuned_name = (FLAGS.run_name or cli.default_run_name(run.system, run.data)) + "_tuned"
    path = tuning.write_best_flags(os.path.join(run.output_dir, "best.flags"), best,
                                   tuned_name)
    print(f"best hyperparameters: {best}; flag file: {path} (run name {tuned_name})")


if __name__ == "__main__":
    console.run_command(main, configuration_errors=(
        ValueError, FileNotFoundError, backbones.BackboneUnavailableError),
        interrupted_hint=RESUME_HINT)
