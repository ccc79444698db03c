"""Published feature tables: rows of features grouped by song.

GTZAN's ``features_30_sec.csv`` has one row per song; ``features_3_sec.csv`` has ten
3-second rows per song, which stay grouped (``genre_tf.data.examples.RowExamples``
turns a table into the examples a head trains on).
"""

import dataclasses
import os
import re

import numpy as np
from absl import logging

from genre_tf.data import csv_rows


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
      skipped: ``{"<path>:<line>": reason}`` of the rows left out (non-finite values,
        empty labels), so a run reports them with the files it could not decode.
    """
    features: np.ndarray
    row_song: np.ndarray
    song_ids: list
    song_labels: np.ndarray
    class_names: list
    feature_names: list
    skipped: dict = dataclasses.field(default_factory=dict)

    def rows_of(self, songs):
        """Row indices of the given song indices."""
        return np.flatnonzero(np.isin(self.row_song, songs))


def _song_of(filename):
    stem = os.path.splitext(os.path.basename(filename))[0]
    match = _SEGMENT_NAME.match(stem)
    return match.group("song") if match else stem


def table_from_csv(path):
    """Reads a features table with columns ``filename,[length,]<features...>,label``.

    Rows whose file names differ only by a segment number belong to one song. A row with
    a missing or non-finite value (one NaN row turns every weight into NaN), or without
    a label or file name, cannot be trained on: it is left out and named in ``skipped``,
    and a song left without rows is left out with it.

    Raises:
      ValueError: missing columns or rows, a cell that is not a number, a song with two
        labels, or a class left without usable rows.
    """
    rows = csv_rows.read_rows(path, ("filename", "label"), "a features table",
                              "filename,...,label")
    feature_names = [c for c in rows[0][1] if c not in _NON_FEATURE_COLUMNS]
    kept, skipped = [], {}
    for line, row in rows:
        where = f"{path}:{line}"
        values, reason = _parse_row(row, feature_names, where)
        if reason:
            skipped[where] = reason
        else:
            kept.append((line, row, values))
    if skipped:
        logging.warning("%s: %d of %d rows skipped (missing or non-finite values, empty "
                        "file names or labels)", path, len(skipped), len(rows))
    _check_classes_kept(path, rows, kept)
    table = _group_by_song(path, kept, feature_names)
    table.skipped = skipped
    return table


def _parse_row(row, feature_names, where):
    """A row's features (float32) and None, or None and why the row cannot be used.

    Raises:
      ValueError: a cell that is not a number: a broken table, not one bad measurement.
    """
    for column in ("filename", "label"):
        if not csv_rows.cell(row, column):
            return None, f"empty {column}"
    cells = [csv_rows.cell(row, name) for name in feature_names]
    values = np.empty(len(cells))
    for k, (name, text) in enumerate(zip(feature_names, cells)):
        try:
            values[k] = float(text) if text else np.nan
        except ValueError:
            raise ValueError(f"{where}: column {name}: {text!r} is not a number") from None
    with np.errstate(over="ignore"):  # beyond float32's range is non-finite too
        values = values.astype(np.float32)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        problem = "non-finite value" if cells[bad[0]] else "missing value"
        return None, f"{problem} in column {feature_names[bad[0]]}"
    return values, None


def _check_classes_kept(path, rows, kept):
    """Raises ValueError naming each class all of whose rows were skipped: training on
    the others would quietly drop a genre the table holds."""
    lost = ({csv_rows.cell(row, "label") for _, row in rows} - {""}
            - {csv_rows.cell(row, "label") for _, row, _ in kept})
    if not kept:
        raise ValueError(f"{path}: no usable rows: every row has a missing or non-finite "
                         "value or no label")
    if lost:
        raise ValueError(f"{path}: classes with no usable rows: {', '.join(sorted(lost))}; "
                         "fix their missing or non-finite values")


def _group_by_song(path, kept, feature_names):
    """The table of the usable rows, grouped by song.

    Raises:
      ValueError: a song with two labels.
    """
    class_names = sorted({csv_rows.cell(row, "label") for _, row, _ in kept})
    song_ids, song_labels, row_song = [], [], []
    song_position = {}
    for line, row, _ in kept:
        song = _song_of(row["filename"])
        label = class_names.index(csv_rows.cell(row, "label"))
        if song not in song_position:
            song_position[song] = len(song_ids)
            song_ids.append(song)
            song_labels.append(label)
        elif song_labels[song_position[song]] != label:
            raise ValueError(f"{path}:{line}: song {song} has two labels")
        row_song.append(song_position[song])
    features = np.stack([values for _, _, values in kept])
    return FeatureTable(features, np.asarray(row_song), song_ids, np.asarray(song_labels),
                        class_names, feature_names)
