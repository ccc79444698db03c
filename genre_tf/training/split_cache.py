"""Reuse of finished and interrupted splits, so a rerun or a killed run loses nothing.

A split's folder holds ``started.json`` (its songs and settings, written before
training) and, when done, ``result.json``. A rerun reuses a result only if songs and
settings match, and lets ``BackupAndRestore`` resume an interrupted split only from a
backup started with the same songs and settings; anything else in the folder belongs to
another run and is cleared.
"""

import os
import shutil

from absl import logging

from genre_tf.evaluation import report

RESULT_FILE = "result.json"
STARTED_FILE = "started.json"


class SplitCache:
    """The folder of one split and what a rerun may reuse from it."""

    def __init__(self, work_dir, identity):
        """``identity``: JSON-comparable songs and settings of the split."""
        self.work_dir = work_dir
        self.identity = identity
        self.result_path = os.path.join(work_dir, RESULT_FILE)
        self.started_path = os.path.join(work_dir, STARTED_FILE)

    def finished_result(self):
        """The earlier result of this very split, or None."""
        if not os.path.isfile(self.result_path):
            return None
        previous = report.read_json(self.result_path)
        if previous.get("identity") == self.identity:
            return previous
        logging.warning("%s holds another split or other settings; training again",
                        self.result_path)
        return None

    def start(self):
        """Clears a folder left by another run; records that this split started."""
        if os.path.isdir(self.work_dir) and not (
                os.path.isfile(self.started_path)
                and report.read_json(self.started_path) == self.identity):
            shutil.rmtree(self.work_dir)
        report.write_json(self.started_path, self.identity)

    def finish(self, result):
        result = {**result, "identity": self.identity}
        report.write_json(self.result_path, result)
        return result
