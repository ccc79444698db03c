"""The SavedModel export traces each endpoint once, and what it calls once (the save
used to trace them all again: its context is in a tf.function's cache key), and the
TFLite file's bare SavedModel holds its one signature."""

import os

import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import saved_model_pb2

from genre_tf.export import saved_model
from genre_tf.models import heads

CLASSES = ("a", "b", "c")
FEATURES = 4


class CountingFrontEnd:
    """A waveform -> ``[2, FEATURES]`` front end that counts its traces; its inner
    tf.function has an input signature, as musicnn's clip network has."""

    def __init__(self):
        self.outer_traces = 0
        self.inner_traces = 0
        self.inner = tf.function(self._inner, autograph=False,
                                 input_signature=[tf.TensorSpec([None], tf.float32)])

    def _inner(self, waveform):
        self.inner_traces += 1
        return tf.reshape(waveform[:2 * FEATURES], [2, FEATURES]) * 2.0

    def endpoint(self, model):
        def classify(waveform):
            self.outer_traces += 1
            return tf.reduce_mean(model(self.inner(waveform)), axis=0, keepdims=True)
        return classify


class SavedModelTracingTest(tf.test.TestCase):

    def setUp(self):
        super().setUp()
        tf.keras.utils.set_random_seed(0)
        train = np.random.RandomState(0).randn(16, FEATURES).astype(np.float32)
        self.model = heads.DenseHead(hidden_units=(5,)).build((FEATURES,), 3, train)
        self.frontend = CountingFrontEnd()
        self.signature = [tf.TensorSpec([None], tf.float32, name="waveform")]
        self.waveform = np.arange(12, dtype=np.float32) / 12.0
        self.expected = tf.reduce_mean(self.model(
            2.0 * self.waveform[:8].reshape(2, FEATURES)), axis=0).numpy()

    def test_endpoint_and_what_it_calls_are_traced_once(self):
        folder = os.path.join(self.get_temp_dir(), "saved_model")
        saved_model.export_saved_model(
            self.model, folder, CLASSES,
            {"classify_waveform": (self.frontend.endpoint(self.model), self.signature)})
        self.assertEqual((self.frontend.outer_traces, self.frontend.inner_traces), (1, 1))
        reloaded = tf.saved_model.load(folder)
        self.assertEqual(set(reloaded.signatures),
                         {"serve", "classify_waveform", "serving_default"})
        answer = reloaded.signatures["classify_waveform"](
            waveform=tf.constant(self.waveform))
        self.assertAllClose(answer["probabilities"][0], self.expected, atol=1e-6)
        self.assertEqual(answer["class_name"].numpy()[0].decode(),
                         CLASSES[int(np.argmax(self.expected))])
        # The object's function answers as the signature does, and takes what its
        # signature can be made of: float64 NumPy, a list (as ExportArchive's did).
        for given in (tf.constant(self.waveform), self.waveform.astype(np.float64),
                      self.waveform.tolist()):
            self.assertAllClose(reloaded.classify_waveform(given)["probabilities"],
                                answer["probabilities"])
        features = np.ones((2, FEATURES))  # float64
        self.assertAllClose(reloaded.serve(features)["probabilities"],
                            self.model(features.astype(np.float32)))

    def test_signature_alone_reuses_the_export_traces(self):
        folder = os.path.join(self.get_temp_dir(), "bare")
        endpoint = self.frontend.endpoint(self.model)
        saved_model.export_saved_model(self.model, os.path.join(folder, "full"), CLASSES,
                                       {"classify_waveform": (endpoint, self.signature)})
        saved_model.write_signature(os.path.join(folder, "bare"), "classify_waveform",
                                    endpoint, self.signature, CLASSES)
        # The bare write traces its own endpoint, not the inner function again.
        self.assertEqual((self.frontend.outer_traces, self.frontend.inner_traces), (2, 1))
        proto = saved_model_pb2.SavedModel()
        with open(os.path.join(folder, "bare", "saved_model.pb"), "rb") as handle:
            proto.ParseFromString(handle.read())
        self.assertEqual({name for name in proto.meta_graphs[0].signature_def
                          if not name.startswith("__")}, {"classify_waveform"})
        answer = tf.saved_model.load(os.path.join(folder, "bare")).signatures[
            "classify_waveform"](waveform=tf.constant(self.waveform))
        self.assertAllClose(answer["probabilities"][0], self.expected, atol=1e-6)
