"""Examples of front ends whose rows are a pure function of the audio (feature vectors,
backbone embeddings): extracted once per clip into a ``feature_store`` and streamed from
it by every split, trial and epoch.

Memory does not grow with the corpus: a split's dataset interleaves the shards that
hold its songs, keeps the rows of those songs (a lookup by entry key, which also maps
one stored clip to every song with that content), and shuffles in a bounded buffer.
When a split's rows fit in ``memory_budget_bytes`` they are cached in memory after the
first pass instead, and shuffled whole, as small corpora (GTZAN) train fastest that way.

Extraction can be spread over workers: ``ExtractionSlice(num_shards, shard_index)``
makes a worker extract only the clips whose content digest falls in its slice; every
worker writes its own shards into the shared store, finished work is skipped on a rerun,
and a training run finds every shard (and extracts whatever is still missing itself).
"""

import atexit
import dataclasses
import hashlib
import os
import shutil
import tempfile

import keras
import numpy as np
import tensorflow as tf
from absl import logging

from genre_tf.data import examples, feature_store, file_digests, pipeline
from genre_tf.frontends import base

SONG, TRAIN_EXCERPT, EVAL_EXCERPT = examples.SONG, examples.TRAIN_EXCERPT, examples.EVAL_EXCERPT
SEGMENT_NAMES = {SONG: "song", TRAIN_EXCERPT: "train_excerpt", EVAL_EXCERPT: "eval_excerpt"}
# Rows held by the training shuffle buffer when a split streams from disk.
SHUFFLE_ROWS = 20000
# Shards read at once when streaming.
_CYCLE_LENGTH = 4


@dataclasses.dataclass(frozen=True)
class ExtractionSlice:
    """The clips one extraction worker owns: those whose entry key, read as a number,
    is ``shard_index`` modulo ``num_shards`` (stable as the corpus grows)."""
    num_shards: int = 1
    shard_index: int = 0

    def __post_init__(self):
        if self.num_shards < 1 or not 0 <= self.shard_index < self.num_shards:
            raise ValueError(f"--shard_index must be in [0, --num_shards={self.num_shards})"
                             f", got {self.shard_index}")

    def owns(self, key):
        return key is None or int(key[:12], 16) % self.num_shards == self.shard_index


def _entry_key(digest, song_id, plan):
    """A clip's key in a store: its content, and for excerpts also its song id, since
    the excerpts drawn depend on the id (GTZAN holds byte-identical files under two
    names). None for a path that is not a file (it is skipped with its reason)."""
    if digest and plan:
        return hashlib.sha1(f"{digest}|{song_id}".encode()).hexdigest()
    return digest


def _non_finite_reason(rows, segment):
    bad = int(np.sum(~np.all(np.isfinite(rows.reshape(len(rows), -1)), axis=1)))
    return f"non-finite features in {bad} of {len(rows)} {SEGMENT_NAMES[segment]} rows"


class _Extraction:
    """One run's extraction: the clips, their keys per segment kind, and the stores."""

    def __init__(self, index, frontend, config, report, store_root, extraction_slice):
        self.index = index
        self.frontend = frontend
        self.config = config
        self.report = report
        self.store_root = store_root
        self.slice = extraction_slice
        files = {i: clip.path for i, clip in enumerate(index.clips)
                 if os.path.isfile(clip.path)}
        digests = file_digests.file_digests(list(files.values()), config.cache_dir)
        self.file_digests = {i: digests[path] for i, path in files.items()}

    def store(self, segment):
        plan = self.config.plan(segment)
        name = f"{self.frontend.key}-{self.config.short_clips}" + (
            f"-{plan.key()}" if plan else "")
        return feature_store.FeatureStore(os.path.join(self.store_root, name))

    def keys(self, segment):
        plan = self.config.plan(segment)
        return {i: _entry_key(self.file_digests.get(i), self.index.clips[i].song_id, plan)
                for i in range(len(self.index.clips))}

    def run(self, segment, positions):
        """{position: Entry} of one segment kind for the clips at ``positions``: found
        in the store, or computed in one parallel tf.data pass and stored. Clips outside
        this worker's slice and not in the store are left out."""
        store, keys, plan = self.store(segment), self.keys(segment), self.config.plan(segment)
        stored = store.entries()
        found = {i: stored[keys[i]] for i in positions if keys[i] in stored}
        if segment == SONG:
            for i, entry in found.items():
                pipeline.note_length(self.report, self.index.clips[i].path,
                                     entry.n_samples, self.frontend.min_samples,
                                     self.config.short_clips)
        todo = [i for i in positions if i not in found and self.slice.owns(keys[i])]
        if todo:
            logging.info("Computing %s (%s) of %d clips (%d stored)", self.frontend.key,
                         SEGMENT_NAMES[segment], len(todo), len(found))
            found.update(self._compute(segment, todo, store, keys, plan))
        return store, keys, found

    def _compute(self, segment, todo, store, keys, plan):
        self.frontend.load()
        frontend, policy = self.frontend, self.config.short_clips
        fractions = tf.constant(np.stack([
            plan.fractions(self.index.clips[i].song_id) if plan
            else np.zeros((0, 2), np.float32) for i in todo]))
        waves = pipeline.waveform_dataset(
            [self.index.clips[i].path for i in todo], frontend.sample_rate,
            frontend.min_samples, policy,
            # Decoding problems are reported once, by the songs' pass.
            self.report if segment == SONG else pipeline.DecodeReport())

        def clip_rows(waveform, k):
            if plan:
                rows, counts = examples.excerpt_examples(frontend, waveform, fractions[k],
                                                         plan, policy)
            else:
                rows = base.filled_examples(frontend, waveform, policy)
                counts = tf.shape(rows)[:1]
            return rows, counts, tf.shape(waveform)[0], k

        found = {}
        progress = keras.utils.Progbar(len(todo), unit_name="clip")
        with store.writer() as writer:
            for rows, counts, n_samples, k in waves.map(
                    clip_rows, num_parallel_calls=tf.data.AUTOTUNE).prefetch(
                        tf.data.AUTOTUNE).as_numpy_iterator():
                i = todo[k]
                progress.add(1)
                if not np.all(np.isfinite(rows)):  # Never trained on, never stored.
                    self.report.skip(self.index.clips[i].path,
                                     _non_finite_reason(rows, segment))
                    continue
                if keys[i] is not None:
                    writer.add(keys[i], rows, counts, int(n_samples))
                found[i] = feature_store.Entry(None, [int(c) for c in counts],
                                               int(n_samples))
        progress.update(len(todo), finalize=True)
        return found


def _store_root(config):
    """``<cache_dir>/features``, or a folder removed when the process ends."""
    if config.cache_dir:
        return os.path.join(config.cache_dir, "features")
    folder = tempfile.mkdtemp(prefix="genre_tf_rows_")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def extract(index, frontend, config, report=None, extraction_slice=ExtractionSlice()):
    """Extracts every segment kind of every clip into the store.

    Returns:
      ``StoredExamples`` of the usable clips; None for a worker of several
      (``extraction_slice.num_shards > 1``), which extracts its slice only.

    Raises:
      ValueError: no clip can be used, or a class has no clips left.
    """
    report = report if report is not None else pipeline.DecodeReport()
    if extraction_slice.num_shards > 1 and not config.cache_dir:
        raise ValueError("--num_shards needs --cache_dir: the store the workers share")
    extraction = _Extraction(index, frontend, config, report, _store_root(config),
                             extraction_slice)
    parts = {SONG: extraction.run(SONG, range(len(index.clips)))}
    for segment in (TRAIN_EXCERPT, EVAL_EXCERPT):
        if config.plan(segment).count:
            parts[segment] = extraction.run(segment, sorted(parts[SONG][2]))
    if extraction_slice.num_shards > 1:
        logging.info("Extracted slice %d of %d: %s", extraction_slice.shard_index,
                     extraction_slice.num_shards, report.summary(len(index.clips)))
        return None
    kept = [i for i in sorted(parts[SONG][2])
            if all(i in found for _, _, found in parts.values())]
    logging.info("Examples: %s", report.summary(len(index.clips)))
    if not kept:
        raise ValueError(f"no clip under {index.root} could be used: "
                         f"{len(report.skipped)} skipped")
    index.subset(kept).check_every_class_has_clips("decoded clips")
    return StoredExamples(
        {segment: _StoredSegment(store, [keys[i] for i in kept],
                                 [found[i].counts for i in kept])
         for segment, (store, keys, found) in parts.items()},
        [index.clips[i].song_id for i in kept], [index.clips[i].label for i in kept],
        index.class_names, frontend, report, config.eval_excerpts.count,
        config.memory_budget_mb << 20)


@dataclasses.dataclass
class _StoredSegment:
    """One segment kind of the kept songs: its store, each song's key and row counts."""
    store: feature_store.FeatureStore
    keys: list
    counts: list

    def n_rows(self, songs):
        return sum(int(sum(self.counts[s])) for s in songs)


class StoredExamples(examples.ExampleSet):
    """Examples streamed from a feature store (see the module docstring)."""

    def __init__(self, segments, song_ids, song_labels, class_names, frontend, report,
                 excerpts_per_song=0, memory_budget_bytes=1 << 30):
        self.segments = segments
        self.song_ids = list(song_ids)
        self.song_labels = np.asarray(song_labels, np.int64)
        self.class_names = list(class_names)
        self.frontend = frontend
        self.report = report
        self.excerpts_per_song = excerpts_per_song
        self.memory_budget_bytes = memory_budget_bytes
        self._row_shape = tuple(segments[SONG].store.row_shape or
                                frontend.example_shape)

    @property
    def example_shape(self):
        return self._row_shape

    def feature_names(self):
        return self.frontend.feature_names() if self.frontend else None

    def _fits_in_memory(self, songs, segments):
        row_bytes = 4 * int(np.prod(self._row_shape, dtype=np.int64))
        return sum(self.segments[s].n_rows(songs) for s in segments) * row_bytes <= (
            self.memory_budget_bytes)

    def _segment_dataset(self, songs, segment, shuffle_seed=None):
        """``(x, label, group)`` of every row of ``songs`` in one segment kind."""
        stored = self.segments[segment]
        entries = stored.store.entries()
        members = {}  # "<shard>|<key>" -> songs: a clip stored twice is read once
        for song in np.asarray(songs):
            key = stored.keys[song]
            members.setdefault(f"{entries[key].shard}|{key}", []).append(int(song))
        unique = sorted(members)
        table = tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(
            tf.constant(unique, tf.string), tf.range(len(unique), dtype=tf.int64)), -1)
        songs_of = tf.ragged.constant([members[k] for k in unique], dtype=tf.int64,
                                      ragged_rank=1)
        labels = tf.constant(self.song_labels)
        folder = stored.store.folder
        files = sorted({os.path.join(folder, k.split("|")[0]) for k in unique})
        row_shape, rank = self._row_shape, len(self._row_shape)

        def records_of(path):
            shard = tf.strings.regex_replace(path, r"^.*/", "")
            return tf.data.TFRecordDataset(path).map(
                lambda record: (shard, record))

        def parsed(shard, record):
            key, rows, counts = feature_store.parse_record(record, row_shape)
            return tf.strings.join([shard, key], "|"), rows, counts

        def rows_of_songs(key, rows, counts):
            song = songs_of[table.lookup(key)]
            n, m = tf.shape(rows)[0], tf.size(song)
            each = tf.repeat(song, n)
            part = tf.tile(tf.repeat(tf.range(tf.size(counts, tf.int64)), counts), [m])
            group = each if segment == SONG else self.excerpt_group(each, part)
            x = tf.tile(rows, tf.concat([[m], tf.ones([rank], tf.int32)], 0))
            return tf.data.Dataset.from_tensor_slices((x, tf.gather(labels, each), group))

        data = tf.data.Dataset.from_tensor_slices(tf.constant(files, tf.string))
        if shuffle_seed is not None and files:
            data = data.shuffle(len(files), seed=shuffle_seed, reshuffle_each_iteration=True)
        data = data.interleave(records_of, cycle_length=_CYCLE_LENGTH,
                               num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        data = data.map(parsed, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        data = data.filter(lambda key, rows, counts: table.lookup(key) >= 0)
        return data.flat_map(rows_of_songs)

    def _dataset(self, songs, segments, shuffle_seed=None):
        """Rows of ``songs`` in ``segments``: cached when they fit the memory budget
        (then shuffled whole), streamed with a bounded shuffle buffer otherwise."""
        in_memory = self._fits_in_memory(songs, segments)
        parts = [self._segment_dataset(songs, s, None if in_memory else shuffle_seed)
                 for s in segments]
        data = parts[0]
        for part in parts[1:]:
            data = data.concatenate(part)
        if in_memory:
            data = data.cache()
        if shuffle_seed is not None:
            total = sum(self.segments[s].n_rows(songs) for s in segments)
            data = data.shuffle(max(1, total if in_memory else min(total, SHUFFLE_ROWS)),
                                seed=shuffle_seed, reshuffle_each_iteration=True)
        return data

    def training_dataset(self, songs, batch_size, seed=0):
        segments = [s for s in (SONG, TRAIN_EXCERPT) if s in self.segments]
        data = self._dataset(songs, segments, shuffle_seed=seed)
        return data.map(lambda x, y, group: (x, y)).batch(batch_size).prefetch(
            tf.data.AUTOTUNE)

    def evaluation_dataset(self, songs, batch_size, segment=SONG):
        if segment not in self.segments:
            return tf.data.Dataset.from_tensor_slices((
                tf.zeros((0, *self._row_shape)), tf.zeros(0, tf.int64),
                tf.zeros(0, tf.int64))).batch(batch_size)
        return self._dataset(songs, [segment]).batch(batch_size).prefetch(tf.data.AUTOTUNE)

    def head_sample(self, songs):
        """Batches of the training rows: a head's standardisation adapts to them in one
        streamed pass."""
        segments = [s for s in (SONG, TRAIN_EXCERPT) if s in self.segments]
        return self._dataset(songs, segments).map(lambda x, y, group: x).batch(256)

    def data_digest(self, songs):
        """Keys are content digests and the store's folder names every setting, so ids,
        labels and keys tell changed data from unchanged."""
        digest = hashlib.sha1()
        for song in np.asarray(songs):
            digest.update(f"{self.song_ids[song]}|{self.song_labels[song]}|".encode())
            for segment in sorted(self.segments):
                stored = self.segments[segment]
                digest.update(f"{stored.store.folder}|{stored.keys[song]}|".encode())
        return digest.hexdigest()

    def to_rows(self):
        """The same examples as in-memory ``RowExamples`` (small corpora, tests and the
        baselines bench)."""
        features, row_song, row_segment, row_part = [], [], [], []
        songs = np.arange(len(self.song_ids))
        for segment in sorted(self.segments):
            for x, _, group in self._dataset(songs, [segment]).batch(4096):
                group = group.numpy()
                features.append(x.numpy())
                if segment == SONG:
                    row_song.append(group)
                    row_part.append(np.full(len(group), -1))
                else:
                    row_song.append(self.song_of_excerpt(group))
                    row_part.append(group - self.excerpt_group(row_song[-1], 0))
                row_segment.append(np.full(len(group), segment))
        order = np.lexsort((np.concatenate(row_part), np.concatenate(row_segment),
                            np.concatenate(row_song)))
        return examples.RowExamples(
            np.concatenate(features)[order], np.concatenate(row_song)[order],
            np.concatenate(row_segment)[order], np.concatenate(row_part)[order],
            self.song_ids, self.song_labels, self.class_names, self.frontend, self.report,
            self.excerpts_per_song, self.feature_names())
