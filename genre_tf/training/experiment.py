"""The cross-validation driver shared by every system.

``run_experiment`` prepares a system's data, trains and evaluates one model per song-level
split, writes ``metrics.json`` and ``confusion_matrix.png``, then fits a final model on
all songs and exports it. Each finished split leaves ``<split>/result.json``; a rerun
with the same output folder and splits skips those splits, and ``BackupAndRestore``
resumes a split that was interrupted mid-training, so a killed run loses at most an epoch.
"""

import dataclasses
import json
import os
import shutil
import time

import keras
import numpy as np
from absl import logging

from genre_tf.data import pipeline, splits as splits_lib
from genre_tf.evaluation import metrics, report
from genre_tf.export import saved_model, tflite as tflite_export
from genre_tf.training import trainer

METRICS_FILE = "metrics.json"
CONFUSION_FILE = "confusion_matrix.png"
SAVED_MODEL_DIR = "saved_model"


def evaluate_songs(system, model, songs, batch_size):
    """Song-level metrics of ``model`` on ``songs`` for each vote."""
    probabilities = model.predict(
        system.dataset(songs, training=False, batch_size=batch_size).map(lambda x, y: x),
        verbose=0)
    predicted = metrics.song_predictions(probabilities, system.example_songs(songs), songs)
    truth = system.song_labels[songs]
    return {vote: metrics.classification_metrics(truth, predicted[vote], system.class_names)
            for vote in metrics.VOTES}


def _split_record(split, song_ids):
    return {part: [song_ids[i] for i in getattr(split, part)]
            for part in ("train", "valid", "test")}


def train_split(system, split, config, work_dir, seed):
    """Seeds, builds and fits one model on ``split.train`` (early stopping on valid)."""
    keras.utils.set_random_seed(seed)
    model = system.build_model(split.train)
    valid = (system.dataset(split.valid, False, config.batch_size)
             if len(split.valid) else None)
    trainer.fit(model, system.dataset(split.train, True, config.batch_size, seed=seed),
                valid, config, work_dir)
    return model


def _settings(system, config, seed):
    """What a split's result depends on besides its songs (JSON-comparable)."""
    return json.loads(json.dumps({"system": system.describe(),
                                  "training": dataclasses.asdict(config), "seed": seed}))


def _run_split(system, split, position, config, output_dir, seed):
    """Trains and evaluates one split, or loads its result if one with the same songs
    and settings exists."""
    work_dir = os.path.join(output_dir, split.name)
    result_path = os.path.join(work_dir, "result.json")
    record = _split_record(split, system.song_ids)
    settings = _settings(system, config, seed)
    if os.path.isfile(result_path):
        previous = report.read_json(result_path)
        if previous.get("songs") == record and previous.get("settings") == settings:
            logging.info("%s: already done (%s), accuracy %.4f", split.name, result_path,
                         previous["mean_probability"]["accuracy"])
            return previous
        logging.warning("%s: %s holds another split or other settings; training again",
                        split.name, result_path)
    # An interrupted split resumes from its backup only if it was started with these
    # songs and settings; anything else in its folder belongs to another run.
    started_path = os.path.join(work_dir, "started.json")
    if os.path.isdir(work_dir) and not (
            os.path.isfile(started_path)
            and report.read_json(started_path) == {"songs": record, "settings": settings}):
        shutil.rmtree(work_dir)
    report.write_json(started_path, {"songs": record, "settings": settings})
    started = time.time()
    logging.info("%s: training on %d songs (%d for early stopping), testing on %d",
                 split.name, len(split.train), len(split.valid), len(split.test))
    model = train_split(system, split, config, work_dir, seed + position)
    result = evaluate_songs(system, model, split.test, config.batch_size)
    result["songs"] = record
    result["settings"] = settings
    result["seconds"] = round(time.time() - started, 1)
    report.write_json(result_path, result)
    logging.info("%s: song accuracy %.4f (mean probability), %.4f (majority vote) in %.0f s",
                 split.name, result["mean_probability"]["accuracy"],
                 result["majority"]["accuracy"], result["seconds"])
    return result


def final_split(system, validation_fraction, seed):
    """All songs for training, less a stratified part for early stopping."""
    everything = np.arange(len(system.song_ids))
    train, valid = splits_lib.stratified_holdout(
        everything, system.song_labels, validation_fraction, np.random.default_rng(seed))
    return splits_lib.Split("final", train, valid, np.asarray([], dtype=np.int64))


def run_experiment(system, make_splits, config, output_dir, seed=0, final_fit=True,
                   validation_fraction=0.1, run_info=None, tflite=False,
                   tflite_quantize=False):
    """Cross-validates ``system``, writes reports, and exports a final model.

    Args:
      system: a ``genre_tf.systems.base.System``.
      make_splits: ``fn(song_ids, song_labels) -> list[Split]``.
      config: a ``trainer.TrainConfig``.
      output_dir: run folder (``saved_models/<run_name>``).
      seed: base seed; split k trains with ``seed + k``.
      final_fit: also train on all songs and export that model as ``saved_model/``.
      validation_fraction: early-stopping share of the final fit.
      run_info: extra facts for metrics.json (flags, data source).
      tflite: also convert the final model's ``classify_waveform`` to ``model.tflite``.
      tflite_quantize: 8-bit weights in the TFLite model.

    Returns:
      The metrics dict written to ``metrics.json``.
    """
    os.makedirs(output_dir, exist_ok=True)
    decode_report = pipeline.DecodeReport()
    system.prepare(decode_report)
    splits = make_splits(system.song_ids, system.song_labels)
    logging.info("%d songs in %d classes; %d splits", len(system.song_ids),
                 len(system.class_names), len(splits))
    results = [_run_split(system, split, k, config, output_dir, seed)
               for k, split in enumerate(splits)]
    summary = metrics.summarize_folds(results)
    payload = {
        "mean_accuracy": summary["mean_accuracy"],
        "std_accuracy": summary["std_accuracy"],
        "level": "song",
        "votes": summary["votes"],
        "class_names": list(system.class_names),
        "n_songs": len(system.song_ids),
        "splits": [{"name": s.name, "accuracy": r["mean_probability"]["accuracy"],
                    "majority_accuracy": r["majority"]["accuracy"],
                    "per_class": r["mean_probability"]["per_class"],
                    "n_test": len(s.test)} for s, r in zip(splits, results)],
        "confusion_matrix": summary["confusion_matrix"],
        "data": decode_report.as_dict(),
        "system": system.describe(),
        "training": dataclasses.asdict(config),
        "seed": seed,
        **(run_info or {}),
    }
    report.write_json(os.path.join(output_dir, METRICS_FILE), payload)
    report.plot_confusion_matrix(
        summary["confusion_matrix"], system.class_names,
        os.path.join(output_dir, CONFUSION_FILE),
        f"{system.name}: song accuracy {payload['mean_accuracy']:.3f} "
        f"± {payload['std_accuracy']:.3f} ({len(splits)} splits)")
    logging.info("Song-level accuracy over %d splits: %.4f ± %.4f (majority vote %.4f)",
                 len(splits), payload["mean_accuracy"], payload["std_accuracy"],
                 summary["votes"]["majority"]["mean_accuracy"])
    if final_fit:
        split = final_split(system, validation_fraction, seed)
        logging.info("Final model: training on %d songs", len(split.train))
        model = train_split(system, split, config, os.path.join(output_dir, "final"), seed)
        export_dir = saved_model.export_saved_model(
            model, os.path.join(output_dir, SAVED_MODEL_DIR), system.class_names,
            system.export_endpoints(model), system.export_trackables(),
            info={"sample_rate": system.sample_rate, "system": system.describe()})
        logging.info("Exported SavedModel to %s", export_dir)
        if tflite:
            tflite_export.export_tflite_or_warn(export_dir, output_dir, tflite_quantize)
    return payload
