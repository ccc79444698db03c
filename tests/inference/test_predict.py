"""predict's records, reasons, warnings and long-input answers, run in-process.

Three reference exports: ``windowed`` (3 s windows hopping 1.5 s, short input
repeated), ``skip`` (refuses short input) and ``whole`` (a whole-clip system from before
``classify_windows``, trained on the demo data, zero-padding).
"""

import csv
import io
import json
import os
import re

import numpy as np
import tensorflow as tf

from genre_tf.audio import decode
from genre_tf.inference import classify, exit_status, model, run
from tests import fixtures
from tests import inference as helpers


class PredictTest(tf.test.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.folder = helpers.class_folder(cls, "predict")
        cls.windowed = model.load_export(helpers.write_export(
            cls.folder, "windowed", window_seconds=3.0, hop_seconds=1.5))
        cls.skip = model.load_export(helpers.write_export(
            cls.folder, "skip", window_seconds=3.0, short_clips="skip"))
        cls.whole = model.load_export(helpers.write_export(
            cls.folder, "whole", window_seconds=None, short_clips="pad",
            synthetic_demo=True, windows_endpoint=False))
        songs = os.path.join(cls.folder, "songs")
        cls.songs = songs
        # path -> (genre, seconds)
        cls.expected = {os.path.join(songs, "low.wav"): ("low", 4.0),
                        os.path.join(songs, "nested", "deeper", "high.wav"): ("high", 5.0),
                        os.path.join(songs, "nested", "mid.flac"): ("mid", 4.0),
                        os.path.join(songs, "short.wav"): ("mid", 1.5)}
        for path, segment in cls.expected.items():
            helpers.write_tones(path, segment)
        cls.short = os.path.join(songs, "short.wav")
        cls.halves = helpers.write_tones(os.path.join(cls.folder, "halves.wav"),
                                         ("low", 6.0), ("high", 6.0))

    def _run(self, export, paths, output_format="json", **settings):
        out, err = io.StringIO(), io.StringIO()
        status = run.run_inputs(export, paths, classify.Settings(**settings),
                                output_format, out, err)
        return status, out.getvalue(), err.getvalue()

    def _records(self, export, paths, **settings):
        status, out, err = self._run(export, paths, "json", **settings)
        return status, {r["path"]: r for r in json.loads(out)}, err

    def test_json_records_of_a_searched_folder(self):
        status, records, _ = self._records(self.windowed, [self.songs], top_k=2)
        self.assertEqual(status, exit_status.OK)
        self.assertEqual(list(records), sorted(self.expected))
        for path, (genre, seconds) in self.expected.items():
            record = records[path]
            probabilities = [g["probability"] for g in record["genres"]]
            self.assertLen(probabilities, 2)
            self.assertEqual(record["genres"][0]["genre"], genre)
            self.assertGreater(probabilities[0], 0.99)
            self.assertGreaterEqual(probabilities[0], probabilities[1])
            self.assertEqual(record["duration_seconds"], seconds)
            self.assertEqual(record["filled"], "repeat" if path == self.short else None)
            self.assertIsNone(record["windows"])
            self.assertIsNone(record["error"])

    def test_csv_and_text_say_what_json_says(self):
        _, records, _ = self._records(self.windowed, [self.songs])
        _, out, _ = self._run(self.windowed, [self.songs], "csv")
        rows = list(csv.DictReader(io.StringIO(out)))
        self.assertEqual([row["path"] for row in rows], list(records))
        for row in rows:
            record = records[row["path"]]
            for k, entry in enumerate(record["genres"], start=1):
                self.assertEqual(row[f"genre_{k}"], entry["genre"])
                self.assertAllClose(float(row[f"probability_{k}"]), entry["probability"])
            self.assertEqual(float(row["duration_seconds"]), record["duration_seconds"])
            self.assertEqual(row["filled"], record["filled"] or "")
            self.assertEqual(row["error"], "")
        _, out, _ = self._run(self.windowed, [self.songs], "text", top_k=2)
        line = re.compile(r"^(.+): (\w+) (\d\.\d\d), (\w+) (\d\.\d\d) "
                          r"\((\d+\.\d) s(; filled by repeat)?\)$")
        parsed = [line.match(text).groups() for text in out.splitlines()]
        self.assertEqual([p[0] for p in parsed], list(records))
        for path, first, p1, second, _, seconds, filled in parsed:
            genres = [g["genre"] for g in records[path]["genres"]]
            self.assertEqual([first, second], genres[:2])
            self.assertAllClose(float(p1), records[path]["genres"][0]["probability"],
                                atol=0.005)
            self.assertEqual(float(seconds), records[path]["duration_seconds"])
            self.assertEqual(bool(filled), path == self.short)

    def test_answer_is_exactly_the_saved_models(self):
        path = os.path.join(self.songs, "nested", "mid.flac")
        _, records, _ = self._records(self.windowed, [path])
        expected = self.windowed.classify_waveform(decode.read_waveform(path, helpers.SR))
        got = {g["genre"]: g["probability"] for g in records[path]["genres"]}
        self.assertAllClose([got[name] for name in self.windowed.info.class_names],
                            expected, atol=1e-6)

    def test_every_failure_has_its_reason_and_the_rest_still_run(self):
        bad = os.path.join(self.folder, "bad")
        os.makedirs(os.path.join(bad, "album.wav"))
        open(os.path.join(bad, "empty.wav"), "w").close()
        with open(os.path.join(bad, "notes.wav"), "w") as handle:
            handle.write("not audio at all")
        missing = os.path.join(self.folder, "missing.wav")
        good = os.path.join(self.songs, "low.wav")
        status, records, err = self._records(self.windowed, [bad, missing, good])
        self.assertEqual(status, exit_status.INPUT_FAILED)
        self.assertEqual({os.path.basename(p): r["error"] for p, r in records.items()},
                         {"album.wav": "is a directory", "empty.wav": "empty file",
                          "notes.wav": "not a WAV file", "missing.wav": "file not found",
                          "low.wav": None})
        self.assertEqual(records[good]["genres"][0]["genre"], "low")
        self.assertEqual(records[missing]["genres"], [])
        self.assertEqual(err, "4 of 5 inputs failed\n")
        _, out, _ = self._run(self.windowed, [missing], "text")
        self.assertEqual(out, f"{missing}: error: file not found\n")

    def test_too_short_under_skip(self):
        status, records, err = self._records(self.skip, [self.short])
        self.assertEqual(status, exit_status.INPUT_FAILED)
        self.assertEqual(records[self.short]["error"],
                         "too short (24000 samples, the model needs 48000)")
        self.assertNotIn("filled", err)

    def test_short_input_is_filled_with_a_warning(self):
        status, records, err = self._records(self.windowed, [self.short])
        self.assertEqual(status, exit_status.OK)
        self.assertEqual(records[self.short]["filled"], "repeat")
        self.assertEqual(err, f"{self.short}: 1.5 s, shorter than the model's 3.0 s "
                              "window; filled by repeat\n")

    def test_tiny_and_silent_inputs_are_refused_with_reasons_the_rest_answered(self):
        folder = os.path.join(self.folder, "tiny")
        lsb = 1.0 / 32768  # one step of 16-bit audio: -90.3 dBFS
        paths = {name: fixtures.write_audio(os.path.join(folder, name), waveform,
                                            helpers.SR)
                 for name, waveform in (
                     ("one_sample.wav", helpers.tones(("mid", 1.0))[1:2]),
                     ("tiny_10ms.wav", helpers.tones(("mid", 0.01))),
                     ("zero_frames.wav", np.zeros(0, np.float32)),
                     ("silence_5s.wav", np.zeros(5 * helpers.SR, np.float32)),
                     ("hush.wav", np.resize(np.float32([lsb, -lsb, 0.0]), helpers.SR)),
                     ("quiet_0p6s.wav", 0.002 * helpers.tones(("mid", 0.6))))}
        status, records, err = self._records(self.windowed, [folder])
        self.assertEqual(status, exit_status.INPUT_FAILED)
        self.assertEqual({os.path.basename(p): r["error"] for p, r in records.items()}, {
            "one_sample.wav": "too short (1 sample; predict needs at least 0.5 s, "
                              "--min_seconds)",
            "tiny_10ms.wav": "too short (0.010 s; predict needs at least 0.5 s, "
                             "--min_seconds)",
            "zero_frames.wav": "no audio samples",
            "silence_5s.wav": "silent (all samples are zero)",
            "hush.wav": "silent (peak -90.3 dBFS, below -90 dBFS)",
            "quiet_0p6s.wav": None})
        for name in ("one_sample.wav", "tiny_10ms.wav", "silence_5s.wav", "hush.wav"):
            self.assertEqual(records[paths[name]]["genres"], [])
        self.assertEqual(records[paths["silence_5s.wav"]]["duration_seconds"], 5.0)
        # -60 dBFS and 0.6 s: quiet and short, but music enough: filled and answered.
        quiet = records[paths["quiet_0p6s.wav"]]
        self.assertEqual((quiet["genres"][0]["genre"], quiet["filled"]), ("mid", "repeat"))
        self.assertGreater(quiet["genres"][0]["probability"], 0.99)
        self.assertEqual(err.splitlines(), [
            f"{paths['quiet_0p6s.wav']}: 0.600 s, shorter than the model's 3.0 s window; "
            "filled by repeat", "5 of 6 inputs failed"])
        # --min_seconds=0: any length is filled, as before; silence is still refused.
        _, records, _ = self._records(
            self.windowed, [paths["tiny_10ms.wav"], paths["silence_5s.wav"]],
            min_seconds=0.0)
        self.assertEqual(records[paths["tiny_10ms.wav"]]["filled"], "repeat")
        self.assertIsNone(records[paths["tiny_10ms.wav"]]["error"])
        self.assertStartsWith(records[paths["silence_5s.wav"]]["error"], "silent")

    def test_demo_model_is_named_once(self):
        _, _, err = self._records(self.whole, [self.songs])
        self.assertEqual(err.count("synthetic demo data"), 1)
        self.assertIn(f"warning: {self.whole.directory} was trained on the synthetic demo "
                      "data; its answers say nothing about real music\n", err)
        _, _, err = self._records(self.windowed, [self.halves])
        self.assertNotIn("demo", err)

    def test_long_input_answer_is_the_mean_of_its_windows(self):
        path = helpers.write_tones(os.path.join(self.folder, "long.wav"),
                                   ("low", 6.5), ("high", 6.5))
        _, records, _ = self._records(self.windowed, [path], stream_above_seconds=5.0,
                                      batch_windows=3, timeline=True)
        record = records[path]
        starts = [0.0, 1.5, 3.0, 4.5, 6.0, 7.5, 9.0, 10.0]  # the last ends at 13 s
        self.assertEqual(record["windows"], len(starts))
        self.assertEqual([w["start_seconds"] for w in record["timeline"]], starts)
        waveform = decode.read_waveform(path, helpers.SR)
        windows = np.stack([waveform[int(s * helpers.SR):int((s + 3) * helpers.SR)]
                            for s in starts])
        mean = self.windowed.classify_windows(windows).mean(axis=0)
        got = {g["genre"]: g["probability"] for g in record["genres"]}
        self.assertAllClose([got[name] for name in self.windowed.info.class_names], mean,
                            atol=1e-5)
        whole = self.windowed.classify_waveform(waveform)
        self.assertNotAllClose(mean, whole, atol=1e-3)  # so the test can tell them apart
        _, again, _ = self._records(self.windowed, [path], stream_above_seconds=5.0)
        self.assertNotIn("timeline", again[path])
        self.assertEqual(again[path]["genres"], record["genres"])

    def test_timeline_names_each_half(self):
        # The whole-clip model has no window of its own: --window_seconds, hop = window.
        _, records, _ = self._records(self.whole, [self.halves], timeline=True,
                                      window_seconds=3.0)
        record = records[self.halves]
        self.assertEqual([(w["start_seconds"], w["end_seconds"], w["genre"])
                          for w in record["timeline"]],
                         [(0.0, 3.0, "low"), (3.0, 6.0, "low"), (6.0, 9.0, "high"),
                          (9.0, 12.0, "high")])
        self.assertEqual({g["genre"] for g in record["genres"][:2]}, {"low", "high"})
        self.assertIsNone(record["windows"])  # 12 s: classified whole
        # A windowed model keeps its own window and hop whatever --window_seconds says.
        _, out, _ = self._run(self.windowed, [self.halves], "text", timeline=True,
                              window_seconds=5.0)
        lines = out.splitlines()
        self.assertStartsWith(lines[0], f"{self.halves}: ")
        self.assertEqual(lines[1:4], ["  0.0-3.0 s  low 1.00", "  1.5-4.5 s  low 1.00",
                                      "  3.0-6.0 s  low 1.00"])
        self.assertEqual(lines[5:], ["  6.0-9.0 s  high 1.00", "  7.5-10.5 s  high 1.00",
                                     "  9.0-12.0 s  high 1.00"])


if __name__ == "__main__":
    tf.test.main()
