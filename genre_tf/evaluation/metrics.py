"""Song-level predictions and classification metrics (NumPy, no sklearn needed).

A system may emit several examples per song (feature rows of 3 s segments, spectrogram
crops, embedding frames). A song's label is decided two ways, both reported:
``mean_probability`` (argmax of the average class probabilities) and ``majority``
(the most frequent example prediction; ties go to the higher mean probability).
"""

import numpy as np

VOTES = ("mean_probability", "majority")


def song_predictions(example_probs, example_song, songs):
    """Aggregates example probabilities into one prediction per song.

    Args:
      example_probs: float ``[examples, classes]``.
      example_song: int ``[examples]``, the song index of each example.
      songs: int ``[n]`` song indices to predict, in output order.

    Returns:
      dict vote name -> int ``[n]`` predicted class, plus ``"probabilities"``:
      float ``[n, classes]`` mean probabilities.
    """
    example_probs = np.asarray(example_probs)
    n_classes = example_probs.shape[1]
    mean_probs = np.zeros((len(songs), n_classes))
    votes = np.zeros((len(songs), n_classes))
    position = {song: i for i, song in enumerate(songs)}
    rows = np.asarray([position[s] for s in example_song])
    np.add.at(mean_probs, rows, example_probs)
    np.add.at(votes, rows, np.eye(n_classes)[example_probs.argmax(axis=1)])
    counts = np.bincount(rows, minlength=len(songs))[:, None]
    if np.any(counts == 0):
        raise ValueError(f"{int(np.sum(counts == 0))} songs have no examples")
    mean_probs /= counts
    return {
        "mean_probability": mean_probs.argmax(axis=1),
        "majority": (votes + 1e-3 * mean_probs).argmax(axis=1),
        "probabilities": mean_probs,
    }


def confusion_matrix(y_true, y_pred, n_classes):
    """Counts ``[true, predicted]``."""
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return matrix


def classification_metrics(y_true, y_pred, class_names):
    """Accuracy, per-class precision/recall/F1/support, macro F1 and the confusion matrix."""
    matrix = confusion_matrix(y_true, y_pred, len(class_names))
    true_positive = np.diag(matrix).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.nan_to_num(true_positive / matrix.sum(axis=0))
        recall = np.nan_to_num(true_positive / matrix.sum(axis=1))
        f1 = np.nan_to_num(2 * precision * recall / (precision + recall))
    per_class = {
        name: {"precision": float(p), "recall": float(r), "f1": float(f),
               "support": int(s)}
        for name, p, r, f, s in zip(class_names, precision, recall, f1, matrix.sum(axis=1))}
    return {
        "accuracy": float(true_positive.sum() / max(matrix.sum(), 1)),
        "macro_f1": float(f1.mean()),
        "per_class": per_class,
        "confusion_matrix": matrix.tolist(),
    }


def summarize_folds(fold_results):
    """Mean and std over folds of each vote's accuracy; summed confusion matrices.

    Args:
      fold_results: list of dicts ``{vote: classification_metrics(...)}``.

    Returns:
      dict with top-level ``mean_accuracy``/``std_accuracy`` (mean-probability vote,
      song level), the same per vote, and the confusion matrix summed over folds.
    """
    summary = {"votes": {}}
    for vote in VOTES:
        accuracies = np.asarray([fold[vote]["accuracy"] for fold in fold_results])
        summary["votes"][vote] = {
            "mean_accuracy": float(accuracies.mean()),
            "std_accuracy": float(accuracies.std()),
            "mean_macro_f1": float(np.mean([f[vote]["macro_f1"] for f in fold_results])),
            "accuracies": accuracies.tolist(),
        }
    summary["mean_accuracy"] = summary["votes"]["mean_probability"]["mean_accuracy"]
    summary["std_accuracy"] = summary["votes"]["mean_probability"]["std_accuracy"]
    summary["confusion_matrix"] = np.sum(
        [fold["mean_probability"]["confusion_matrix"] for fold in fold_results],
        axis=0).tolist()
    return summary


def summarize_excerpts(excerpt_results, class_names):
    """Mean and std over splits of excerpt accuracy, per-class recall averaged over
    splits, and the predicted-class histogram summed over splits.

    Args:
      excerpt_results: per split, ``evaluate.evaluate_excerpts`` output (or None).

    Returns:
      The summary dict, or None when no split scored excerpts.
    """
    results = [r for r in excerpt_results if r]
    if not results:
        return None
    accuracies = np.asarray([r["accuracy"] for r in results])
    histogram = np.sum([[r["predicted_histogram"][c] for c in class_names]
                        for r in results], axis=0)
    total = max(int(histogram.sum()), 1)
    return {
        "mean": float(accuracies.mean()),
        "std": float(accuracies.std()),
        "accuracies": accuracies.tolist(),
        "per_class": {c: float(np.mean([r["per_class"][c] for r in results]))
                      for c in class_names},
        "predicted_histogram": dict(zip(class_names, histogram.tolist())),
        # The most-answered genre's share over a uniform share: 1.0 is balanced; a
        # model that collapses onto one genre shows it here.
        "max_share_ratio": float(histogram.max() / total * len(class_names)),
        "n_excerpts": int(sum(r["n_excerpts"] for r in results)),
    }
