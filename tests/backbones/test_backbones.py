"""System 3: backbones (a stand-in TF-Hub model the test builds, and musicnn checked
against its original TF1 graph), framing, the embedding cache, votes and export."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from unittest import mock

import keras
import numpy as np
import pytest
import soundfile
import tensorflow as tf

from genre_tf import backbones, systems
from genre_tf.backbones import hub_backbone, musicnn
from genre_tf.models import heads
from tests import fixtures

VGGISH_HANDLE = "https://tfhub.dev/google/vggish/1"


class StandInVggish(tf.Module):
    """VGGish's signature: 16 kHz waveform [samples] -> [0.96 s examples, 128].

    Each example's embedding is the log magnitude spectrum of its first 254 samples, so
    pitch differences survive (the tone genres stay separable). ``calls`` counts calls.
    """

    def __init__(self, tuple_output=False, dim=128):
        super().__init__()
        self.calls = tf.Variable(0, dtype=tf.int64)
        self.tuple_output = tuple_output
        self.dim = dim

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def __call__(self, waveform):
        self.calls.assign_add(1)
        examples = tf.signal.frame(waveform, 15360, 15360)
        spectrum = tf.abs(tf.signal.rfft(examples[:, :2 * self.dim - 2]))
        embeddings = tf.math.log1p(spectrum)
        if self.tuple_output:  # YAMNet's (scores, embeddings, log-mel spectrogram)
            return tf.zeros([tf.shape(embeddings)[0], 521]), embeddings, tf.zeros([1, 64])
        return embeddings


def save_stand_in(path, **kwargs):
    tf.saved_model.save(StandInVggish(**kwargs), path)
    return path


def _musicnn_installed():
    try:
        musicnn.checkpoint_dir("MSD_musicnn")
        return True
    except FileNotFoundError:
        return False


class HubBackboneTest(tf.test.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.work = tempfile.mkdtemp(prefix="genre_tf_hub_")
        cls.model_dir = save_stand_in(os.path.join(cls.work, "vggish_stand_in"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)
        super().tearDownClass()

    def test_31_frames_for_30_seconds_by_local_path(self):
        backbone = backbones.create_backbone(backbones.BackboneConfig("vggish", handle=self.model_dir))
        embeddings = backbone(tf.zeros([30 * 16000]))
        self.assertEqual(embeddings.shape, (31, 128))
        self.assertEqual(backbone(tf.zeros([15600])).shape, (1, 128))  # one window
        half_hop = backbones.create_backbone(backbones.BackboneConfig(
            "vggish", handle=self.model_dir, frame_hop_seconds=0.48))
        self.assertEqual(half_hop(tf.zeros([30 * 16000])).shape[0], 1 + (480000 - 15600)
                         // 7680)

    def test_published_handle_resolves_through_tfhub_cache_dir(self):
        cache = os.path.join(self.work, "hub_cache")
        shutil.copytree(self.model_dir, os.path.join(
            cache, hashlib.sha1(VGGISH_HANDLE.encode()).hexdigest()))
        previous = os.environ.get("TFHUB_CACHE_DIR")
        os.environ["TFHUB_CACHE_DIR"] = cache
        try:
            backbone = backbones.create_backbone(backbones.BackboneConfig("vggish"))  # default handle
            self.assertEqual(backbone.handle, VGGISH_HANDLE)
            self.assertEqual(backbone(tf.ones([16000])).shape, (1, 128))
        finally:
            if previous is None:
                del os.environ["TFHUB_CACHE_DIR"]
            else:
                os.environ["TFHUB_CACHE_DIR"] = previous

    def test_downloads_go_under_cache_dir_unless_tfhub_cache_dir_is_set(self):
        cache_dir = os.path.join(self.work, "genre_tf_cache")
        shutil.copytree(self.model_dir, os.path.join(
            cache_dir, "tfhub_modules", hashlib.sha1(VGGISH_HANDLE.encode()).hexdigest()))
        with mock.patch.dict(os.environ):
            os.environ.pop("TFHUB_CACHE_DIR", None)
            self.assertEqual(hub_backbone.download_into(cache_dir),
                             os.path.join(cache_dir, "tfhub_modules"))
            backbone = backbones.create_backbone(backbones.BackboneConfig("vggish"))
            self.assertEqual(backbone(tf.ones([16000])).shape, (1, 128))
            os.environ["TFHUB_CACHE_DIR"] = "/elsewhere"  # the user's setting wins
            self.assertEqual(hub_backbone.download_into(cache_dir), "/elsewhere")
        self.assertIsNone(hub_backbone.download_into("", environ={}))

    def test_yamnet_style_tuple_output(self):
        path = save_stand_in(os.path.join(self.work, "yamnet_stand_in"), tuple_output=True,
                             dim=1024)
        backbone = backbones.create_backbone(backbones.BackboneConfig("yamnet", handle=path))
        self.assertEqual(backbone(tf.zeros([32000])).shape, (2, 1024))

    def test_unreachable_model_names_offline_alternatives(self):
        with self.assertRaisesRegex(RuntimeError, "MSD_musicnn.*TFHUB_CACHE_DIR"):
            hub_backbone.load_hub_module(os.path.join(self.work, "no_such_model"))


@unittest.skipUnless(_musicnn_installed(), "pip install --no-deps musicnn==0.1.0")
class MusicnnPortTest(tf.test.TestCase):
    """Our Keras musicnn against the original TF1 graph on the same audio."""

    REFERENCE_SCRIPT = (
        "import sys, numpy as np\n"
        "from musicnn.extractor import extractor\n"
        "taggram, tags, features = extractor(sys.argv[1], model='MSD_musicnn', "
        "input_length=3)\n"
        "np.savez(sys.argv[2], taggram=taggram, max_pool=features['max_pool'], "
        "penultimate=features['penultimate'])\n")

    def _reference(self, wav_path):
        output = os.path.join(self.get_temp_dir(), "reference.npz")
        environment = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="3")
        subprocess.run([sys.executable, "-c", self.REFERENCE_SCRIPT, wav_path, output],
                       check=True, capture_output=True, env=environment, timeout=600)
        return np.load(output)

    def _check(self, waveform):
        path = os.path.join(self.get_temp_dir(), "clip16k.wav")
        soundfile.write(path, waveform, 16000, subtype="FLOAT")
        reference = self._reference(path)
        backbone = musicnn.MusicnnBackbone("MSD_musicnn", layer="max_pool")
        self.assertAllClose(backbone.taggram(tf.constant(waveform)), reference["taggram"],
                            atol=1e-4, rtol=0)
        embeddings = backbone(tf.constant(waveform)).numpy()
        self.assertEqual(embeddings.shape, reference["max_pool"].shape)
        scale = np.abs(reference["max_pool"]).max()
        self.assertAllClose(embeddings, reference["max_pool"], atol=1e-4 * scale, rtol=0)

    @pytest.mark.slow
    def test_matches_the_tf1_graph_on_synthetic_audio(self):
        self._check(fixtures.music_like(7.0, sr=16000, seed=4))

    @pytest.mark.slow
    def test_matches_the_tf1_graph_on_real_music(self):
        clips = fixtures.real_clips(1)
        if not clips:
            self.skipTest(f"{fixtures.MINI_GTZAN} absent")
        import librosa  # pylint: disable=import-outside-toplevel
        self._check(librosa.load(clips[0], sr=16000, duration=9.0)[0])

    def test_finetunable_top_starts_from_the_pretrained_weights(self):
        pooled = musicnn.MusicnnBackbone("MSD_musicnn", layer="pooled")
        penultimate = musicnn.MusicnnBackbone("MSD_musicnn", layer="penultimate")
        waveform = tf.constant(fixtures.music_like(7.0, sr=16000, seed=5))
        top = musicnn.build_top(pooled.network)
        self.assertNotEmpty(top.trainable_weights)
        self.assertAllClose(top(pooled(waveform), training=False), penultimate(waveform),
                            atol=1e-4, rtol=1e-4)
        with self.assertRaisesRegex(ValueError, "needs a musicnn backbone"):
            systems.System(systems.SystemConfig(
                "embedding", backbones.BackboneConfig("vggish", layer="pooled"),
                heads.FinetunedTopHead()))

    def test_banded_temporal_convolution_equals_conv2d(self):
        """Full patches and real-length (short) ones, even and odd tap counts."""
        rng = np.random.default_rng(0)
        for length, frames in ((128, 187), (64, 120), (32, 187), (7, 100)):
            direct = keras.layers.Conv2D(5, (length, 1), padding="same", activation="relu")
            banded = musicnn.TemporalConv(5, (length, 1), padding="same", activation="relu")
            x = rng.normal(size=(3, frames, 96, 1)).astype(np.float32)
            direct.build(x.shape)
            banded.build(x.shape)
            weights = [rng.normal(size=w.shape).astype(np.float32)
                       for w in direct.get_weights()]
            direct.set_weights(weights)
            banded.set_weights(weights)
            expected = direct(x).numpy()
            self.assertBetween(np.mean(expected > 0), 0.3, 0.7)
            self.assertAllClose(banded(x), expected, atol=1e-5 * np.abs(expected).max(),
                                rtol=0)

    def test_band_max_of_batch_norm_is_exact(self):
        """Negative scales take the band minimum; the result is bit-identical."""
        rng = np.random.default_rng(1)
        x = rng.normal(size=(2, 9, 17, 5)).astype(np.float32)
        weights = [np.array([-2.0, -0.5, 0.5, 1.0, 3.0], np.float32),
                   rng.normal(size=5).astype(np.float32),
                   rng.normal(size=5).astype(np.float32),
                   rng.uniform(0.5, 2.0, size=5).astype(np.float32)]

        def norm_for(shape):  # a layer keeps the rank it was built for
            norm = keras.layers.BatchNormalization(epsilon=1e-3)
            norm.build(shape)
            norm.set_weights(weights)
            return norm

        expected = np.max(norm_for(x.shape)(x, training=False).numpy(), axis=2)
        band_norm = norm_for(expected.shape)
        pooled = musicnn.band_max_of_batch_norm(band_norm, tf.constant(x)).numpy()
        self.assertAllEqual(pooled, expected)
        self.assertNotAllClose(expected, band_norm(np.max(x, axis=2), training=False))

    def test_network_is_traced_once_for_every_pass(self):
        """Each tf.data pass (extraction makes one per segment kind) and eager call
        reuses the one traced network, whatever the patch count or length."""
        backbone = musicnn.MusicnnBackbone("MSD_musicnn", layer="max_pool",
                                           frame_hop_seconds=1.5)
        waves = np.stack([fixtures.music_like(5.0, sr=16000, seed=s) for s in (7, 8)])
        for _ in range(2):
            data = tf.data.Dataset.from_tensor_slices(waves.astype(np.float32)).map(
                backbone, num_parallel_calls=2)
            # 313 mel frames: 187-frame patches every 94 frames.
            self.assertEqual([e.shape for e in data], [(2, 753), (2, 753)])
        short = fixtures.music_like(2.0, sr=16000, seed=9).astype(np.float32)
        self.assertEqual(backbone(tf.constant(short)).shape, (1, 753))  # real length
        self.assertEqual(backbone.traces, 1)

    def test_tflite_tracing_gets_its_own_trace(self):
        """Under ``builtin_ops`` (the TFLite export) the clip network is traced again, with
        TFLite's slices (``lite_ops``: Slice ops, which TensorFlow's own indexing never
        writes), and the TensorFlow trace is kept for everything else."""
        from genre_tf.export import lite_ops
        backbone = musicnn.MusicnnBackbone("MSD_musicnn", layer="max_pool",
                                           frame_hop_seconds=1.5)
        waveform = tf.constant(fixtures.music_like(4.0, sr=16000, seed=3), tf.float32)
        expected = backbone(waveform)
        spec = tf.TensorSpec([None], tf.float32)
        traced = tf.function(backbone, input_signature=[spec]).get_concrete_function()
        with lite_ops.builtin_ops():
            lite = tf.function(backbone, input_signature=[spec]).get_concrete_function()
        self.assertEqual(backbone.traces, 2)
        self.assertAllClose(lite(waveform), expected, rtol=1e-4, atol=1e-4)  # FFT paths
        self.assertAllClose(backbone(waveform), expected, atol=0)
        self.assertEqual(backbone.traces, 2)

        def op_types(graph):
            types = [op.type for op in graph.get_operations()]
            for function in graph._functions.values():
                types += op_types(function.graph) if hasattr(function, "graph") else []
            return types
        self.assertEqual(op_types(traced.graph).count("Slice"), 0)
        self.assertGreater(op_types(lite.graph).count("Slice"), 10)

    def test_layers_and_patch_framing(self):
        backbone = musicnn.MusicnnBackbone("MTT_musicnn", layer="penultimate",
                                           frame_hop_seconds=1.0)
        self.assertEqual(backbone.dim, 200)
        waveform = tf.zeros([10 * 16000])
        # 626 mel frames; 187-frame patches every 62 frames.
        self.assertEqual(backbone(waveform).shape, (1 + (626 - 187) // 62, 200))
        with self.assertRaisesRegex(ValueError, "unknown musicnn layer"):
            musicnn.MusicnnBackbone("MSD_musicnn", layer="logits")

    @pytest.mark.slow
    def test_front_end_converts_to_builtin_tflite_ops(self):
        """The real-length patch must not cost the edge runtime: no Flex op, short and
        long input alike, and the TFLite answer equals the graph's."""
        import re  # pylint: disable=import-outside-toplevel
        import keras  # pylint: disable=import-outside-toplevel
        backbone = musicnn.MusicnnBackbone("MSD_musicnn", layer="max_pool",
                                           frame_hop_seconds=1.5)
        archive = keras.export.ExportArchive()
        archive.track(backbone)
        archive.add_endpoint("embed", backbone.call,
                             input_signature=[tf.TensorSpec([None], tf.float32)])
        path = os.path.join(self.get_temp_dir(), "musicnn_front_end")
        archive.write_out(path, verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(path, signature_keys=["embed"])
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS,
                                               tf.lite.OpsSet.SELECT_TF_OPS]
        blob = converter.convert()
        self.assertEmpty(re.findall(rb"Flex[A-Za-z0-9]+", blob))
        runner = tf.lite.Interpreter(model_content=blob).get_signature_runner("embed")
        for seconds in (2.0, 7.0):  # one real-length patch; several 3 s patches
            waveform = fixtures.music_like(seconds, sr=16000, seed=6)
            expected = backbone(tf.constant(waveform)).numpy()
            lite = list(runner(waveform=waveform).values())[0]
            self.assertEqual(lite.shape, expected.shape)
            self.assertAllClose(lite, expected, atol=1e-3 * np.abs(expected).max(), rtol=0)


@pytest.mark.slow
class EmbeddingCliTest(tf.test.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.work = tempfile.mkdtemp(prefix="genre_tf_embedding_")
        cls.data = fixtures.write_tone_genres(os.path.join(cls.work, "data"), per_genre=6,
                                              seconds=2.0)
        cls.model_dir = save_stand_in(os.path.join(cls.work, "vggish_stand_in"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)
        super().tearDownClass()

    def _train(self, output, *args):
        return fixtures.run_train(
            "--flagfile=vggish.flags", f"--backbone_handle={self.model_dir}",
            f"--data_dir={self.data}", f"--output_dir={output}",
            f"--cache_dir={self.work}/cache", "--epochs=40", "--patience=0",
            "--folds=3", "--log_every_epochs=0", *args)

    def test_frames_vote_cache_and_export(self):
        output = os.path.join(self.work, "run")
        first = self._train(output)
        self.assertIn("Computing embedding", first.stderr)
        with open(os.path.join(output, "metrics.json")) as handle:
            result = json.load(handle)
        self.assertGreaterEqual(result["mean_accuracy"], 0.8)
        self.assertEqual(set(result["votes"]), {"mean_probability", "majority"})
        self.assertEqual(result["system"]["backbone"], "vggish")
        self.assertGreaterEqual(result["excerpt_accuracy"]["mean"], 0.8)
        reloaded = tf.saved_model.load(os.path.join(output, "saved_model"))
        for genre in fixtures.TONE_GENRES:
            # Export takes 16 kHz audio: the backbone's rate.
            y = fixtures.tone_genre_clip(genre, 8, seconds=2.0)
            y16k = tf.constant(np.interp(np.arange(32000) / 16000.0,
                                         np.arange(y.size) / 22050.0, y).astype(np.float32))
            self.assertEqual(reloaded.classify_waveform(y16k)["class_name"].numpy()[0]
                             .decode(), genre)
        # A rerun reads every embedding from the cache and never loads the backbone:
        # with the model moved away, loading it would fail.
        hidden = self.model_dir + ".moved"
        os.rename(self.model_dir, hidden)
        try:
            again = self._train(os.path.join(self.work, "rerun"), "--final_fit=false")
            resumed = self._train(output, "--final_fit=false")
        finally:
            os.rename(hidden, self.model_dir)
        self.assertNotIn("Computing embedding", again.stderr)
        with open(os.path.join(self.work, "rerun", "metrics.json")) as handle:
            self.assertAllClose(json.load(handle)["mean_accuracy"], result["mean_accuracy"])
        # Rerun into the same folder: every split is recognised as done.
        self.assertIn("split_2: already done", resumed.stderr)
        # All cached, the final model still exports (the backbone is loaded only then).
        exported = os.path.join(self.work, "rerun_export")
        self._train(exported, "--folds=2", "--notflite")
        self.assertTrue(os.path.isfile(os.path.join(exported, "saved_model",
                                                    "saved_model.pb")))


if __name__ == "__main__":
    tf.test.main()
