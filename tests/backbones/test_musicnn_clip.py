"""musicnn's front end once per clip (``musicnn_clip``) against the network run on each
patch: a network with random weights (batch norm scales of both signs), no checkpoint."""

import keras
import numpy as np
import tensorflow as tf

from genre_tf.backbones import musicnn, musicnn_clip, musicnn_params


def _random_network(seed):
    """``build_musicnn`` with random weights; batch norms with negative and positive
    scales and non-trivial statistics, so every branch of the signed band max runs."""
    rng = np.random.default_rng(seed)
    network = musicnn.build_musicnn()
    for layer in network.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            size = layer.gamma.shape[0]
            layer.set_weights([rng.normal(size=size).astype(np.float32),  # both signs
                               rng.normal(size=size).astype(np.float32),
                               rng.normal(scale=0.1, size=size).astype(np.float32),
                               rng.uniform(0.5, 2.0, size=size).astype(np.float32)])
        elif isinstance(layer, keras.layers.Conv2D):
            kernel, bias = layer.get_weights()
            layer.set_weights([kernel, rng.normal(scale=0.1, size=bias.shape)
                               .astype(np.float32)])
    return network


class ClipNetworkTest(tf.test.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.network = _random_network(0)
        cls.on_patches = staticmethod(tf.function(
            lambda p: cls.network(p, training=False), autograph=False))

    def _assert_equals_patches(self, frames, hop_frames):
        spectrogram = tf.constant(np.random.default_rng(frames).uniform(
            0.0, 3.0, size=(frames, musicnn_params.N_MELS)).astype(np.float32))
        patches = tf.signal.frame(spectrogram, min(frames, musicnn_params.PATCH_FRAMES),
                                  hop_frames, axis=0)
        expected = self.on_patches(patches)
        outputs = musicnn_clip.ClipNetwork(self.network, hop_frames)(spectrogram)
        self.assertEqual(set(outputs), set(musicnn.EMBEDDING_LAYERS))
        for name, value in expected.items():
            self.assertEqual(outputs[name].shape, value.shape, name)
            scale = np.abs(value).max()
            self.assertGreater(scale, 0.0)
            self.assertAllClose(outputs[name], value, atol=1e-5 * scale, rtol=0, msg=name)
        return patches, expected

    def test_half_overlapping_patches(self):
        """musicnn.flags' 1.5 s hop: 94 frames; 5 patches share half their frames."""
        patches, expected = self._assert_equals_patches(600, 94)
        self.assertEqual(patches.shape[0], 5)
        # The patches' ends matter: the clip's frames there differ from the patch's
        # zero padding, so a front end cut from the clip alone would not pass.
        self.assertNotAllClose(expected["max_pool"][1], self.on_patches(
            tf.concat([patches[:1, -3:], patches[1:2], patches[2:3, :3]], 1))[
                "max_pool"][0])

    def test_other_hops_and_leftover_frames(self):
        self._assert_equals_patches(500, 62)
        self._assert_equals_patches(450, musicnn_params.PATCH_FRAMES)  # non-overlapping

    def test_input_shorter_than_a_patch_is_one_patch_of_its_length(self):
        patches, _ = self._assert_equals_patches(musicnn_params.MIN_PATCH_FRAMES, 94)
        self.assertEqual(patches.shape[:2], (1, musicnn_params.MIN_PATCH_FRAMES))

    def test_signed_band_max_is_exact(self):
        """One band maximum of the sign-folded convolution gives, bit for bit, the band
        maximum of the normalised ReLU output, negative scales included."""
        rng = np.random.default_rng(1)
        x = rng.normal(size=(2, 9, 17, 1)).astype(np.float32)
        conv = keras.layers.Conv2D(5, (3, 4), activation="relu")
        norm = keras.layers.BatchNormalization(epsilon=1e-3)
        conv.build(x.shape)
        norm.build((2, 7, 5))
        norm.set_weights([np.array([-2.0, -0.5, 0.5, 1.0, 3.0], np.float32),
                          rng.normal(size=5).astype(np.float32),
                          rng.normal(size=5).astype(np.float32),
                          rng.uniform(0.5, 2.0, size=5).astype(np.float32)])
        conv.bias.assign(rng.normal(3.0, size=5).astype(np.float32))
        normalised = tf.stack([norm(conv(x)[:, :, band], training=False)
                               for band in range(14)], axis=2)
        expected = tf.reduce_max(normalised, axis=2).numpy()
        signs = musicnn_clip.norm_signs(norm)
        signed = tf.reduce_max(tf.nn.conv2d(x, conv.kernel * signs, 1, "VALID"), axis=2)
        pooled = musicnn_clip.signed_band_max(conv, norm, signed).numpy()
        self.assertAllEqual(pooled, expected)
        # Normalising the plain band maximum takes the wrong extreme where the scale is
        # negative (the first two filters; the bias keeps the ReLU open).
        naive = norm(tf.reduce_max(conv(x), axis=2), training=False).numpy()
        self.assertNotAllClose(naive[..., :2], expected[..., :2])
        self.assertAllEqual(naive[..., 2:], expected[..., 2:])

if __name__ == "__main__":
    tf.test.main()
