"""KerasTuner search over a system's head and learning rate, on one split's songs.

The search trains on a split's ``train`` songs and scores on its ``valid`` songs; the
``test`` songs are never seen, so tuning cannot leak into reported accuracy. Systems with
cached front ends (feature statistics, embeddings) tune in seconds per trial. The best
values are written as a flag file for ``train.py``. The tuner's own folder makes an
interrupted search resume where it stopped.
"""

import dataclasses
import os

import keras
import keras_tuner
from absl import logging

from genre_tf.training import trainer

TUNERS = {"random": keras_tuner.RandomSearch, "bayesian": keras_tuner.BayesianOptimization}


class SystemHyperModel(keras_tuner.HyperModel):
    """Builds the system's model with hyperparameters drawn from its search space."""

    def __init__(self, system, examples, train_songs, config):
        super().__init__(name=system.name)
        self.system = system
        self.examples = examples
        self.train_songs = train_songs
        self.config = config
        self.base_head = system.head

    def build(self, hp):
        self.system.with_head(self.base_head.with_values(self.base_head.search_space(hp)))
        rate = hp.Float("learning_rate", 1e-4, 1e-2, sampling="log")
        model = self.system.build_model(self.examples, self.train_songs)
        return trainer.compile_model(model, dataclasses.replace(self.config,
                                                                learning_rate=rate))


def tune(system, examples, split, config, output_dir, max_trials=20, tuner="random",
         seed=0):
    """Searches hyperparameters; returns the best as ``{flag name: value}``.

    Writes ``best.flags`` in ``output_dir``.
    """
    keras.utils.set_random_seed(seed)
    search = TUNERS[tuner](
        SystemHyperModel(system, examples, split.train, config), objective="val_accuracy",
        max_trials=max_trials, seed=seed, directory=output_dir, project_name="search")
    search.search(
        examples.training_dataset(split.train, config.batch_size, seed=seed),
        validation_data=examples.validation_dataset(split.valid, config.batch_size),
        epochs=config.epochs, verbose=0,
        callbacks=[keras.callbacks.EarlyStopping("val_loss", patience=config.patience or 10,
                                                 min_delta=config.min_delta,
                                                 restore_best_weights=True)])
    best = search.get_best_hyperparameters(1)[0].values
    logging.info("Best of %d trials: %s", len(search.oracle.trials), best)
    path = os.path.join(output_dir, "best.flags")
    with open(path, "w") as handle:
        handle.write("# Best hyperparameters found by tuner.py; use after the system's "
                     "flag file:\n# python train.py --flagfile=<system>.flags "
                     f"--flagfile={path}\n")
        for name, value in sorted(best.items()):
            if isinstance(value, bool):
                value = str(value).lower()
            handle.write(f"--{name}={value}\n")
    return best
