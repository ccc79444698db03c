"""Scoring a trained head: whole test songs (by vote) and short excerpts of them.

Both go through ``ExampleSet.evaluation_dataset``, whose examples carry the song (or the
excerpt) they vote for, so the bookkeeping cannot drift from the data.
"""

import weakref

import numpy as np
import tensorflow as tf

from genre_tf.data import examples as examples_lib
from genre_tf.evaluation import metrics


# model -> its inference function: traced once per model, not once per call (a run
# scores songs and excerpts of every split on one model: ``training.compiled_heads``).
_PREDICT = weakref.WeakKeyDictionary()


def _predict_function(model):
    if model not in _PREDICT:
        held = weakref.ref(model)  # the function must not keep its model alive
        _PREDICT[model] = tf.function(lambda x: held()(x, training=False),
                                      reduce_retracing=True)
    return _PREDICT[model]


def predict_groups(model, dataset):
    """Class probabilities of every example of ``(x, label, group)`` batches.

    Returns:
      (probabilities ``[n, classes]``, labels ``[n]``, groups ``[n]``).
    """
    predict = _predict_function(model)
    probabilities, labels, groups = [], [], []
    for x, label, group in dataset:
        probabilities.append(predict(x).numpy())
        labels.append(label.numpy())
        groups.append(group.numpy())
    if not probabilities:
        return np.zeros((0, model.output_shape[-1])), np.zeros(0, int), np.zeros(0, int)
    return np.concatenate(probabilities), np.concatenate(labels), np.concatenate(groups)


def evaluate_songs(model, examples, songs, batch_size):
    """Song-level metrics of ``model`` on ``songs`` for each vote."""
    probabilities, _, groups = predict_groups(
        model, examples.evaluation_dataset(songs, batch_size))
    predicted = metrics.song_predictions(probabilities, groups, songs)
    truth = examples.song_labels[songs]
    return {vote: metrics.classification_metrics(truth, predicted[vote],
                                                 examples.class_names)
            for vote in metrics.VOTES}


def evaluate_excerpts(model, examples, songs, batch_size):
    """Accuracy on the evaluation excerpts of ``songs`` (each excerpt answered by the
    mean probability of its examples, as ``classify_waveform`` answers a snippet).

    Returns:
      ``{"accuracy", "per_class", "predicted_histogram", "n_excerpts"}``, or None when
      the run has no evaluation excerpts.
    """
    if not examples.excerpts_per_song:
        return None
    probabilities, _, groups = predict_groups(
        model, examples.evaluation_dataset(songs, batch_size, examples_lib.EVAL_EXCERPT))
    excerpt_ids = np.unique(groups)
    predicted = metrics.song_predictions(probabilities, groups,
                                         excerpt_ids)["mean_probability"]
    truth = examples.song_labels[examples.song_of_excerpt(excerpt_ids)]
    scored = metrics.classification_metrics(truth, predicted, examples.class_names)
    histogram = np.bincount(predicted, minlength=len(examples.class_names))
    return {"accuracy": scored["accuracy"],
            "per_class": {name: values["recall"]
                          for name, values in scored["per_class"].items()},
            "predicted_histogram": dict(zip(examples.class_names, histogram.tolist())),
            "n_excerpts": int(len(excerpt_ids))}
