"""Fit a head on its frozen prefix's output, computed once per fit, not once per pass.

A head on stored rows starts with layers that learn nothing during the fit: its
standardisation (``models.standardize``), adapted to the split's rows before the fit.
In full-batch training (``musicnn.flags``: every row in one batch, 100 passes) every
pass standardised the same rows again: a read and a write of the whole batch (~7 MB on
a musicnn split of gtzan_mini), ~2 of a pass's ~4 ms, more than the logits' matmul.

Where it applies (``applies``), ``trainer.fit`` trains the rest of the model
(``trained_part``: a functional model from the prefix's output to the probabilities,
sharing the head's layers and variables) on the prefix's output, computed once and
cached (``prefixed``). The weights are the same to rounding: the same layers, steps and
batches, only where the standardisation is computed moves. The model returned, scored
and exported is the whole one, prefix included, so it still takes raw rows.
"""

import dataclasses
import weakref

import keras

from genre_tf.data import examples
from genre_tf.models import standardize

# Layers that hold no trainable variable and compute the same in training and
# inference: a prefix of them is the same function of the rows at every pass.
FROZEN_LAYERS = (standardize.Standardize,)


@dataclasses.dataclass(frozen=True)
class PrefixSplit:
    """A model cut after its frozen prefix.

    Attributes:
      prefix: the leading layers (after the input) that are ``FROZEN_LAYERS``, each
        taking the one before's output.
      trained_part: the functional model from the last prefix layer's output to the
        model's outputs, sharing the model's layers (so its variables).
    """
    prefix: tuple
    trained_part: keras.Model

    def apply(self, x):
        """The prefix layers applied to ``x``."""
        for layer in self.prefix:
            x = layer(x)
        return x


_SPLITS = weakref.WeakKeyDictionary()  # model -> its PrefixSplit or None


def split_of(model):
    """``model``'s ``PrefixSplit``, built once per model (a ``compiled_heads`` twin's
    trained part is compiled and traced once); None where it has no frozen prefix, only
    one, or where a later layer reads more than the prefix's output."""
    if model not in _SPLITS:
        _SPLITS[model] = _split(model)
    return _SPLITS[model]


def _split(model):
    layers = [layer for layer in model.layers
              if not isinstance(layer, keras.layers.InputLayer)]
    prefix = []
    for layer in layers:
        if not isinstance(layer, FROZEN_LAYERS) or layer.trainable_weights:
            break
        prefix.append(layer)
    if not prefix or len(prefix) == len(layers) or len(model.inputs) != 1:
        return None
    try:
        part = keras.Model(prefix[-1].output, model.outputs, name=f"{model.name}_trained")
    except ValueError:  # "Output ... is not connected to `inputs`": a skip connection
        return None
    return PrefixSplit(tuple(prefix), part)


def trained_part(model):
    """``split_of(model).trained_part``: what ``trainer.fit`` compiles and fits."""
    return split_of(model).trained_part


def applies(model, train_dataset, valid_rows, valid_dataset, distribution):
    """Whether ``trainer.fit`` trains ``model``'s ``trained_part`` on ``prefixed`` rows:
    a frozen prefix, one ``(x, label)`` batch held in memory (a pass is then one step
    on the same rows), validation rows held too (or none), and no ``tf.distribute``
    strategy (the prefix's variables are read in the dataset's function)."""
    return (distribution.name == "none" and distribution.num_workers == 1
            and examples.is_one_batch(train_dataset)
            and (valid_dataset is None or valid_rows is not None)
            and split_of(model) is not None)


def prefixed(train_dataset, split):
    """``train_dataset``'s one batch with ``split``'s prefix applied, computed on the
    first pass and cached."""
    return train_dataset.map(lambda x, y: (split.apply(x), y)).cache()


def prefixed_rows(rows, split):
    """Held validation rows ``(x, y)`` (``validation.held_rows``) with ``split``'s
    prefix applied; None stays None."""
    if rows is None:
        return None
    x, *rest = rows
    return (split.apply(x), *rest)
