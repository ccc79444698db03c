"""Published feature tables: rows of features grouped by song.

GTZAN's ``features_30_sec.csv`` has one row per song; ``features_3_sec.csv`` has ten
3-second rows per song, which stay grouped (``genre_tf.data.examples.RowExamples``
turns a table into the examples a head trains on).
"""

import csv
import dataclasses
import os
import re

import numpy as np


# features_3_sec.csv names segments "blues.00000.3.wav": song "blues.00000", segment 3.
_SEGMENT_NAME = re.compile(r"^(?P<song>.+\.\d+)\.\d+$")
_NON_FEATURE_COLUMNS = ("filename", "length", "label")


@dataclasses.dataclass
class FeatureTable:
    """Feature rows and the songs they belong to.

    Attributes:
      features: float32 ``[rows, n_features]``.
      row_song: int ``[rows]``, each row's index into ``song_ids``.
      song_ids: one id per song (splits are made over these).
      song_labels: int ``[songs]`` class index of each song.
      class_names: the label of each class index.
      feature_names: ``n_features`` column names.
    """
    features: np.ndarray
    row_song: np.ndarray
    song_ids: list
    song_labels: np.ndarray
    class_names: list
    feature_names: list

    def rows_of(self, songs):
        """Row indices of the given song indices."""
        return np.flatnonzero(np.isin(self.row_song, songs))


def _song_of(filename):
    stem = os.path.splitext(os.path.basename(filename))[0]
    match = _SEGMENT_NAME.match(stem)
    return match.group("song") if match else stem


def table_from_csv(path):
    """Reads a features table with columns ``filename,[length,]<features...>,label``.

    Rows whose file names differ only by a segment number belong to one song.

    Raises:
      ValueError: missing columns, non-numeric feature values, or a song with two labels.
    """
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or not {"filename", "label"} <= set(rows[0]):
        raise ValueError(f"{path}: needs a header with columns filename,...,label")
    feature_names = [c for c in rows[0] if c not in _NON_FEATURE_COLUMNS]
    class_names = sorted({row["label"] for row in rows})
    song_ids, song_labels, row_song, features = [], [], [], []
    song_position = {}
    for line, row in enumerate(rows, start=2):
        song = _song_of(row["filename"])
        label = class_names.index(row["label"])
        if song not in song_position:
            song_position[song] = len(song_ids)
            song_ids.append(song)
            song_labels.append(label)
        elif song_labels[song_position[song]] != label:
            raise ValueError(f"{path}:{line}: song {song} has two labels")
        try:
            features.append([float(row[c]) for c in feature_names])
        except ValueError as error:
            raise ValueError(f"{path}:{line}: {error}") from None
        row_song.append(song_position[song])
    return FeatureTable(np.asarray(features, np.float32), np.asarray(row_song),
                        song_ids, np.asarray(song_labels), class_names, feature_names)
