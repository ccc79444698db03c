"""tf.data decoding: 16-bit PCM WAVs at the target rate decode in the graph, exactly as
``read_waveform`` would; every other file takes the Python path with its reasons."""

import os

import numpy as np
import tensorflow as tf

from genre_tf.audio import decode
from genre_tf.data import pipeline
from tests import fixtures

SR = fixtures.SR


class InGraphDecodingTest(tf.test.TestCase):

    def setUp(self):
        super().setUp()
        folder = self.get_temp_dir()
        y = fixtures.music_like(1.0, sr=SR, seed=2)
        self.mono = fixtures.write_audio(os.path.join(folder, "mono.wav"), y)
        self.stereo = fixtures.write_audio(os.path.join(folder, "stereo.wav"),
                                           np.stack([y, -0.5 * y], axis=1))
        self.pcm24 = fixtures.write_audio(os.path.join(folder, "pcm24.wav"), y,
                                          subtype="PCM_24")
        self.rate16k = fixtures.write_audio(os.path.join(folder, "rate16k.wav"), y[:16000],
                                            sr=16000)
        self.short = fixtures.write_audio(os.path.join(folder, "short.wav"), y[:100])

    def test_which_files_decode_in_the_graph(self):
        self.assertEqual(decode.in_graph_frames(self.mono, SR), SR)
        self.assertEqual(decode.in_graph_frames(self.stereo, SR), SR)
        self.assertIsNone(decode.in_graph_frames(self.pcm24, SR))  # TF reads 16-bit only
        self.assertIsNone(decode.in_graph_frames(self.rate16k, SR))  # needs resampling
        self.assertIsNone(decode.in_graph_frames(self.mono, 16000))

    def test_graph_and_python_paths_give_read_waveforms_samples(self):
        paths = [self.mono, self.stereo, self.pcm24, self.rate16k, self.short]
        called = []
        original = decode.read_waveform

        def recording(path, sample_rate):
            called.append(path)
            return original(path, sample_rate)

        decode.read_waveform = recording
        report = pipeline.DecodeReport()
        try:
            decoded = {int(i): y for y, i in pipeline.waveform_dataset(
                paths, SR, min_samples=1024, policy="skip",
                report=report).as_numpy_iterator()}
        finally:
            decode.read_waveform = original
        self.assertCountEqual(called, [self.pcm24, self.rate16k])  # the rest: in graph
        self.assertEqual(sorted(decoded), [0, 1, 2, 3])
        for k, path in enumerate(paths[:4]):
            self.assertAllClose(decoded[k], original(path, SR), atol=1e-6)
        self.assertEqual(report.skipped,
                         {self.short: "too short (100 samples, need 1024)"})


if __name__ == "__main__":
    tf.test.main()
