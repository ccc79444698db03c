"""Scoring heads on songs and excerpts, with a model whose answers the test sets, and
the summary of excerpt results over splits."""

import keras
import numpy as np
import tensorflow as tf

from genre_tf.data import examples
from genre_tf.evaluation import evaluate, metrics

CLASSES = ["a", "b"]


def _softmax_of_input():
    """A head whose probabilities are softmax(x): a Dense layer set to the identity."""
    inputs = keras.Input((2,))
    dense = keras.layers.Dense(2, activation="softmax")
    model = keras.Model(inputs, dense(inputs))
    dense.set_weights([np.eye(2, dtype=np.float32), np.zeros(2, np.float32)])
    return model


def _hand_made_examples(excerpts_per_song=2):
    """Three songs (labels a, b, b), each with a song row and two evaluation excerpts.

    Excerpt answers (softmax of the rows, averaged over an excerpt's rows):
      song 0 (a): excerpt 0 -> a; excerpt 1 (rows [0, 5], [1, 0]) -> mean (0.37, 0.63): b
      song 1 (b): excerpt 0 -> b; excerpt 1 -> b
      song 2 (b): excerpt 0 -> a; excerpt 1 (rows [3, 0], [0, 4], [0, 4]) -> b
    The song rows all answer b, and two are wrong with the excerpts' labels: they must
    not be counted as excerpts.
    """
    song, eval_excerpt = examples.SONG, examples.EVAL_EXCERPT
    rows = [  # (features, song, segment, part)
        ([0, 9], 0, song, -1), ([0, 9], 1, song, -1), ([0, 9], 2, song, -1),
        ([5, 0], 0, eval_excerpt, 0),
        ([0, 5], 0, eval_excerpt, 1), ([1, 0], 0, eval_excerpt, 1),
        ([0, 2], 1, eval_excerpt, 0),
        ([1, 3], 1, eval_excerpt, 1),
        ([4, 1], 2, eval_excerpt, 0),
        ([3, 0], 2, eval_excerpt, 1), ([0, 4], 2, eval_excerpt, 1),
        ([0, 4], 2, eval_excerpt, 1),
    ]
    features, row_song, row_segment, row_part = map(list, zip(*rows))
    return examples.RowExamples(features, row_song, row_segment, row_part,
                                ["s0", "s1", "s2"], [0, 1, 1], CLASSES,
                                excerpts_per_song=excerpts_per_song)


class EvaluateExcerptsTest(tf.test.TestCase):

    def setUp(self):
        super().setUp()
        self.model = _softmax_of_input()
        self.examples = _hand_made_examples()

    def test_excerpts_of_every_song(self):
        result = evaluate.evaluate_excerpts(self.model, self.examples, [0, 1, 2],
                                            batch_size=2)
        self.assertEqual(result["n_excerpts"], 6)
        self.assertAllClose(result["accuracy"], 4 / 6)
        self.assertEqual(result["predicted_histogram"], {"a": 2, "b": 4})
        self.assertAllClose(result["per_class"], {"a": 0.5, "b": 0.75})

    def test_excerpts_of_some_songs(self):
        result = evaluate.evaluate_excerpts(self.model, self.examples, [1, 2],
                                            batch_size=3)
        self.assertEqual(result["n_excerpts"], 4)
        self.assertAllClose(result["accuracy"], 3 / 4)
        self.assertEqual(result["predicted_histogram"], {"a": 1, "b": 3})
        self.assertAllClose(result["per_class"], {"a": 0.0, "b": 0.75})

    def test_the_batch_size_does_not_change_the_answer(self):
        for batch_size in (1, 4, 64):
            with self.subTest(batch_size=batch_size):
                result = evaluate.evaluate_excerpts(self.model, self.examples, [0, 2],
                                                    batch_size)
                self.assertAllClose(result["accuracy"], 2 / 4)
                self.assertEqual(result["predicted_histogram"], {"a": 2, "b": 2})

    def test_no_excerpts_no_result(self):
        self.assertIsNone(evaluate.evaluate_excerpts(
            self.model, _hand_made_examples(excerpts_per_song=0), [0, 1, 2], 2))

    def test_songs_are_scored_from_song_rows_only(self):
        result = evaluate.evaluate_songs(self.model, self.examples, [0, 1, 2], 2)
        for vote in metrics.VOTES:
            self.assertAllClose(result[vote]["accuracy"], 2 / 3)  # all answered b
            self.assertEqual(result[vote]["confusion_matrix"], [[0, 1], [0, 2]])


class SummarizeExcerptsTest(tf.test.TestCase):

    def test_mean_std_histogram_and_balance_over_splits(self):
        first = {"accuracy": 0.5, "per_class": {"a": 1.0, "b": 0.0},
                 "predicted_histogram": {"a": 4, "b": 0}, "n_excerpts": 4}
        second = {"accuracy": 1.0, "per_class": {"a": 1.0, "b": 1.0},
                  "predicted_histogram": {"a": 2, "b": 2}, "n_excerpts": 4}
        summary = metrics.summarize_excerpts([first, None, second], CLASSES)
        self.assertAllClose(summary["mean"], 0.75)
        self.assertAllClose(summary["std"], 0.25)
        self.assertAllClose(summary["accuracies"], [0.5, 1.0])
        self.assertAllClose(summary["per_class"], {"a": 1.0, "b": 0.5})
        self.assertEqual(summary["predicted_histogram"], {"a": 6, "b": 2})
        # "a" answered 6 of 8 times against a uniform share of 4 of 8.
        self.assertAllClose(summary["max_share_ratio"], 1.5)
        self.assertEqual(summary["n_excerpts"], 8)

    def test_balanced_answers_have_ratio_one(self):
        result = {"accuracy": 0.25, "per_class": {"a": 0.5, "b": 0.0},
                  "predicted_histogram": {"a": 3, "b": 3}, "n_excerpts": 6}
        summary = metrics.summarize_excerpts([result], CLASSES)
        self.assertAllClose(summary["max_share_ratio"], 1.0)
        self.assertAllClose(summary["std"], 0.0)

    def test_no_split_with_excerpts(self):
        self.assertIsNone(metrics.summarize_excerpts([None, None], CLASSES))
        self.assertIsNone(metrics.summarize_excerpts([], CLASSES))


if __name__ == "__main__":
    tf.test.main()
