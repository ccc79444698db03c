"""One compiled head per structure for a whole run, so Keras traces its functions once.

Every split and the final fit build a new head, and Keras traces a new model's train
and test functions on its first fit (and evaluation traces a predict function): on a
dense head that tracing was a large part of a split's seconds. ``CompiledHeads`` keeps
the first compiled model of each structure and fits every later head of that structure
on it instead: it takes the new head's variables (initialised from the split's seed,
standardisation adapted to the split's songs, dropout's seed state), puts its optimizer
back to the state it had when new and forgets the epoch a resumed fit started at. A
split's result thus depends on its seed and songs only, not on the splits that ran
before it in the process (a rerun that resumes at split 3 trains it as the first run
did).

Where ``trainer.fit`` trains only the layers after a head's frozen prefix
(``frozen_prefix``), the twin is the whole model and the part is compiled once with
it: every later head of that structure takes the whole twin's variables and trains on
the twin's part.

Only models whose layers read every state they use from variables are shared
(``REUSABLE_LAYERS``): Keras' own ``Normalization`` bakes its statistics into the traced
function as constants (see ``models.standardize``).
"""

import json

import keras

from genre_tf.models import standardize
from genre_tf.training import trainer

# Layers whose call reads nothing but its inputs and its variables.
REUSABLE_LAYERS = (keras.layers.InputLayer, keras.layers.Dense, keras.layers.Dropout,
                   keras.layers.BatchNormalization, standardize.Standardize,
                   keras.Model)


def structure_key(model):
    """``model.to_json()`` without the layers' ``build_config``, with the penalties of
    its variables. A layer built by calling it on a sample (the head's standardisation,
    adapted to the split's rows) records that sample's row count in ``build_config``,
    so two heads of one structure differed in every split and none was shared (each
    fit traced its own training loop, ~1-2 s). A penalty set on a built variable
    (``models.heads.add_l2``) is in no layer's config, and the traced loss holds its
    factor as a constant: heads of another ``l2`` shared a twin and trained with the
    first one's (``bench/select_head.py``'s L2 candidates scored alike)."""
    def without_build(node):
        if isinstance(node, dict):
            return {k: without_build(v) for k, v in node.items() if k != "build_config"}
        if isinstance(node, list):
            return [without_build(v) for v in node]
        return node
    penalties = [(variable.path, keras.regularizers.serialize(variable.regularizer))
                 for variable in model.variables
                 if getattr(variable, "regularizer", None) is not None]
    return json.dumps([without_build(json.loads(model.to_json())), penalties],
                      sort_keys=True)


def reusable(model):
    """Whether ``model`` can be fitted on a twin compiled earlier (see the docstring)."""
    return all(isinstance(layer, REUSABLE_LAYERS)
               for layer in model._flatten_layers(include_self=False))  # pylint: disable=protected-access


class CompiledHeads:
    """Compiled models by structure and compile settings (``trainer.compile_identity``),
    for one process's fits."""

    def __init__(self):
        # key -> (model, the part of it compiled, that part's optimizer values when new)
        self._twins = {}

    def compiled(self, model, config, steps_per_execution, steps_per_pass=None,
                 part=None):
        """``(model, fitted)``: a model holding ``model``'s variables (``model`` itself,
        the first of its kind or one that cannot be shared, or the earlier twin), and
        the model to fit: that one compiled, or its ``part(model)`` compiled (the layers
        after a frozen prefix, ``frozen_prefix``; they share the variables)."""
        part_of = part or (lambda whole: whole)
        if not reusable(model):
            return model, trainer.compile_model(part_of(model), config,
                                                steps_per_execution, steps_per_pass)
        # What compile_model reads of ``config``: a refit (other epochs, no patience)
        # reuses the early-stopped fit's twin on a step schedule (not on a cosine one,
        # which ends at ``epochs``).
        key = (structure_key(model), part, trainer.compile_identity(config, steps_per_pass),
               steps_per_execution)
        if key not in self._twins:
            fitted = trainer.compile_model(part_of(model), config, steps_per_execution,
                                           steps_per_pass)  # its optimizer built
            self._twins[key] = (model, fitted,
                                [v.numpy() for v in fitted.optimizer.variables])
            return model, fitted
        twin, fitted, optimizer_values = self._twins[key]
        for target, source in zip(twin.variables, model.variables, strict=True):
            target.assign(source)
        for variable, value in zip(fitted.optimizer.variables, optimizer_values,
                                   strict=True):
            variable.assign(value)
        fitted._initial_epoch = None  # pylint: disable=protected-access  (set by a resume)
        fitted.stop_training = False
        return twin, fitted
