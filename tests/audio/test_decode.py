"""Decoding every supported format, resampling, downmixing, and refusing bad files."""

import os

import numpy as np
import soundfile
import tensorflow as tf

from genre_tf import features as F
from genre_tf.audio import decode, synthetic
from tests import fixtures


def _dominant_frequency(y, sr):
    spectrum = np.abs(np.fft.rfft(y * np.hanning(y.size)))
    return np.argmax(spectrum) * sr / y.size


class DecodeTest(tf.test.TestCase):

    def test_formats_decode_to_the_same_tone(self):
        folder = self.get_temp_dir()
        y = fixtures.tone(440.0, seconds=1.0)
        for extension, fmt in ((".wav", "WAV"), (".flac", "FLAC"), (".ogg", "OGG"),
                               (".mp3", "MP3"), (".au", "AU")):
            with self.subTest(extension=extension):
                path = os.path.join(folder, "tone" + extension)
                subtype = {"OGG": "VORBIS", "MP3": "MPEG_LAYER_III"}.get(fmt, "PCM_16")
                soundfile.write(path, y, fixtures.SR, format=fmt, subtype=subtype)
                decoded = decode.read_waveform(path, fixtures.SR)
                self.assertEqual(decoded.dtype, np.float32)
                self.assertAllClose(decoded.size, y.size, atol=2048)  # lossy codecs pad
                self.assertAllClose(_dominant_frequency(decoded, fixtures.SR), 440.0,
                                    atol=2.0)
                if fmt in ("WAV", "FLAC", "AU"):  # lossless: same samples
                    self.assertAllClose(decoded, y, atol=1e-4)

    def test_tensorflow_decodes_the_tf_formats(self):
        # WAV, FLAC, OGG and MP3 go through TF ops, not the soundfile fallback.
        folder = self.get_temp_dir()
        y = fixtures.tone(440.0, seconds=0.5)
        for extension, fmt, subtype in ((".wav", "WAV", "PCM_16"), (".flac", "FLAC", "PCM_16"),
                                        (".mp3", "MP3", "MPEG_LAYER_III")):
            with self.subTest(extension=extension):
                path = os.path.join(folder, "tf" + extension)
                soundfile.write(path, y, fixtures.SR, format=fmt, subtype=subtype)
                samples, rate = decode._decode_with_tf(path, extension)  # pylint: disable=protected-access
                self.assertEqual(rate, fixtures.SR)
                self.assertEqual(samples.ndim, 2)

    def test_float_wav_falls_back_to_soundfile(self):
        path = fixtures.write_audio(os.path.join(self.get_temp_dir(), "f.wav"),
                                    fixtures.tone(300.0, 0.5), subtype="FLOAT")
        self.assertAllClose(decode.read_waveform(path), fixtures.tone(300.0, 0.5),
                            atol=1e-6)

    def test_resamples_and_downmixes(self):
        t = np.arange(16000) / 16000.0
        stereo = np.stack([np.sin(2 * np.pi * 1000 * t), np.sin(2 * np.pi * 1000 * t)], 1)
        path = os.path.join(self.get_temp_dir(), "stereo16k.wav")
        soundfile.write(path, 0.5 * stereo, 16000, subtype="PCM_16")
        y = decode.read_waveform(path, 22050)
        self.assertEqual(y.ndim, 1)
        self.assertAllClose(y.size, 22050, atol=1)
        self.assertAllClose(_dominant_frequency(y, 22050), 1000.0, atol=2.0)
        self.assertAllClose(np.max(np.abs(y[1000:-1000])), 0.5, atol=0.01)

    def test_bad_files_raise_decode_error_with_reason(self):
        folder = self.get_temp_dir()
        empty = os.path.join(folder, "empty.wav")
        open(empty, "wb").close()
        text = os.path.join(folder, "notes.wav")
        with open(text, "w") as handle:
            handle.write("this is not audio\n" * 20)
        good = fixtures.write_audio(os.path.join(folder, "good.wav"), fixtures.tone(200.0))
        truncated = os.path.join(folder, "truncated.wav")
        with open(good, "rb") as src, open(truncated, "wb") as dst:
            dst.write(src.read(30))  # header cut mid-way
        header_only = os.path.join(folder, "header_only.au")
        soundfile.write(header_only, np.zeros(0, np.float32), 22050, format="AU")
        cases = {empty: "empty file", text: "not a WAV file", truncated: "cannot decode",
                 header_only: "no audio samples",
                 os.path.join(folder, "missing.wav"): "file not found"}
        for path, reason in cases.items():
            with self.subTest(path=os.path.basename(path)):
                with self.assertRaisesRegex(decode.DecodeError, reason):
                    decode.read_waveform(path)

class SyntheticDemoTest(tf.test.TestCase):

    def test_demo_dataset_layout_and_reuse(self):
        root = os.path.join(self.get_temp_dir(), "demo")
        synthetic.make_demo_dataset(root, clips_per_genre=2, seconds=1.0)
        self.assertEqual(sorted(os.listdir(os.path.join(root, "jazz"))),
                         ["jazz.00000.flac", "jazz.00001.flac"])
        first = os.path.join(root, "metal", "metal.00000.flac")
        stamp = os.path.getmtime(first)
        synthetic.make_demo_dataset(root, clips_per_genre=2, seconds=1.0)
        self.assertEqual(os.path.getmtime(first), stamp)  # reused, not rewritten
        y = decode.read_waveform(first, 22050)
        self.assertAllClose(y.size, 22050, atol=1)
        self.assertGreater(np.std(y), 0.05)

    def test_genres_differ_in_tempo_and_timbre(self):
        def clip(genre):
            return synthetic.render_clip(synthetic.RECIPES[genre], 8.0, 16000,
                                         np.random.default_rng(0))
        for genre in ("disco", "reggae"):
            with self.subTest(genre=genre):
                low, high = synthetic.RECIPES[genre].bpm
                tempo = float(F.compute_tempo(clip(genre), 16000))
                self.assertBetween(tempo, low * 0.97, high * 1.03)
        # Distorted metal is far noisier (flatter) than clean classical partials.
        flatness = {g: float(np.median(F.compute_spectral_flatness(clip(g))))
                    for g in ("metal", "classical")}
        self.assertGreater(flatness["metal"], 5 * flatness["classical"])


if __name__ == "__main__":
    tf.test.main()
