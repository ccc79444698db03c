"""Validation of a small held batch at every epoch end, without Keras' ``evaluate``.

``fit(validation_data=...)`` calls ``evaluate`` after every epoch: a new iterator over
the validation data, the test function's loop, every callback's test hooks and a sync of
the metrics. On a head whose epoch is a few milliseconds of work that was more than the
epoch itself (a musicnn split on 2 busy cores: ~150 ms of a 275 ms epoch, of which the
validation step was well under 1 ms). ``BatchValidation`` runs Keras' own test step on
the rows held in memory (``Model.test_on_batch``: the same compiled loss, regularisation
and metrics, one traced call) and puts ``val_*`` into the epoch's logs, where early
stopping, the CSV history, TensorBoard and ``History`` read them as they read Keras'.
"""

import keras
import tensorflow as tf

# Validation data up to this size is held as one batch: a head's validation rows
# (musicnn on 100 songs: ~6 MB), not a CNN's images (16 of 512x512, fewer than a
# training batch).
VALIDATION_BATCH_BYTES = 16 << 20


def held_rows(valid_dataset, limit_bytes=None):
    """``(x, y)`` of every batch of ``valid_dataset`` joined in order, or None where it
    holds more than ``limit_bytes`` (default ``VALIDATION_BATCH_BYTES``) or nothing."""
    limit_bytes = VALIDATION_BATCH_BYTES if limit_bytes is None else limit_bytes
    batches, size = [], 0
    for batch in valid_dataset:
        batches.append(batch)
        size += sum(part.numpy().nbytes for part in tf.nest.flatten(batch))
        if size > limit_bytes:
            return None
    if not batches:
        return None
    return tuple(tf.concat(parts, 0) for parts in zip(*batches))


class BatchValidation(keras.callbacks.Callback):
    """Adds ``val_<metric>`` of ``rows`` to every epoch's logs (see the module
    docstring). Put it first in the callback list: the others see its values.

    The values are those ``evaluate`` gives on the same rows as one batch: the loss
    and metrics of one test step, the loss averaged over the rows.
    """

    def __init__(self, rows):
        """``rows``: ``(x, y)`` tensors, one batch (``held_rows``)."""
        super().__init__()
        self.rows = rows

    def on_epoch_end(self, epoch, logs=None):
        values = self.model.test_on_batch(*self.rows, return_dict=True)
        if logs is not None:
            logs.update({f"val_{name}": float(value) for name, value in values.items()})
