"""``model.fit`` under ``MultiWorkerMirroredStrategy`` with Keras 3.15.1: a narrow shim.

Keras 3.15.1's TensorFlow trainer fits under ``MirroredStrategy`` but fails under
``MultiWorkerMirroredStrategy`` with more than one worker (keras-team/keras#20585). Run
with two workers, ``fit`` fails in two reductions, both on the multi-worker branch only:

1. ``TensorFlowTrainer._maybe_symbolic_build`` takes the first batch, a *nest*
   ``(x, y)`` of PerReplica values, and hands it to ``strategy.reduce("MEAN", batch,
   axis=None)`` to learn its shapes. ``Strategy.reduce`` takes one value, not a nest;
   the collective path then raises "Attempt to convert a value (PerReplica ...) with an
   unsupported type ... to a Tensor". ``_symbolic_build`` only reads shapes and dtypes,
   so the shim hands it the dataset's element spec instead: no collective op, and no
   batch taken from an iterator that lives for the whole fit (``distribute`` gives
   ``fit`` one iterator and a fixed number of steps on several workers).
2. ``reduce_per_replica(logs, strategy, "auto")`` reduces every step's logs on several
   workers with ``strategy.reduce("MEAN", value, axis=0)``. Loss and metric logs are
   scalars, so it raises "Invalid reduction dimension 0 for input with 0 dimensions".
   The shim reduces scalars with ``axis=None``: the mean over all replicas, which is
   what the one-machine path computes (``tf.reduce_mean`` over its local replicas).
   Every other value is left to Keras.

Why a shim and not a step loop of our own (``strategy.run`` in a ``tf.function``):
with these two reductions fixed, ``fit`` runs everything else as on one machine: the
same Keras callbacks (early stopping, learning-rate decay, logs) on every worker, Keras'
metrics and its validation pass. A step loop would re-implement all of that for one path
and drift from the others. The shim is scoped: (1) is set on one model object, (2)
replaces the module function only while that model's ``fit`` runs (the step functions
are traced inside it), and only ``--distribution=multi_worker`` uses it. It checks that
the Keras internals it replaces exist and fails with this module's name otherwise.
``tests/test_multi_worker.py`` checks that ``fit`` still fails without it: when Keras
fixes the bug, that test says so and this module can go.
"""

import contextlib
import types

import keras
from keras.src import tree
from keras.src.backend.tensorflow import trainer as keras_tf_trainer

_SYMBOLIC_BUILD = "_maybe_symbolic_build"


def _symbolic_build_from_spec(model, iterator=None, data_batch=None):
    """``TensorFlowTrainer._maybe_symbolic_build`` that reads shapes from the epoch
    iterator's dataset spec, not from a reduced batch (failure 1 of the module
    docstring); the rest is Keras' own."""
    if iterator is not None:
        data_batch = iterator.data_adapter.get_tf_dataset().element_spec
    with model.distribute_strategy.scope():
        model._symbolic_build(data_batch=data_batch)  # pylint: disable=protected-access


def _is_scalar(value, strategy):
    return strategy.experimental_local_results(value)[0].shape.rank == 0


def scalar_logs_reduction(keras_reduce):
    """``reduce_per_replica`` that averages scalar logs over every worker's replicas
    (failure 2 of the module docstring) and leaves everything else to ``keras_reduce``."""
    def reduce_per_replica(values, strategy, reduction):
        if reduction not in ("auto", "mean") or not (
                keras_tf_trainer._collective_all_reduce_multi_worker(strategy)):  # pylint: disable=protected-access
            return keras_reduce(values, strategy, reduction)
        return tree.map_structure(
            lambda value: (strategy.reduce("MEAN", value, axis=None)
                           if _is_scalar(value, strategy)
                           else keras_reduce(value, strategy, reduction)), values)
    return reduce_per_replica


def _check_keras_internals(model):
    missing = [name for name, owner in (
        (_SYMBOLIC_BUILD, type(model)), ("reduce_per_replica", keras_tf_trainer),
        ("_collective_all_reduce_multi_worker", keras_tf_trainer)) if not hasattr(owner, name)]
    if missing:
        raise RuntimeError(
            f"Keras {keras.__version__} has no {', '.join(missing)}: the internals that "
            "genre_tf.training.multi_worker_fit patches changed. Check whether "
            "keras-team/keras#20585 is fixed (tests/test_multi_worker.py) and remove or "
            "update the shim")


@contextlib.contextmanager
def fit_compatibility(model):
    """Around ``model.fit`` under ``MultiWorkerMirroredStrategy``: installs the two fixes
    of the module docstring on ``model`` and removes them when ``fit`` returns."""
    _check_keras_internals(model)
    keras_reduce = keras_tf_trainer.reduce_per_replica
    # object.__setattr__: a bound method on the instance, outside Keras' layer tracking.
    object.__setattr__(model, _SYMBOLIC_BUILD,
                       types.MethodType(_symbolic_build_from_spec, model))
    keras_tf_trainer.reduce_per_replica = scalar_logs_reduction(keras_reduce)
    try:
        yield model
    finally:
        keras_tf_trainer.reduce_per_replica = keras_reduce
        object.__delattr__(model, _SYMBOLIC_BUILD)
