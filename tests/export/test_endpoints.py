"""The exported waveform endpoints: the same fill, front end and head that training and
evaluation ran, for one waveform or a batch of windows."""

import numpy as np
import tensorflow as tf

from genre_tf.export import endpoints
from genre_tf.features import statistics
from genre_tf.frontends import base, feature_stats
from genre_tf.models import heads
from tests import fixtures

FEATURES = statistics.FeatureConfig(window_sizes=(512, 1024))  # min_samples 1024


def _traced(endpoint):
    """An endpoint as the export traces it: a tf.function over its input signature."""
    function, signature = endpoint
    return tf.function(function, input_signature=signature)


class WaveformEndpointsTest(tf.test.TestCase):

    def setUp(self):
        # tf.test.TestCase sets the global seed before every test, which clears TF's
        # cache of instantiated functions: every test would re-optimise the feature
        # graph (seconds each). Nothing here depends on that seed.
        self._set_default_seed = False  # pylint: disable=attribute-defined-outside-init
        super().setUp()

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tf.keras.utils.set_random_seed(0)
        cls.frontend = feature_stats.FeatureStatsFrontEnd(FEATURES)
        train = np.concatenate([cls.frontend.examples(fixtures.tone(f, 0.2)).numpy()
                                for f in (150.0, 700.0, 3000.0, 200.0)])
        cls.model = heads.DenseHead(hidden_units=(8,)).build(
            cls.frontend.example_shape, 3, train)
        cls.repeat = {name: _traced(endpoint) for name, endpoint in
                      endpoints.waveform_endpoints(cls.frontend, cls.model,
                                                   "repeat").items()}

    def _head(self, waveform):
        """The head's mean probability over the front end's examples of ``waveform``."""
        return tf.reduce_mean(self.model(self.frontend.examples(waveform)), axis=0,
                              keepdims=True)

    def test_short_input_is_tiled_as_in_training(self):
        short = fixtures.tone_genre_clip("mid", 1)[:300]
        self.assertLess(len(short), self.frontend.min_samples)
        answer = self.repeat["classify_waveform"](tf.constant(short))
        self.assertEqual(answer.shape, (1, 3))
        self.assertAllClose(tf.reduce_sum(answer), 1.0, atol=1e-5)
        tiled = np.tile(short, 4)[:1024]  # 300 * 4 >= 1024
        self.assertAllClose(answer, self._head(tiled), atol=1e-5)
        # Not the answer to the zero-padded snippet: the fill matters.
        padded = np.pad(short, (0, 1024 - 300))
        self.assertGreater(np.abs(answer - self._head(padded)).max(), 1e-4)

    def test_the_shared_path_gives_the_same_examples(self):
        short = fixtures.tone_genre_clip("low", 2)[:700]
        examples = base.filled_examples(self.frontend, tf.constant(short), "repeat")
        self.assertAllClose(examples, self.frontend.examples(np.tile(short, 2)[:1024]),
                            atol=1e-4, rtol=1e-4)
        answer = self.repeat["classify_waveform"](tf.constant(short))
        self.assertAllClose(answer, tf.reduce_mean(self.model(examples), axis=0,
                                                   keepdims=True), atol=1e-5)

    def test_long_input_is_not_filled(self):
        waveform = fixtures.tone_genre_clip("high", 0, seconds=0.25)
        self.assertAllClose(self.repeat["classify_waveform"](tf.constant(waveform)),
                            self._head(waveform), atol=1e-5)

    def test_windows_are_answered_one_by_one(self):
        windows = np.stack([fixtures.tone_genre_clip(g, 3, seconds=0.1)
                            for g in ("low", "mid", "high")])  # [3, 2205]
        answers = self.repeat["classify_windows"](tf.constant(windows))
        self.assertEqual(answers.shape, (3, 3))
        for k in range(3):
            self.assertAllClose(
                answers[k], self.repeat["classify_waveform"](tf.constant(windows[k]))[0],
                atol=1e-5)
        # Short windows are filled one by one too.
        short = windows[:, :500]
        answers = self.repeat["classify_windows"](tf.constant(short))
        for k in range(3):
            self.assertAllClose(answers[k], self._head(np.tile(short[k], 3)[:1024])[0],
                                atol=1e-5)

    def test_skip_refuses_short_input(self):
        skip = _traced(endpoints.waveform_endpoints(self.frontend, self.model,
                                                    "skip")["classify_waveform"])
        waveform = fixtures.tone_genre_clip("low", 0, seconds=0.1)
        self.assertAllClose(skip(tf.constant(waveform)), self._head(waveform), atol=1e-5)
        with self.assertRaisesRegex(tf.errors.InvalidArgumentError, "skip"):
            skip(tf.constant(waveform[:1023]))

    def test_pad_pads_with_silence(self):
        pad, _ = endpoints.waveform_endpoints(self.frontend, self.model,
                                              "pad")["classify_waveform"]  # eagerly
        short = fixtures.tone_genre_clip("mid", 4)[:400]
        self.assertAllClose(pad(tf.constant(short)),
                            self._head(np.pad(short, (0, 1024 - 400))), atol=1e-5)

    def test_signatures_take_any_length(self):
        signatures = {name: signature for name, (_, signature) in
                      endpoints.waveform_endpoints(self.frontend, self.model,
                                                   "repeat").items()}
        self.assertEqual(signatures["classify_waveform"][0].shape.as_list(), [None])
        self.assertEqual(signatures["classify_windows"][0].shape.as_list(), [None, None])
        self.assertEqual(signatures["classify_waveform"][0].dtype, tf.float32)

    def test_model_info(self):
        info = endpoints.model_info(self.frontend, "repeat", False, {"system": "mlp"},
                                    "mlp_run")
        self.assertContainsSubset(
            {"sample_rate", "window_samples", "window_hop_samples", "min_samples",
             "short_clips", "synthetic_demo"}, info)
        self.assertEqual(info["sample_rate"], 22050)
        self.assertIsNone(info["window_samples"])
        self.assertIsNone(info["window_hop_samples"])
        self.assertEqual(info["min_samples"], 1024)
        self.assertEqual(info["short_clips"], "repeat")
        self.assertIs(info["synthetic_demo"], False)
        self.assertEqual(info["name"], "mlp_run")
        self.assertEqual(info["system"], {"system": "mlp"})


if __name__ == "__main__":
    tf.test.main()
