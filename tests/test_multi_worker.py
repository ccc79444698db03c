"""Two workers on 127.0.0.1 under MultiWorkerMirroredStrategy (TF_CONFIG, free ports).

Every process has a timeout and ends by itself. The task: three "genres" of tones 10%
apart in pitch, each clip detuned by up to 5% and buried in noise, so that one worker
scores about 0.96 on held-out songs rather than a trivial 1.0, and the two-worker run
is compared with it on the same splits.
"""

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import shutil

import numpy as np
import pytest
import tensorflow as tf

from tests import fixtures

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT_S = 900  # per process; two workers share 2 cores with everything else
CLOSE_TONES = {"a": 400.0, "b": 440.0, "c": 485.0}
EPOCHS = 40
FOLDS = 2
TRAIN_ARGS = ("--flagfile=mlp.flags", "--window_sizes=512,1024", "--learning_rate=0.01",
              f"--epochs={EPOCHS}", "--patience=0", f"--folds={FOLDS}", "--test_size=0.3",
              "--final_fit=false", "--excerpt_seconds=0", "--log_every_epochs=10")


def write_close_tones(root, per_genre=30, seconds=1.0):
    """``<root>/<genre>/<genre>.000NN.wav``: a tone of the genre's pitch detuned by up
    to 5%, plus noise at 0.3 (the tone's amplitude is 0.5)."""
    rng = np.random.default_rng(0)
    for genre, pitch in CLOSE_TONES.items():
        for k in range(per_genre):
            y = fixtures.tone(pitch * (1 + rng.uniform(-0.05, 0.05)), seconds)
            fixtures.write_audio(os.path.join(root, genre, f"{genre}.{k:05d}.wav"),
                                 (y + 0.3 * rng.standard_normal(y.size)).astype(np.float32))
    return root


def _free_ports(n):
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(n)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]


def run_workers(commands):
    """Runs one process per command, each with the TF_CONFIG of its place in a cluster
    of ``len(commands)`` workers on loopback; returns their CompletedProcess-like
    ``(returncode, stdout, stderr)``, killing all of them after ``TIMEOUT_S``."""
    workers = [f"127.0.0.1:{port}" for port in _free_ports(len(commands))]
    processes = []
    for index, command in enumerate(commands):
        config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        processes.append(subprocess.Popen(
            [sys.executable, *command], cwd=ROOT, text=True, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env={**os.environ, "TF_CONFIG": json.dumps(config)}))
    results = []
    try:
        for process in processes:
            stdout, stderr = process.communicate(timeout=TIMEOUT_S)
            results.append((process.returncode, stdout, stderr))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.communicate()
    return results


def _metrics(output_dir):
    with open(os.path.join(output_dir, "metrics.json")) as handle:
        return json.load(handle)


def _test_songs(output_dir, split):
    with open(os.path.join(output_dir, split, "result.json")) as handle:
        return json.load(handle)["identity"]["songs"]["test"]


@pytest.mark.slow
class TwoWorkerTrainingTest(tf.test.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.work = tempfile.mkdtemp(prefix="genre_tf_multi_worker_")
        data = write_close_tones(os.path.join(cls.work, "data"))
        common = (*TRAIN_ARGS, f"--data_dir={data}",
                  f"--cache_dir={os.path.join(cls.work, 'cache')}")
        cls.one = os.path.join(cls.work, "one_worker")
        fixtures.run_train(*common, f"--output_dir={cls.one}")  # also fills the cache
        cls.outputs = [os.path.join(cls.work, f"worker_{i}") for i in range(2)]
        cls.commands = [
            ("train.py", *common, "--distribution=multi_worker", f"--output_dir={output}")
            for output in cls.outputs]
        cls.workers = run_workers(cls.commands)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)
        super().tearDownClass()

    def test_both_workers_ran_every_step_in_sync(self):
        for index, (returncode, stdout, stderr) in enumerate(self.workers):
            with self.subTest(worker=index):
                self.assertEqual(returncode, 0, stderr[-3000:])
                self.assertIn(f"worker {index} of 2 workers", stderr)
                self.assertIn("num_replicas_in_sync=2", stderr)
                self.assertEqual(stderr.count(f"epoch {EPOCHS}/{EPOCHS} "), FOLDS)
        # The logs are the reduced (all-worker) values: the same on both workers.
        last_epochs = [[line.split("] ", 1)[1] for line in stderr.splitlines()
                        if f"epoch {EPOCHS}/{EPOCHS} " in line]
                       for _, _, stderr in self.workers]
        self.assertEqual(last_epochs[0], last_epochs[1])
        self.assertIn("the chief writes the results", self.workers[1][1])

    def test_only_the_chief_writes(self):
        chief, other = self.outputs
        self.assertTrue(os.path.isfile(os.path.join(chief, "metrics.json")))
        self.assertTrue(os.path.isfile(os.path.join(chief, "split_1", "history.csv")))
        self.assertTrue(os.path.isdir(os.path.join(chief, "split_1", "logs")))
        self.assertEqual(os.listdir(other) if os.path.isdir(other) else [], [])
        with open(os.path.join(chief, "flags.txt")) as handle:
            self.assertNotIn("--distribution", handle.read())  # reruns on one machine

    def test_a_rerun_reuses_the_chiefs_finished_splits_on_every_worker(self):
        chief, other = run_workers(self.commands)  # one that trained alone would stall
        for returncode, _, stderr in (chief, other):
            self.assertEqual(returncode, 0, stderr[-3000:])
            self.assertNotIn(f"epoch {EPOCHS}/{EPOCHS}", stderr)
        self.assertEqual(chief[2].count(": already done ("), FOLDS)
        self.assertEqual(chief[1], self.workers[0][1])  # the same summary line

    def test_song_accuracy_is_one_workers_on_the_same_splits(self):
        one, two = _metrics(self.one), _metrics(self.outputs[0])
        for split in ("split_0", "split_1"):
            self.assertEqual(_test_songs(self.outputs[0], split), _test_songs(self.one, split))
        self.assertBetween(one["mean_accuracy"], 0.6, 0.99,
                           msg="the task must stay hard enough for the comparison to mean "
                               "something, and learnable")
        self.assertAllClose(two["mean_accuracy"], one["mean_accuracy"], atol=0.05)


@pytest.mark.slow
class MisconfiguredWorkersTest(tf.test.TestCase):

    def test_workers_with_other_flags_stop_and_say_why(self):
        work = self.get_temp_dir()
        data = write_close_tones(os.path.join(work, "data"), per_genre=4)
        common = (*TRAIN_ARGS, f"--data_dir={data}", f"--cache_dir={work}/cache",
                  "--distribution=multi_worker")
        chief, other = run_workers([
            ("train.py", *common, f"--output_dir={work}/chief"),
            ("train.py", *common, f"--output_dir={work}/other", "--epochs=3")])
        self.assertEqual(other[0], 2, other[2][-3000:])  # a configuration error
        self.assertIn("worker 1 and the chief disagree on the settings", other[2])
        self.assertNotEqual(chief[0], 0)  # its peer is gone: its next collective fails
        self.assertFalse(os.path.exists(os.path.join(work, "chief", "metrics.json")))


# A tiny fit under MultiWorkerMirroredStrategy, with or without the shim (argv[1]).
_PROBE = """
import contextlib, sys
import numpy as np
import tensorflow as tf
strategy = tf.distribute.MultiWorkerMirroredStrategy()
import keras
from genre_tf.training import distribute, multi_worker_fit
x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
data = distribute.Distribution.dataset(
    tf.data.Dataset.from_tensor_slices((x, (x[:, 0] > 0).astype("int64"))).batch(16))
with strategy.scope():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
shim = (multi_worker_fit.fit_compatibility(model) if sys.argv[1] == "shim"
        else contextlib.nullcontext())
try:
    with shim:
        model.fit(data, epochs=2, verbose=0)
except Exception as error:
    print("FIT_FAILED", type(error).__name__, str(error).splitlines()[0][:200])
else:
    print("FIT_OK", repr(float(np.sum(model.get_weights()[0]))))
"""


@pytest.mark.slow
class KerasMultiWorkerFitTest(tf.test.TestCase):
    """Why ``genre_tf.training.multi_worker_fit`` exists, and that it is enough."""

    def test_fit_fails_without_the_shim_and_runs_with_it(self):
        without = run_workers([("-c", _PROBE, "plain")] * 2)
        for returncode, stdout, stderr in without:
            self.assertEqual(returncode, 0, stderr[-3000:])
            self.assertIn("FIT_FAILED ValueError", stdout,
                          "Keras fits under MultiWorkerMirroredStrategy without the shim "
                          "now (keras-team/keras#20585 fixed?): remove "
                          "genre_tf/training/multi_worker_fit.py")
            self.assertIn("PerReplica", stdout)
        with_shim = run_workers([("-c", _PROBE, "shim")] * 2)
        for returncode, stdout, stderr in with_shim:
            self.assertEqual(returncode, 0, stderr[-3000:])
            self.assertIn("FIT_OK", stdout, stderr[-3000:])
        self.assertEqual(with_shim[0][1], with_shim[1][1])  # the same weights on both


if __name__ == "__main__":
    tf.test.main()
