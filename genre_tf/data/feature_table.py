"""Feature tables: rows of features grouped by song, for systems 1 and 3.

A table comes either from audio (``table_from_audio``: decode every clip and run an
``Extractor`` over it in one parallel tf.data pass, caching each clip's rows on disk by
file content: one statistics vector per clip for system 1, one pretrained embedding per
frame for system 3) or from a published features CSV (``table_from_csv``: GTZAN's ``features_30_sec.csv`` has one row
per song; ``features_3_sec.csv`` has ten 3-second rows per song, which stay grouped).
"""

import csv
import dataclasses
import hashlib
import json
import os
import re

import keras
import numpy as np
import tensorflow as tf
from absl import logging

from genre_tf.data import pipeline
from genre_tf.features import statistics

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


def file_digest(path):
    """SHA-1 of a file's bytes: the cache key, so renamed or moved files still hit."""
    digest = hashlib.sha1()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclasses.dataclass(frozen=True)
class Extractor:
    """Turns one decoded clip into feature rows; shared by systems 1 and 3.

    Attributes:
      key: identifies the rows for the cache (settings or backbone and layer).
      sample_rate: rate clips are decoded at.
      min_samples: shorter clips are padded or skipped.
      make_function: returns a ``tf.function`` from a float32 waveform ``[samples]`` to
        ``[rows, dim]``; called only when some clip is not cached, so a cached rerun
        never loads a backbone.
      names: ``dim`` column names, or None for ``<prefix>_<k>``.
      prefix: column name prefix when ``names`` is None.
    """
    key: str
    sample_rate: int
    min_samples: int
    make_function: object
    names: tuple = None
    prefix: str = "embedding"


def statistics_extractor(config):
    """One row per clip: ``statistics.compute_feature_vector`` (system 1)."""
    text = json.dumps(dataclasses.asdict(config), sort_keys=True)
    vector_fn = statistics.feature_vector_function(config)
    return Extractor("statistics-" + hashlib.sha1(text.encode()).hexdigest()[:12],
                     config.sample_rate, config.min_samples,
                     lambda: lambda waveform: vector_fn(waveform)[tf.newaxis],
                     tuple(statistics.feature_names(config)))


def backbone_extractor(key, sample_rate, min_samples, load_backbone, prefix="embedding"):
    """One row per backbone frame: a pretrained embedding (system 3).

    Args:
      key: identifies backbone, handle, layer and framing without loading anything.
      sample_rate, min_samples: the backbone's input rate and shortest input.
      load_backbone: returns the backbone layer (called only for uncached clips).
      prefix: column name prefix.
    """
    def make_function():
        return tf.function(load_backbone().__call__,
                           input_signature=[tf.TensorSpec([None], tf.float32)])
    return Extractor("embedding-" + hashlib.sha1(key.encode()).hexdigest()[:12],
                     sample_rate, min_samples, make_function, None, prefix)


def table_from_audio(index, extractor, cache_dir=None, short_clips="pad", report=None):
    """Feature rows of every clip of a ``ClipIndex``, grouped by song.

    Clips already in ``cache_dir`` (same bytes, same ``extractor.key``) are loaded; the
    rest are decoded and run through the extractor in one parallel tf.data pass, with a
    progress bar, and cached. Files that cannot be decoded are skipped and recorded in
    ``report``.

    Raises:
      ValueError: no clip decodes, or a class has no clips left.
    """
    report = report if report is not None else pipeline.DecodeReport()
    cache = os.path.join(cache_dir, "features", extractor.key) if cache_dir else None
    if cache:
        os.makedirs(cache, exist_ok=True)
    digests = [file_digest(c.path) if cache and os.path.isfile(c.path) else None
               for c in index.clips]
    rows = {}
    for i, digest in enumerate(digests):
        cached = digest and os.path.join(cache, digest + ".npy")
        if cached and os.path.isfile(cached):
            rows[i] = np.load(cached)
    todo = [i for i in range(len(index.clips)) if i not in rows]
    if todo:
        logging.info("Computing %s of %d clips (%d cached)", extractor.key, len(todo),
                     len(rows))
        dataset = pipeline.waveform_dataset(
            [index.clips[i].path for i in todo], extractor.sample_rate,
            extractor.min_samples, short_clips, report)
        function = extractor.make_function()
        dataset = dataset.map(lambda waveform, k: (function(waveform), k),
                              num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
        progress = keras.utils.Progbar(len(todo), unit_name="clip")
        for clip_rows, k in dataset.as_numpy_iterator():
            i = todo[k]
            rows[i] = clip_rows
            if digests[i]:
                np.save(os.path.join(cache, digests[i] + ".npy"), clip_rows)
            progress.add(1)
        progress.update(len(todo), finalize=True)
    logging.info("Features: %s", report.summary(len(index.clips)))
    kept = sorted(rows)
    if not kept:
        raise ValueError(f"no clip under {index.root} could be decoded: "
                         f"{len(report.skipped)} skipped")
    index.subset(kept).check_every_class_has_clips("decoded clips")
    labels = np.asarray([index.clips[i].label for i in kept], dtype=np.int64)
    return FeatureTable(
        features=np.concatenate([rows[i] for i in kept]).astype(np.float32),
        row_song=np.repeat(np.arange(len(kept)), [len(rows[i]) for i in kept]),
        song_ids=[index.clips[i].song_id for i in kept],
        song_labels=labels,
        class_names=list(index.class_names),
        feature_names=list(extractor.names) if extractor.names else [
            f"{extractor.prefix}_{k}" for k in range(rows[kept[0]].shape[1])])


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
