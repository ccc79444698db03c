"""System 2: the block builder reaches 4x4, SpecAugment, and train.py end to end."""

import json
import os
import shutil
import tempfile

import keras
import numpy as np
import pytest
import tensorflow as tf

from genre_tf.models import cnn
from tests import fixtures


class BlockBuilderTest(tf.test.TestCase):

    def test_map_is_final_side_before_the_dense_layers(self):
        for shape, blocks in (((512, 512, 1), 7), ((64, 64, 3), 4), ((128, 128, 1), 5),
                              ((256, 64, 2), 6), ((16, 16, 1), 2)):
            with self.subTest(shape=shape):
                images = np.random.default_rng(0).random((4, *shape), np.float32)
                model = cnn.build_spectrogram_cnn(shape, 10, images, base_filters=4,
                                                  fc_units=16)
                self.assertEqual(cnn.conv_blocks_needed(shape), blocks)
                self.assertEqual(cnn.final_map_side(model), (4, 4))
                self.assertLen([l for l in model.layers if l.name.startswith("conv")],
                               blocks)
                self.assertEqual(model.get_layer("fc_half").units, 8)
                self.assertEqual(model.output_shape, (None, 10))

    def test_other_final_side_and_bad_sizes(self):
        images = np.zeros((2, 64, 64, 1), np.float32)
        model = cnn.build_spectrogram_cnn((64, 64, 1), 3, images, final_conv_dim=8)
        self.assertEqual(cnn.final_map_side(model), (8, 8))
        with self.assertRaisesRegex(ValueError, "not 4 x a power of two"):
            cnn.conv_blocks_needed((100, 128, 1))

    def test_standardisation_uses_the_given_training_images(self):
        images = np.random.default_rng(1).normal(3.0, 2.0, (8, 16, 16, 1)).astype(np.float32)
        model = cnn.build_spectrogram_cnn((16, 16, 1), 2, images)
        layer = model.get_layer("standardize")
        self.assertAllClose(float(np.ravel(layer.mean)[0]), images.mean(), rtol=1e-4)


class SmallDataOptionsTest(tf.test.TestCase):
    """``standardization="per_band"`` and ``classifier="global_pool"``."""

    def test_per_band_standardisation_centres_every_band(self):
        # Band b of every image ~ N(10 b, (b + 1)^2): one scalar cannot centre them all.
        rng = np.random.default_rng(2)
        bands = np.arange(8, dtype=np.float32)[None, :, None, None]
        images = (10 * bands + (bands + 1) * rng.normal(size=(64, 8, 16, 1))).astype(
            np.float32)
        per_band = cnn.build_spectrogram_cnn((8, 16, 1), 2, images, base_filters=2,
                                             fc_units=4, standardization="per_band")
        layer = per_band.get_layer("standardize")
        self.assertAllClose(np.ravel(layer.mean), images.mean(axis=(0, 2, 3)), rtol=1e-4)
        out = layer(images).numpy()
        self.assertAllClose(out.mean(axis=(0, 2, 3)), np.zeros(8), atol=1e-4)
        self.assertAllClose(out.std(axis=(0, 2, 3)), np.ones(8), atol=1e-3)
        one_scalar = cnn.build_spectrogram_cnn((8, 16, 1), 2, images, base_filters=2,
                                               fc_units=4).get_layer("standardize")
        band_means = one_scalar(images).numpy().mean(axis=(0, 2, 3))
        self.assertAllClose(band_means[[0, -1]], [-1.48, 1.48], atol=0.05)

    def test_global_pool_classifier_has_no_hidden_dense_layer(self):
        images = np.random.default_rng(0).random((4, 16, 32, 1), np.float32)
        model = cnn.build_spectrogram_cnn((16, 32, 1), 10, images, base_filters=4,
                                          classifier="global_pool")
        # conv0 1->4 (36 + 4), conv1 4->8 (288 + 8), conv2 8->16 (1152 + 16), softmax
        # 16 -> 10 (160 + 10): the study's FC layers (fc_units=256) are gone.
        self.assertEqual(model.count_params() - 3, 40 + 296 + 1168 + 170)  # 3: mean,
        self.assertEqual(cnn.final_map_side(model), (4, 4))              # var, count
        self.assertEqual([l.name for l in model.layers if "fc" in l.name], [])
        self.assertEqual(model.output_shape, (None, 10))
        study = cnn.build_spectrogram_cnn((16, 32, 1), 10, images, base_filters=4)
        self.assertGreater(study.count_params(), 20 * model.count_params())

    def test_time_pool_keeps_one_mean_per_band(self):
        images = np.random.default_rng(0).random((4, 16, 32, 1), np.float32)
        model = cnn.build_spectrogram_cnn((16, 32, 1), 10, images, base_filters=4,
                                          classifier="time_pool")
        # The same convs as above; the softmax reads 4 bands x 16 filters = 64 means.
        self.assertEqual(model.count_params() - 3, 40 + 296 + 1168 + 64 * 10 + 10)
        self.assertEqual(model.get_layer("flatten").output.shape, (None, 64))
        features = keras.Model(model.input, model.get_layer("flatten").output)
        final_map = keras.Model(model.input, model.get_layer("pool2").output)
        self.assertAllClose(features(images[:1]).numpy().reshape(4, 16),
                            final_map(images[:1]).numpy()[0].mean(axis=1), atol=1e-5)

    def test_unknown_choices_are_refused(self):
        images = np.zeros((2, 16, 16, 1), np.float32)
        with self.assertRaisesRegex(ValueError, "--classifier=dense; choose from fc"):
            cnn.build_spectrogram_cnn((16, 16, 1), 2, images, classifier="dense")
        with self.assertRaisesRegex(ValueError, "--standardization=row"):
            cnn.build_spectrogram_cnn((16, 16, 1), 2, images, standardization="row")


class SpecAugmentTest(tf.test.TestCase):

    def test_masks_in_training_only(self):
        layer = cnn.SpecAugment(max_freq=4, max_time=4, n_masks=2, seed=3)
        x = tf.ones([8, 32, 32, 1])
        self.assertAllEqual(layer(x, training=False), x)
        masked = layer(x, training=True).numpy()
        zeros = masked == 0
        self.assertTrue(zeros.any())
        self.assertLess(zeros.mean(), 0.5)
        # Masks are whole rows (frequency) or columns (time) of an example.
        for example in zeros[..., 0]:
            rows, columns = example.all(axis=1), example.all(axis=0)
            self.assertAllEqual(example, rows[:, None] | columns[None, :])
        restored = cnn.SpecAugment.from_config(layer.get_config())
        self.assertEqual(restored.max_freq, 4)


@pytest.mark.slow
class CnnCliTest(tf.test.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.work = tempfile.mkdtemp(prefix="genre_tf_cnn_")
        cls.data = fixtures.write_tone_genres(os.path.join(cls.work, "data"), per_genre=6)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)
        super().tearDownClass()

    def test_crop_cnn_learns_and_votes_over_crops(self):
        output = os.path.join(self.work, "plus")
        # 32 mel bands x 32 frames per 0.72 s crop; 1 s clips give 2 evaluation crops.
        fixtures.run_train(
            "--flagfile=cnn_plus.flags", f"--data_dir={self.data}", f"--output_dir={output}",
            f"--cache_dir={self.work}/cache", "--n_mels=32", "--crop_seconds=0.72",
            "--crop_hop_seconds=0.25", "--base_filters=8",
            "--fc_units=32", "--epochs=20", "--patience=0", "--learning_rate=3e-3",
            "--folds=2", "--log_every_epochs=0")
        with open(os.path.join(output, "metrics.json")) as handle:
            result = json.load(handle)
        self.assertGreaterEqual(result["mean_accuracy"], 0.8)
        self.assertIn("majority", result["votes"])
        self.assertEqual(result["system"]["spectrograms"], ["mel"])
        # The phone file is converted here; the study CNN below skips the conversion
        # (--notflite): one CNN conversion per test run is enough end to end.
        self.assertTrue(os.path.isfile(os.path.join(output, "model.tflite")))
        reloaded = tf.saved_model.load(os.path.join(output, "saved_model"))
        for genre in fixtures.TONE_GENRES:
            y = fixtures.tone_genre_clip(genre, 9, seconds=1.5)
            out = reloaded.classify_waveform(tf.constant(y))
            self.assertEqual(out["class_name"].numpy()[0].decode(), genre)

    def test_study_cnn_stacks_types_and_exports(self):
        output = os.path.join(self.work, "study")
        fixtures.run_train(
            "--flagfile=cnn.flags", f"--data_dir={self.data}", f"--output_dir={output}",
            f"--cache_dir={self.work}/cache", "--spectrogram=mel,chroma_stft,tonnetz",
            "--image_size=32", "--epochs=2", "--batch_size=8", "--folds=2",
            "--spectrogram_cache", "--log_every_epochs=0", "--notflite")
        with open(os.path.join(output, "metrics.json")) as handle:
            result = json.load(handle)
        self.assertLen(result["splits"], 2)
        self.assertEqual(result["n_songs"], 18)
        reloaded = tf.saved_model.load(os.path.join(output, "saved_model"))
        out = reloaded.classify_waveform(tf.constant(fixtures.tone_genre_clip("low", 0)))
        self.assertEqual(out["probabilities"].shape, (1, 3))
        self.assertAllClose(tf.reduce_sum(out["probabilities"]), 1.0, atol=1e-5)
        images = tf.zeros([2, 32, 32, 3])
        self.assertEqual(reloaded.serve(images)["class_id"].shape, (2,))
        self.assertNotEmpty(os.listdir(os.path.join(self.work, "cache", "spectrograms")))


if __name__ == "__main__":
    tf.test.main()
