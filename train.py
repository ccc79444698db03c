"""Train and cross-validate a genre classifier; write metrics and export the model.

    python train.py --flagfile=musicnn.flags                     # synthetic demo
    python train.py --flagfile=mlp.flags --data_dir=PATH/genres_original
    python train.py --flagfile=mlp.flags --features_csv=features_30_sec.csv

Outputs land in saved_models/<run_name>/: metrics.json, confusion_matrix.png, one folder
per split (history, TensorBoard logs, result.json) and saved_model/.

    TF_CONFIG=... python train.py --flagfile=mlp.flags --distribution=multi_worker ...

runs one worker of several (README, "On many machines"); only the chief writes outputs.
"""

import os

from genre_tf import console

console.import_tensorflow()  # first: keeps TF's C++ start-up noise out

from absl import flags  # noqa: E402
from absl import logging  # noqa: E402

from genre_tf import backbones, cli  # noqa: E402
from genre_tf import flags as project_flags  # noqa: E402
from genre_tf.training import distribute, experiment  # noqa: E402

flags.adopt_module_key_flags(project_flags)


RESUME_HINT = ("; rerun the same command to resume (finished splits are kept, the "
               "interrupted one goes on from its last backup)")


def main(argv):
    del argv
    run = cli.run_config()
    work = run.data.extraction
    if work.num_shards > 1:  # one extraction worker: nothing to train or write here
        experiment.extract_slice(run)
        print(f"extracted slice {work.shard_index} of {work.num_shards} into "
              f"{run.data.examples.cache_dir}; train without --num_shards once every "
              "slice is done")
        return
    distribution = distribute.Distribution(run.distribution)  # before any TF op runs
    logging.info("%s", distribution.describe())
    run = experiment.for_this_worker(run, distribution)
    folder = experiment.claim_run_folder(run)  # before flags.txt: it may refuse
    cli.write_flags_file(f"{run.output_dir}/flags.txt")
    result = experiment.run_experiment(run, folder, distribution)
    if result is None:
        print(f"{distribution.describe()}: done; the chief writes the results")
        return
    excerpt = result["excerpt_accuracy"]
    # The run folder's name (the flag file's --run_name by default), not the system's:
    # mlp.flags and mlp_plus.flags both run the mlp system.
    print(f"{os.path.basename(os.path.normpath(run.output_dir))}: song-level accuracy {result['mean_accuracy']:.4f} "
          f"± {result['std_accuracy']:.4f} over {len(result['splits'])} splits "
          f"(majority vote {result['votes']['majority']['mean_accuracy']:.4f})"
          + (f"; excerpts {excerpt['mean']:.4f} ± {excerpt['std']:.4f}" if excerpt else "")
          + f"; results in {run.output_dir}")


if __name__ == "__main__":
    console.run_command(main, configuration_errors=(
        ValueError, FileNotFoundError, backbones.BackboneUnavailableError),
        interrupted_hint=RESUME_HINT)
