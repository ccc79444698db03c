"""A head fitted on an earlier head's compiled twin ends exactly as if fitted alone.

The second head's standardisation statistics (mean 5, scale 3) differ from the
first's (mean 0, scale 1): a twin that kept the first head's statistics (Keras'
``Normalization`` bakes them into its traced functions) answers differently.
"""

import os

import keras
import numpy as np
import tensorflow as tf

from genre_tf.models import heads, mlp
from genre_tf.training import compiled_heads, trainer

CONFIG = trainer.TrainConfig(learning_rate=0.01, epochs=4, batch_size=16, patience=2,
                             log_every_epochs=100)


def _rows(offset, scale, seed, n=96):
    rng = np.random.default_rng(seed)
    x = (offset + scale * rng.standard_normal((n, 6))).astype(np.float32)
    y = ((x[:, 0] - offset) > 0).astype(np.int64)
    return x, y


def _head(x, seed):
    keras.utils.set_random_seed(seed)
    return mlp.build_mlp(6, 2, x, hidden_units=(8,), dropout=0.3)


def _fit(model, x, y, work_dir, heads):
    data = tf.data.Dataset.from_tensor_slices((x, y))
    history = trainer.fit(model, data.shuffle(96, seed=1).batch(16), data.batch(32),
                          CONFIG, work_dir, heads=heads)
    return history.model, history.history["val_loss"]


class CompiledHeadsTest(tf.test.TestCase):

    def test_second_head_trains_on_the_first_heads_twin_as_if_alone(self):
        first_x, first_y = _rows(0.0, 1.0, seed=0)
        second_x, second_y = _rows(5.0, 3.0, seed=1, n=90)  # another size, 6 batches too
        work = self.get_temp_dir()

        alone, alone_losses = _fit(_head(second_x, 7), second_x, second_y,
                                   os.path.join(work, "alone"), None)

        heads = compiled_heads.CompiledHeads()
        first, _ = _fit(_head(first_x, 3), first_x, first_y, os.path.join(work, "a"), heads)
        shared, shared_losses = _fit(_head(second_x, 7), second_x, second_y,
                                     os.path.join(work, "b"), heads)

        self.assertIs(shared, first)  # one compiled model, one set of traced functions
        self.assertAllClose(shared_losses, alone_losses, rtol=1e-5)
        self.assertAllClose(shared.predict(second_x, verbose=0),
                            alone.predict(second_x, verbose=0), atol=1e-5)
        # The standardisation is the second head's, read from variables, not the first's.
        self.assertAllClose(shared(second_x[:4] * 0 + 5.0)[:, 0],
                            alone(second_x[:4] * 0 + 5.0)[:, 0], atol=1e-5)

    def test_heads_of_one_structure_share_a_key_whatever_their_sample(self):
        small, large = _head(np.ones((4, 6), np.float32), 0), _head(np.ones((50, 6)), 1)
        self.assertNotEqual(small.to_json(), large.to_json())  # build_config differs
        self.assertEqual(compiled_heads.structure_key(small),
                         compiled_heads.structure_key(large))
        wider = mlp.build_mlp(6, 2, np.ones((4, 6), np.float32), hidden_units=(9,))
        self.assertNotEqual(compiled_heads.structure_key(small),
                            compiled_heads.structure_key(wider))

    def test_heads_with_other_penalties_do_not_share_a_key(self):
        """The traced loss holds the L2 factor: another factor needs its own twin."""
        sample = np.ones((4, 6), np.float32)
        keys = {l2: compiled_heads.structure_key(heads.add_l2(_head(sample, 0), l2))
                for l2 in (0.0, 2e-3, 4e-3)}
        self.assertLen(set(keys.values()), 3)
        self.assertEqual(keys[2e-3], compiled_heads.structure_key(
            heads.add_l2(_head(sample * 3, 1), 2e-3)))

    def test_a_twin_trains_with_the_penalty_of_the_head_it_fits(self):
        x, y = _rows(0.0, 1.0, seed=0)
        shared = compiled_heads.CompiledHeads()
        start = _head(x, 3)
        penalty = sum(float(np.sum(layer.kernel.numpy() ** 2)) for layer in start.layers
                      if isinstance(layer, keras.layers.Dense))  # at l2 = 1
        weak, weak_losses = _fit(heads.add_l2(start, 1e-4), x, y,
                                 os.path.join(self.get_temp_dir(), "weak"), shared)
        strong, strong_losses = _fit(heads.add_l2(_head(x, 3), 1.0), x, y,
                                     os.path.join(self.get_temp_dir(), "strong"), shared)
        self.assertIsNot(weak, strong)
        # The same start (seed 3): the first epoch's loss differs by about the penalty
        # of the kernels at l2 = 1, not by 1e-4 of it.
        self.assertGreater(penalty, 1.0)
        self.assertGreater(strong_losses[0] - weak_losses[0], 0.5 * penalty)

    def test_keras_normalization_is_not_shared(self):
        inputs = keras.Input((6,))
        layer = keras.layers.Normalization(axis=-1)
        layer.adapt(np.ones((4, 6), np.float32))
        model = keras.Model(inputs, keras.layers.Dense(2)(layer(inputs)))
        self.assertFalse(compiled_heads.reusable(model))
        self.assertTrue(compiled_heads.reusable(_head(np.ones((4, 6), np.float32), 0)))


if __name__ == "__main__":
    tf.test.main()
