"""The head against classical baselines on the same rows, splits and standardisation.

    pip install -r requirements-bench.txt   # scikit-learn: this bench only
    python bench/baselines.py --flagfile=mlp_plus.flags [--data_dir=PATH]
    python bench/baselines.py --flagfile=mlp.flags --features_csv=features_30_sec.csv
    python bench/segment_table.py --data_dir=PATH --output=segments_3_sec.csv
    python bench/baselines.py --flagfile=mlp_plus.flags --features_csv=segments_3_sec.csv
    python bench/baselines.py --flagfile=musicnn.flags \\
        --metrics=saved_models/MSD_musicnn/metrics.json

Every flag of train.py means the same here (the flag file, ``--data_dir`` or
``--features_csv``, ``--seed``...). Per song-level split (``splits.make_splits``: the
songs train.py uses for the same seed):

- head: trained and scored by ``experiment.run_split``, exactly as train.py does it
  (finished splits in ``--output_dir`` are reused, so ``--output_dir`` set to a train.py
  run folder of the same settings costs no training); or, with ``--metrics``, the
  per-split accuracies of a train.py run's metrics.json.
- logreg, svm_rbf (scikit-learn): fitted on the rows a head trains on (``SONG`` rows
  plus ``TRAIN_EXCERPT`` rows) of the split's train *and* valid songs: the head trains
  on train songs and stops early on valid ones, a baseline has no early stopping, so it
  gets the valid songs as training data (``--nobaselines_use_valid``: train songs only,
  the head's own rows). Under ``--refit`` the head's final fit sees those same
  train+valid rows, standardised on them. Standardised by a Keras ``Normalization`` layer adapted to
  those rows only (the head's own layer; test rows never shape it). Scored on the test
  songs' ``SONG`` rows, a song's genre the argmax of its rows' mean probability (the
  head's ``mean_probability`` vote).
- *_pooled (only where a song has several rows: embedding frames): each song's
  ``SONG`` rows averaged into one row, for training and test songs alike, the
  classical recipe; training excerpts are not used there.

Hyperparameters are fixed, not searched: ``LogisticRegression(C=--logreg_c,
max_iter=5000)`` (lbfgs, multinomial) and ``SVC(kernel="rbf", C=--svm_c,
gamma="scale")`` with Platt-scaled probabilities (``make_baselines``).

Prints a table per split, mean ± std per model and ``head - <baseline>: +0.030 (below
on 2 of 5 splits)``; writes ``<output_dir>/baselines.json`` (default
saved_models/<run_name>_baselines). Nothing is exported.
"""

import dataclasses
import functools
import os
import sys
import time
import typing

import common  # noqa: F401  (sets up TF logging and sys.path first)
import keras
import numpy as np
from absl import flags

from genre_tf import cli, console, systems
from genre_tf import flags as project_flags
from genre_tf.data import examples as examples_lib
from genre_tf.data import splits as splits_lib
from genre_tf.evaluation import metrics, report
from genre_tf.training import experiment, seeding

flags.adopt_module_key_flags(project_flags)
flags.DEFINE_string("metrics", None,
                    "A train.py run's metrics.json: take the head's per-split accuracies "
                    "from it instead of training the head here (same splits, seed and "
                    "data required).")
flags.DEFINE_boolean("baselines_use_valid", True,
                     "Fit the baselines on the split's train and valid songs (they have "
                     "no early stopping to spend valid songs on); false: train songs only.")
flags.DEFINE_float("logreg_c", 1.0, "Inverse L2 strength of the logistic regression.")
flags.DEFINE_float("svm_c", 10.0, "C of the RBF SVM (gamma='scale').")
FLAGS = flags.FLAGS

RESULT_FILE = "baselines.json"
HEAD = "head"
_POOLED = "_pooled"


class Baseline(typing.NamedTuple):
    make: object  # () -> a fresh unfitted classifier with fit and predict_proba
    description: str


def make_baselines(logreg_c=1.0, svm_c=10.0):
    """{name: ``Baseline``}: the classical models, fixed hyperparameters.

    The SVM's probabilities are Platt-scaled: a sigmoid per class (one-vs-rest) on
    decision values predicted by 5-fold cross-validation over the fitted rows, then one
    SVM fitted on every row. scikit-learn 1.9 deprecates ``SVC(probability=True)`` (Platt
    scaling of the pairwise classifiers) for this.

    Raises:
      ImportError: scikit-learn is missing (a bench-only dependency).
    """
    try:
        # pylint: disable=import-outside-toplevel
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.linear_model import LogisticRegression
        from sklearn.svm import SVC
    except ImportError as error:
        raise ImportError("bench/baselines.py needs scikit-learn: pip install -r "
                          "requirements-bench.txt") from error
    return {
        "logreg": Baseline(
            functools.partial(LogisticRegression, C=logreg_c, max_iter=5000),
            f"LogisticRegression(C={logreg_c:g}, max_iter=5000)"),
        "svm_rbf": Baseline(
            lambda: CalibratedClassifierCV(SVC(kernel="rbf", C=svm_c, gamma="scale"),
                                           method="sigmoid", cv=5, ensemble=False),
            f"SVC(kernel='rbf', C={svm_c:g}, gamma='scale') + Platt probabilities "
            "(CalibratedClassifierCV, sigmoid, cv=5, ensemble=False)"),
    }


def fit_songs(split, use_valid=True):
    """The songs a baseline learns from: train (and valid) songs, never test songs."""
    parts = (split.train, split.valid) if use_valid else (split.train,)
    return np.sort(np.concatenate(parts).astype(np.int64))


def training_rows(rows, songs):
    """Indices of the rows a head trains on for ``songs`` (``RowExamples``): their
    ``SONG`` and ``TRAIN_EXCERPT`` rows, the rows of ``rows.head_sample(songs)``."""
    return np.flatnonzero(np.isin(rows.row_song, songs) & np.isin(
        rows.row_segment, [examples_lib.SONG, examples_lib.TRAIN_EXCERPT]))


def song_rows(rows, songs):
    """Indices of the ``SONG`` rows of ``songs``: what a song-level score votes over."""
    return np.flatnonzero(np.isin(rows.row_song, songs)
                          & (rows.row_segment == examples_lib.SONG))


def pool_songs(rows):
    """One ``SONG`` row per song: the mean of its ``SONG`` rows (training excerpts and
    evaluation excerpts are dropped)."""
    songs = np.arange(len(rows.song_ids))
    keep = song_rows(rows, songs)
    sums = np.zeros((len(songs), rows.features.shape[1]), np.float64)
    np.add.at(sums, rows.row_song[keep], rows.features[keep])
    counts = np.bincount(rows.row_song[keep], minlength=len(songs))
    n = len(songs)
    return examples_lib.RowExamples(
        sums / np.maximum(counts, 1)[:, None], songs, np.full(n, examples_lib.SONG),
        np.full(n, -1), rows.song_ids, rows.song_labels, rows.class_names)


def has_several_rows_per_song(rows):
    keep = rows.row_segment == examples_lib.SONG
    return bool(np.any(np.bincount(rows.row_song[keep]) > 1))


def standardiser(features):
    """The head's standardisation (``models.mlp.build_mlp``): a Keras ``Normalization``
    layer adapted to ``features`` (the fitted rows only)."""
    layer = keras.layers.Normalization(axis=-1)
    layer.adapt(np.asarray(features, np.float32))
    return layer


def score_split(rows, split, baselines, use_valid=True):
    """Fits every baseline on a split's training rows; scores its test songs.

    Args:
      rows: ``RowExamples`` of every song.
      split: a ``splits.Split``.
      baselines: {name: factory of an unfitted classifier with ``fit`` and
        ``predict_proba``} (``make_baselines``).
      use_valid: fit on train and valid songs (else train songs only).

    Returns:
      {"accuracy": {name: song-level accuracy}, "seconds": {name: fit and score
      time}, "fit_rows": row indices fitted,
      "standardiser": the adapted layer, "n_fit_songs", "n_fit_rows"}.
    """
    fit = training_rows(rows, fit_songs(split, use_valid))
    test = song_rows(rows, split.test)
    scale = standardiser(rows.features[fit])
    x_fit = np.asarray(scale(rows.features[fit]))
    y_fit = rows.song_labels[rows.row_song[fit]]
    x_test = np.asarray(scale(rows.features[test]))
    truth = rows.song_labels[split.test]
    accuracy, seconds = {}, {}
    for name, make in baselines.items():
        began = time.time()
        model = make().fit(x_fit, y_fit)
        probabilities = np.zeros((len(test), len(rows.class_names)))
        probabilities[:, model.classes_] = model.predict_proba(x_test)
        predicted = metrics.song_predictions(probabilities, rows.row_song[test],
                                             split.test)["mean_probability"]
        accuracy[name] = metrics.classification_metrics(
            truth, predicted, rows.class_names)["accuracy"]
        seconds[name] = time.time() - began
    return {"accuracy": accuracy, "seconds": seconds, "fit_rows": fit,
            "standardiser": scale,
            "n_fit_songs": int(len(np.unique(rows.row_song[fit]))),
            "n_fit_rows": int(len(fit))}


def compare(head, baseline):
    """Mean of head - baseline over splits, and on how many splits the head is below."""
    head, baseline = np.asarray(head), np.asarray(baseline)
    return {"mean_difference": round(float(np.mean(head - baseline)), 12) + 0.0,
            "below_on": int(np.sum(head < baseline)), "n_splits": int(len(head))}


def head_from_metrics(path, run, splits):
    """Per-split accuracies of a train.py run's metrics.json, checked to be the same
    splits (split settings, seed, data source, split names and test sizes)."""
    recorded = report.read_json(path)
    expected = {"splits_config": dataclasses.asdict(run.splits),
                "seed": run.seed, "data source": run.data.source}
    found = {"splits_config": recorded.get("splits_config"), "seed": recorded.get("seed"),
             "data source": (recorded.get("data") or {}).get("source")}
    differ = [k for k in expected if expected[k] != found[k]]
    by_name = {s["name"]: s for s in recorded.get("splits", [])}
    differ += [s.name for s in splits
               if s.name not in by_name or by_name[s.name]["n_test"] != len(s.test)]
    if differ:
        raise ValueError(f"{path}: not the same splits as these flags (differing: "
                         f"{', '.join(map(str, differ[:6]))}); pass the flags of that "
                         "run, or drop --metrics to train the head here")
    return [float(by_name[s.name]["accuracy"]) for s in splits]


_NOT_ROWS = ("its examples are drawn from audio every epoch, not stored as rows; the "
             "baselines need stored rows (--system=mlp, --system=embedding or "
             "--features_csv)")


def rows_of(examples, system):
    """The examples as in-memory rows (a features CSV already is)."""
    if isinstance(examples, examples_lib.RowExamples):
        return examples
    if not hasattr(examples, "to_rows"):  # streamed spectrogram crops
        raise ValueError(f"--system={system.name}: {_NOT_ROWS}")
    return examples.to_rows()


def score_splits(run, system, examples, splits, baselines, head=None, use_valid=True):
    """Head and baselines on every split.

    Args:
      head: the head's accuracy per split (``--metrics``), or None to train it here.

    Returns:
      (one dict per split: its sizes and every model's accuracy, {model: seconds}).
    """
    rows = rows_of(examples, system)
    variants = {"": rows}
    if has_several_rows_per_song(rows):
        variants[_POOLED] = pool_songs(rows)
    seconds = {HEAD: 0.0}
    split_rows = []
    for k, split in enumerate(splits):
        row = {"name": split.name, "n_test": int(len(split.test)),
               "n_train_songs": int(len(split.train)),
               "n_valid_songs": int(len(split.valid))}
        if head is None:  # seconds: the split's training as recorded, reused or not
            result = experiment.run_split(system, examples, split, k, run)
            row[HEAD] = result["mean_probability"]["accuracy"]
            seconds[HEAD] += result.get("seconds", 0.0)
        else:
            row[HEAD] = head[k]
        for suffix, variant in variants.items():
            scored = score_split(variant, split, baselines, use_valid)
            for name, value in scored["accuracy"].items():
                row[name + suffix] = value
                seconds[name + suffix] = (seconds.get(name + suffix, 0.0)
                                          + scored["seconds"][name])
            row["n_fit_songs"] = scored["n_fit_songs"]
            row["n_fit_rows" + suffix] = scored["n_fit_rows"]
        split_rows.append(row)
    return split_rows, seconds


def summarise(split_rows, names):
    """{model: mean, std and accuracies over splits}, {baseline: ``compare``}."""
    summary = {n: {"mean": float(np.mean([r[n] for r in split_rows])),
                   "std": float(np.std([r[n] for r in split_rows])),
                   "accuracies": [r[n] for r in split_rows]} for n in names}
    return summary, {n: compare(summary[HEAD]["accuracies"], summary[n]["accuracies"])
                     for n in names if n != HEAD}


def describe_run(name, run, examples, n_splits, first, baselines, use_valid):
    """The table's heading: data, splits, which rows each side learns from, models."""
    fitted_on = "train+valid" if use_valid else "train"
    pooled = (f"; pooled: {first['n_fit_rows' + _POOLED]} rows"
              if "n_fit_rows" + _POOLED in first else "")
    training = run.training
    if not training.patience and training.refit:
        head_fit = (f"on {first['n_train_songs'] + first['n_valid_songs']} train+valid "
                    f"songs for {training.epochs} epochs (no early stopping)")
    elif not training.patience:
        head_fit = (f"on {first['n_train_songs']} train songs for {training.epochs} "
                    f"epochs (no early stopping)")
    else:
        head_fit = (f"on {first['n_train_songs']} train songs, early stopping on "
                    f"{first['n_valid_songs']} valid songs"
                    + (", then refitted on both for the epochs it chose"
                       if training.refit else ""))
    return "\n".join([
        f"{name} on {run.data.source}: {len(examples.song_ids)} songs, "
        f"{len(examples.class_names)} classes, {n_splits} {run.splits.kind} splits (seed "
        f"{run.seed}); song-level accuracy, mean-probability vote",
        f"head: {'from ' + FLAGS.metrics if FLAGS.metrics else 'trained here'}, "
        f"{head_fit}; baselines fitted on {fitted_on} songs "
        f"({first['n_fit_songs']} songs, {first['n_fit_rows']} rows in {first['name']}"
        f"{pooled}), standardised on those rows only",
        "; ".join(f"{n}: {b.description}" for n, b in baselines.items())
        + " (fixed, not searched)"])


def format_table(heading, names, split_rows, summary, comparisons):
    """The printed report: one row per split, mean ± std, head - baseline lines."""
    width = {n: max(8, len(n) + 2) for n in names}
    lines = [heading, f"{'split':<10}{'test':>5}" + "".join(f"{n:>{width[n]}}"
                                                           for n in names)]
    for row in split_rows:
        lines.append(f"{row['name']:<10}{row['n_test']:>5}"
                     + "".join(f"{row[n]:>{width[n]}.3f}" for n in names))
    for label, key in (("mean", "mean"), ("± std", "std")):
        lines.append(f"{label:<15}" + "".join(f"{summary[n][key]:>{width[n]}.3f}"
                                              for n in names))
    for name, c in comparisons.items():
        lines.append(f"head - {name}: {c['mean_difference']:+.3f} (below on "
                     f"{c['below_on']} of {c['n_splits']} splits)")
    return "\n".join(lines)


def main(argv):
    del argv
    started = time.time()
    baselines = make_baselines(FLAGS.logreg_c, FLAGS.svm_c)
    if FLAGS.num_shards > 1:
        raise ValueError("--num_shards: extract with train.py; the bench needs every row")
    run = cli.run_config(run_name_suffix="_baselines")
    system = systems.System(run.system)
    if system.frontend is not None and not system.frontend.cacheable:
        raise ValueError(f"--system={system.name}: {_NOT_ROWS}")
    folder = None if FLAGS.metrics else experiment.claim_run_folder(run)
    cli.write_flags_file(os.path.join(run.output_dir, "baselines.flags"),
                         extra_modules=[sys.argv[0]])
    examples = experiment.build_examples(system, run.data)
    if folder is not None:
        folder.confirm_data(examples.data_digest(np.arange(len(examples.song_ids))))
    splits = splits_lib.make_splits(run.splits, examples.song_ids, examples.song_labels,
                                    run.seed, examples.class_names)
    seeding.seed_run(run.seed)  # as train.py's run (experiment.run_experiment)
    head = head_from_metrics(FLAGS.metrics, run, splits) if FLAGS.metrics else None
    extracted = time.time()
    split_rows, seconds = score_splits(run, system, examples, splits,
                                       {n: b.make for n, b in baselines.items()}, head,
                                       FLAGS.baselines_use_valid)
    names = [n for n in split_rows[0] if n == HEAD or n.split(_POOLED)[0] in baselines]
    summary, comparisons = summarise(split_rows, names)
    name = FLAGS.run_name or system.run_name()
    table = format_table(
        describe_run(name, run, examples, len(splits), split_rows[0], baselines,
                     FLAGS.baselines_use_valid), names, split_rows, summary, comparisons)
    seconds = {"examples": round(extracted - started, 1),
               **{n: round(s, 1) for n, s in seconds.items()},
               "total": round(time.time() - started, 1)}
    print(table)
    print("seconds: " + ", ".join(f"{n} {s:g}" for n, s in seconds.items()))
    path = os.path.join(run.output_dir, RESULT_FILE)
    report.write_json(path, {
        "name": name, "data_source": run.data.source,
        "n_songs": len(examples.song_ids), "class_names": list(examples.class_names),
        "head_source": FLAGS.metrics or "trained here (experiment.run_split)",
        "baselines_fit_on": "train+valid" if FLAGS.baselines_use_valid else "train",
        "baselines": {n: b.description for n, b in baselines.items()},
        "splits": split_rows, "summary": summary, "head_minus": comparisons,
        "seconds": seconds, "system": system.describe(),
        "splits_config": dataclasses.asdict(run.splits), "seed": run.seed,
        "table": table})
    print(f"written to {path}")


if __name__ == "__main__":
    console.run_command(main, configuration_errors=(ValueError, FileNotFoundError,
                                                    ImportError))
