"""Song votes, metrics with hand-computed answers, and the MLP's train-only scaling."""

import numpy as np
import tensorflow as tf

from genre_tf.evaluation import metrics
from genre_tf.models import mlp
from genre_tf.training import trainer


class VoteTest(tf.test.TestCase):

    def test_mean_probability_and_majority_can_disagree(self):
        # Song 7: two weak votes for class 0, one confident vote for class 1.
        probs = np.array([[0.55, 0.45], [0.55, 0.45], [0.0, 1.0],   # song 7
                          [0.1, 0.9], [0.2, 0.8]])                  # song 3
        songs = np.array([7, 7, 7, 3, 3])
        result = metrics.song_predictions(probs, songs, [3, 7])
        self.assertAllEqual(result["majority"], [1, 0])
        self.assertAllEqual(result["mean_probability"], [1, 1])
        self.assertAllClose(result["probabilities"][1], [0.3667, 0.6333], atol=1e-4)

    def test_majority_tie_goes_to_higher_mean_probability(self):
        probs = np.array([[0.9, 0.1], [0.4, 0.6]])
        result = metrics.song_predictions(probs, np.array([0, 0]), [0])
        self.assertAllEqual(result["majority"], [0])

    def test_song_without_examples_is_an_error(self):
        with self.assertRaisesRegex(ValueError, "1 songs have no examples"):
            metrics.song_predictions(np.ones((1, 2)) / 2, np.array([0]), [0, 1])


class MetricsTest(tf.test.TestCase):

    def test_hand_computed_report(self):
        report = metrics.classification_metrics([0, 0, 1, 1, 2], [0, 1, 1, 1, 0],
                                                ["a", "b", "c"])
        self.assertAllClose(report["accuracy"], 0.6)
        self.assertAllClose(report["per_class"]["a"]["precision"], 0.5)
        self.assertAllClose(report["per_class"]["b"]["precision"], 2 / 3)
        self.assertAllClose(report["per_class"]["b"]["recall"], 1.0)
        self.assertAllClose(report["per_class"]["b"]["f1"], 0.8)
        self.assertEqual(report["per_class"]["c"]["f1"], 0.0)
        self.assertEqual(report["confusion_matrix"], [[1, 1, 0], [0, 2, 0], [1, 0, 0]])

    def test_summary_over_folds(self):
        folds = [{v: metrics.classification_metrics([0, 1], pred, ["a", "b"])
                  for v in metrics.VOTES} for pred in ([0, 1], [0, 0])]
        summary = metrics.summarize_folds(folds)
        self.assertAllClose(summary["mean_accuracy"], 0.75)
        self.assertAllClose(summary["std_accuracy"], 0.25)
        self.assertEqual(summary["confusion_matrix"], [[2, 0], [1, 1]])


class ModelAndScheduleTest(tf.test.TestCase):

    def test_mlp_width_and_train_only_standardisation(self):
        train = np.random.default_rng(0).normal(5.0, 2.0, size=(50, 30)).astype(np.float32)
        model = mlp.build_mlp(30, 10, train)
        self.assertEqual(model.get_layer("hidden").units, 20)  # mean(30, 10)
        self.assertEqual(model.output_shape, (None, 10))
        standardize = model.get_layer("standardize")
        self.assertAllClose(np.ravel(standardize.mean), train.mean(axis=0), rtol=1e-4)
        self.assertAllClose(np.ravel(standardize.variance), train.var(axis=0), rtol=1e-3)

    def test_step_decay(self):
        schedule = trainer.step_decay(1e-3, 10, 0.1)
        self.assertAllClose([schedule(0), schedule(9), schedule(10), schedule(25)],
                            [1e-3, 1e-3, 1e-4, 1e-5])


if __name__ == "__main__":
    tf.test.main()
