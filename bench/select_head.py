"""Head settings compared on validation songs only (inner folds of outer splits' songs).

    python bench/select_head.py --flagfile=musicnn.flags \\
        --candidates='[{}, {"hidden_units": [], "l2": 5e-4, "patience": 50}]'

Why: a flag file's settings must be chosen without looking at any test split, and
``tuner.py`` searches a fixed space at random; this scores a short list of settings
one would argue for (a schedule, a linear head, ``refit``) the same way, so the flag
files can record the evidence (``musicnn.flags``, ``mlp_plus.flags``).

A candidate is a JSON object of ``TrainConfig`` fields (``learning_rate``, ``epochs``,
``patience``, ``refit``, ``lr_schedule``, ``lr_warmup_epochs``, ``jit_compile``...) and
head fields (``hidden_units``, ``dropout``, ``l2``)
replacing the flags' values; ``{}`` is the flags as given. The songs are split 0's
train and valid songs (``tuning.tuning_songs``: its test songs are never seen), cut into
``--inner_folds`` stratified folds (``--outer_splits=N``: the same for each of splits
0..N-1, nested cross-validation) (``tuning.inner_splits``); fold k trains on the
other folds less a stratified ``--validation_fraction`` for early stopping, as
train.py trains a split (``experiment.train_split``: with ``refit`` the head is
refitted on all of them), and is scored on fold k's songs by the mean-probability
vote. The baselines of ``baselines.py`` are fitted on the same training songs
(train+valid) and scored on the same songs, for reference. Prints one line per
candidate: mean and per-fold accuracy, seconds; then the baselines' means.
"""

import copy
import dataclasses
import json
import os
import tempfile
import time

import common  # noqa: F401  (sets up TF logging and sys.path first)
import numpy as np
from absl import app, flags

import baselines as baselines_lib
from genre_tf import cli, systems
from genre_tf.data import splits as splits_lib
from genre_tf.training import compiled_heads, experiment, seeding, tuning

flags.DEFINE_string("candidates", "[{}]",
                    "JSON list of candidates: TrainConfig and head fields to replace.")
flags.DEFINE_integer("inner_folds", 3,
                     "Stratified folds of each outer split's train+valid songs.",
                     lower_bound=2)
flags.DEFINE_integer("outer_splits", 1,
                     "Outer splits whose train+valid songs are cut into inner folds "
                     "(splits 0..N-1; nested cross-validation: each split's test songs "
                     "are never seen by its folds). One outer split scores ~80 songs, "
                     "where candidates often differ by one; more splits, less luck.",
                     lower_bound=1)
FLAGS = flags.FLAGS

HEAD_FIELDS = ("hidden_units", "dropout", "l2")
POOLED = "_pooled"  # a baseline on one mean row per song, named as baselines.py does


def candidate_settings(run, candidate):
    """(head config, TrainConfig) of ``run`` with ``candidate``'s values."""
    head = {k: (tuple(v) if k == "hidden_units" else v)
            for k, v in candidate.items() if k in HEAD_FIELDS}
    training = {k: v for k, v in candidate.items() if k not in HEAD_FIELDS}
    return (dataclasses.replace(run.system.head, **head),
            dataclasses.replace(run.training, **training))


def validation_folds(run, song_ids, labels, folds, outer_splits=1, class_names=None):
    """Inner folds of the first ``outer_splits`` splits' train+valid songs as
    ``Split``s: train/valid (early stopping) from the other folds, ``test`` the fold
    scored. A song is scored once per outer split whose test songs it is not among."""
    outer = splits_lib.make_splits(run.splits, song_ids, labels, run.seed, class_names)
    if outer_splits > len(outer):
        raise ValueError(f"--outer_splits={outer_splits}: the run has only "
                         f"{len(outer)} splits")
    rng = np.random.default_rng(run.seed)
    result = []
    for split in outer[:outer_splits]:
        songs = tuning.tuning_songs(split)
        for inner in tuning.inner_splits(songs, labels, folds, run.seed):
            train, valid = splits_lib.stratified_holdout(
                inner.train, labels, run.splits.validation_fraction, rng)
            name = inner.name if outer_splits == 1 else f"{split.name}_{inner.name}"
            result.append(splits_lib.Split(name, train, valid, inner.valid))
    return result


def score_candidate(run, system, candidate, examples, folds, heads, work_dir):
    """{candidate, mean, folds, seconds} of one candidate over the folds; ``system``:
    the run's, its front end fitted to ``examples``."""
    head, training = candidate_settings(run, candidate)
    system = copy.copy(system).with_head(head)
    started, scores = time.time(), []
    for k, fold in enumerate(folds):
        model = experiment.train_split(system, examples, fold, training,
                                       os.path.join(work_dir, fold.name), run.seed + k,
                                       heads=heads)
        scores.append(tuning.song_accuracy(model, examples, fold.test,
                                           training.batch_size))
    return {"candidate": candidate, "mean": round(float(np.mean(scores)), 4),
            "folds": [round(s, 4) for s in scores],
            "seconds": round(time.time() - started, 1)}


def score_baselines(rows, folds, makers):
    """{baseline: mean accuracy over the folds} (fitted on each fold's train+valid)."""
    variants = {"": rows}
    if baselines_lib.has_several_rows_per_song(rows):
        variants[POOLED] = baselines_lib.pool_songs(rows)
    scores = {}
    for suffix, variant in variants.items():
        for fold in folds:
            accuracy = baselines_lib.score_split(variant, fold, makers)["accuracy"]
            for name, value in accuracy.items():
                scores.setdefault(name + suffix, []).append(value)
    return {name: round(float(np.mean(v)), 4) for name, v in scores.items()}


def main(argv):
    del argv
    run = cli.run_config(run_name_suffix="_select")
    system = systems.System(run.system)
    examples = experiment.build_examples(system, run.data)
    folds = validation_folds(run, examples.song_ids, examples.song_labels,
                             FLAGS.inner_folds, FLAGS.outer_splits, examples.class_names)
    print(f"{len(folds)} inner folds of {FLAGS.outer_splits} outer split(s)' "
          "train+valid songs (train/valid/scored): "
          + ", ".join(f"{len(f.train)}/{len(f.valid)}/{len(f.test)}" for f in folds))
    seeding.seed_run(run.seed)  # as train.py's run (experiment.run_experiment)
    heads = compiled_heads.CompiledHeads()
    with tempfile.TemporaryDirectory() as work_dir:
        for k, candidate in enumerate(json.loads(FLAGS.candidates)):
            scored = score_candidate(run, system, candidate, examples, folds, heads,
                                     os.path.join(work_dir, f"candidate_{k}"))
            print(json.dumps(scored), flush=True)
    makers = {n: b.make for n, b in baselines_lib.make_baselines(
        FLAGS.logreg_c, FLAGS.svm_c).items()}
    rows = baselines_lib.rows_of(examples, system)
    print(json.dumps({"baselines": score_baselines(rows, folds, makers)}))


if __name__ == "__main__":
    app.run(main)
