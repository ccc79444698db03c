"""Train and cross-validate a genre classifier; write metrics and export the model.

    python train.py --flagfile=mlp.flags                         # synthetic demo
    python train.py --flagfile=mlp.flags --data_dir=PATH/genres_original
    python train.py --flagfile=mlp.flags --features_csv=features_30_sec.csv

Outputs land in saved_models/<run_name>/: metrics.json, confusion_matrix.png, one folder
per split (history, TensorBoard logs, result.json) and saved_model/.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Keep TF's C++ start-up noise out.

from absl import app

from genre_tf import cli
from genre_tf.flags import FLAGS
from genre_tf.training import experiment


def main(argv):
    del argv
    system, run_info = cli.set_up_run()
    FLAGS.append_flags_into_file(os.path.join(FLAGS.output_dir, "flags.txt"))
    result = experiment.run_experiment(
        system, cli.split_maker(), cli.train_config(), FLAGS.output_dir, FLAGS.seed,
        FLAGS.final_fit, FLAGS.validation_fraction, run_info, FLAGS.tflite,
        FLAGS.tflite_quantize)
    print(f"{system.name}: song-level accuracy {result['mean_accuracy']:.4f} "
          f"± {result['std_accuracy']:.4f} over {len(result['splits'])} splits "
          f"(majority vote {result['votes']['majority']['mean_accuracy']:.4f}); "
          f"results in {FLAGS.output_dir}")


if __name__ == "__main__":
    app.run(main)
