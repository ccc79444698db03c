"""The TFLite export: builtin ops only, the SavedModel endpoint's answers, and a
float16 file that answers like the float32 one."""

import os

import numpy as np
import pytest
import tensorflow as tf

from genre_tf.export import endpoints, float16, lite_ops, tflite
from genre_tf.features import dft, spectral, statistics
from genre_tf.frontends import feature_stats
from genre_tf.models import heads
from tests import fixtures

# Two windows (one with the tempo's 2048-sample STFT would cost another 10 s of
# conversion) and the tempo, whose tempogram has the inverse DFT.
FEATURES = statistics.FeatureConfig(window_sizes=(512, 1024), tempo=True)
CLASSES = ("a", "b", "c")
# float16 constants (filter banks, DFT matrices, weights) move probabilities by ~1e-4.
FLOAT16_ATOL = 2e-3


def _run(blob, waveform):
    runner = tf.lite.Interpreter(model_content=blob).get_signature_runner(
        tflite.SIGNATURE)
    return runner(waveform=waveform)


@pytest.mark.slow  # ~1 min: the model is traced and converted (2 cores)
class TfliteExportTest(tf.test.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tf.keras.utils.set_random_seed(0)
        frontend = feature_stats.FeatureStatsFrontEnd(FEATURES)
        train = np.concatenate([frontend.examples(fixtures.music_like(1.0, seed=s)).numpy()
                                for s in range(6)])
        model = heads.DenseHead(hidden_units=(16,)).build(frontend.example_shape, 3,
                                                          train)
        cls.classify = staticmethod(endpoints.waveform_endpoints(
            frontend, model, "repeat")[tflite.SIGNATURE][0])
        cls.folder = tf.compat.v1.test.get_temp_dir()
        path = tflite.export_tflite(model, frontend, "repeat", CLASSES,
                                    os.path.join(cls.folder, "model.tflite"))
        with open(path, "rb") as handle:
            full = handle.read()
        # What export_tflite(..., "float16") writes, without converting twice.
        cls.blobs = {None: full, "float16": tflite.QUANTIZATIONS["float16"][1](full)}
        cls.clips = [fixtures.music_like(2.0, seed=10 + s) for s in range(3)]
        cls.clips.append(fixtures.tone(440.0, 0.02))  # shorter than a window: filled

    def test_builtin_ops_only(self):
        for blob in self.blobs.values():
            self.assertEqual(tflite.flex_ops(blob), [])
        self.assertEqual(tflite.flex_ops(b"..FlexIRFFT..FlexStridedSlice.."),
                         ["IRFFT", "StridedSlice"])

    def test_float32_file_answers_as_the_saved_model(self):
        for clip in self.clips:
            expected = self.classify(tf.constant(clip)).numpy()
            lite = _run(self.blobs[None], clip)
            self.assertAllClose(lite["probabilities"], expected, atol=1e-4, rtol=0)
            self.assertEqual(lite["class_name"][0].decode(),
                             CLASSES[int(np.argmax(expected))])

    def test_float16_file_is_smaller_and_answers_as_the_float_file(self):
        self.assertLess(len(self.blobs["float16"]), 0.7 * len(self.blobs[None]))
        spread = []
        for clip in self.clips:
            full = _run(self.blobs[None], clip)["probabilities"]
            half = _run(self.blobs["float16"], clip)["probabilities"]
            self.assertEqual(np.argmax(half), np.argmax(full))
            self.assertAllClose(half, full, atol=FLOAT16_ATOL, rtol=0)
            spread.append(full.max() - full.min())
        self.assertGreater(max(spread), 0.05)  # answers that could disagree



class Float16Test(tf.test.TestCase):

    def test_unknown_quantization_is_refused(self):
        with self.assertRaisesRegex(ValueError, "unknown TFLite quantization 'int4'"):
            tflite.convert(self.get_temp_dir(), quantization="int4")

    def test_a_missing_signature_is_refused_naming_those_there_are(self):
        module = tf.Module()
        module.double = tf.function(lambda x: {"y": 2 * x},
                                    input_signature=[tf.TensorSpec([None], tf.float32)])
        folder = os.path.join(self.get_temp_dir(), "two_signatures")
        tf.saved_model.save(module, folder, signatures={
            "double": module.double, "twice": module.double.get_concrete_function()})
        with self.assertRaisesRegex(ValueError, r"no signature 'classify_waveform'; it "
                                    r"has \['double', 'twice'\]"):
            tflite.convert(folder)

    def test_large_constants_become_float16_small_and_unsafe_ones_stay(self):
        weights = np.linspace(-1.0, 1.0, 64 * 32, dtype=np.float32).reshape(64, 32)
        squares = (np.arange(2048, dtype=np.float32) ** 2).reshape(64, 32)  # > 65504
        window = np.hanning(4096).astype(np.float32)  # a vector: stays float32

        @tf.function(input_signature=[tf.TensorSpec([None, 64], tf.float32)])
        def function(x):
            return (tf.matmul(x, weights) + tf.matmul(x, squares) * 1e-10
                    + tf.reduce_max(x) * 1e6 + tf.reduce_sum(x[:, :1] * window))

        converter = tf.lite.TFLiteConverter.from_concrete_functions(
            [function.get_concrete_function()])
        blob = converter.convert()
        half = float16.quantize_large_constants(blob)
        self.assertLess(len(half), len(blob) - 2 * weights.size + 1000)
        self.assertGreater(len(half), 4 * (squares.size + window.size))  # kept float32
        x = np.random.default_rng(0).standard_normal((3, 64)).astype(np.float32)
        expected = function(x).numpy()
        for model in (blob, half):
            interpreter = tf.lite.Interpreter(model_content=model)
            interpreter.resize_tensor_input(0, x.shape)
            interpreter.allocate_tensors()
            interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
            interpreter.invoke()
            out = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
            self.assertAllClose(out, expected, rtol=1e-5, atol=0.05)


class ExplicitGetitemTest(tf.test.TestCase):

    def test_same_values_as_tensorflow_indexing(self):
        x = tf.reshape(tf.range(2 * 3 * 5, dtype=tf.float32), [2, 3, 5])
        n = tf.constant(2)
        specs = [(Ellipsis, slice(1, None)), (Ellipsis, tf.newaxis),
                 (Ellipsis, slice(None, n), tf.newaxis), (tf.newaxis, Ellipsis, 0),
                 (slice(None), Ellipsis, slice(None, None, 2)), (0, Ellipsis),
                 (Ellipsis, slice(None), slice(None), slice(None))]
        for spec in specs:
            expected = x[spec]
            ours = lite_ops.explicit_getitem(x, spec)
            self.assertAllEqual(ours, expected, msg=str(spec))
        original = type(x).__getitem__
        with lite_ops.builtin_ops():
            self.assertIsNot(type(x).__getitem__, original)
            rewritten = x[..., 1:]
        self.assertIs(type(x).__getitem__, original)
        self.assertAllEqual(rewritten, x[..., 1:])

    def test_step_one_slices_become_slice_with_python_bounds(self):
        x = tf.reshape(tf.range(2 * 3 * 5, dtype=tf.float32), [2, 3, 5])
        n, m = tf.constant(2), tf.constant(-2)
        specs = [1, -1, (Ellipsis, -1), (slice(1, None),), (Ellipsis, slice(-3, -1)),
                 (Ellipsis, slice(m, None)), (Ellipsis, slice(1, 100)),
                 (Ellipsis, slice(4, 2)), (Ellipsis, slice(-100, 2)), (slice(None), n),
                 (Ellipsis, slice(n, n + 2), tf.newaxis), (slice(None), m, slice(1, 3))]
        for spec in specs:
            self.assertAllEqual(lite_ops.explicit_getitem(x, spec), x[spec],
                                msg=str(spec))

    def test_run_time_bounds_give_slice_not_strided_slice(self):
        """TFLite's STRIDED_SLICE with run-time bounds is element by element (slow)."""
        spec = tf.TensorSpec([None, 513], tf.float32)

        def function(y):
            return y[:tf.shape(y)[0] - 1, 1:], y[..., :1], y[:, 3]

        with lite_ops.builtin_ops():
            graph = tf.function(function, input_signature=[spec]).get_concrete_function()
        ops = graph.graph.get_operations()
        self.assertIn("Slice", {op.type for op in ops})
        # Only shape vectors (``tf.shape(y)[0]``, the bounds' lengths) are strided.
        self.assertEqual({op.inputs[0].op.type for op in ops if op.type == "StridedSlice"},
                         {"Shape"})
        self.assertEqual([out.shape.as_list() for out in graph.outputs],
                         [[None, 512], [None, 1], [None]])  # static sizes kept

    def test_shape_vector_slices_keep_static_shapes(self):
        """``tf.shape(x)[:-1]`` stays StridedSlice, so a reshape keeps known sizes
        (as a Slice, ``tf.unstack`` of the result failed: its axis was unknown)."""
        spec = tf.TensorSpec([3, None, 6], tf.float32)

        def function(x):
            pairs = tf.reshape(x, tf.concat([tf.shape(x)[:-1], [2, 3]], axis=0))
            return tf.unstack(pairs, axis=-2)

        with lite_ops.builtin_ops():
            graph = tf.function(function, input_signature=[spec]).get_concrete_function()
        self.assertEqual([out.shape.as_list() for out in graph.outputs],
                         [[3, None, 3], [3, None, 3]])
        x = tf.reshape(tf.range(3 * 4 * 6, dtype=tf.float32), [3, 4, 6])
        self.assertAllEqual(graph(x)[1], tf.reshape(x, [3, 4, 2, 3])[..., 1, :])


class FrameTest(tf.test.TestCase):

    def test_frames_from_blocks_equal_tf_signal_frame(self):
        signal = np.arange(100, dtype=np.float32)
        for length, step in ((8, 2), (8, 4), (4, 4), (16, 4), (12, 4)):
            for samples in (100, 12, 7, 3, 0):  # fewer samples than a frame: no frames
                expected = tf.signal.frame(signal[:samples], length, step)
                with lite_ops.builtin_ops():
                    ours = tf.signal.frame(signal[:samples], length, step)
                self.assertEqual(ours.shape, expected.shape)
                self.assertAllEqual(ours, expected)
        batch = np.arange(60, dtype=np.float32).reshape(3, 20)
        with lite_ops.builtin_ops():
            ours = tf.signal.frame(batch, 8, 4)
        self.assertAllEqual(ours, tf.signal.frame(batch, 8, 4))
        self.assertIs(tf.signal.frame, lite_ops._SIGNAL_FRAME)

    def test_no_gather_and_a_gather_beyond_max_blocks(self):
        spec = tf.TensorSpec([None], tf.float32)
        for step, gathers in ((256, False), (1, True)):  # 1024 / 1 > MAX_BLOCKS_PER_FRAME
            with lite_ops.builtin_ops():
                graph = tf.function(lambda w, s=step: tf.signal.frame(w, 1024, s),
                                    input_signature=[spec]).get_concrete_function().graph
            types = {op.type for op in graph.get_operations()}
            self.assertEqual("GatherV2" in types, gathers, msg=str(step))

    def test_power_spectrogram_from_frames_and_rfft(self):
        waveform = fixtures.music_like(1.0, seed=4)
        expected = spectral.compute_power_spectrogram(waveform, 1024, 256)
        with lite_ops.builtin_ops():
            ours = spectral.compute_power_spectrogram(waveform, 1024, 256)
        self.assertFalse(dft.builtin_ops_active())
        self.assertEqual(ours.shape, expected.shape)
        self.assertAllClose(ours, expected, atol=1e-5 * float(np.max(expected)), rtol=0)
        self.assertGreater(float(np.max(expected)), 1.0)
        spec = tf.TensorSpec([None], tf.float32)
        with lite_ops.builtin_ops():  # framed from blocks: no gather
            graph = tf.function(lambda w: spectral.compute_power_spectrogram(w, 1024, 256),
                                input_signature=[spec]).get_concrete_function().graph
        types = {op.type for op in graph.get_operations()}
        self.assertNoCommonElements(types, {"GatherV2", "ComplexAbs"})

    def test_graph_has_no_ellipsis_or_new_axis_masks(self):
        spec = tf.TensorSpec([None], tf.float32)
        with lite_ops.builtin_ops():
            graph = tf.function(lambda w: w[..., 1:][..., tf.newaxis],
                                input_signature=[spec]).get_concrete_function().graph
        for op in graph.get_operations():
            if op.type == "StridedSlice":
                self.assertEqual(op.get_attr("ellipsis_mask"), 0)
                self.assertEqual(op.get_attr("new_axis_mask"), 0)


if __name__ == "__main__":
    tf.test.main()
