"""A run's report: ``metrics.json`` (song-level accuracy over splits, both votes,
excerpt accuracy, per-class scores, skipped files, every setting) and
``confusion_matrix.png``."""

import dataclasses
import os

from absl import logging

from genre_tf.evaluation import metrics, report

METRICS_FILE = "metrics.json"
CONFUSION_FILE = "confusion_matrix.png"


def write_run_report(run, system, examples, splits, results):
    """Writes metrics.json and the confusion-matrix plot; returns the metrics dict."""
    summary = metrics.summarize_folds(results)
    excerpt = metrics.summarize_excerpts([r.get("excerpts") for r in results],
                                         examples.class_names)
    payload = {
        "name": system.run_name(),
        "mean_accuracy": summary["mean_accuracy"],
        "std_accuracy": summary["std_accuracy"],
        "level": "song",
        "votes": summary["votes"],
        "excerpt_accuracy": excerpt,
        "class_names": list(examples.class_names),
        "n_songs": len(examples.song_ids),
        "splits": [{"name": s.name, "accuracy": r["mean_probability"]["accuracy"],
                    "majority_accuracy": r["majority"]["accuracy"],
                    "excerpt_accuracy": (r.get("excerpts") or {}).get("accuracy"),
                    "per_class": r["mean_probability"]["per_class"],
                    "n_test": len(s.test), "seconds": r.get("seconds")}
                   for s, r in zip(splits, results)],
        "confusion_matrix": summary["confusion_matrix"],
        "data": {"source": run.data.source, "synthetic_demo": run.data.synthetic_demo,
                 **examples.report.as_dict()},
        "system": system.describe(),
        "examples": dataclasses.asdict(run.data.examples),
        "training": dataclasses.asdict(run.training),
        "splits_config": dataclasses.asdict(run.splits),
        "seed": run.seed,
    }
    report.write_json(os.path.join(run.output_dir, METRICS_FILE), payload)
    report.plot_confusion_matrix(
        summary["confusion_matrix"], examples.class_names,
        os.path.join(run.output_dir, CONFUSION_FILE),
        f"{system.run_name()}: song accuracy {payload['mean_accuracy']:.3f} "
        f"± {payload['std_accuracy']:.3f} ({len(splits)} splits)")
    logging.info("Song-level accuracy over %d splits: %.4f ± %.4f (majority vote %.4f)%s",
                 len(splits), payload["mean_accuracy"], payload["std_accuracy"],
                 summary["votes"]["majority"]["mean_accuracy"],
                 f"; {run.data.examples.eval_excerpts.max_seconds:g} s excerpts "
                 f"{excerpt['mean']:.4f} ± {excerpt['std']:.4f}" if excerpt else "")
    return payload
