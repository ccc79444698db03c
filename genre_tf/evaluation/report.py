"""Writes results where users look for them: metrics.json and confusion_matrix.png."""

import json

import numpy as np

from genre_tf import files


def write_json(path, payload):
    """Writes ``payload`` as indented JSON, atomically (a crash leaves no half file)."""
    files.write_atomically(
        path, (json.dumps(payload, indent=2, sort_keys=False) + "\n").encode())


def read_json(path):
    with open(path) as handle:
        return json.load(handle)


def plot_confusion_matrix(matrix, class_names, path, title):
    """Saves a row-normalised confusion matrix with counts in each cell as a PNG."""
    import matplotlib  # Imported here: plotting is the only use, and it is slow to load.
    matplotlib.use("Agg")
    from matplotlib import pyplot

    matrix = np.asarray(matrix)
    row_sums = np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    share = matrix / row_sums
    size = max(4.0, 0.55 * len(class_names) + 2)
    figure, axes = pyplot.subplots(figsize=(size + 1, size))
    image = axes.imshow(share, cmap="Blues", vmin=0.0, vmax=1.0)
    axes.set_xticks(range(len(class_names)), class_names, rotation=45, ha="right")
    axes.set_yticks(range(len(class_names)), class_names)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(title)
    for (i, j), count in np.ndenumerate(matrix):
        if count:
            axes.text(j, i, str(count), ha="center", va="center", fontsize=8,
                      color="white" if share[i, j] > 0.5 else "black")
    figure.colorbar(image, ax=axes, fraction=0.046, label="share of true class")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    pyplot.close(figure)
