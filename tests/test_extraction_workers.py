"""Extraction spread over worker processes (``--num_shards``/``--shard_index``): the
union of the workers' stores equals one worker's, a rerun skips finished work, and a
training run finds every shard without extracting anything again."""

import os
import subprocess
import sys

import pytest
import tensorflow as tf

from genre_tf.data import feature_store
from tests import fixtures

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_FLAGS = ("--flagfile=mlp.flags", "--window_sizes=512,1024", "--epochs=3", "--patience=0",
          "--folds=2", "--log_every_epochs=0", "--final_fit=false",
          "--train_excerpts_per_song=2")


def _start(*args):
    return subprocess.Popen([sys.executable, os.path.join(_ROOT, "train.py"), *_FLAGS,
                             *args], cwd=_ROOT, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def _finish(process):
    out, err = process.communicate(timeout=600)
    if process.returncode:
        raise AssertionError(err[-4000:])
    return out, err


def _stores(cache):
    """{store name: {key: rows}} of every store under ``cache``."""
    root = os.path.join(cache, "features", f"v{feature_store.FORMAT}")
    found = {}
    for name in sorted(os.listdir(root)):
        store = feature_store.FeatureStore(os.path.join(root, name))
        rows = {}
        for path in store.shard_paths(list(store.entries())):
            for record in tf.data.TFRecordDataset(path):
                key, values, _ = feature_store.parse_record(record, store.row_shape)
                rows[key.numpy().decode()] = values.numpy()
        found[name] = rows
    return found


@pytest.mark.slow
class ExtractionWorkersTest(tf.test.TestCase):

    def test_two_workers_extract_what_one_does_and_training_finds_it(self):
        work = self.get_temp_dir()
        data = fixtures.write_tone_genres(os.path.join(work, "data"), per_genre=4)
        shared, alone = os.path.join(work, "shared"), os.path.join(work, "alone")
        workers = [_start(f"--data_dir={data}", f"--cache_dir={shared}", "--num_shards=2",
                          f"--shard_index={i}", f"--output_dir={work}/worker_{i}")
                   for i in range(2)]
        one = _start(f"--data_dir={data}", f"--cache_dir={alone}",
                     f"--output_dir={work}/run_alone")
        outputs = [_finish(w) for w in workers]
        _finish(one)
        for i, (out, err) in enumerate(outputs):
            self.assertIn(f"extracted slice {i} of 2", out)
            self.assertNotIn("split_0", err)  # workers do not train
            self.assertFalse(os.path.exists(f"{work}/worker_{i}"))  # nor write a run
        split, whole = _stores(shared), _stores(alone)
        self.assertEqual(sorted(split), sorted(whole))  # songs and training excerpts
        for name in whole:
            self.assertLen(whole[name], 12)
            self.assertEqual(sorted(split[name]), sorted(whole[name]))
            for key, rows in whole[name].items():
                self.assertAllClose(split[name][key], rows, rtol=1e-5, atol=1e-5)
        # Each worker wrote its own shards: the union came from both.
        shards = [f for f in os.listdir(os.path.join(
            shared, "features", f"v{feature_store.FORMAT}", sorted(split)[0]))
                  if f.endswith(".tfrecord")]
        self.assertLen(shards, 2)

        _, rerun = _finish(_start(f"--data_dir={data}", f"--cache_dir={shared}",
                                  "--num_shards=2", "--shard_index=0"))
        self.assertNotIn("Computing", rerun)  # finished work is skipped
        out, err = _finish(_start(f"--data_dir={data}", f"--cache_dir={shared}",
                                  f"--output_dir={work}/run_shared"))
        self.assertNotIn("Computing", err)  # training found every shard
        self.assertIn("song-level accuracy", out)


if __name__ == "__main__":
    tf.test.main()
