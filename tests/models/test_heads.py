"""The dense head's L2 option adds exactly l2 * sum(kernel ** 2) to the loss."""

import keras
import numpy as np
import tensorflow as tf

from genre_tf.models import heads


def _sample(rows=32, width=4, seed=0):
    return np.random.default_rng(seed).standard_normal((rows, width)).astype(np.float32)


class DenseHeadL2Test(tf.test.TestCase):

    def test_no_l2_no_extra_loss(self):
        model = heads.DenseHead(hidden_units=(8,)).build((4,), 3, _sample())
        self.assertEmpty(model.losses)

    def test_l2_is_the_sum_of_squared_kernels(self):
        model = heads.DenseHead(hidden_units=(8,), l2=0.1).build((4,), 3, _sample())
        kernels = [layer.kernel.numpy() for layer in model.layers
                   if isinstance(layer, keras.layers.Dense)]
        self.assertLen(kernels, 2)  # hidden and output layers, not the standardisation
        self.assertAllClose(float(sum(model.losses)),
                            0.1 * sum(float(np.sum(k ** 2)) for k in kernels), rtol=1e-5)

    def test_l2_shrinks_a_linear_heads_weights(self):
        x = _sample(64)
        y = (x[:, 0] > 0).astype(np.int64)
        norms = {}
        for l2 in (0.0, 0.05):
            keras.utils.set_random_seed(0)
            model = heads.DenseHead(hidden_units=(), l2=l2).build((4,), 2, x)
            model.compile(keras.optimizers.Adam(0.05), "sparse_categorical_crossentropy")
            model.fit(x, y, epochs=60, batch_size=64, verbose=0)
            norms[l2] = float(np.linalg.norm(model.get_layer("probabilities").kernel))
        self.assertLess(norms[0.05], 0.7 * norms[0.0])  # measured: 0.59


if __name__ == "__main__":
    tf.test.main()
