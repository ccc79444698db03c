"""Song-level train / valid / test splits: shuffle splits, K-fold, and fixed lists.

Every split here is over *songs* (indices into a list of songs), never over frames, crops
or feature rows, so no song is in two parts of a split (the tests assert it).

The study's protocol is a stratified shuffle split: 5 repeats, 20% of songs held out.
We report accuracy on that held-out part and carve the early-stopping ``valid`` part out
of the training songs (``validation_fraction``), so the reported number never chose an
epoch. ``fixed_split`` reads the published fault-filtered GTZAN lists instead.
"""

import collections
import dataclasses
import os
import posixpath

import numpy as np
from absl import logging

from genre_tf.data import discovery


# stratified_kfold's fold of a song no fold tests.
_NEVER_TESTED = -1


@dataclasses.dataclass
class Split:
    """Song indices of one train/valid/test split."""
    name: str
    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray

    def check_disjoint(self):
        """Raises ValueError if any song is in two parts."""
        for a, b in (("train", "valid"), ("train", "test"), ("valid", "test")):
            shared = np.intersect1d(getattr(self, a), getattr(self, b))
            if shared.size:
                raise ValueError(f"{self.name}: {shared.size} songs in both {a} and {b}")


def _by_class(labels, rng):
    """Shuffled song indices of each class."""
    labels = np.asarray(labels)
    return [rng.permutation(np.flatnonzero(labels == c)) for c in np.unique(labels)]


def stratified_holdout(indices, labels, fraction, rng):
    """Splits ``indices`` into (kept, held) with ``fraction`` of each class held, but
    never all of a class: a class's one song is always kept, so every held class is
    also in the kept part (shuffle splits' test and valid parts, ``final_split``'s
    valid part)."""
    labels = np.asarray(labels)
    held = []
    for members in _by_class(labels[indices], rng):
        n_held = int(round(fraction * members.size))
        if members.size > 1:
            n_held = min(max(n_held, 1), members.size - 1)
        else:
            n_held = 0
        held.extend(indices[members[:n_held]])
    held = np.sort(np.asarray(held, dtype=np.int64))
    return np.setdiff1d(indices, held), held


def _with_valid(name, train, test, labels, validation_fraction, rng):
    train, valid = stratified_holdout(train, labels, validation_fraction, rng)
    split = Split(name, train, valid, np.sort(test))
    split.check_disjoint()
    return split


def stratified_shuffle_splits(labels, n_splits=5, test_size=0.2, validation_fraction=0.1,
                              seed=0):
    """``n_splits`` independent stratified random held-out sets (the study's protocol)."""
    rng = np.random.default_rng(seed)
    everything = np.arange(len(labels))
    splits = []
    for k in range(n_splits):
        train, test = stratified_holdout(everything, labels, test_size, rng)
        splits.append(_with_valid(f"split_{k}", train, test, labels, validation_fraction,
                                  rng))
    return splits


def stratified_kfold(labels, n_folds=5, validation_fraction=0.1, seed=0):
    """Stratified K-fold: each song is tested exactly once across the folds, except the
    song of a one-song class, which every fold trains on (a fold that tested it could
    not have learnt its class)."""
    rng = np.random.default_rng(seed)
    fold_of = np.full(len(labels), _NEVER_TESTED, dtype=np.int64)
    offset = 0
    for members in _by_class(labels, rng):
        if members.size == 1:
            continue
        # Continue the round-robin across classes so fold sizes stay balanced.
        fold_of[members] = (np.arange(members.size) + offset) % n_folds
        offset += members.size
    splits = []
    for k in range(n_folds):
        test = np.flatnonzero(fold_of == k)
        train = np.flatnonzero(fold_of != k)
        splits.append(_with_valid(f"fold_{k}", train, test, labels, validation_fraction,
                                  rng))
    return splits


def read_split_list(path):
    """Song ids from one list file (``blues/blues.00012.wav`` per line): the relative
    path without its audio extension (``blues/blues.00012``; a line already without one
    keeps its ``.00012``)."""
    with open(path) as handle:
        lines = [line.strip().replace("\\", "/") for line in handle if line.strip()]
    return [os.path.splitext(line)[0] if discovery.is_audio_name(line) else line
            for line in lines]


def _stem(song):
    return posixpath.basename(song)


def song_lookup(song_ids):
    """{name: song index}: each song by its id and, where no other song shares it, by
    its stem. Lists name relative paths (``blues/blues.00012``), which are audio songs'
    ids, while a features table's ids are stems (``blues.00012``)."""
    lookup = {song: i for i, song in enumerate(song_ids)}
    if any("/" in song for song in song_ids):
        return lookup  # audio: ids are paths; a stem could match another folder's song
    by_stem = collections.defaultdict(list)
    for i, song in enumerate(song_ids):
        by_stem[_stem(song)].append(i)
    lookup.update((stem, found[0]) for stem, found in by_stem.items() if len(found) == 1)
    return lookup


def _listed_songs(path, lookup):
    """Sorted indices of the songs a list file names (by id, else by unique stem);
    listed songs missing from the data are counted in one warning."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: fixed split needs train.txt, valid.txt, "
                                "test.txt")
    listed = read_split_list(path)
    found = [lookup.get(song, lookup.get(_stem(song))) for song in listed]
    found = [i for i in found if i is not None]
    if found and len(found) < len(listed):
        logging.warning("%s: %d of %d listed songs are not in the data; using %d",
                        path, len(listed) - len(found), len(listed), len(found))
    return np.unique(np.asarray(found, dtype=np.int64))


def _warn_unlisted(song_ids, parts, split_dir):
    """Counts the data's songs that no list names in one warning: they are left out."""
    listed = np.unique(np.concatenate(list(parts.values())))
    if listed.size < len(song_ids):
        logging.warning("%s: %d of %d songs of the data are in none of train.txt, "
                        "valid.txt, test.txt; left out", split_dir,
                        len(song_ids) - listed.size, len(song_ids))


def fixed_split(song_ids, split_dir, labels=None, validation_fraction=0.1, seed=0):
    """The split given by ``train.txt``, ``valid.txt`` and ``test.txt`` in ``split_dir``.

    Listed songs are matched by relative path without extension, or by file stem where
    that is unambiguous, so the same lists serve audio and features tables. Listed songs
    missing from the data are counted and reported once (the mini GTZAN set holds only
    some of the listed songs); data songs in no list are left out, counted in one
    warning. When no valid song is in the data, early stopping uses
    ``validation_fraction`` of the training songs (stratified by ``labels``, seeded),
    with a warning. Whether the training songs cover every class is
    ``check_trains_every_class``'s question (``make_splits`` asks it).

    Raises:
      FileNotFoundError: a list file is missing.
      ValueError: the train or test list matches no song.
    """
    lookup = song_lookup(song_ids)
    parts = {}
    for part in ("train", "valid", "test"):
        path = os.path.join(split_dir, f"{part}.txt")
        parts[part] = _listed_songs(path, lookup)
        if part != "valid" and not parts[part].size:
            raise ValueError(f"{path}: none of its songs is in the data (matched by "
                             "relative path without extension, or by file name)")
    _warn_unlisted(song_ids, parts, split_dir)
    if not parts["valid"].size:
        logging.warning("%s: none of its songs is in the data; early stopping uses "
                        "%.0f%% of the training songs instead",
                        os.path.join(split_dir, "valid.txt"), 100 * validation_fraction)
        labels = np.zeros(len(song_ids), np.int64) if labels is None else labels
        parts["train"], parts["valid"] = stratified_holdout(
            parts["train"], labels, validation_fraction, np.random.default_rng(seed))
    split = Split("fixed", parts["train"], parts["valid"], parts["test"])
    split.check_disjoint()
    return split


def check_trains_every_class(split, labels, split_dir, class_names=None):
    """Raises ValueError, naming the lists and the classes, when the training songs of a
    fixed split miss a class whose songs are validated or tested: the head could never
    answer it, and every test song of it would count as wrong (the published
    full-GTZAN lists on a subset of GTZAN train on no blues at all). A class in no list
    at all is only warned about.

    The message names the classes (``class_names[label]``; ``label k`` without them)
    and says where their songs are (``valid.txt``, ``test.txt``, in no list), so the
    lists can be fixed."""
    labels = np.asarray(labels)
    missing = np.setdiff1d(np.unique(labels), labels[split.train])
    names = {int(label): (class_names[label] if class_names is not None
                          else f"label {label}") for label in np.unique(labels)}
    # A class no list names at all (an extra genre folder) is never trained or scored:
    # a warning, as for the other songs in no list.
    unlisted = np.setdiff1d(missing, labels[np.concatenate([split.valid, split.test])])
    if unlisted.size:
        logging.warning("%s: no list names a song of %s; never trained or tested",
                        split_dir, ", ".join(names[int(label)] for label in unlisted))
    missing = np.setdiff1d(missing, unlisted)
    if not missing.size:
        return
    songs = np.flatnonzero(np.isin(labels, missing))
    held = {f"{part}.txt": int(np.isin(songs, getattr(split, part)).sum())
            for part in ("valid", "test")}
    held["no list"] = songs.size - sum(held.values())
    where = ", ".join(f"{count} in {place}" for place, count in held.items() if count)
    raise ValueError(
        f"--split=fixed: the training songs of {os.path.join(split_dir, 'train.txt')} "
        f"miss {missing.size} of {np.unique(labels).size} classes: "
        f"{', '.join(names[int(label)] for label in missing)} (their {songs.size} songs: "
        f"{where}); a head cannot learn "
        "a class it never trains on: use lists that train every class, or "
        "--split=shuffle")


def final_split(labels, validation_fraction=0.1, seed=0):
    """The final model's split: every song for training, less a stratified part for
    early stopping; no test songs."""
    everything = np.arange(len(labels))
    train, valid = stratified_holdout(everything, labels, validation_fraction,
                                      np.random.default_rng(seed))
    return Split("final", train, valid, np.asarray([], dtype=np.int64))


def _fixed(config, song_ids, labels, seed, class_names):
    if not config.split_dir:
        raise ValueError("--split=fixed needs --split_dir with train/valid/test.txt")
    split = fixed_split(song_ids, config.split_dir, labels, config.validation_fraction,
                        seed)
    check_trains_every_class(split, labels, config.split_dir, class_names)
    return [split]


SPLITTERS = {
    "shuffle": lambda c, ids, labels, seed, names: stratified_shuffle_splits(
        labels, c.folds, c.test_size, c.validation_fraction, seed),
    "kfold": lambda c, ids, labels, seed, names: stratified_kfold(
        labels, c.folds, c.validation_fraction, seed),
    "fixed": _fixed,
}


def warn_single_song_classes(song_ids, labels):
    """Warns about each class that has one song: random splits keep that song in
    training (a split that tested it could not have learnt the class), so the class is
    learnt but never tested."""
    classes, counts = np.unique(np.asarray(labels), return_counts=True)
    for label in classes[counts == 1]:
        song = song_ids[int(np.flatnonzero(np.asarray(labels) == label)[0])]
        logging.warning("%s is the only song of its class (label %d): it is in training in "
                        "every split and the class is never tested; add songs to test it",
                        song, label)


def make_splits(config, song_ids, labels, seed=0, class_names=None):
    """The splits a ``SplitConfig`` names (``kind`` in ``SPLITTERS``); ``class_names``
    (by label) name classes in messages."""
    if config.kind not in SPLITTERS:
        raise ValueError(f"unknown split kind {config.kind!r}; use "
                         f"{', '.join(SPLITTERS)}")
    if config.kind != "fixed":
        warn_single_song_classes(song_ids, labels)
    made = SPLITTERS[config.kind](config, song_ids, labels, seed, class_names)
    for split in made:
        if not len(split.test):
            # Scoring it would fail deep in evaluation; say why here, before training.
            raise ValueError(
                f"{split.name} has no test songs: {len(song_ids)} songs in "
                f"{len(np.unique(labels))} classes are too few for --split={config.kind}"
                " (a class needs 2+ songs to be tested; kfold needs at least --folds "
                "songs that can be tested)")
    return made
