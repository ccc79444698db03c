"""The one-line reasons ``read_waveform`` gives for files it cannot use.

Training and ``predict.py`` both print them next to a file name, so each must say what
is wrong in words a user knows, without TF op or device names.
"""

import contextlib
import os
import tempfile
import threading

import numpy as np
import soundfile
import tensorflow as tf

from genre_tf.audio import decode, native_stderr
from tests import fixtures


@contextlib.contextmanager
def _descriptor_2(lines):
    """Appends to ``lines`` the bytes written to file descriptor 2 in the block."""
    with tempfile.TemporaryFile() as captured:
        with native_stderr.redirected_descriptor_2(captured):
            yield
        captured.seek(0)
        lines.extend(captured.read().decode("utf-8", "replace").splitlines())


class DecodeReasonsTest(tf.test.TestCase):

    def _reason(self, path):
        with self.assertRaises(decode.DecodeError) as caught:
            decode.read_waveform(path)
        return str(caught.exception)

    def _write(self, name, content):
        path = os.path.join(self.get_temp_dir(), name)
        with open(path, "wb") as handle:
            handle.write(content)
        return path

    def test_path_reasons(self):
        folder = self.get_temp_dir()
        os.makedirs(os.path.join(folder, "album.wav"))
        self.assertEqual(self._reason(os.path.join(folder, "missing.wav")),
                         "file not found")
        self.assertEqual(self._reason(os.path.join(folder, "album.wav")), "is a directory")
        self.assertEqual(self._reason(self._write("empty.wav", b"")), "empty file")

    def test_header_reasons(self):
        self.assertEqual(self._reason(self._write("notes.wav", b"this is not audio\n" * 9)),
                         "not a WAV file")
        avi = self._write("movie.wav", b"RIFF\x00\x00\x00\x00AVI LIST")
        self.assertEqual(self._reason(avi), "not a WAV file")
        self.assertEqual(self._reason(self._write("cut.wav", b"RIFF\x00\x00")),
                         "cannot decode (truncated header)")
        # libsndfile reads a header-less .au as raw u-law noise; the header check stops it.
        self.assertEqual(self._reason(self._write("notes.au", b"hello there")),
                         "not an AU file")
        self.assertEqual(self._reason(self._write("notes.flac", b"hello there")),
                         "not a FLAC file")

    def test_truncated_wav_is_named_with_both_lengths(self):
        # A copy cut short: the header promises 22050 frames, the file holds 11025.
        for subtype, channels, frame_bytes in (("PCM_16", 1, 2), ("PCM_24", 2, 6)):
            with self.subTest(subtype=subtype):
                good = os.path.join(self.get_temp_dir(), f"good_{subtype}.wav")
                soundfile.write(good, np.zeros((22050, channels), np.float32), 22050,
                                subtype=subtype)
                with open(good, "rb") as handle:
                    data = handle.read()
                cut = self._write(f"cut_{subtype}.wav", data[:44 + 11025 * frame_bytes])
                self.assertEqual(self._reason(cut),
                                 "truncated: header says 22050 samples, file holds 11025")
                self.assertEqual(decode.read_waveform(good).size, 22050)

    def test_streamed_wav_with_unknown_data_size_is_read(self):
        good = fixtures.write_audio(os.path.join(self.get_temp_dir(), "good.wav"),
                                    fixtures.tone(200.0))
        with open(good, "rb") as handle:
            data = bytearray(handle.read())
        position = data.index(b"data") + 4
        data[position:position + 4] = b"\xff\xff\xff\xff"
        streamed = self._write("streamed.wav", bytes(data))
        self.assertEqual(decode._wav_truncation(streamed), None)

    def test_decoder_reason_has_no_tf_internals(self):
        good = fixtures.write_audio(os.path.join(self.get_temp_dir(), "good.wav"),
                                    fixtures.tone(200.0))
        with open(good, "rb") as handle:
            header = handle.read(40)
        broken = self._write("broken.wav", header[:16] + b"\x02\x00\x00\x00" + header[20:])
        reason = self._reason(broken)
        self.assertStartsWith(reason, "cannot decode (")
        for internal in ("{{", "function_node", "[Op:", "device:CPU", broken):
            self.assertNotIn(internal, reason)

    def test_random_bytes_named_mp3_are_no_audio_format_not_a_missing_file(self):
        path = self._write("random.mp3", np.random.default_rng(0).bytes(5000))
        stderr = []
        with _descriptor_2(stderr):
            reason = self._reason(path)
        # libsndfile says "File does not exist or is not a regular file (possibly a
        # pipe?)"; the file exists.
        self.assertEqual(reason, "cannot decode (not a recognised audio format)")
        self.assertEqual([line for line in stderr if "libmpg123" in line], [])

    def test_only_decoder_noise_is_dropped_and_only_on_the_main_thread(self):
        noise = b"[src/libmpg123/parse.c:do_readahead():1083] warning: Duh...\n"
        stderr = []
        with _descriptor_2(stderr):
            with native_stderr.without_decoder_noise():
                os.write(2, noise + b"a real error\n")
            worker = threading.Thread(target=lambda: self._write_quietly(noise))
            worker.start()
            worker.join()
        self.assertEqual(stderr, ["a real error", noise.decode().strip()])

    @staticmethod
    def _write_quietly(line):
        with native_stderr.without_decoder_noise():  # not the main thread: unchanged
            os.write(2, line)

    def test_mislabelled_audio_still_decodes(self):
        y = fixtures.tone(300.0, seconds=0.5)
        path = os.path.join(self.get_temp_dir(), "really_flac.wav")
        soundfile.write(path, y, fixtures.SR, format="FLAC", subtype="PCM_16")
        self.assertAllClose(decode.read_waveform(path), y, atol=1e-4)

    def test_existing_reasons_stay(self):
        path = os.path.join(self.get_temp_dir(), "header_only.au")
        soundfile.write(path, np.zeros(0, np.float32), fixtures.SR, format="AU")
        self.assertEqual(self._reason(path), "no audio samples")
        nan = fixtures.write_audio(os.path.join(self.get_temp_dir(), "nan.wav"),
                                   np.full(100, np.nan, np.float32), subtype="FLOAT")
        self.assertEqual(self._reason(nan), "non-finite samples")


if __name__ == "__main__":
    tf.test.main()
