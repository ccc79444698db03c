"""The cross-validation loop shared by every system.

``run_experiment`` builds the examples once, trains and evaluates one head per
song-level split (``split_cache`` reuses finished splits and resumes interrupted ones;
on one worker every head of one structure is fitted on one compiled model,
``compiled_heads``, so Keras traces its functions once per run), writes the reports (``genre_tf.evaluation``), then fits a final model on all songs and
exports it (``genre_tf.export``). Under ``--refit`` every fit (a split's, the final
one) is followed by a fresh head fitted on its train and valid songs for the epochs
early stopping chose, and that head is scored or exported (``train_split``).

Under ``--distribution`` every worker runs this same loop in step (see
``distribute``): models are built in the strategy's scope, the chief's decision to
reuse a split is every worker's, and evaluation and reports are the chief's alone.
"""

import dataclasses
import json
import os
import time

import numpy as np
from absl import logging

from genre_tf import systems
from genre_tf.data import discovery, example_sets, feature_table, pipeline
from genre_tf.data import examples as examples_lib
from genre_tf.data import splits as splits_lib
from genre_tf.evaluation import evaluate, report, run_report
from genre_tf.export import exporter
from genre_tf.training import (compiled_heads, distribute, run_folder, seeding,
                               split_cache, trainer)


def build_examples(system, data_config, index=None):
    """The system's examples of the run's data (its clips: ``index``, or discovered
    here); fits the front end to the data. None for one extraction worker of several
    (``data_config.extraction``)."""
    if data_config.features_csv:
        return examples_lib.RowExamples.from_table(
            feature_table.table_from_csv(data_config.features_csv))
    index = index if index is not None else discovery.discover_clips(data_config.data_dir)
    examples = example_sets.build_examples(index, system.frontend, data_config.examples,
                                           pipeline.DecodeReport(), data_config.extraction)
    if examples is not None:
        system.with_frontend(examples.frontend)
    return examples


def check_split_lists(run):
    """``--split=fixed`` on audio: the lists' checks (``splits.make_splits``: a list
    matching no song, training songs that miss a class) on the clips found, before the
    examples are extracted (a minute on gtzan_mini, an hour on GTZAN), so that wrong
    lists fail at once. Quiet: the lists' warnings come once, from the split of the
    examples (a clip that cannot be decoded drops out there). Returns the clips found
    (for ``build_examples``), None where nothing was checked."""
    if run.splits.kind != "fixed" or run.data.features_csv:
        return None
    index = discovery.discover_clips(run.data.data_dir)
    verbosity = logging.get_verbosity()
    logging.set_verbosity(logging.ERROR)
    try:
        splits_lib.make_splits(run.splits, [clip.song_id for clip in index.clips],
                               [clip.label for clip in index.clips], run.seed,
                               index.class_names)
    finally:
        logging.set_verbosity(verbosity)
    return index


def extract_slice(run):
    """One extraction worker's job: its slice of the clips into the shared store."""
    build_examples(systems.System(run.system), run.data)


REFIT_DIR = "refit"  # under a split's folder: the refit's own backups, logs, history
CHOSEN_EPOCHS_FILE = "chosen_epochs.json"  # in REFIT_DIR, written before the refit


def fit_head(system, examples, train_songs, valid_songs, config, work_dir, seed,
             distribution=None, heads=None):
    """Seeds, builds and fits one head on ``train_songs`` (its standardisation adapted
    to them; early stopping on ``valid_songs`` if any); returns the Keras History.
    Seeds Python and NumPy from ``seed``; TensorFlow's global seed is the run's
    (``seeding.seed_run``, which ``run_experiment`` calls): a caller outside a run sets
    it first, or minibatch shuffles depend on whoever set it last."""
    distribution = distribution or distribute.Distribution()
    seeding.seed_fit(seed)
    with distribution.scope():  # the head's variables, its standardisation's included
        model = system.build_model(examples, train_songs)
    valid = (examples.validation_dataset(valid_songs, config.batch_size)
             if len(valid_songs) else None)
    return trainer.fit(
        model, examples.training_dataset(train_songs, config.batch_size, seed=seed),
        valid, config, work_dir, distribution, heads)


def refit_epochs(system, examples, split, config, work_dir, seed, distribution, heads):
    """The epochs early stopping keeps on ``split`` (train on train, stop on valid),
    read from ``work_dir/refit`` where a finished early-stopped fit recorded them (an
    interrupted refit resumes without fitting that again). Without early stopping
    (``patience`` 0) every epoch: nothing to fit first."""
    if not config.patience:
        return config.epochs
    path = os.path.join(work_dir, REFIT_DIR, CHOSEN_EPOCHS_FILE)
    if distribution.resumable and os.path.isfile(path):
        return report.read_json(path)["epochs"]
    history = fit_head(system, examples, split.train, split.valid, config, work_dir,
                       seed, distribution, heads)
    report.write_json(path, {"epochs": history.chosen_epochs})
    return history.chosen_epochs


def train_split(system, examples, split, config, work_dir, seed, distribution=None,
                heads=None):
    """Seeds, builds and fits one head on ``split.train`` (early stopping on valid);
    returns the fitted model (a twin from ``heads``, a ``CompiledHeads``, if given).

    With ``config.refit`` (and valid songs) the model returned is a fresh head (same
    seed) fitted on train and valid songs, without early stopping, for the epochs the
    early-stopped fit chose (``config.epochs`` at patience 0); its backups and logs are
    in ``work_dir/refit``.
    """
    distribution = distribution or distribute.Distribution()
    if not (config.refit and len(split.valid)):
        return fit_head(system, examples, split.train, split.valid, config, work_dir,
                        seed, distribution, heads).model
    epochs = refit_epochs(system, examples, split, config, work_dir, seed, distribution,
                          heads)
    songs = np.sort(np.concatenate([split.train, split.valid]))
    logging.info("%s: refit on %d train+valid songs for %d epochs", split.name,
                 len(songs), epochs)
    refit = dataclasses.replace(config, epochs=epochs, patience=0)
    return fit_head(system, examples, songs, songs[:0], refit,
                    os.path.join(work_dir, REFIT_DIR), seed, distribution, heads).model


def training_songs_phrase(split, config):
    """How ``train_split`` uses ``split``'s train and valid songs, for the log: the
    valid songs stop early, only score epochs (patience 0), or join a refit."""
    train, valid = len(split.train), len(split.valid)
    if not valid:
        return f"training on {train} songs"
    if config.refit and not config.patience:
        return f"training on {train + valid} train+valid songs (no early stopping)"
    if config.refit:
        return (f"training on {train} songs ({valid} for early stopping), then a refit "
                f"on all {train + valid}")
    if not config.patience:
        return f"training on {train} songs ({valid} validation songs, no early stopping)"
    return f"training on {train} songs ({valid} for early stopping)"


def _identity(system, examples, split, run):
    """What a split's result depends on (JSON-comparable): its songs by name and by
    content, and every setting."""
    songs = {part: [examples.song_ids[i] for i in getattr(split, part)]
             for part in ("train", "valid", "test")}
    data = examples.data_digest(np.concatenate([split.train, split.valid, split.test]))
    return json.loads(json.dumps({
        "songs": songs, "data": data, "system": system.describe(),
        "examples": run.data.examples.identity(),
        "training": dataclasses.asdict(run.training), "seed": run.seed}, default=str))


def run_split(system, examples, split, position, run, distribution=None, heads=None):
    """Trains and evaluates one split, or returns its earlier result (None on a worker
    other than the chief: it keeps no results). ``heads``: the run's
    ``compiled_heads.CompiledHeads`` (None: a head compiled for this split alone)."""
    distribution = distribution or distribute.Distribution()
    cache = split_cache.SplitCache(os.path.join(run.output_dir, split.name),
                                   _identity(system, examples, split, run))
    previous = cache.finished_result()
    if distribution.from_chief(previous is not None):
        if previous is not None:
            logging.info("%s: already done (%s), accuracy %.4f", split.name,
                         cache.result_path, previous["mean_probability"]["accuracy"])
        return previous
    cache.start()
    started = time.time()
    logging.info("%s: %s, testing on %d", split.name,
                 training_songs_phrase(split, run.training), len(split.test))
    model = train_split(system, examples, split, run.training, cache.work_dir,
                        run.seed + position, distribution, heads)
    if not distribution.is_chief:  # evaluation runs no collective op: the chief's alone
        return None
    result = evaluate.evaluate_songs(model, examples, split.test, run.training.batch_size)
    result["excerpts"] = evaluate.evaluate_excerpts(model, examples, split.test,
                                                    run.training.batch_size)
    result["seconds"] = round(time.time() - started, 1)
    excerpt = result["excerpts"]
    logging.info("%s: song accuracy %.4f (mean probability), %.4f (majority vote)%s "
                 "in %.0f s", split.name, result["mean_probability"]["accuracy"],
                 result["majority"]["accuracy"],
                 f", excerpts {excerpt['accuracy']:.4f}" if excerpt else "",
                 result["seconds"])
    return cache.finish(result)


FINAL_DIR = "final"  # under the run folder: the final fit's backups, logs and result


def export_final_model(system, examples, run, distribution, heads):
    """Fits the final model on all songs and exports it, unless this run's folder
    already holds that export (``final/result.json`` with the same songs, data and
    settings, and every file it lists: the SavedModel's ``model_info.json``, written
    last, and ``model.tflite`` if one was written): a rerun of a finished run is then a
    no-op. An interrupted final fit resumes from its backup, as a split does; an
    interrupted export is done again."""
    split = splits_lib.final_split(examples.song_labels, run.splits.validation_fraction,
                                   run.seed)
    identity = {**_identity(system, examples, split, run),
                "export": json.loads(json.dumps(dataclasses.asdict(run.export)))}
    cache = split_cache.SplitCache(os.path.join(run.output_dir, FINAL_DIR), identity)
    finished = cache.finished_result()
    done = finished is not None and all(  # written last: a killed export has none
        os.path.isfile(path) for path in finished.get("files", [None]))
    if distribution.from_chief(done):  # another worker's own folder holds nothing
        logging.info("Final model: already trained and exported%s",
                     f" ({', '.join(finished['files'])})" if done else " by the chief")
        return
    if os.path.isfile(cache.result_path):  # an export about to be rewritten is not done
        os.remove(cache.result_path)
    cache.start()
    logging.info("Final model: %s", training_songs_phrase(split, run.training))
    model = train_split(system, examples, split, run.training, cache.work_dir, run.seed,
                        distribution, heads)
    export_dir = exporter.export_run(model, system, examples, run)  # every worker
    if distribution.is_chief:
        cache.finish({"files": exporter.written_files(run, export_dir)})


def for_this_worker(run, distribution):
    """``run`` as this worker runs it: writing into a temporary folder unless it is
    the chief (nor converting to TFLite there)."""
    if distribution.is_chief:
        return run
    return dataclasses.replace(
        run, output_dir=distribution.output_dir(run.output_dir),
        export=dataclasses.replace(run.export, tflite=False))


def claim_run_folder(run):
    """The run's folder, checked to hold nothing of another run (see ``run_folder``)."""
    os.makedirs(run.output_dir, exist_ok=True)
    folder = run_folder.RunFolder(run.output_dir, run_folder.settings_identity(run),
                                  run.overwrite)
    folder.claim()
    return folder


def run_experiment(run, folder=None, distribution=None):
    """Cross-validates a system, writes the reports and exports a final model.

    Args:
      run: a ``genre_tf.config.RunConfig`` (``for_this_worker``'s under a distribution).
      folder: its claimed ``run_folder.RunFolder`` (claimed here if None).
      distribution: the ``distribute.Distribution`` made from ``run.distribution``
        (None: no strategy).

    Returns:
      The metrics dict written to ``metrics.json``; None on a worker other than the
      chief.

    Raises:
      run_folder.RunFolderError: the output folder holds another run.
      ValueError: a worker's settings or data differ from the chief's.
    """
    distribution = distribution or distribute.Distribution()
    folder = folder or claim_run_folder(run)
    distribution.check_same_as_chief(json.dumps(folder.settings, sort_keys=True),
                                     "settings (flags)")
    system = systems.System(run.system)
    index = check_split_lists(run)
    examples = build_examples(system, run.data, index)
    digest = examples.data_digest(np.arange(len(examples.song_ids)))
    distribution.check_same_as_chief(digest, f"data ({run.data.source})")
    folder.confirm_data(digest, examples.song_digests(np.arange(len(examples.song_ids))))
    splits = splits_lib.make_splits(run.splits, examples.song_ids, examples.song_labels,
                                    run.seed, examples.class_names)
    seeding.seed_run(run.seed)
    logging.info("%d songs in %d classes; %d splits", len(examples.song_ids),
                 len(examples.class_names), len(splits))
    # One worker: every fit below shares one compiled model and its traced functions.
    heads = compiled_heads.CompiledHeads() if distribution.num_workers == 1 else None
    results = [run_split(system, examples, split, k, run, distribution, heads)
               for k, split in enumerate(splits)]
    payload = (run_report.write_run_report(run, system, examples, splits, results)
               if distribution.is_chief else None)
    if run.export.final_fit:
        export_final_model(system, examples, run, distribution, heads)
    distribution.barrier()  # the others wait until the chief has written everything
    return payload
