"""Standardize adapts a one-batch dataset as that batch, as Keras' streamed adapt does."""

import keras
import numpy as np
import tensorflow as tf

from genre_tf.models import standardize


class StandardizeAdaptTest(tf.test.TestCase):

    def test_one_batch_dataset_gives_keras_statistics_to_the_bit(self):
        rows = (np.random.RandomState(0).randn(300, 7) * [1, 2, 3, 4, 5, 6, 7]
                + 10).astype(np.float32)
        keras_layer = keras.layers.Normalization(axis=-1)
        keras_layer.adapt(tf.data.Dataset.from_tensors(rows))
        layer = standardize.Standardize()
        layer.adapt(tf.data.Dataset.from_tensors(rows))
        self.assertAllEqual(layer.adapt_mean, keras_layer.adapt_mean)
        self.assertAllEqual(layer.adapt_variance, keras_layer.adapt_variance)
        self.assertAllClose(layer.adapt_variance, np.var(rows, axis=0), rtol=1e-5)
        self.assertAllClose(layer(rows[:2]), keras_layer(rows[:2]), atol=1e-6)

    def test_several_batches_are_streamed(self):
        rows = np.random.RandomState(1).randn(64, 3).astype(np.float32) + 5
        layer = standardize.Standardize()
        layer.adapt(tf.data.Dataset.from_tensor_slices(rows).batch(16))
        self.assertAllClose(layer.adapt_mean, rows.mean(axis=0), atol=1e-5)
        self.assertAllClose(layer.adapt_variance, rows.var(axis=0), rtol=1e-4)
