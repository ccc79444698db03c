"""Examples streamed from the feature store (``extraction`` fills it): the example set
of every front end whose rows are a pure function of the audio (feature vectors,
backbone embeddings).

Memory does not grow with the corpus. A split's dataset interleaves the shards that
hold its songs, keeps only the records of those songs (a lookup by "<shard>|<key>",
which also hands one stored clip to every song with that content), decodes their rows
after that filter, and shuffles in a bounded buffer, mixing the segment kinds by their
sizes. When a split's rows fit in half the memory budget they are cached in memory
after the first pass instead and shuffled whole (the other half is the shuffle
buffer). When the whole corpus's rows fit in half the budget (GTZAN's do: ~100 MB of
musicnn rows) they are read once, in store order, and every split's datasets slice
those arrays: a split then builds no reading pipeline (its parse and lookup functions
were traced for every dataset of every split: seconds per split) and gets the very
rows, in the very order, that the per-split cache would hold, so a seed shuffles them
alike.
"""

import dataclasses
import hashlib
import os

import numpy as np
import tensorflow as tf

from genre_tf.data import examples, feature_store

SONG, TRAIN_EXCERPT, EVAL_EXCERPT = examples.SONG, examples.TRAIN_EXCERPT, examples.EVAL_EXCERPT
# Rows held by the training shuffle buffer when a split streams from disk.
SHUFFLE_ROWS = 20000
# Shards read at once when streaming.
CYCLE_LENGTH = 8


@dataclasses.dataclass
class StoredSegment:
    """One segment kind of the songs: its store, each song's key and rows per part."""
    store: feature_store.FeatureStore
    keys: list
    counts: list

    def n_rows(self, songs):
        return sum(int(sum(self.counts[s])) for s in songs)


def _parsed(record, row_shape):
    """``(key, rows [n, *row_shape], counts)`` of one serialised store entry (the
    format of ``feature_store``: raw little-endian float32 rows), in NumPy."""
    feature = tf.train.Example.FromString(record).features.feature
    rows = np.frombuffer(feature["rows"].bytes_list.value[0], "<f4")
    return (feature["key"].bytes_list.value[0].decode(), rows.reshape(-1, *row_shape),
            list(feature["counts"].int64_list.value))


class StoredExamples(examples.ExampleSet):
    """Examples streamed from a feature store (see the module docstring).

    Args:
      segments: {segment kind: ``StoredSegment``}; ``SONG`` is required.
      song_ids, song_labels, class_names, frontend, report, excerpts_per_song: as
        ``examples.ExampleSet``.
      memory_budget_bytes: a split whose rows take at most half of this is cached in
        memory; larger ones stream.
    """

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
        self._held = None  # segment -> (x, song, part) of every song, or {} (too large)

    @property
    def example_shape(self):
        return self._row_shape

    def feature_names(self):
        return self.frontend.feature_names() if self.frontend else None

    def _bytes(self, songs, segments):
        row_bytes = 4 * int(np.prod(self._row_shape, dtype=np.int64))
        return sum(self.segments[s].n_rows(songs) for s in segments
                   if s in self.segments) * row_bytes

    def _fits_in_memory(self, songs, segments):
        return 2 * self._bytes(songs, segments) <= self.memory_budget_bytes

    def _empty(self):
        return tf.data.Dataset.from_tensor_slices((
            tf.zeros((0, *self._row_shape)), tf.zeros(0, tf.int64), tf.zeros(0, tf.int64),
            tf.zeros(0, tf.int64)))

    def _segment_dataset(self, songs, segment, shuffle_seed=None):
        """``(x, label, song, part)`` of every row of ``songs`` in one segment kind;
        ``part`` is the excerpt number (-1 for whole songs)."""
        stored = self.segments.get(segment)
        if stored is None or not len(songs):
            return self._empty()
        entries = stored.store.entries()
        members = {}  # "<shard>|<key>" -> songs: one record, every song with its content
        for song in np.asarray(songs):
            key = stored.keys[song]
            members.setdefault(f"{entries[key].shard}|{key}", []).append(int(song))
        unique = sorted(members)
        table = tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(
            tf.constant(unique, tf.string), tf.range(len(unique), dtype=tf.int64)), -1)
        songs_of = tf.ragged.constant([members[k] for k in unique], dtype=tf.int64,
                                      ragged_rank=1)
        labels = tf.constant(self.song_labels)
        files = sorted({os.path.join(stored.store.folder, k.split("|")[0]) for k in unique})
        row_shape, rank = self._row_shape, len(self._row_shape)

        def records_of(path):
            shard = tf.strings.regex_replace(path, r"^.*/", "")
            return tf.data.TFRecordDataset(path).map(lambda record: (shard, record))

        def keyed(shard, record):
            key, rows, counts = feature_store.parse_raw_record(record)
            return tf.strings.join([shard, key], "|"), rows, counts

        def rows_of_songs(key, raw_rows, counts):
            song = songs_of[table.lookup(key)]
            rows = feature_store.decode_rows(raw_rows, row_shape)
            n, m = tf.shape(rows)[0], tf.size(song)
            each = tf.repeat(song, n)
            part = (tf.tile(tf.repeat(tf.range(tf.size(counts, tf.int64)), counts), [m])
                    if segment != SONG else tf.fill([n * m], tf.constant(-1, tf.int64)))
            x = tf.tile(rows, tf.concat([[m], tf.ones([rank], tf.int32)], 0))
            return tf.data.Dataset.from_tensor_slices(
                (x, tf.gather(labels, each), each, part))

        data = tf.data.Dataset.from_tensor_slices(tf.constant(files, tf.string))
        if shuffle_seed is not None:
            data = data.shuffle(len(files), seed=shuffle_seed, reshuffle_each_iteration=True)
        data = data.interleave(records_of, cycle_length=CYCLE_LENGTH,
                               num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        data = data.map(keyed, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        data = data.filter(lambda key, rows, counts: table.lookup(key) >= 0)
        return data.flat_map(rows_of_songs)

    def _held_rows(self):
        """{segment: (x, song, part)} of every song in store order, read on first use;
        None when the corpus's rows do not fit half the memory budget."""
        if self._held is None:
            everything = np.arange(len(self.song_ids))
            fits = self._fits_in_memory(everything, list(self.segments))
            self._held = {segment: self._read_segment(segment)
                          for segment in self.segments} if fits else {}
        return self._held or None

    def _read_segment(self, segment):
        """``(x, song, part)`` of every song's rows of one segment kind: shard by shard,
        record by record, each record's rows once per song with its content (as
        ``_segment_dataset`` gives them within a shard). Records are parsed as protos
        in NumPy: no TensorFlow function to trace, for a pass made once."""
        stored = self.segments[segment]
        entries = stored.store.entries()
        members = {}  # (shard, key) -> songs: one record, every song with its content
        for song, key in enumerate(stored.keys):
            members.setdefault((entries[key].shard, key), []).append(song)
        columns = ([], [], [])
        for shard in sorted({shard for shard, _ in members}):
            records = tf.data.TFRecordDataset(os.path.join(stored.store.folder, shard))
            for record in records.as_numpy_iterator():
                key, rows, counts = _parsed(record, self._row_shape)
                part = (np.repeat(np.arange(len(counts)), counts) if segment != SONG
                        else np.full(len(rows), -1))
                for song in members.get((shard, key), ()):
                    for column, value in zip(columns, (rows, np.full(len(rows), song),
                                                       part)):
                        column.append(value)
        if not columns[0]:
            return (np.zeros((0, *self._row_shape), np.float32), np.zeros(0, np.int64),
                    np.zeros(0, np.int64))
        return tuple(np.concatenate(column).astype(dtype) for column, dtype in
                     zip(columns, (np.float32, np.int64, np.int64)))

    def _held_columns(self, held, songs, segments):
        """``(x, label, song, part)`` arrays of the rows held in memory: the segments one
        after the other, each in store order (as the per-split cache holds them); None
        when there are none."""
        picked = [[], [], []]
        for segment in segments:
            if segment in held:
                x, song, part = held[segment]
                rows = np.isin(song, songs)
                for column, value in zip(picked, (x, song, part)):
                    column.append(value[rows])
        if not picked[0]:
            return None
        x, song, part = (np.concatenate(column) for column in picked)
        return x, self.song_labels[song], song, part

    def _held_dataset(self, held, songs, segments, shuffle_seed):
        """``_dataset`` from the rows held in memory (``_held_columns``), shuffled whole."""
        columns = self._held_columns(held, songs, segments)
        if columns is None:
            return self._empty()
        data = tf.data.Dataset.from_tensor_slices(columns)
        if shuffle_seed is not None:
            data = data.shuffle(max(1, len(columns[0])), seed=shuffle_seed,
                                reshuffle_each_iteration=True)
        return data

    def _dataset(self, songs, segments, shuffle_seed=None):
        """``(x, label, song, part)`` of ``songs`` in ``segments``: sliced from the
        rows held in memory when the corpus fits the memory budget; else cached when
        they fit it (then shuffled whole), streamed otherwise (segments mixed by their
        sizes, a bounded shuffle buffer)."""
        songs = np.asarray(songs)
        held = self._held_rows()
        if held is not None:
            return self._held_dataset(held, songs, segments, shuffle_seed)
        sizes = [self.segments[s].n_rows(songs) if s in self.segments else 0
                 for s in segments]
        total = sum(sizes)
        in_memory = self._fits_in_memory(songs, segments)
        seed = None if in_memory else shuffle_seed
        parts = [self._segment_dataset(songs, s, seed) for s in segments]
        if in_memory or shuffle_seed is None or len(parts) == 1 or not all(sizes):
            data = parts[0]
            for part in parts[1:]:
                data = data.concatenate(part)
        else:
            data = tf.data.Dataset.sample_from_datasets(
                parts, weights=[size / total for size in sizes], seed=shuffle_seed)
        # The row count is known from the store's index: telling tf.data lets Keras see
        # the steps of an epoch (no "ran out of data" warning on the first one).
        data = data.apply(tf.data.experimental.assert_cardinality(total))
        if in_memory:
            data = data.cache()
        if shuffle_seed is not None:
            data = data.shuffle(max(1, total if in_memory else min(total, SHUFFLE_ROWS)),
                                seed=shuffle_seed, reshuffle_each_iteration=True)
        return data

    def _training_segments(self):
        return [s for s in (SONG, TRAIN_EXCERPT) if s in self.segments]

    def _held_training_columns(self, songs):
        """``_held_columns`` of ``songs``' training rows; None where the rows are not
        held in memory or there are none."""
        held = self._held_rows()
        return (None if held is None else
                self._held_columns(held, np.asarray(songs), self._training_segments()))

    def training_dataset(self, songs, batch_size, seed=0):
        columns = self._held_training_columns(songs)
        if columns is not None:  # the batches of _held_dataset's shuffle, gathered
            return examples.shuffled_batches(columns[:2], batch_size, seed).prefetch(
                tf.data.AUTOTUNE)
        data = self._dataset(songs, self._training_segments(), shuffle_seed=seed)
        return data.map(lambda x, y, song, part: (x, y)).batch(batch_size).prefetch(
            tf.data.AUTOTUNE)

    def evaluation_dataset(self, songs, batch_size, segment=SONG):
        held = self._held_rows()
        columns = (None if held is None else
                   self._held_columns(held, np.asarray(songs), [segment]))
        group = ((lambda song, part: song) if segment == SONG
                 else self.excerpt_group)  # held arrays or streamed tensors
        if columns is not None:  # in store order, as _dataset gives them
            x, label, song, part = columns
            return examples.ordered_batches((x, label, group(song, part)),
                                            batch_size).prefetch(tf.data.AUTOTUNE)
        data = self._dataset(songs, [segment]).map(
            lambda x, y, song, part: (x, y, group(song, part)))
        return data.batch(batch_size).prefetch(tf.data.AUTOTUNE)

    def head_sample(self, songs):
        """Batches of the training rows: a head's standardisation adapts to them in one
        streamed pass (one batch when the rows are held in memory: the held rows
        themselves, not sliced into rows and batched again)."""
        columns = self._held_training_columns(songs)
        if columns is not None:
            return tf.data.Dataset.from_tensors(columns[0])
        rows = self._dataset(songs, self._training_segments()).map(
            lambda x, y, song, part: x)
        return rows.batch(256)

    def data_digest(self, songs):
        """Keys are content digests and a store's folder name holds every setting, so
        ids, labels and keys tell changed data from unchanged (wherever the store is)."""
        digest = hashlib.sha1()
        for song in np.asarray(songs):
            digest.update(f"{self.song_ids[song]}|{self.song_labels[song]}|".encode())
            for segment in sorted(self.segments):
                stored = self.segments[segment]
                digest.update(f"{os.path.basename(stored.store.folder)}|"
                              f"{stored.keys[song]}|".encode())
        return digest.hexdigest()

    def to_rows(self):
        """The same examples as in-memory ``RowExamples`` (small corpora and tests)."""
        features, row_song, row_segment, row_part = [], [], [], []
        songs = np.arange(len(self.song_ids))
        for segment in sorted(self.segments):
            for x, _, song, part in self._dataset(songs, [segment]).batch(4096):
                features.append(x.numpy())
                row_song.append(song.numpy())
                row_part.append(part.numpy())
                row_segment.append(np.full(len(song), segment))
        row_song, row_segment, row_part = (np.concatenate(v) for v in
                                           (row_song, row_segment, row_part))
        order = np.lexsort((row_part, row_segment, row_song))  # stable: frames keep order
        return examples.RowExamples(
            np.concatenate(features)[order], row_song[order], row_segment[order],
            row_part[order], self.song_ids, self.song_labels, self.class_names,
            self.frontend, self.report, self.excerpts_per_song, self.feature_names())
