"""Compile and fit any system's model with standard Keras callbacks.

Every system trains through ``fit``: Adam, sparse categorical cross-entropy, early
stopping on the validation loss with the best weights restored, optional step decay of
the learning rate, TensorBoard logs and a CSV history, and a backup at every epoch
(``backup.ArrayBackupAndRestore``) so an interrupted fold resumes at its last finished
epoch, early stopping's state included.
Under ``tf.distribute`` (``genre_tf.training.distribute``) the optimizer is created in
the strategy's scope and ``fit`` runs with what the strategy needs around it.
"""

import dataclasses
import math
import os
import shutil

import keras
import tensorflow as tf
from absl import logging

from genre_tf.training import backup, distribute, early_stopping

BACKUP_DIR = "backup"
EARLY_STOPPING_DIR = "early_stopping"
WHOLE_EPOCH = 1 << 20  # steps per execution beyond any epoch's batches
# Validation data up to this size is one batch: a head's validation rows (musicnn on
# 100 songs: ~6 MB), not a CNN's images (16 of 512x512, fewer than a training batch).
VALIDATION_BATCH_BYTES = 16 << 20


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
      log_every_epochs: one progress line per this many epochs (0: Keras' own line
        per epoch instead).
      refit: after the fit that stops early on the valid songs, fit a fresh head on
        train and valid songs for the epochs early stopping kept (``chosen_epochs``),
        and use that one (``experiment.train_split``). On 100 songs the 10 valid songs
        are an eighth of the training data, which a baseline without early stopping
        trains on.
    """
    learning_rate: float = 1e-4
    epochs: int = 300
    batch_size: int = 32
    patience: int = 30
    min_delta: float = 0.0
    lr_decay_every: int = 0
    lr_decay_factor: float = 0.1
    log_every_epochs: int = 10
    refit: bool = False


class EpochLogger(keras.callbacks.Callback):
    """Logs one line every ``every`` epochs (and the last): long fits stay readable."""

    def __init__(self, every, epochs):
        super().__init__()
        self.every = every
        self.epochs = epochs

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every == 0 or epoch + 1 == self.epochs:
            values = " ".join(f"{k}={v:.4f}" for k, v in sorted((logs or {}).items()))
            logging.info("epoch %d/%d %s", epoch + 1, self.epochs, values)


class EpochTensorBoard(keras.callbacks.TensorBoard):
    """TensorBoard's epoch curves (train and validation loss and accuracy, learning
    rate) and nothing per call of the training or test function: there Keras' callback
    writes ``batch_*`` scalars (to no writer, at ``update_freq="epoch"``) and
    ``evaluation_*_vs_iterations`` copies of the validation curves, 7 summary ops an
    epoch that cost more than the epoch's validation (cProfile of a musicnn split)."""

    def on_train_batch_end(self, batch, logs=None):
        del batch, logs

    def on_test_end(self, logs=None):
        del logs
        self._pop_writer()  # pylint: disable=protected-access  (pushed by on_test_begin)


def step_decay(initial_rate, every, factor):
    """``lr = initial_rate * factor ** floor(epoch / every)`` as a Keras schedule fn."""
    def schedule(epoch, rate=None):
        del rate
        return initial_rate * factor ** math.floor(epoch / every)
    return schedule


def compile_model(model, config, steps_per_execution=1):
    """Adam and cross-entropy. XLA is off: Keras 3 compiles every new model with it by
    default, which costs ~1-1.5 s per fit and gains nothing on heads this small (every
    split, final fit and tuning trial builds a new model). ``steps_per_execution``: see
    ``epoch_steps``."""
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  steps_per_execution=steps_per_execution, jit_compile=False)
    return model


def epoch_steps(distribution):
    """Steps per call of the training function: a whole epoch on one worker (the loop
    ends with the data), 1 on several. A head's step takes well under a millisecond of
    work, and Keras' per-call cost (its Python loop, every callback's batch hooks) was
    most of an epoch. Several workers repeat their datasets and count their steps
    (``Distribution.fit_data``): a longer loop would read on into the next pass there."""
    return WHOLE_EPOCH if distribution.num_workers == 1 else 1


def keras_verbosity(config):
    """``fit``'s ``verbose``: silent under ``EpochLogger``, else Keras' line per epoch.
    Never its progress bar: an epoch is one call (``epoch_steps``), and the bar drawn
    for a step count of ``WHOLE_EPOCH`` against an epoch of a few batches is megabytes
    of text per epoch."""
    return 0 if config.log_every_epochs else 2


def validation_batch(valid_dataset, distribution):
    """``valid_dataset`` as one batch held in memory, where one worker fits and it takes
    at most ``VALIDATION_BATCH_BYTES`` (else as it is). Keras makes a new iterator over
    the validation data at every epoch; over the examples' pipeline that cost more than
    validating (cProfile of a musicnn split: 75 ms of a 420 ms validation under load),
    over one tensor it costs next to nothing. The loss is the mean over the same rows."""
    if valid_dataset is None or distribution.num_workers != 1:
        return valid_dataset
    batches, size = [], 0
    for batch in valid_dataset:
        batches.append(batch)
        size += sum(part.numpy().nbytes for part in tf.nest.flatten(batch))
        if size > VALIDATION_BATCH_BYTES:
            return valid_dataset
    if not batches:
        return valid_dataset
    rows = tf.nest.map_structure(lambda *parts: tf.concat(parts, 0), *batches)
    # Sliced and batched again rather than ``from_tensors``: the batch keeps an unknown
    # size, so validation sets of other sizes (other splits) reuse the traced function.
    return tf.data.Dataset.from_tensor_slices(rows).batch(
        int(tf.shape(tf.nest.flatten(rows)[0])[0]))


def training_callbacks(config, work_dir, has_validation, resumable=True):
    """The callbacks every fit uses; ``work_dir`` holds backups, logs and history.

    ``BackupAndRestore`` comes last: at an epoch end the history row and early stopping's
    state are on disk before the backup marks the epoch done, so a fit killed between
    the two reruns that epoch (history.csv then holds it twice) and loses none.
    ``resumable=False`` (several workers: ``Distribution.resumable``) leaves out the
    backup, keeps early stopping's state in memory and starts history.csv afresh.
    """
    backup_dir = os.path.join(work_dir, BACKUP_DIR)
    callbacks = [
        keras.callbacks.CSVLogger(os.path.join(work_dir, "history.csv"), append=resumable),
        EpochTensorBoard(os.path.join(work_dir, "logs"), write_graph=False),
    ]
    if config.log_every_epochs:
        callbacks.append(EpochLogger(config.log_every_epochs, config.epochs))
    if config.lr_decay_every:
        callbacks.append(keras.callbacks.LearningRateScheduler(
            step_decay(config.learning_rate, config.lr_decay_every,
                       config.lr_decay_factor)))
    if has_validation and config.patience:
        stopping = dict(monitor="val_loss", patience=config.patience,
                        min_delta=config.min_delta, restore_best_weights=True, verbose=1)
        callbacks.append(early_stopping.ResumableEarlyStopping(
            os.path.join(work_dir, EARLY_STOPPING_DIR), backup_dir, **stopping)
            if resumable else keras.callbacks.EarlyStopping(**stopping))
    if resumable:
        callbacks.append(backup.ArrayBackupAndRestore(backup_dir))
    return callbacks


def chosen_epochs(callbacks, config):
    """How many epochs the fit with ``callbacks`` kept: up to the best epoch of its
    early stopping (best weights restored), else every epoch of ``config``. Early
    stopping's state survives a resumed fit (``ResumableEarlyStopping``), the History
    of the resumed part does not, so this reads the callback."""
    for callback in callbacks:
        if (isinstance(callback, keras.callbacks.EarlyStopping)
                and callback.best is not None):
            return int(callback.best_epoch) + 1
    return config.epochs


def fit(model, train_dataset, valid_dataset, config, work_dir, distribution=None,
        heads=None):
    """Compiles and fits ``model``; returns the Keras History, whose ``model`` is the
    model fitted: ``model``, or the twin in ``heads`` that took its variables, and whose
    ``chosen_epochs`` is the number of epochs that model was trained for
    (``chosen_epochs``: the best epoch's under early stopping).

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
    steps = epoch_steps(distribution)
    valid_dataset = validation_batch(valid_dataset, distribution)
    with distribution.scope():  # the optimizer's variables are the strategy's too
        model = (compile_model(model, config, steps) if heads is None
                 else heads.compiled(model, config, steps))
    callbacks = training_callbacks(config, work_dir, valid_dataset is not None,
                                   distribution.resumable)
    with distribution.fit_context(model):
        history = model.fit(
            **distribution.fit_data(train_dataset, valid_dataset),
            epochs=config.epochs, callbacks=callbacks,
            shuffle=False,  # Systems shuffle their datasets across songs themselves.
            verbose=keras_verbosity(config))
    history.chosen_epochs = chosen_epochs(callbacks, config)
    # Only now is the backup gone, so nothing can resume: early stopping's state (best
    # weights included) is no longer needed. A kill before this line leaves it for the
    # next fit in work_dir, which finds no backup and clears it.
    shutil.rmtree(os.path.join(work_dir, EARLY_STOPPING_DIR), ignore_errors=True)
    return history
