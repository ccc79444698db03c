"""KerasTuner search over a system's head and learning rate, scored as the run is scored.

The objective is what ``train.py`` reports: song-level accuracy by the vote (the mean
probability over a song's examples), not example accuracy. It is measured on songs the
model did not train on, by inner cross-validation: the tuning songs (one outer split's
train and valid songs; its test songs are never seen, so tuning cannot leak into that
split's reported accuracy) are cut into ``inner_folds`` stratified folds, and a trial
trains on all folds but one, stops early on the one left out, and scores it. On 100
songs one held-out set of 10 songs moves by 0.1 per song, so a single split picks
settings by luck; averaging the folds scores every tuning song once.

``--refit`` (``TrainConfig.refit``) does not apply inside a trial: a trial's held-out
fold already both stops it early and scores it, so its model is the one at the epoch
count chosen on held-out songs; a refit on train+held-out would leave nothing to score,
and a nested valid split would score settings on fewer training songs than the run has.
The search ranks settings; the run that uses them refits (``experiment.train_split``).

Each search algorithm is one registry entry (``TUNERS``): random and bayesian search
average every inner split; Hyperband hands each trial a number of epochs and continues
its best trials from their weights, so it trains on the first inner split only (every
split would multiply its budget). Every trial logs one line (``trial_log``). The search
folder makes an interrupted search resume, and KerasTuner's distributed mode runs one
search on many machines (``tuning_cluster``).
"""

import copy
import dataclasses
import time

import keras
import keras_tuner
import numpy as np
from absl import logging

from genre_tf.data import excerpts, splits as splits_lib
from genre_tf.evaluation import evaluate
from genre_tf.training import trainer, trial_log, tuning_cluster

OBJECTIVE = keras_tuner.Objective("val_song_accuracy", "max")
# The search's folder under the output folder.
PROJECT_NAME = "search"
# Hyperband keeps the best 1/FACTOR of each round and gives them FACTOR times the epochs.
HYPERBAND_FACTOR = 3


@dataclasses.dataclass(frozen=True)
class TuningConfig:
    """How to search (``tuner.py``'s flags of the same names set it).

    Attributes:
      tuner: a key of ``TUNERS``.
      max_trials: trials of random and bayesian search.
      inner_folds: stratified folds of the tuning songs (at least 2).
      hyperband_max_epochs: most epochs Hyperband gives one model (it sizes its
        search from this; ``max_trials`` and the run's ``epochs`` do not apply).
      seed: seed of the folds, the search and every model's initialisation.
    """
    tuner: str = "random"
    max_trials: int = 20
    inner_folds: int = 3
    hyperband_max_epochs: int = 27
    seed: int = 0


def tuning_data(data):
    """The run's ``DataConfig`` less its evaluation excerpts: they measure snippets of
    test songs, which tuning never scores, so a search does not compute them."""
    return dataclasses.replace(data, examples=dataclasses.replace(
        data.examples, eval_excerpts=excerpts.ExcerptPlan()))


def tuning_songs(split):
    """The songs a search may see: a split's train and valid songs, never its test."""
    return np.sort(np.concatenate([split.train, split.valid]))


def inner_splits(songs, labels, folds, seed=0):
    """Stratified K-fold over ``songs``: split k validates on fold k, trains on the rest.

    Args:
      songs: song indices the search may use.
      labels: int labels of every song (indexed by song).
      folds: number of folds (at least 2).

    Returns:
      ``splits.Split`` objects of song indices, with an empty ``test``.
    """
    songs = np.sort(np.asarray(songs))
    if folds < 2:
        raise ValueError(f"inner cross-validation needs at least 2 folds, got {folds}")
    result = []
    for k, fold in enumerate(splits_lib.stratified_kfold(np.asarray(labels)[songs], folds,
                                                         seed=seed)):
        train = np.sort(songs[np.concatenate([fold.train, fold.valid])])
        split = splits_lib.Split(f"inner_{k}", train, songs[fold.test],
                                 np.asarray([], np.int64))
        split.check_disjoint()
        result.append(split)
    return result


def song_accuracy(model, examples, songs, batch_size):
    """Accuracy on ``songs`` of the vote ``train.py`` reports (mean probability)."""
    return evaluate.evaluate_songs(model, examples, songs,
                                   batch_size)["mean_probability"]["accuracy"]


class SystemHyperModel(keras_tuner.HyperModel):
    """The system's model, with its head's searched values and a learning rate."""

    def __init__(self, system, examples, songs, config):
        super().__init__(name=system.name)
        self.system = system
        self.examples = examples
        self.songs = songs
        self.config = config

    def build(self, hp):
        """KerasTuner's entry point; it builds once to learn the search space."""
        return self.build_for(hp, self.songs)

    def build_for(self, hp, train_songs):
        """A compiled model whose standardisation sees only ``train_songs``."""
        head = self.system.head.with_values(self.system.head.search_space(hp))
        rate = hp.Float("learning_rate", 1e-4, 1e-2, sampling="log")
        model = copy.copy(self.system).with_head(head).build_model(self.examples,
                                                                   train_songs)
        # A constant rate, the one searched: a trial's fit runs no schedule callback,
        # and a cosine schedule would end at the flags' epochs, not the trial's. No
        # XLA: every trial and inner split is a new model, so it would compile each.
        return trainer.compile_model(model, dataclasses.replace(
            self.config, learning_rate=rate, lr_schedule="step", jit_compile=False))


class InnerSplitSearch:
    """``run_trial`` for a KerasTuner tuner: train on each inner split, score its
    held-out songs by vote, return the mean as ``OBJECTIVE``.

    Mixed in before a KerasTuner tuner class. Subclasses say how many inner splits they
    use, which epochs a trial trains and what it continues from.
    """
    inner_splits_used = None  # None: every inner split

    def __init__(self, *, inner_splits, seed, **kwargs):
        self.inner_splits = list(inner_splits)[:self.inner_splits_used]
        self.training_seed = seed
        super().__init__(objective=OBJECTIVE, seed=seed, **kwargs)

    @staticmethod
    def budget(config):
        """The tuner's own size arguments from a ``TuningConfig``."""
        return {"max_trials": config.max_trials}

    def epochs(self, hp):
        """(initial epoch, last epoch) of a trial's fit."""
        del hp
        return 0, self.hypermodel.config.epochs

    def continue_from(self, model, hp):
        """Loads what the trial continues (nothing but for Hyperband)."""

    def keep(self, model, trial):
        """Keeps what a later trial may continue (nothing but for Hyperband)."""

    def run_trial(self, trial, *fit_args, **fit_kwargs):
        del fit_args, fit_kwargs  # the data is the hypermodel's
        started = time.time()
        scores = [self._fit_and_score(trial, split, k)
                  for k, split in enumerate(self.inner_splits)]
        hp = trial.hyperparameters.values
        record = trial_log.TrialRecord(
            trial.trial_id, self.tuner_id, trial_log.searched_values(hp),
            tuple(scores), round(time.time() - started, 1),
            self.epochs(trial.hyperparameters) if "tuner/epochs" in hp else None,
            hp.get("tuner/trial_id"))
        record.save(self.get_trial_dir(trial.trial_id))
        logging.info("%s", record.line(OBJECTIVE.name))
        return {OBJECTIVE.name: record.score}

    def _fit_and_score(self, trial, split, position):
        hypermodel, hp = self.hypermodel, trial.hyperparameters
        config, examples = hypermodel.config, hypermodel.examples
        keras.backend.clear_session()  # one graph per model, not one per search
        seed = self.training_seed + position  # the same for every trial: fair comparison
        keras.utils.set_random_seed(seed)
        model = hypermodel.build_for(hp, split.train)
        self.continue_from(model, hp)
        initial_epoch, epochs = self.epochs(hp)
        stop = ([keras.callbacks.EarlyStopping("val_loss", patience=config.patience,
                                               min_delta=config.min_delta,
                                               restore_best_weights=True)]
                if config.patience else [])
        model.fit(examples.training_dataset(split.train, config.batch_size, seed=seed),
                  validation_data=examples.validation_dataset(split.valid,
                                                              config.batch_size),
                  epochs=epochs, initial_epoch=initial_epoch, callbacks=stop, verbose=0,
                  shuffle=False)
        self.keep(model, trial)
        return float(song_accuracy(model, examples, split.valid, config.batch_size))


class CrossValidatedRandomSearch(InnerSplitSearch, keras_tuner.RandomSearch):
    """Random values, each scored on every inner split."""


class CrossValidatedBayesian(InnerSplitSearch, keras_tuner.BayesianOptimization):
    """Gaussian-process proposals, each scored on every inner split."""


class OneSplitHyperband(InnerSplitSearch, keras_tuner.Hyperband):
    """Hyperband on the first inner split: many models for few epochs, the best
    continued from their weights (``tuner/trial_id``) for ``tuner/epochs``."""
    inner_splits_used = 1

    @staticmethod
    def budget(config):
        return {"max_epochs": config.hyperband_max_epochs, "factor": HYPERBAND_FACTOR}

    def epochs(self, hp):
        return hp.values["tuner/initial_epoch"], hp.values["tuner/epochs"]

    def continue_from(self, model, hp):
        """Loads the earlier trial's weights and its optimizer's state (Adam's moments
        and step; the optimizer is built at compile, ``trainer.build_training_variables``),
        so the trial goes on training rather than restarting Adam."""
        if "tuner/trial_id" in hp.values:
            model.load_weights(self._get_checkpoint_fname(hp.values["tuner/trial_id"]))

    def keep(self, model, trial):
        model.save_weights(self._get_checkpoint_fname(trial.trial_id))


TUNERS = {"random": CrossValidatedRandomSearch, "bayesian": CrossValidatedBayesian,
          "hyperband": OneSplitHyperband}


def tune(system, examples, songs, training, config, output_dir,
         role=tuning_cluster.TuningRole(), overwrite=False):
    """Searches the system's hyperparameters on ``songs`` by inner cross-validation.

    Args:
      system: a ``systems.System`` with its front end fitted to ``examples``.
      examples: the run's ``ExampleSet``.
      songs: the song indices the search may see (``tuning_songs``).
      training: the run's ``trainer.TrainConfig`` (batch size, epochs, patience).
      config: a ``TuningConfig``.
      output_dir: the search folder's parent.
      role: this process's ``tuning_cluster.TuningRole``.
      overwrite: start the search afresh (``--overwrite``); otherwise it resumes.

    Returns:
      The best values as ``{flag name: value}``, or None on a worker (the chief has
      them).
    """
    keras.utils.set_random_seed(config.seed)
    tuner_class = TUNERS[config.tuner]
    search = tuner_class(
        hypermodel=SystemHyperModel(system, examples, songs, training),
        inner_splits=inner_splits(songs, examples.song_labels, config.inner_folds,
                                  config.seed),
        seed=config.seed, directory=output_dir, project_name=PROJECT_NAME,
        overwrite=overwrite and role.writes_outputs,  # workers never clear the search
        **tuner_class.budget(config))
    logging.info("Tuning (%s, %s) on %d songs, %s; objective %s", config.tuner,
                 role.describe(), len(songs),
                 ", ".join(f"{s.name}: {len(s.train)} train/{len(s.valid)} scored"
                           for s in search.inner_splits), OBJECTIVE.name)
    role.wait_for_oracle()
    search.search(verbose=0)
    if not role.writes_outputs:
        return None
    finished = [t for t in search.oracle.get_best_trials(len(search.oracle.trials))
                if t.status == keras_tuner.engine.trial.TrialStatus.COMPLETED]
    logging.info("Search: %s", trial_log.summarize(
        [t.score for t in finished], trial_log.load_records(search.project_dir),
        OBJECTIVE.name))
    if not finished:
        raise RuntimeError(f"no trial of {search.project_dir} finished; see the errors "
                           "above")
    return trial_log.searched_values(finished[0].hyperparameters.values)


def write_best_flags(path, values, run_name):
    """Writes ``values`` as a flag file for ``train.py`` that names its own run
    (``--run_name``), so the tuned run never writes over the untuned one."""
    with open(path, "w") as handle:
        handle.write("# Best hyperparameters found by tuner.py; use after the system's "
                     "flag file:\n# python train.py --flagfile=<system>.flags "
                     f"--flagfile={path}\n")
        handle.write(f"--run_name={run_name}\n")
        for name, value in sorted(values.items()):
            if isinstance(value, bool):
                value = str(value).lower()
            handle.write(f"--{name}={value}\n")
    return path
