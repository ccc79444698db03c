"""Draws a run's learning curves and prints where each split's early stopping landed.

    python bench/learning_curves.py saved_models/cnn_plus [more run folders...]

Why: a head that overfits (train accuracy climbing, validation flat) and one that
underfits (both flat) end at the same song accuracy; only the curves tell them apart,
and they say whether more epochs, more regularisation or a smaller network is the next
thing to try. Each split's ``history.csv`` (the trainer's ``CSVLogger``, one row per
epoch, in ``<run>/split_k/``; ``final/`` too when present) gives train and validation
loss and accuracy per epoch. Writes ``<run>/learning_curves.png`` (loss and accuracy,
one colour per split, train solid and validation dashed) and prints one line per split:
epochs run, the best epoch (lowest validation loss: the weights early stopping
restores), train and validation accuracy there, and the split's song accuracy from its
``result.json`` when it has one.

Reads CSV and JSON only: no TensorFlow, so it runs in a second while a run trains.
"""

import csv
import glob
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)

PNG_NAME = "learning_curves.png"
CURVES = ("loss", "accuracy")


def read_history(path):
    """{column: [value per epoch]} of a ``history.csv``, epochs in order. A fit resumed
    from its backup may have written an epoch twice: the later row wins. Keras'
    ``CSVLogger`` writes ``NA`` for a metric an epoch did not have (a refit's
    validation columns): left out, as empty cells are."""
    by_epoch = {}
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            by_epoch[int(row["epoch"])] = {k: float(v) for k, v in row.items()
                                           if k != "epoch" and v not in ("", "NA", None)}
    epochs = sorted(by_epoch)
    columns = sorted({k for row in by_epoch.values() for k in row})
    history = {"epoch": epochs}
    for column in columns:
        history[column] = [by_epoch[e].get(column, float("nan")) for e in epochs]
    return history


def best_epoch_summary(history):
    """Where early stopping restores (lowest ``val_loss``; the last epoch without
    validation): {epochs, best_epoch (1-based), train_accuracy, val_accuracy, val_loss}."""
    epochs = history["epoch"]
    if not epochs:
        return {"epochs": 0}
    losses = history.get("val_loss")
    best = (min(range(len(epochs)), key=lambda i: losses[i]) if losses
            else len(epochs) - 1)
    pick = lambda name: history[name][best] if name in history else None  # noqa: E731
    return {"epochs": len(epochs), "best_epoch": epochs[best] + 1,
            "train_accuracy": pick("accuracy"), "val_accuracy": pick("val_accuracy"),
            "val_loss": pick("val_loss")}


def split_folders(run_dir):
    """``(name, folder, history path)`` of every split (then ``final``) in ``run_dir``
    holding a history, splits in numeric order. A fit without early stopping under
    ``--refit`` (``--patience=0``) has only its refit's history, in ``refit/``."""
    found = []
    for folder in sorted(glob.glob(os.path.join(run_dir, "*", ""))):
        folder = os.path.dirname(folder)
        for path in (os.path.join(folder, "history.csv"),
                     os.path.join(folder, "refit", "history.csv")):
            if os.path.exists(path):
                found.append((os.path.basename(folder), folder, path))
                break

    def order(item):
        name = item[0]
        tail = name.rsplit("_", 1)[-1]
        return (0, int(tail), name) if tail.isdigit() else (1, 0, name)
    return sorted(found, key=order)


def song_accuracy(folder):
    """The split's song accuracy (mean-probability vote) from ``result.json``, or None."""
    path = os.path.join(folder, "result.json")
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        return json.load(handle)["mean_probability"]["accuracy"]


def plot_curves(histories, path):
    """One PNG: loss and accuracy against epoch, train solid, validation dashed."""
    figure, axes = plt.subplots(1, len(CURVES), figsize=(6 * len(CURVES), 4.2))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, (name, history) in enumerate(histories):
        colour = colours[k % len(colours)]
        epochs = [e + 1 for e in history["epoch"]]
        for axis, curve in zip(axes, CURVES):
            if curve in history:
                axis.plot(epochs, history[curve], color=colour, label=f"{name} train")
            if f"val_{curve}" in history:
                axis.plot(epochs, history[f"val_{curve}"], color=colour, linestyle="--",
                          label=f"{name} valid")
    for axis, curve in zip(axes, CURVES):
        axis.set_xlabel("epoch")
        axis.set_ylabel(curve)
        axis.grid(alpha=0.3)
    axes[-1].legend(fontsize="small", ncol=2)
    figure.suptitle(os.path.basename(os.path.dirname(os.path.abspath(path))))
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def summarise_run(run_dir):
    """Draws ``run_dir``'s curves; returns (png path, [(split, summary)])."""
    folders = split_folders(run_dir)
    if not folders:
        raise FileNotFoundError(f"{run_dir}: no split_*/history.csv; is it a run folder?")
    histories = [(name, read_history(path)) for name, _, path in folders]
    rows = []
    for (name, folder, _), (_, history) in zip(folders, histories):
        rows.append((name, {**best_epoch_summary(history),
                            "song_accuracy": song_accuracy(folder)}))
    return plot_curves(histories, os.path.join(run_dir, PNG_NAME)), rows


def format_table(rows):
    """The printed table, one line per split."""
    def number(value):
        return "-" if value is None else f"{value:.3f}"
    lines = [f"{'split':<10}{'epochs':>7}{'best':>6}{'train_acc':>11}{'val_acc':>9}"
             f"{'val_loss':>10}{'song_acc':>10}"]
    for name, row in rows:
        lines.append(f"{name:<10}{row['epochs']:>7}{row.get('best_epoch', 0):>6}"
                     f"{number(row.get('train_accuracy')):>11}"
                     f"{number(row.get('val_accuracy')):>9}"
                     f"{number(row.get('val_loss')):>10}{number(row['song_accuracy']):>10}")
    return "\n".join(lines)


def main(run_dirs):
    if not run_dirs:
        print(__doc__.strip().splitlines()[0] + "\nusage: learning_curves.py RUN_DIR...",
              file=sys.stderr)
        return 2
    for run_dir in run_dirs:
        png, rows = summarise_run(run_dir)
        print(f"{run_dir} -> {png}\n{format_table(rows)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
