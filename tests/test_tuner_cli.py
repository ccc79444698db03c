"""tuner.py in KerasTuner's distributed mode, on loopback: a chief and two workers.

The workers start first and wait for the chief's port (``tuning_cluster``); the chief
starts once both wait, so both ask for their first trial within a poll of each other
and each runs trials (deterministic: a trial takes seconds, six trials are handed out).
Every process has a deadline and is killed at the end of the test.
"""

import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import pytest
import tensorflow as tf

from tests import fixtures

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Everything (start-up, features, six trials, the chief's exit) within this.
DEADLINE_SECONDS = 480
WORKERS = ("tuner0", "tuner1")
TRIALS = 6


def _has_grpc():
    try:
        import grpc  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
    except ImportError:
        return False
    return True


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _read(path):
    with open(path, errors="replace") as handle:
        return handle.read()


@pytest.mark.slow
@pytest.mark.skipif(not _has_grpc(), reason="KerasTuner's distributed mode needs grpcio")
class DistributedTuningTest(tf.test.TestCase):

    def setUp(self):
        super().setUp()
        self.work = tempfile.mkdtemp(prefix="genre_tf_tuner_cli_")
        self.addCleanup(shutil.rmtree, self.work, ignore_errors=True)
        self.data = fixtures.write_tone_genres(os.path.join(self.work, "data"))
        self.output = os.path.join(self.work, "tuning")
        self.port = _free_port()
        self.deadline = time.monotonic() + DEADLINE_SECONDS
        self.processes = {}

    def _start(self, tuner_id):
        env = dict(os.environ, KERASTUNER_TUNER_ID=tuner_id,
                   KERASTUNER_ORACLE_IP="127.0.0.1", KERASTUNER_ORACLE_PORT=str(self.port))
        log = open(os.path.join(self.work, f"{tuner_id}.log"), "w")
        self.addCleanup(log.close)
        process = subprocess.Popen(
            [sys.executable, os.path.join(ROOT, "tuner.py"), "--flagfile=mlp.flags",
             "--window_sizes=512,1024", "--excerpt_seconds=0", f"--data_dir={self.data}",
             f"--cache_dir={os.path.join(self.work, 'cache')}",
             f"--output_dir={self.output}", f"--max_trials={TRIALS}", "--inner_folds=2",
             "--epochs=5", "--patience=0", "--folds=3", "--log_every_epochs=0"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.addCleanup(process.kill)  # a no-op once it has exited
        self.processes[tuner_id] = (process, log.name)
        return process

    def _wait_for_line(self, tuner_id, text):
        process, log = self.processes[tuner_id]
        while text not in _read(log):
            if process.poll() is not None:
                self.fail(f"{tuner_id} exited ({process.returncode}):\n{_read(log)}")
            if time.monotonic() > self.deadline:
                self.fail(f"{tuner_id}: no '{text}' in time:\n{_read(log)}")
            time.sleep(0.5)

    def _finish(self, tuner_id):
        process, log = self.processes[tuner_id]
        try:
            process.wait(timeout=max(1.0, self.deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.fail(f"{tuner_id} still running at the deadline:\n{_read(log)}")
        self.assertEqual(process.returncode, 0, f"{tuner_id}:\n{_read(log)}")
        return _read(log)

    def test_chief_and_two_workers_share_one_search(self):
        for worker in WORKERS:
            self._start(worker)
        for worker in WORKERS:
            self._wait_for_line(worker, "waiting for the chief's oracle")
        self._start("chief")
        chief = self._finish("chief")
        workers = {worker: self._finish(worker) for worker in WORKERS}

        project = os.path.join(self.output, "search")
        trials = [json.loads(_read(path))
                  for path in glob.glob(os.path.join(project, "trial_*", "trial.json"))]
        self.assertLen(trials, TRIALS)
        self.assertEqual({t["status"] for t in trials}, {"COMPLETED"})
        scores = [json.loads(_read(path)) for path in
                  glob.glob(os.path.join(project, "trial_*", "scores.json"))]
        self.assertLen(scores, TRIALS)
        self.assertEqual({s["tuner_id"] for s in scores}, set(WORKERS))
        for worker, log in workers.items():
            self.assertIn(f"({worker}): ", log)  # its trial lines
            self.assertIn("the chief writes best.flags", log)
        self.assertIn("best hyperparameters", chief)

        top = max(s["score"] for s in scores)
        with open(os.path.join(self.output, "best.flags")) as handle:
            lines = [line.strip() for line in handle if line.startswith("--")]
        self.assertEqual(lines[0], "--run_name=mlp_tuned")
        self.assertIn(dict(line[2:].split("=", 1) for line in lines[1:]),
                      [{k: str(v) for k, v in s["values"].items()}
                       for s in scores if s["score"] == top])
        self.assertIn("--inner_folds=2", _read(os.path.join(self.output, "flags.txt")))


if __name__ == "__main__":
    tf.test.main()
