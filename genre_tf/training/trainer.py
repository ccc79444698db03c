"""Compile and fit any system's model with standard Keras callbacks.

Every system trains through ``fit``: Adam, sparse categorical cross-entropy, early
stopping on the validation loss with the best weights restored, optional step decay of
the learning rate, TensorBoard logs and a CSV history, and a backup every few seconds
(``backup.ArrayBackupAndRestore``) so an interrupted fold resumes after its last
backed-up epoch, early stopping's state included.
Under ``tf.distribute`` (``genre_tf.training.distribute``) the optimizer is created in
the strategy's scope and ``fit`` runs with what the strategy needs around it.
"""

import csv
import dataclasses
import math
import os
import shutil
import time

import keras
import numpy as np
import tensorflow as tf
from absl import logging
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.summary.writer import event_file_writer

from genre_tf.data import examples
from genre_tf.training import (backup, distribute, early_stopping, frozen_prefix,
                               validation)

BACKUP_DIR = "backup"
EARLY_STOPPING_DIR = "early_stopping"
WHOLE_EPOCH = 1 << 20  # steps per execution beyond any epoch's batches
XLA_BATCH_ROWS = 128  # an XLA-compiled full batch is padded to a multiple of this


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings (flags of the same names set them).

    Attributes:
      learning_rate: Adam's initial learning rate.
      epochs: most epochs per fit.
      batch_size: examples per step.
      patience: epochs without ``min_delta`` improvement of val_loss before stopping;
        0 disables early stopping.
      min_delta: smallest val_loss improvement that counts.
      lr_decay_every: multiply the learning rate by ``lr_decay_factor`` every this
        many epochs (the study's CNN: 10 and 0.1); 0 keeps it constant.
      lr_decay_factor: see ``lr_decay_every``.
      lr_schedule: a key of ``LR_SCHEDULES``: ``step`` (constant, or the step decay
        of ``lr_decay_every``, changed between Keras epochs) or ``cosine`` (a linear
        warm-up from 0 over ``lr_warmup_epochs`` passes, then a cosine decay to 0 at
        ``epochs``, changed every step).
      lr_warmup_epochs: see ``lr_schedule``.
      jit_compile: compile the training step with XLA (``compile_model``).
      log_every_epochs: one progress line per this many epochs (0: Keras' own line
        per epoch instead).
      refit: after the fit that stops early on the valid songs, fit a fresh head on
        train and valid songs for the epochs early stopping kept (``chosen_epochs``),
        and use that one (``experiment.train_split``). On 100 songs the 10 valid songs
        are an eighth of the training data, which a baseline without early stopping
        trains on.
      epochs_per_call: passes over the training data in one Keras epoch, one call of
        the training function (``in_calls``). A dense head's pass over ~1600 rows in
        one batch is ~1 ms of work, Keras' per-epoch work around it (metric resets,
        callbacks, validation) several: K passes a call divide that by K. Validation,
        early stopping, backups, history rows and logged lines then come every K
        passes; ``epochs``, ``patience`` and ``lr_decay_every`` count passes and are
        rounded up to whole calls. Without early stopping, and with ``epochs`` and
        ``lr_decay_every`` multiples of K, the weights are those of K=1 (the same
        steps on the same batches). ``history.csv`` and TensorBoard count Keras
        epochs (calls); logged lines and ``chosen_epochs`` count passes.
    """
    learning_rate: float = 1e-4
    epochs: int = 300
    batch_size: int = 32
    patience: int = 30
    min_delta: float = 0.0
    lr_decay_every: int = 0
    lr_decay_factor: float = 0.1
    lr_schedule: str = "step"
    lr_warmup_epochs: int = 0
    jit_compile: bool = False
    log_every_epochs: int = 10
    refit: bool = False
    epochs_per_call: int = 1


def in_calls(config):
    """``config`` with its epoch counts in Keras epochs of ``config.epochs_per_call``
    passes each (rounded up; see ``TrainConfig``); ``config`` itself at 1."""
    per_call = config.epochs_per_call
    if per_call == 1:
        return config

    def calls(passes):
        return -(-passes // per_call)
    return dataclasses.replace(
        config, epochs=calls(config.epochs), patience=calls(config.patience),
        lr_decay_every=calls(config.lr_decay_every),
        log_every_epochs=calls(config.log_every_epochs), epochs_per_call=1)


class EpochLogger(keras.callbacks.Callback):
    """Logs one line every ``every`` epochs (and the last): long fits stay readable.
    Counts in passes over the data: a Keras epoch is ``passes_per_epoch`` of them
    (``TrainConfig.epochs_per_call``)."""

    def __init__(self, every, epochs, passes_per_epoch=1):
        super().__init__()
        self.every = every
        self.epochs = epochs
        self.passes_per_epoch = passes_per_epoch

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every == 0 or epoch + 1 == self.epochs:
            values = " ".join(f"{k}={v:.4f}" for k, v in sorted((logs or {}).items()))
            logging.info("epoch %d/%d %s", (epoch + 1) * self.passes_per_epoch,
                         self.epochs * self.passes_per_epoch, values)


class EpochTensorBoard(keras.callbacks.TensorBoard):
    """TensorBoard's epoch curves (train and validation loss and accuracy, learning
    rate) and nothing per call of the training or test function: there Keras' callback
    writes ``batch_*`` scalars (to no writer, at ``update_freq="epoch"``) and
    ``evaluation_*_vs_iterations`` copies of the validation curves, 7 summary ops an
    epoch that cost more than the epoch's validation (cProfile of a musicnn split).

    The epoch scalars go to the same ``train`` and ``validation`` folders under the
    same names, as events written in Python (TensorBoard's own ``EventFileWriter``): a
    ``tf.summary`` op per value cost ~20 ms of a head's ~100 ms epoch on 2 busy cores.
    """

    def __init__(self, log_dir, **kwargs):
        super().__init__(log_dir, **kwargs)
        self._event_writers = {}

    def on_train_batch_end(self, batch, logs=None):
        del batch, logs

    def on_test_end(self, logs=None):
        del logs
        self._pop_writer()  # pylint: disable=protected-access  (pushed by on_test_begin)

    def _log_epoch_metrics(self, epoch, logs):
        if not logs:
            return
        train = self._collect_learning_rate(
            {k: v for k, v in logs.items() if not k.startswith("val_")})
        val = {k[len("val_"):]: v for k, v in logs.items() if k.startswith("val_")}
        for folder, values in ((self._train_dir, train), (self._val_dir, val)):
            if values:
                self._write_scalars(folder, epoch, values)

    def _write_scalars(self, folder, epoch, values):
        if folder not in self._event_writers:
            self._event_writers[folder] = event_file_writer.EventFileWriter(folder)
        summary = summary_pb2.Summary(value=[
            summary_pb2.Summary.Value(tag=f"epoch_{name}", simple_value=float(value))
            for name, value in values.items()])
        self._event_writers[folder].add_event(
            event_pb2.Event(wall_time=time.time(), step=epoch, summary=summary))

    def on_train_end(self, logs=None):
        super().on_train_end(logs)
        for writer in self._event_writers.values():
            writer.close()
        self._event_writers = {}


def step_decay(initial_rate, every, factor):
    """``lr = initial_rate * factor ** floor(epoch / every)`` as a Keras schedule fn."""
    def schedule(epoch, rate=None):
        del rate
        return initial_rate * factor ** math.floor(epoch / every)
    return schedule


class StepSchedule:
    """A constant learning rate, or the step decay of ``lr_decay_every``: a callback
    sets it between Keras epochs (calls of ``epochs_per_call`` passes)."""

    @staticmethod
    def learning_rate(config, steps_per_pass):
        del steps_per_pass
        return config.learning_rate

    @staticmethod
    def identity(config, steps_per_pass):
        del steps_per_pass
        return (config.learning_rate,)

    @staticmethod
    def callbacks(calls):
        """``calls``: the config in Keras epochs (``in_calls``)."""
        if not calls.lr_decay_every:
            return []
        return [keras.callbacks.LearningRateScheduler(
            step_decay(calls.learning_rate, calls.lr_decay_every, calls.lr_decay_factor))]


class CosineSchedule:
    """Linear warm-up from 0 to ``learning_rate`` over ``lr_warmup_epochs`` passes,
    then a cosine decay to 0 at ``epochs`` passes (Keras' ``CosineDecay``), changed
    every step inside the training function, so ``epochs_per_call`` passes a call see
    it change.

    Why: full-batch Adam at a constant 0.1 on a linear head overshoots on its first
    steps (every weight moves by the rate, a standardised 1506-value row's logits by
    ~100) and then circles the optimum at the rate's scale; on a musicnn split's rows a
    step decay left the objective ~15% above the L2 optimum (lbfgs) after 50 passes,
    this ~2.5% after 75 and ~0.2% after 150.
    """

    @staticmethod
    def learning_rate(config, steps_per_pass):
        if not steps_per_pass:
            raise ValueError(
                "--lr_schedule=cosine needs the training data's batches per pass, and "
                "this system's training data has no known size; use --lr_schedule=step")
        warmup = min(config.lr_warmup_epochs, config.epochs) * steps_per_pass
        decay = max(1, config.epochs * steps_per_pass - warmup)
        if not warmup:
            return keras.optimizers.schedules.CosineDecay(config.learning_rate, decay)
        return keras.optimizers.schedules.CosineDecay(
            0.0, decay, warmup_target=config.learning_rate, warmup_steps=warmup)

    @staticmethod
    def identity(config, steps_per_pass):
        return (config.learning_rate, config.lr_warmup_epochs, config.epochs,
                steps_per_pass)

    @staticmethod
    def callbacks(calls):
        del calls
        return []


LR_SCHEDULES = {"step": StepSchedule, "cosine": CosineSchedule}


def compile_identity(config, steps_per_pass=None):
    """What ``compile_model`` reads of ``config`` (``compiled_heads`` shares a compiled
    twin only between fits that agree on it): the schedule and its settings, XLA."""
    return ((config.lr_schedule, config.jit_compile)
            + LR_SCHEDULES[config.lr_schedule].identity(config, steps_per_pass))


def compile_model(model, config, steps_per_execution=1, steps_per_pass=None):
    """Adam on ``config``'s schedule (``LR_SCHEDULES``) and cross-entropy.

    XLA only where ``config.jit_compile`` asks: Keras 3 compiles every new model with
    it by default, which cost ~1-1.5 s per fit and gained nothing on heads trained in
    small batches (every split, final fit and tuning trial builds a new model). A
    full-batch linear head on a musicnn split's rows (~1100 x 1506) was the exception
    while its step standardised the rows (three passes over them, which XLA fused into
    two, ~2x faster); since the standardisation is computed once per fit
    (``frozen_prefix``) a step is the logits and the kernel's gradient, and XLA gains
    little (bench/heads.py at stop 20: the head phase within noise either way), for
    one compile per batch shape (~0.2-0.5 s; ``fit`` pads a full batch to few shapes,
    ``padded_full_batch``, and ``compiled_heads`` keeps the compiled step).
    ``steps_per_execution``: see ``epoch_steps``; ``steps_per_pass``: batches in a pass
    over the training data (None: unknown)."""
    rate = LR_SCHEDULES[config.lr_schedule].learning_rate(config, steps_per_pass)
    model.compile(optimizer=keras.optimizers.Adam(rate),
                  loss="sparse_categorical_crossentropy",
                  # Weighted: the padding rows of ``padded_full_batch`` (weight 0) must
                  # not count; without weights the same numbers, under the same name.
                  weighted_metrics=["accuracy"],
                  steps_per_execution=steps_per_execution,
                  jit_compile=config.jit_compile)
    build_training_variables(model)
    return model


def build_training_variables(model):
    """Creates the optimizer's and the compiled metrics' variables now, eagerly. Keras
    creates them inside the first trace of the training step, and a ``tf.function``
    that creates variables while it traces is traced again without (TensorFlow's
    rule): every newly compiled model traced its training step twice, ~0.4-0.5 s each
    for a dense head (cProfile of a musicnn split: two ``train_step`` traces per
    compile). The metrics see one row of a label and a prediction of the model's
    shapes, then are reset. Skipped for models with several outputs or an output of
    unknown shape (built as Keras builds them)."""
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    if len(model.outputs) != 1 or None in model.outputs[0].shape[1:]:
        return
    rows = np.zeros((1, *model.outputs[0].shape[1:]), np.float32)
    model.compute_metrics(None, np.zeros(1, np.int64), rows, sample_weight=None)
    model.reset_metrics()


def epoch_steps(distribution, steps_per_epoch=None):
    """Steps per call of the training function: a whole epoch on one worker, 1 on
    several. A head's step takes well under a millisecond of work, and Keras' per-call
    cost (its Python loop, every callback's batch hooks) was most of an epoch. On one
    worker that is ``steps_per_epoch`` where ``fit`` reads one repeated dataset
    (``Distribution.fit_data``), else ``WHOLE_EPOCH`` (the loop ends with the data).
    Several workers count their steps too, but a longer loop would read on into the
    next pass there."""
    if distribution.num_workers != 1:
        return 1
    return steps_per_epoch or WHOLE_EPOCH


def keras_verbosity(config):
    """``fit``'s ``verbose``: silent under ``EpochLogger``, else Keras' line per epoch.
    Never its progress bar: an epoch is one call (``epoch_steps``), and the bar drawn
    for a step count of ``WHOLE_EPOCH`` against an epoch of a few batches is megabytes
    of text per epoch."""
    return 0 if config.log_every_epochs else 2


class ResumableCSVLogger(keras.callbacks.CSVLogger):
    """``CSVLogger`` appending to history.csv after the rows of the epochs a resumed fit
    keeps: the rows of epochs after its backup (``backup.BackupSchedule`` backs up every
    few seconds) are dropped, since the fit runs those epochs again."""

    def __init__(self, filename, backup_dir):
        super().__init__(filename, append=True)
        self.backup_dir = backup_dir

    def on_train_begin(self, logs=None):
        if os.path.isfile(self.filename):
            resumed_at = backup.backed_up_epoch(self.backup_dir)
            with open(self.filename, newline="") as handle:
                rows = list(csv.reader(handle, delimiter=self.sep))
            kept = rows[:1] + [row for row in rows[1:] if row and int(row[0]) < resumed_at]
            if len(kept) < len(rows):
                with open(self.filename, "w", newline="") as handle:
                    csv.writer(handle, delimiter=self.sep).writerows(kept)
        super().on_train_begin(logs)


def training_callbacks(config, work_dir, has_validation, resumable=True,
                       passes_per_epoch=1, state_model=None):
    """The callbacks every fit uses; ``work_dir`` holds backups, logs and history.
    ``config`` counts Keras epochs (``in_calls``), each ``passes_per_epoch`` passes;
    ``state_model``: the whole model whose part is fitted (its state is backed up).

    ``BackupAndRestore`` comes last: at an epoch end that is backed up (every few
    seconds, ``backup.BackupSchedule``) early stopping's state is on disk before the
    backup marks the epoch done, so a fit killed between the two reruns that epoch. A
    rerun drops the history rows of the epochs it runs again (``ResumableCSVLogger``).
    ``resumable=False`` (several workers: ``Distribution.resumable``) leaves out the
    backup, keeps early stopping's state in memory and starts history.csv afresh.
    """
    backup_dir = os.path.join(work_dir, BACKUP_DIR)
    schedule = backup.BackupSchedule()
    history_path = os.path.join(work_dir, "history.csv")
    callbacks = [
        ResumableCSVLogger(history_path, backup_dir) if resumable
        else keras.callbacks.CSVLogger(history_path),
        EpochTensorBoard(os.path.join(work_dir, "logs"), write_graph=False),
    ]
    if config.log_every_epochs:
        callbacks.append(EpochLogger(config.log_every_epochs, config.epochs,
                                     passes_per_epoch))
    callbacks += LR_SCHEDULES[config.lr_schedule].callbacks(config)
    if has_validation and config.patience:
        stopping = dict(monitor="val_loss", patience=config.patience,
                        min_delta=config.min_delta, restore_best_weights=True,
                        verbose=0)  # logged by ``fit``, not printed on stdout
        callbacks.append(early_stopping.ResumableEarlyStopping(
            os.path.join(work_dir, EARLY_STOPPING_DIR), backup_dir, schedule,
            state_model, **stopping)
            if resumable else keras.callbacks.EarlyStopping(**stopping))
    if resumable:
        callbacks.append(backup.ArrayBackupAndRestore(backup_dir, schedule, state_model))
    return callbacks


def early_stopping_in(callbacks):
    """The fit's ``EarlyStopping`` callback, or None."""
    return next((c for c in callbacks if isinstance(c, keras.callbacks.EarlyStopping)),
                None)


def chosen_epochs(callbacks, config):
    """How many epochs the fit with ``callbacks`` kept: up to the best epoch of its
    early stopping (best weights restored), else every epoch of ``config``. Early
    stopping's state survives a resumed fit (``ResumableEarlyStopping``), the History
    of the resumed part does not, so this reads the callback."""
    stopping = early_stopping_in(callbacks)
    if stopping is not None and stopping.best is not None:
        return int(stopping.best_epoch) + 1
    return config.epochs


def passes_per_call(config, fit_data):
    """``config.epochs_per_call`` where ``fit_data`` (``Distribution.fit_data``'s) reads
    one repeated dataset of known batches, else 1: a dataset read to its end is one
    pass (a spectrogram CNN's, whose epoch is long anyway)."""
    if config.epochs_per_call > 1 and "steps_per_epoch" not in fit_data:
        logging.info("epochs_per_call=%d: the training data's size is unknown; one "
                     "pass per call", config.epochs_per_call)
        return 1
    return config.epochs_per_call


@tf.function(autograph=False, reduce_retracing=True)
def _padded_rows(x, y):
    """``(x, y, sample_weight)``: see ``padded_full_batch``. One trace per process
    (``reduce_retracing``: the row count is left unknown), not one per fit: building
    these ops in each fit's ``Dataset.map`` cost ~0.25-0.4 s a fit on 2 busy cores,
    more than XLA saved over a fit's hundred passes."""
    rows = tf.shape(x)[0]
    padded = (rows + XLA_BATCH_ROWS - 1) // XLA_BATCH_ROWS * XLA_BATCH_ROWS
    extra = padded - rows

    def padding(tensor):  # concatenated, the rows' other dimensions stay known
        zeros = tf.zeros(tf.concat([[extra], tf.shape(tensor)[1:]], 0), tensor.dtype)
        return tf.concat([tensor, zeros], 0)
    weight = tf.cast(padded, tf.float32) / tf.cast(rows, tf.float32)
    weights = tf.concat([tf.fill([rows], weight), tf.zeros([extra])], 0)
    return padding(x), padding(y), weights


def padded_full_batch(train_dataset):
    """The one ``(x, y)`` batch of ``train_dataset`` padded with zero rows to a multiple
    of ``XLA_BATCH_ROWS``, as ``(x, y, sample_weight)``: weight 0 for the padding and
    ``padded / rows`` for every real row, so the loss (Keras divides the weighted sum
    by the rows of the batch), its gradient and the accuracy are those of the real
    rows.

    Why: XLA compiles a step for every batch shape it meets, and every split's rows
    differ in number (a musicnn split of gtzan_mini: 1100-1150), so each split's first
    call compiled anew (~0.2-0.5 s, the cost of ~50 passes saved). Padded, the splits
    of a run share one or two shapes, compiled once per process (``compiled_heads``).
    The row count stays unknown to the graph (``data.examples.shuffled_batches``)."""
    return train_dataset.map(_padded_rows).cache()


def pads_full_batch(model, train_dataset, config, distribution):
    """Whether ``fit`` trains on ``padded_full_batch``: XLA on one worker, one batch of
    ``(features, label)``, and no layer whose output mixes rows (batch norm's batch
    statistics would see the padding)."""
    layers = model._flatten_layers()  # pylint: disable=protected-access
    return (config.jit_compile and distribution.num_workers == 1
            and examples.is_one_batch(train_dataset)
            and not any(isinstance(layer, keras.layers.BatchNormalization)
                        for layer in layers))


def skip_backed_up_epochs(dataset, backup_dir, steps_per_epoch):
    """``dataset`` (one iterator for the whole fit: ``Distribution.fit_data``) without
    the batches of the epochs its backup has done.

    Why: a resumed fit starts a new iterator, whose first pass would be shuffled as the
    first pass was, not as the pass it resumes at; tf.data draws each pass's order from
    the seed and the pass number, so replaying the done passes and dropping their
    batches gives the resumed fit the batches the uninterrupted one saw, and with the
    weights, optimizer and dropout generators restored (``backup``) the same weights.
    Replaying costs one pass of the input pipeline per pass done (in-memory rows: a
    gather, ~10 ms). A dataset of unknown size gets a new iterator every epoch and is
    not replayed (a spectrogram CNN's: its passes are minutes of audio)."""
    done = backup.backed_up_epoch(backup_dir)
    return dataset.skip(done * steps_per_epoch) if done else dataset


def fit(model, train_dataset, valid_dataset, config, work_dir, distribution=None,
        heads=None):
    """Compiles and fits ``model``; returns the Keras History, whose ``model`` is the
    model fitted: ``model``, or the twin in ``heads`` that took its variables, and whose
    ``chosen_epochs`` is the number of passes over the data that model was trained for
    (``chosen_epochs``: the best epoch's under early stopping; a Keras epoch is
    ``config.epochs_per_call`` passes, ``passes_per_call``).

    Where ``model`` starts with a frozen prefix (its standardisation) and trains on one
    batch held in memory, the prefix is applied to the batch once and the layers after
    it are compiled and fitted (``frozen_prefix``); the History's ``model`` is still
    the whole model, then not compiled itself (it predicts and exports; ``evaluate``
    and ``optimizer`` are its part's). Backups and early stopping's state hold the
    whole model's variables either way (``state_model``).

    Args:
      model: an uncompiled Keras model, built in ``distribution``'s scope.
      train_dataset: batched ``(inputs, label)`` tf.data.Dataset, shuffled by the system;
        its batches are global batches (split across replicas and workers).
      valid_dataset: batched ``(inputs, label)`` for early stopping, or None.
      config: a ``TrainConfig``.
      work_dir: folder for backups, early stopping's state, TensorBoard logs and
        history.csv.
      distribution: a ``distribute.Distribution`` (None: no strategy).
      heads: a ``compiled_heads.CompiledHeads`` shared by the run's fits, or None
        (``model`` is compiled and fitted itself).
    """
    distribution = distribution or distribute.Distribution()
    os.makedirs(work_dir, exist_ok=True)
    rows = (validation.held_rows(valid_dataset)
            if valid_dataset is not None and distribution.num_workers == 1 else None)
    part = (frozen_prefix.trained_part
            if frozen_prefix.applies(model, train_dataset, rows, valid_dataset, distribution)
            else None)
    if part is not None:  # the prefix computed once, by the model's own layers
        split = frozen_prefix.split_of(model)
        train_dataset = frozen_prefix.prefixed(train_dataset, split)
        rows = frozen_prefix.prefixed_rows(rows, split)
    if pads_full_batch(model, train_dataset, config, distribution):
        train_dataset = padded_full_batch(train_dataset)
    data = distribution.fit_data(train_dataset, None if rows is not None else valid_dataset)
    passes = passes_per_call(config, data)
    steps_per_pass = data.get("steps_per_epoch")
    if passes > 1:
        data["steps_per_epoch"] *= passes
    calls = in_calls(dataclasses.replace(config, epochs_per_call=passes))
    if distribution.resumable and "steps_per_epoch" in data:
        data["x"] = skip_backed_up_epochs(data["x"], os.path.join(work_dir, BACKUP_DIR),
                                          data["steps_per_epoch"])
    steps = epoch_steps(distribution, data.get("steps_per_epoch"))
    with distribution.scope():  # the optimizer's variables are the strategy's too
        if heads is None:
            fitted = compile_model(part(model) if part is not None else model, config,
                                   steps, steps_per_pass)
        else:
            model, fitted = heads.compiled(model, config, steps, steps_per_pass, part)
    callbacks = training_callbacks(calls, work_dir, valid_dataset is not None,
                                   distribution.resumable, passes, state_model=model)
    if rows is not None:  # first: every other callback reads its val_* logs
        callbacks.insert(0, validation.BatchValidation(rows))
    with distribution.fit_context(fitted):
        history = fitted.fit(
            **data, epochs=calls.epochs, callbacks=callbacks,
            shuffle=False,  # Systems shuffle their datasets across songs themselves.
            verbose=keras_verbosity(config))
    history.set_model(model)  # the whole model (``fitted`` may be its part)
    history.chosen_epochs = chosen_epochs(callbacks, calls) * passes
    stopping = early_stopping_in(callbacks)
    if stopping is not None and stopping.stopped_epoch:
        logging.info("early stopping after pass %d: the weights of pass %d kept",
                     (stopping.stopped_epoch + 1) * passes, history.chosen_epochs)
    # Only now is the backup gone, so nothing can resume: early stopping's state (best
    # weights included) is no longer needed. A kill before this line leaves it for the
    # next fit in work_dir, which finds no backup and clears it.
    shutil.rmtree(os.path.join(work_dir, EARLY_STOPPING_DIR), ignore_errors=True)
    return history
