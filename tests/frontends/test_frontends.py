"""Front ends: the waveform -> examples functions training, evaluation and the export
share (feature statistics, spectrogram crops, musicnn embedding frames)."""

import dataclasses
import unittest

import numpy as np
import tensorflow as tf

from genre_tf import backbones, frontends
from genre_tf.backbones import musicnn, musicnn_params
from genre_tf.features import statistics
from genre_tf.frontends import base, embedding, feature_stats, spectrogram
from tests import fixtures

SMALL_FEATURES = statistics.FeatureConfig(window_sizes=(512, 1024))
# 0.5 s crops every 0.25 s (5512 samples: round(5512.5) rounds to even), 128 mel bins.
CROPS = spectrogram.ImageConfig(kinds=("mel",), image_size=0, crop_seconds=0.5)
CROP, HOP = 11025, 5512


try:
    musicnn.checkpoint_dir("MSD_musicnn")
    MUSICNN_MISSING = None
except FileNotFoundError as missing:
    MUSICNN_MISSING = str(missing)


class FeatureStatsFrontEndTest(tf.test.TestCase):

    def test_one_row_equal_to_the_feature_vector(self):
        frontend = feature_stats.FeatureStatsFrontEnd(SMALL_FEATURES)
        waveform = fixtures.tone(440.0, seconds=0.5)
        examples = frontend.examples(tf.constant(waveform))
        n_features = len(statistics.feature_names(SMALL_FEATURES))
        self.assertEqual(examples.shape, (1, n_features))
        self.assertEqual(frontend.example_shape, (n_features,))
        self.assertAllClose(examples[0],
                            statistics.compute_feature_vector(waveform, SMALL_FEATURES),
                            rtol=1e-5, atol=1e-5)
        # A 440 Hz tone: the spectral centroid's mean sits at its pitch.
        column = frontend.feature_names().index("centroid_mean_w1024")
        self.assertAllClose(examples[0, column], 440.0, rtol=0.05)

    def test_declared_facts(self):
        frontend = feature_stats.FeatureStatsFrontEnd(SMALL_FEATURES)
        self.assertEqual(frontend.sample_rate, 22050)
        self.assertEqual(frontend.min_samples, 1024)
        self.assertIsNone(frontend.window_samples)
        self.assertIsNone(frontend.hop_samples)
        self.assertTrue(frontend.cacheable)
        self.assertEqual(frontend.describe()["features"]["window_sizes"], (512, 1024))

    def test_key_follows_every_setting(self):
        def key(**changes):
            config = dataclasses.replace(SMALL_FEATURES, **changes)
            return feature_stats.FeatureStatsFrontEnd(config).key

        self.assertEqual(key(), key())
        self.assertTrue(key().startswith("statistics-"))
        keys = {key(), key(window_sizes=(512, 2048)), key(n_mfcc=13), key(tempo=False),
                key(statistics=("mean",)), key(sample_rate=16000)}
        self.assertLen(keys, 6)


class SpectrogramFrontEndTest(tf.test.TestCase):

    def test_crop_regime_frames_a_clip_every_hop(self):
        frontend = spectrogram.SpectrogramFrontEnd(CROPS)
        self.assertEqual((frontend.min_samples, frontend.window_samples,
                          frontend.hop_samples), (CROP, CROP, HOP))
        self.assertFalse(frontend.cacheable)
        # 128 mel bins by 1 + 11025 // 512 = 22 frames.
        self.assertEqual(frontend.example_shape, (128, 22, 1))
        waveform = fixtures.music_like(seconds=2.0)  # 44100 samples
        images = frontend.examples(tf.constant(waveform))
        # 1 + (44100 - 11025) // 5512 = 7 crops.
        self.assertEqual(images.shape, (7, 128, 22, 1))
        self.assertEqual(frontend.examples_per_clip(44100), 7)
        for k in (0, 3, 6):
            crop = waveform[k * HOP:k * HOP + CROP]
            self.assertAllClose(images[k], spectrogram.waveform_to_image(crop, CROPS),
                                atol=1e-5)
        self.assertAllClose(tf.reduce_min(images, axis=[1, 2, 3]), np.zeros(7), atol=1e-6)
        self.assertAllClose(tf.reduce_max(images, axis=[1, 2, 3]), np.ones(7), atol=1e-6)

    def test_examples_per_clip_agrees_with_examples(self):
        frontend = spectrogram.SpectrogramFrontEnd(CROPS)
        examples = tf.function(frontend.examples,
                               input_signature=[tf.TensorSpec([None], tf.float32)])
        for n_samples, expected in ((CROP, 1), (CROP + HOP - 1, 1), (CROP + HOP, 2),
                                    (22050, 3), (30000, 4), (66150, 11)):
            with self.subTest(n_samples=n_samples):
                images = examples(tf.constant(fixtures.tone(300.0, 4.0)[:n_samples]))
                self.assertEqual(images.shape[0], expected)
                self.assertEqual(frontend.examples_per_clip(n_samples), expected)

    def test_study_regime_crops_every_clip_to_the_shortest(self):
        study = spectrogram.SpectrogramFrontEnd(
            spectrogram.ImageConfig(kinds=("mel",), image_size=0))
        with self.assertRaisesRegex(ValueError, "fit_to_data"):
            _ = study.min_samples
        fitted = study.fit_to_data([30000, 20000, 25000])
        self.assertEqual((fitted.min_samples, fitted.window_samples, fitted.hop_samples),
                         (20000, 20000, 20000))
        self.assertEqual(fitted.example_shape, (128, 1 + 20000 // 512, 1))
        self.assertEqual(fitted.examples_per_clip(30000), 1)
        waveform = fixtures.music_like(seconds=30000 / 22050)
        images = fitted.examples(tf.constant(waveform))
        self.assertEqual(images.shape, (1, 128, 40, 1))
        self.assertAllClose(images[0], spectrogram.waveform_to_image(
            waveform[:20000], fitted.config), atol=1e-5)
        # Training sees the same single crop; the key changes with the crop.
        self.assertAllClose(fitted.training_examples(tf.constant(waveform)), images)
        self.assertNotEqual(fitted.key, study.key)
        self.assertNotEqual(fitted.key, study.fit_to_data([20001]).key)

    def test_crop_regime_ignores_the_data(self):
        frontend = spectrogram.SpectrogramFrontEnd(CROPS)
        self.assertIs(frontend.fit_to_data([5000, 100000]), frontend)

    def test_training_draws_crops_per_song_random_crops(self):
        frontend = spectrogram.SpectrogramFrontEnd(
            dataclasses.replace(CROPS, crops_per_song=3))
        waveform = tf.constant(fixtures.music_like(seconds=2.0))
        images = frontend.training_examples(waveform, seed=1)
        self.assertEqual(images.shape, (3, 128, 22, 1))
        self.assertAllInRange(images, 0.0, 1.0)
        # A clip exactly one crop long has one place to crop: every crop is the clip.
        clip = waveform[:CROP]
        crops = frontend.training_examples(clip)
        self.assertEqual(crops.shape, (3, 128, 22, 1))
        for k in range(3):
            self.assertAllClose(crops[k], frontend.examples(clip)[0], atol=1e-6)
        # The shared path fills short input first: 5000 samples become one full crop.
        filled = base.filled_examples(frontend, waveform[:5000], "repeat", training=True)
        self.assertEqual(filled.shape, (3, 128, 22, 1))

    def test_stacked_kinds_need_a_size(self):
        with self.assertRaisesRegex(ValueError, "--image_size"):
            spectrogram.ImageConfig(kinds=("mel", "mfcc"), image_size=0)
        with self.assertRaisesRegex(ValueError, "unknown --spectrogram"):
            spectrogram.ImageConfig(kinds=("melody",))
        frontend = spectrogram.SpectrogramFrontEnd(spectrogram.ImageConfig(
            kinds=("mel", "mfcc"), image_size=16, crop_seconds=0.5))
        images = frontend.examples(tf.constant(fixtures.music_like(seconds=1.0)))
        self.assertEqual(images.shape, (3, 16, 16, 2))
        self.assertEqual(frontend.example_shape, (16, 16, 2))


class RegistryTest(tf.test.TestCase):

    def test_create_builds_the_named_front_end(self):
        frontend = frontends.create("mlp", SMALL_FEATURES)
        self.assertIsInstance(frontend, feature_stats.FeatureStatsFrontEnd)
        self.assertEqual(frontend.min_samples, 1024)
        self.assertIsInstance(frontends.create("cnn", CROPS), spectrogram.SpectrogramFrontEnd)
        self.assertEqual(sorted(frontends.FRONTENDS), ["cnn", "embedding", "mlp"])

    def test_create_rejects_an_unknown_name_with_the_choices(self):
        with self.assertRaisesRegex(ValueError,
                                    r"unknown --system=rnn; choose from cnn, embedding, mlp"):
            frontends.create("rnn", None)


MUSICNN_CONFIG = backbones.BackboneConfig("MSD_musicnn", layer="max_pool",
                                          frame_hop_seconds=1.5)


class EmbeddingFrontEndFactsTest(tf.test.TestCase):
    """What the export and the data layer need is known without loading weights."""

    def test_window_hop_and_minimum_without_loading(self):
        frontend = embedding.EmbeddingFrontEnd(MUSICNN_CONFIG)
        self.assertEqual(frontend.sample_rate, 16000)
        self.assertEqual(frontend.window_samples, 48128)  # (187 - 1) * 256 + 512
        self.assertEqual(frontend.hop_samples, 24064)  # round(1.5 s / 256) = 94 frames
        # The shortest input runs as one patch of its real length, MIN_PATCH_FRAMES
        # frames long (was 63 frames, 16384 samples; now 94 frames, 24320 samples).
        self.assertEqual(frontend.min_samples,
                         (musicnn_params.MIN_PATCH_FRAMES - 1) * 256 + 512)
        self.assertBetween(frontend.min_samples, 16000, frontend.window_samples - 1)
        self.assertEqual(frontend.run_name(), "MSD_musicnn")
        self.assertIsNone(frontend._backbone)  # pylint: disable=protected-access
        non_overlapping = embedding.EmbeddingFrontEnd(
            backbones.BackboneConfig("MSD_musicnn"))
        self.assertEqual(non_overlapping.hop_samples, 187 * 256)
        self.assertEqual(non_overlapping.config.layer, "max_pool")  # resolved default

    def test_key_follows_the_backbone_settings(self):
        def key(**changes):
            return embedding.EmbeddingFrontEnd(
                dataclasses.replace(MUSICNN_CONFIG, **changes)).key

        self.assertEqual(key(), key())
        self.assertLen({key(), key(layer="mean_pool"), key(frame_hop_seconds=3.0),
                        key(name="MTT_musicnn")}, 4)


@unittest.skipIf(MUSICNN_MISSING, MUSICNN_MISSING)
class EmbeddingFrontEndTest(tf.test.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.frontend = embedding.EmbeddingFrontEnd(MUSICNN_CONFIG)
        _ = cls.frontend.backbone  # load the checkpoint once

    def examples(self, waveform):
        return self.frontend.examples(tf.constant(waveform)).numpy()

    def test_frames_of_a_long_clip(self):
        waveform = fixtures.music_like(seconds=5.0, sr=16000)  # 80000 samples
        rows = self.examples(waveform)
        frames = 1 + waveform.size // musicnn_params.HOP_LENGTH  # 313 mel frames
        expected = 1 + (frames - 187) // 94
        self.assertEqual(expected, 2)
        self.assertEqual(rows.shape, (expected, 753))
        self.assertEqual(self.frontend.example_shape, (753,))
        self.assertTrue(np.all(np.isfinite(rows)))
        self.assertGreater(np.abs(rows[0] - rows[1]).max(), 1e-3)  # the chirp moves on

    def test_short_clip_is_one_patch_of_its_real_length(self):
        waveform = fixtures.music_like(seconds=2.0, sr=16000)
        rows = self.examples(waveform)
        self.assertEqual(rows.shape, (1, 753))
        padded = np.pad(waveform, (0, self.frontend.window_samples - waveform.size))
        padded_rows = self.examples(padded)
        self.assertEqual(padded_rows.shape, (1, 753))
        # Silence in the patch changes the embedding: a real-length patch is not padded.
        self.assertGreater(np.abs(rows - padded_rows).max(), 1e-2)

    def test_minimum_input_gives_one_row(self):
        waveform = fixtures.music_like(seconds=3.0, sr=16000)[:self.frontend.min_samples]
        rows = self.examples(waveform)
        self.assertEqual(rows.shape, (1, 753))


if __name__ == "__main__":
    tf.test.main()
