"""Training under ``tf.distribute``: which strategy, and which worker keeps the outputs.

``--distribution`` names an entry of ``STRATEGIES``:

    none          TensorFlow's default strategy: one process, as without tf.distribute.
    mirrored      ``tf.distribute.MirroredStrategy``: one replica per local GPU (or the
                  CPU), one process.
    multi_worker  ``tf.distribute.MultiWorkerMirroredStrategy`` over the processes that
                  ``TF_CONFIG`` names; each runs train.py with the same flags.

Every worker builds the same examples and splits, builds and compiles each head inside
``strategy.scope()`` and fits it on the same global batches: ``batch_size`` is the
global batch, and auto-sharding by DATA gives each worker its part of every batch, so
every worker runs the same steps and the same collective ops in the same order (FILE
sharding would hand out whole feature-store shards: uneven, or none for some worker).
On several workers ``fit`` gets one iterator for the whole fit and a step count every
worker computes alike (``fit_data``): a new distributed iterator per epoch costs
seconds there (the sharded pipeline is rebuilt and its cache refilled, and an extra
step asks every worker whether data is left), the whole of an epoch on a small corpus.
Keras' ``fit`` needs a shim to run on several workers: ``multi_worker_fit``.

Only the chief (task ``chief``, else worker 0) keeps outputs. The others write into a
temporary folder removed at exit (Keras' ``write_filepath`` pattern), so callbacks and
the exporter run alike on every worker. Whatever the chief decides from its folder (a
split already done) is broadcast, so that the workers never diverge; evaluation, which
runs no collective op, is the chief's alone. Before any work every worker checks that
its settings and data are the chief's; one that differs stops with the reason (exit 2),
and the others' next collective op then fails within seconds. Several workers resume a
run by whole splits: a worker's temporary folder holds no backup, so resuming inside a
split would restart the other workers while the chief resumed
(``Distribution.resumable``).
"""

import atexit
import contextlib
import dataclasses
import hashlib
import os
import shutil
import tempfile
from typing import Callable

import tensorflow as tf
from absl import logging

from genre_tf.training import multi_worker_fit

TF_CONFIG = "TF_CONFIG"


def _multi_worker_strategy():
    if not os.environ.get(TF_CONFIG):
        raise ValueError(
            "--distribution=multi_worker needs the TF_CONFIG environment variable: the "
            "cluster's workers and this process's task (README, 'On many machines')")
    try:
        return tf.distribute.MultiWorkerMirroredStrategy()
    except RuntimeError as error:  # "Collective ops must be configured at program startup"
        raise RuntimeError(f"{error}: create the Distribution before any TensorFlow "
                           "op runs (as train.py does)") from error


@dataclasses.dataclass(frozen=True)
class Kind:
    """A ``--distribution`` value: how to create its strategy, and what ``fit`` needs
    around it (a context manager taking the model)."""
    create: Callable
    fit_context: Callable = contextlib.nullcontext


STRATEGIES = {
    "none": Kind(tf.distribute.get_strategy),
    "mirrored": Kind(tf.distribute.MirroredStrategy),
    "multi_worker": Kind(_multi_worker_strategy, multi_worker_fit.fit_compatibility),
}


def is_chief(task_type, task_id, cluster):
    """Whether a task keeps the outputs: the ``chief``, or worker 0 of a cluster
    without one (``cluster``: TF_CONFIG's ``{"worker": [...], "chief": [...]}``)."""
    if task_type is None:  # not a cluster: the only process
        return True
    return task_type == "chief" or (task_type == "worker" and task_id == 0
                                    and "chief" not in cluster)


def _removed_at_exit(folder):
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


class Distribution:
    """A strategy, this process's place in it, and the few operations that keep the
    workers in step.

    Attributes:
      name: the ``STRATEGIES`` key.
      strategy: the ``tf.distribute.Strategy``.
      is_chief: whether this process keeps the outputs.
      num_workers: processes in the cluster (1 without one).
    """

    def __init__(self, name="none"):
        """Creates the strategy: for ``multi_worker`` before any TensorFlow op.

        Raises:
          ValueError: ``multi_worker`` without ``TF_CONFIG``.
        """
        if os.environ.get(TF_CONFIG) and name != "multi_worker":
            logging.warning("TF_CONFIG is set but --distribution=%s: this process trains "
                            "alone (--distribution=multi_worker joins the cluster)", name)
        kind = STRATEGIES[name]
        self.name = name
        self.strategy = kind.create()
        self._fit_context = kind.fit_context
        resolver = getattr(self.strategy, "cluster_resolver", None)
        cluster = resolver.cluster_spec().as_dict() if resolver else {}
        self.task_type = resolver.task_type if cluster else None
        self.task_id = resolver.task_id if cluster else 0
        self.num_workers = max(1, sum(len(cluster.get(t, [])) for t in ("chief", "worker")))
        self.is_chief = is_chief(self.task_type, self.task_id, cluster)

    def describe(self):
        """One line for the log: strategy, this worker, replicas in sync."""
        role = "chief" if self.is_chief else "not the chief: outputs go to a temporary folder"
        where = (f"{self.task_type} {self.task_id} of {self.num_workers} workers ({role})"
                 if self.task_type else "one worker")
        return (f"distribution {self.name}: {where}; "
                f"num_replicas_in_sync={self.strategy.num_replicas_in_sync}")

    @property
    def resumable(self):
        """Whether a fit may resume inside a split (``BackupAndRestore``): one worker
        only (see the module docstring)."""
        return self.num_workers == 1

    def scope(self):
        """Where models and optimizers must be created."""
        return self.strategy.scope()

    def fit_context(self, model):
        """A context manager around ``model.fit``."""
        return self._fit_context(model)

    @staticmethod
    def dataset(dataset):
        """``dataset`` (global batches) to be sharded by DATA across workers."""
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = (
            tf.data.experimental.AutoShardPolicy.DATA)
        return dataset.with_options(options)

    def fit_data(self, train_dataset, valid_dataset=None):
        """``model.fit``'s data arguments for finite datasets of global batches: one
        iterator for the whole fit over the datasets repeated, with the batches of one
        pass as the steps of an epoch (and of a validation). A new iterator per epoch
        costs more than a head's epoch of training on one worker (a musicnn split on 2
        busy cores: 35-70 ms against ~10 ms of steps) and seconds on several (see the
        module docstring). One worker keeps a training set whose size is unknown (a
        spectrogram CNN's, recomputed every epoch) and its validation data as they
        are: counting them would cost a pass, and their epochs are long."""
        train = self.dataset(train_dataset)
        valid = None if valid_dataset is None else self.dataset(valid_dataset)
        if self.num_workers == 1:
            known = int(train.cardinality())
            if known <= 0:
                return {"x": train, "validation_data": valid}
            return {"x": _for_the_whole_fit(train), "steps_per_epoch": known,
                    "validation_data": valid}
        arguments = {"x": _for_the_whole_fit(train), "steps_per_epoch": _batches(train)}
        if valid is not None:
            arguments.update(validation_data=_for_the_whole_fit(valid),
                             validation_steps=_batches(valid))
        return arguments

    def output_dir(self, output_dir):
        """Where this worker writes: ``output_dir`` on the chief, a temporary folder
        (removed at exit) on every other worker."""
        if self.is_chief:
            return output_dir
        return _removed_at_exit(tempfile.mkdtemp(
            prefix=f"genre_tf_{self.task_type}{self.task_id}_"))

    def from_chief(self, value):
        """The chief's ``value`` (an int that fits in int64) on every worker. Every
        worker must call it at the same point: it is a collective op."""
        if self.num_workers == 1:
            return value
        mine = tf.constant(value if self.is_chief else 0, tf.int64)
        return int(self.strategy.reduce("SUM", mine, axis=None))

    def check_same_as_chief(self, text, what):
        """Raises ValueError where ``text`` differs from the chief's (collective)."""
        mine = int(hashlib.sha1(str(text).encode()).hexdigest()[:15], 16)  # < 2**63
        if self.from_chief(mine) != mine:
            raise ValueError(f"{self.task_type} {self.task_id} and the chief disagree on the "
                             f"{what}; every worker needs the same flags and data")

    def barrier(self):
        """Returns once every worker has reached it (on one worker: at once)."""
        self.from_chief(0)


def _for_the_whole_fit(dataset):
    """``dataset`` repeated, without tf.data's autotuning: the autotuner's thread
    sleeps for up to a minute between rounds once an iterator has lived a while, and
    deleting the iterator waits for it to wake (measured: 13 to 80 s at the end of a
    60-epoch fit). Parallel stages then use every core, as autotuning would here."""
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.repeat().with_options(options)


def _batches(dataset):
    """Batches in one pass of a finite dataset: its cardinality, or counted (one pass
    of reading, no training: the streamed stores' cardinality is unknown)."""
    known = int(dataset.cardinality())
    if known >= 0:
        return known
    return int(dataset.reduce(tf.constant(0, tf.int64), lambda count, _: count + 1))
