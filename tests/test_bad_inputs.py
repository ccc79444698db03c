"""A corpus of every kind of bad input the project knows, built here, through train.py and
predict.py as a user runs them: each file is used, used with a named warning, or skipped
with a named reason, and the run's summary, its log and metrics.json agree. Also the
configuration errors that must end a run at once: one line, exit status 2.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import pytest
import soundfile
import tensorflow as tf

from tests import fixtures

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_FAST = ("--flagfile=mlp.flags", "--window_sizes=512,1024", "--learning_rate=0.01",
         "--epochs=5", "--patience=0", "--folds=2", "--log_every_epochs=0",
         "--excerpt_seconds=0")


def _write_bytes(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)
    return path


def build_corpus(root):
    """Three tone genres plus one of every case; returns ``(used, filled, skipped)``:
    paths used as they are, {path: policy} filled, {path: reason} skipped."""
    fixtures.write_tone_genres(root, per_genre=3)
    used = [os.path.join(root, genre, f"{genre}.{k:05d}.wav")
            for genre in ("high", "low", "mid") for k in range(3)]
    sr = fixtures.SR
    high, low, mid = (fixtures.tone_genre_clip(g, 7) for g in ("high", "low", "mid"))
    used.append(fixtures.write_audio(os.path.join(root, "high", "high.24bit.wav"), high,
                                     subtype="PCM_24"))
    used.append(fixtures.write_audio(os.path.join(root, "high", "hïgh (copy) #2.flac"),
                                     high))
    used.append(fixtures.write_audio(os.path.join(root, "low", "low.8k.wav"),
                                     low[::2], sr=sr // 2))
    stereo = np.stack([mid, mid], axis=1)
    used.append(fixtures.write_audio(os.path.join(root, "mid", "mid 48k stereo.wav"),
                                     np.repeat(stereo, 2, axis=0), sr=2 * sr))
    short = fixtures.write_audio(os.path.join(root, "low", "low.short.wav"),
                                 fixtures.tone(150.0, 0.01))
    skipped = {}
    skipped[_write_bytes(os.path.join(root, "mid", "mid.empty.wav"), b"")] = "empty file"
    skipped[_write_bytes(os.path.join(root, "mid", "mid.text.wav"),
                         b"this is not audio\n" * 40)] = "not a WAV file"
    random_mp3 = _write_bytes(os.path.join(root, "high", "high.random.mp3"),
                              np.random.default_rng(0).bytes(6000))
    skipped[random_mp3] = "cannot decode"
    nan = np.full(sr, 0.1, np.float32)
    nan[100] = np.nan
    nan_path = os.path.join(root, "low", "low.nan.wav")
    soundfile.write(nan_path, nan, sr, subtype="FLOAT")
    skipped[nan_path] = "non-finite samples"
    dangling = os.path.join(root, "high", "high.dangling.wav")
    os.symlink(os.path.join(root, "nowhere.wav"), dangling)
    skipped[dangling] = "file not found"
    whole = fixtures.write_audio(os.path.join(root, "whole.wav"), fixtures.tone(300.0, 1.0))
    with open(whole, "rb") as handle:
        data = handle.read()
    os.remove(whole)
    truncated = _write_bytes(os.path.join(root, "mid", "mid.truncated.wav"),
                             data[:44 + 2 * (sr // 2)])
    skipped[truncated] = f"truncated: header says {sr} samples, file holds {sr // 2}"
    folder = os.path.join(root, "low", "low.folder.wav")
    os.makedirs(os.path.join(folder, "inside"))
    fixtures.write_audio(os.path.join(folder, "inside", "hidden.wav"), low)  # not searched
    skipped[folder] = "is a directory"
    # Never inputs: a macOS resource fork and a text file.
    _write_bytes(os.path.join(root, "high", "._high.00000.wav"), b"\x00\x05\x16\x07")
    _write_bytes(os.path.join(root, "high", "notes.txt"), b"liner notes")
    return used, {short: "repeat"}, skipped


def _run(script, *args, check=True):
    result = subprocess.run([sys.executable, os.path.join(_ROOT, script), *args],
                            capture_output=True, text=True, cwd=_ROOT, timeout=900)
    if check and result.returncode not in (0, 1):
        raise AssertionError(result.stdout + result.stderr[-4000:])
    return result


@pytest.mark.slow
class BadInputCorpusTest(tf.test.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.work = tempfile.mkdtemp(prefix="genre_tf_bad_")
        cls.data = os.path.join(cls.work, "data")
        cls.used, cls.filled, cls.skipped = build_corpus(cls.data)
        cls.output = os.path.join(cls.work, "run")
        cls.cache = os.path.join(cls.work, "cache")
        cls.runs = [_run("train.py", *_FAST, f"--data_dir={cls.data}",
                         f"--output_dir={cls.output}", f"--cache_dir={cls.cache}",
                         "--tflite=false") for _ in range(2)]  # second: from the store
        with open(os.path.join(cls.output, "metrics.json")) as handle:
            cls.metrics = json.load(handle)
        cls.predicted = _run("predict.py", f"--saved_model={cls.output}/saved_model",
                             cls.data)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)
        super().tearDownClass()

    def test_metrics_list_every_skipped_and_filled_file_with_its_reason(self):
        skipped = self.metrics["data"]["skipped"]
        self.assertEqual(sorted(skipped), sorted(self.skipped))
        for path, reason in self.skipped.items():
            self.assertStartsWith(skipped[path], reason)
        self.assertEqual(self.metrics["data"]["filled"], self.filled)
        self.assertEqual(self.metrics["n_songs"], len(self.used) + len(self.filled))

    def test_both_runs_say_the_same_in_their_log(self):
        total = len(self.used) + len(self.filled) + len(self.skipped)
        summary = (f"{total - len(self.skipped)} of {total} files used, "
                   f"{len(self.skipped)} skipped, {len(self.filled)} filled (short)")
        for run in self.runs:
            self.assertEqual(run.returncode, 0, run.stderr[-3000:])
            self.assertIn(summary, run.stderr)
            for path in self.skipped:
                self.assertIn(f"{path}: ", run.stderr)
            self.assertIn(f"{next(iter(self.filled))}: 220 samples", run.stderr)
        self.assertIn("holds this run; finished splits are reused", self.runs[1].stderr)
        # Only the files that never decoded are tried again; the rest come from the store.
        self.assertIn(f"of {len(self.skipped)} clips "
                      f"({len(self.used) + len(self.filled)} stored)", self.runs[1].stderr)

    def test_predict_classifies_the_usable_files_and_names_the_others(self):
        self.assertEqual(self.predicted.returncode, 1, self.predicted.stderr)
        lines = dict(line.split(": ", 1) for line in self.predicted.stdout.splitlines())
        for path in self.used:
            self.assertNotStartsWith(lines[path], "error", path)
        for path, reason in self.skipped.items():
            self.assertStartsWith(lines[path], f"error: {reason}")
        # Training fills the 10 ms clip; predict refuses to guess from so little.
        short = next(iter(self.filled))
        self.assertEqual(lines[short], "error: too short (0.010 s; predict needs at least "
                                       "0.5 s, --min_seconds)")
        self.assertNotIn(os.path.join(self.data, "high", "._high.00000.wav"), lines)
        err = self.predicted.stderr.strip().splitlines()
        self.assertEqual(err[-1], f"{len(self.skipped) + 1} of {len(lines)} inputs failed")


@pytest.mark.slow
class ConfigurationErrorTest(tf.test.TestCase):
    """Each must end the run at once with one line naming the problem, exit status 2."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.work = tempfile.mkdtemp(prefix="genre_tf_config_")
        empty_genre = fixtures.write_tone_genres(os.path.join(cls.work, "empty_genre"), 2)
        os.makedirs(os.path.join(empty_genre, "silence"))
        header_only = _write_bytes(os.path.join(cls.work, "manifest.csv"), b"path,label\n")
        bad_cell = _write_bytes(os.path.join(cls.work, "features.csv"),
                                b"filename,f1,label\na.00000.wav,0.5,x\nb.00000.wav,oops,y\n")
        tones = fixtures.write_tone_genres(os.path.join(cls.work, "tones"), 2)
        no_low = os.path.join(cls.work, "no_low_in_train")  # low only in valid.txt
        for part, songs in (("train", "high.00000 mid.00000"), ("valid", "low.00000"),
                            ("test", "high.00001 mid.00001 low.00001")):
            _write_bytes(os.path.join(no_low, f"{part}.txt"), "".join(
                f"{song.split('.')[0]}/{song}.wav\n" for song in songs.split()).encode())
        cases = {  # name: (script, its arguments, what its last line names)
            "missing data_dir": ("train.py", [f"--data_dir={cls.work}/nowhere"],
                                 "does not exist"),
            "empty genre folder": ("train.py", [f"--data_dir={empty_genre}"], "silence"),
            "header-only manifest": ("train.py", [f"--data_dir={header_only}"], "no rows"),
            "bad CSV cell": ("train.py", [f"--features_csv={bad_cell}"], "features.csv:3"),
            "fixed split training no low": (
                "train.py", [f"--data_dir={tones}", "--split=fixed",
                             f"--split_dir={no_low}"], "miss 1 of 3 classes: low ("),
            "tuner with --distribution": (
                "tuner.py", [f"--data_dir={empty_genre}", "--distribution=mirrored"],
                "KERASTUNER_"),
        }
        running = {name: subprocess.Popen(
            [sys.executable, os.path.join(_ROOT, script), *_FAST, *args,
             f"--output_dir={cls.work}/out_{k}", f"--cache_dir={cls.work}/cache"],
            cwd=_ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for k, (name, (script, args, _)) in enumerate(cases.items())}
        cls.results = {name: (process.wait(timeout=300), process.communicate()[1],
                              *cases[name][::2]) for name, process in running.items()}

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)
        super().tearDownClass()

    def test_one_line_and_exit_status_2(self):
        for name, (status, err, script, message) in self.results.items():
            with self.subTest(name):
                self.assertEqual(status, 2, err[-2000:])
                self.assertNotIn("Traceback", err)
                last = err.strip().splitlines()[-1]
                self.assertStartsWith(last, f"{script}: ")
                self.assertIn(message, last)


@pytest.mark.slow
class RunFolderCliTest(tf.test.TestCase):
    """A rerun on changed audio with the same file names into the same folder."""

    def test_refused_then_started_clean_with_overwrite(self):
        work = self.get_temp_dir()
        data = fixtures.write_tone_genres(os.path.join(work, "data"), per_genre=3)
        output, cache = os.path.join(work, "run"), os.path.join(work, "cache")
        common = (*_FAST, f"--data_dir={data}", f"--output_dir={output}",
                  f"--cache_dir={cache}", "--tflite=false")
        first = _run("train.py", *common)
        self.assertEqual(first.returncode, 0, first.stderr[-3000:])
        # Same names, other sounds: every "high" clip now holds a low tone.
        for k in range(3):
            fixtures.write_audio(os.path.join(data, "high", f"high.{k:05d}.wav"),
                                 fixtures.tone_genre_clip("low", k))
        refused = _run("train.py", *common, "--folds=3", check=False)
        self.assertEqual(refused.returncode, 2, refused.stderr[-3000:])
        self.assertIn("holds another run (other settings: splits.folds)",
                      refused.stderr.strip().splitlines()[-1])
        refused = _run("train.py", *common, check=False)
        self.assertEqual(refused.returncode, 2, refused.stderr[-3000:])
        self.assertIn("holds another run (other data", refused.stderr.strip().splitlines()[-1])
        again = _run("train.py", *common, "--overwrite", "--final_fit=false")
        self.assertEqual(again.returncode, 0, again.stderr[-3000:])
        self.assertNotIn("already done", again.stderr)
        self.assertEqual(sorted(os.listdir(output)),
                         ["confusion_matrix.png", "flags.txt", "metrics.json", "run.json",
                          "split_0", "split_1"])
        with open(os.path.join(output, "flags.txt")) as handle:
            flags = handle.read()
        self.assertNotIn("--overwrite", flags)
        self.assertIn("--nofinal_fit", flags)


if __name__ == "__main__":
    tf.test.main()
