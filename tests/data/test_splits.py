"""Splits: a one-song class is trained on in every split and never tested."""

import numpy as np
import tensorflow as tf

from genre_tf import config
from genre_tf.data import splits


class SingleSongClassTest(tf.test.TestCase):
    # Classes 0-3 have five songs each; class 4 has one (song 20).
    labels = np.concatenate([np.repeat(np.arange(4), 5), [4]])
    song_ids = [f"g{label}/song{i}" for i, label in enumerate(labels)]

    def _assert_trainable(self, split_list):
        for split in split_list:
            split.check_disjoint()
            self.assertIn(20, split.train, split.name)
            tested = set(self.labels[split.test])
            self.assertContainsSubset(tested, set(self.labels[split.train]), split.name)

    def test_kfold_trains_on_the_song_in_every_fold(self):
        folds = splits.stratified_kfold(self.labels, 5, 0.1, seed=0)
        self._assert_trainable(folds)
        tested = np.sort(np.concatenate([f.test for f in folds]))
        self.assertAllEqual(tested, np.arange(20))  # every other song tested once

    def test_shuffle_and_final_splits_train_on_the_song(self):
        self._assert_trainable(splits.stratified_shuffle_splits(self.labels, 5, 0.4, 0.3,
                                                                seed=1))
        final = splits.final_split(self.labels, 0.5, seed=2)
        self.assertIn(20, final.train)
        self.assertNotIn(20, final.valid)

    def test_make_splits_warns_naming_the_song(self):
        for kind in ("shuffle", "kfold"):
            with self.assertLogs(level="WARNING") as logs:
                result = splits.make_splits(config.SplitConfig(kind=kind), self.song_ids,
                                            self.labels)
            self.assertIn("g4/song20 is the only song of its class", "\n".join(logs.output))
            self._assert_trainable(result)


if __name__ == "__main__":
    tf.test.main()
