"""Seconds of the head phase: what cross-validating a head costs once the rows are stored.

    python bench/heads.py --flagfile=musicnn.flags [--data_dir=PATH] [--nofinal_fit]

Every flag of train.py means the same here. It runs ``experiment.run_experiment`` (as
train.py does) into a fresh temporary run folder, so no split is reused; the rows come
from the feature store under ``--cache_dir`` (the first run fills it: a few minutes for
musicnn on gtzan_mini). Without ``--data_dir`` (or where it does not exist) it runs on
the synthetic demo clips, as train.py does.

Prints the seconds of each stage, summed over the splits (building the examples from
the store, building the head with its standardisation, fit, scoring songs, scoring
excerpts, reports, the final fit, export), the epochs and first-epoch seconds of every
fit and their sum and mean over all fits (the ms per epoch a change to the trainer
moves), the head phase as the issue counts it (the sum of the splits' ``seconds``), and
the song accuracy per split, so a change that buys speed with accuracy shows. For a
before/after table run it on both trees back to back (timings on a shared machine vary
2-4x between runs).
"""

import collections
import functools
import os
import shutil
import sys
import tempfile
import time

import common  # noqa: F401  (sets up TF logging and sys.path first)
import keras
from absl import app, flags

from genre_tf import cli, systems
from genre_tf import flags as project_flags
from genre_tf.evaluation import evaluate, run_report
from genre_tf.export import exporter
from genre_tf.training import experiment, trainer

flags.adopt_module_key_flags(project_flags)
FLAGS = flags.FLAGS


class StageClock:
    """Seconds spent in each wrapped function, summed over calls, in first-call order."""

    def __init__(self):
        self.seconds = collections.OrderedDict()

    def add(self, stage, seconds):
        self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds

    def wrap(self, owner, name, stage):
        """Replaces ``owner.name`` by a timed twin; ``stage`` is a name or a function
        of the call's arguments giving one."""
        function = getattr(owner, name)

        @functools.wraps(function)
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                label = stage(*args, **kwargs) if callable(stage) else stage
                self.add(label, time.perf_counter() - started)
        setattr(owner, name, timed)


class EpochClock(keras.callbacks.Callback):
    """Epochs of one fit and the seconds of its first (traced) and later epochs; an
    epoch is ``passes`` passes over the data (``--epochs_per_call``)."""

    def __init__(self, fits, passes=1):
        super().__init__()
        self.fits = fits
        self.passes = passes

    def on_train_begin(self, logs=None):
        self.ends = [time.perf_counter()]

    def on_epoch_end(self, epoch, logs=None):
        self.ends.append(time.perf_counter())

    def on_train_end(self, logs=None):
        epochs = len(self.ends) - 1
        first = self.ends[1] - self.ends[0] if epochs else 0.0
        later = (self.ends[-1] - self.ends[1]) / (epochs - 1) if epochs > 1 else 0.0
        self.fits.append((epochs, first, later, self.passes))


def _fit_stage(model, train_dataset, valid_dataset, config, work_dir, *args, **kwargs):
    del model, train_dataset, valid_dataset, config, args, kwargs
    # The final fit's folder, or its refit's (final/refit).
    return "final fit" if "final" in os.path.normpath(work_dir).split(os.sep) else "fit"


def instrument(clock, fits):
    """Wraps the stages of ``run_experiment`` in ``clock``; every fit logs to ``fits``."""
    clock.wrap(experiment, "build_examples", "examples from the store")
    clock.wrap(systems.System, "build_model", "head + standardisation")
    clock.wrap(trainer, "fit", _fit_stage)
    clock.wrap(evaluate, "evaluate_songs", "score songs")
    clock.wrap(evaluate, "evaluate_excerpts", "score excerpts")
    clock.wrap(run_report, "write_run_report", "reports")
    clock.wrap(exporter, "export_run", "export (SavedModel, TFLite)")
    callbacks = trainer.training_callbacks

    def clocked(config, work_dir, has_validation, resumable=True, passes_per_epoch=1,
                **kwargs):
        return callbacks(config, work_dir, has_validation, resumable,
                         passes_per_epoch, **kwargs) + [EpochClock(fits, passes_per_epoch)]
    trainer.training_callbacks = clocked


def main(argv):
    del argv
    if FLAGS.data_dir and not os.path.isdir(FLAGS.data_dir):
        print(f"{FLAGS.data_dir} not found: the synthetic demo clips instead")
        FLAGS.data_dir = None
    output_dir = tempfile.mkdtemp(prefix="bench_heads_")
    FLAGS.output_dir = output_dir
    FLAGS.log_every_epochs = 0 if FLAGS.log_every_epochs == 0 else 1000
    clock, fits = StageClock(), []
    instrument(clock, fits)
    try:
        run = cli.run_config()
        started = time.perf_counter()
        payload = experiment.run_experiment(run)
        total = time.perf_counter() - started
    finally:
        shutil.rmtree(output_dir, ignore_errors=True)
    print(f"{'stage':<30} {'seconds':>8}")
    for stage, seconds in clock.seconds.items():
        print(f"{stage:<30} {seconds:8.2f}")
    print(f"{'total (run_experiment)':<30} {total:8.2f}")
    for k, (epochs, first, later, passes) in enumerate(fits):
        print(f"fit {k}: {epochs} epochs of {passes} pass(es), first {first:.2f} s, "
              f"later {later * 1000:.0f} ms each")
    later_epochs = sum(epochs - 1 for epochs, _, _, _ in fits if epochs > 1)
    if later_epochs:
        later_seconds = sum((epochs - 1) * later
                            for epochs, _, later, _ in fits if epochs > 1)
        print(f"all fits: {sum(epochs for epochs, _, _, _ in fits)} epochs, "
              f"{sum(epochs * passes for epochs, _, _, passes in fits)} passes, first "
              f"epochs {sum(first for _, first, _, _ in fits):.1f} s in all, later "
              f"epochs {later_seconds / later_epochs * 1000:.0f} ms each on average")
    splits = payload["splits"]
    head_phase = sum(split["seconds"] for split in splits)
    print(f"head phase (sum of the splits' seconds): {head_phase:.1f} s over "
          f"{len(splits)} splits")
    per_split = ", ".join(f"{split['accuracy']:.3f}" for split in splits)
    print(f"song accuracy {payload['mean_accuracy']:.4f} ± {payload['std_accuracy']:.4f}"
          f" (per split: {per_split})")


if __name__ == "__main__":
    app.run(main, argv=sys.argv)
