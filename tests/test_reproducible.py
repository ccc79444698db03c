"""The same seed on the same data gives the same numbers, to the last bit.

train.py runs twice on tones it writes (three well separated "genres", see
``fixtures.write_tone_genres``), each run computing its own features into its own cache
and output folder. The metrics.json numbers must agree exactly; so must every split's
history.csv, whose losses to 16 digits would show any difference in initialisation,
shuffling or arithmetic that accuracies on a few test songs can hide.
"""

import json
import os
import shutil
import tempfile

import pytest
import tensorflow as tf

from tests import fixtures

SPLITS = ("split_0", "split_1")


def _train(data, work, name):
    """Runs train.py into ``work/name``; returns its metrics.json and its splits'
    history.csv texts."""
    output = os.path.join(work, name)
    fixtures.run_train(
        "--flagfile=mlp.flags", "--window_sizes=512,1024", "--learning_rate=0.001",
        "--epochs=5", "--patience=3", f"--folds={len(SPLITS)}", "--log_every_epochs=0",
        "--final_fit=false", "--seed=3", f"--data_dir={data}", f"--output_dir={output}",
        f"--cache_dir={os.path.join(work, name + '_cache')}")
    with open(os.path.join(output, "metrics.json")) as handle:
        metrics = json.load(handle)
    histories = {}
    for split in SPLITS:
        with open(os.path.join(output, split, "history.csv")) as handle:
            histories[split] = handle.read()
    return metrics, histories


def _numbers(metrics):
    """What training and evaluation produced; the rest names folders, flags, wall time."""
    splits = [{k: v for k, v in split.items() if k != "seconds"}
              for split in metrics["splits"]]
    return {"splits": splits, **{k: metrics[k] for k in (
        "mean_accuracy", "std_accuracy", "confusion_matrix", "excerpt_accuracy", "votes")}}


@pytest.mark.slow
class ReproducibleTest(tf.test.TestCase):

    def test_same_seed_same_data_same_numbers(self):
        work = tempfile.mkdtemp(prefix="genre_tf_repro_")
        self.addCleanup(shutil.rmtree, work, ignore_errors=True)
        data = fixtures.write_tone_genres(os.path.join(work, "data"))
        (first, first_histories), (second, second_histories) = (
            _train(data, work, "first"), _train(data, work, "second"))
        self.assertLen(first["splits"], len(SPLITS))
        self.assertEqual(_numbers(first), _numbers(second))
        for split in SPLITS:
            self.assertEqual(len(first_histories[split].splitlines()), 1 + 5)  # all epochs
            self.assertEqual(first_histories[split], second_histories[split], split)


if __name__ == "__main__":
    tf.test.main()
