"""Every system's examples, built once from a front end: decode, fill, cut, examples,
store, shuffle, and which song (or excerpt) each example belongs to.

Three ways to hold them (``example_sets.build_examples`` picks by the front end):

- ``stored_examples.StoredExamples``: front ends whose examples are a pure function of
  the audio (feature vectors, backbone embeddings) are run once per clip into a sharded
  on-disk feature store, and every split streams from it (cached in memory when small).
- ``StreamedExamples``: front ends that draw new random crops each epoch (spectrogram
  CNNs) are recomputed from decoded audio in ``tf.data`` every epoch; nothing holds
  the dataset's images in memory.
- ``RowExamples``: rows in memory: a features CSV, and small sets in tests.

All give the same three datasets: ``training_dataset`` (whole songs plus training
excerpts, shuffled across songs), ``evaluation_dataset`` (``(x, label, group)`` in a
fixed order, where ``group`` is the song, or the excerpt, each example votes for) and
``head_sample`` (training inputs a head adapts its standardisation to).

Segments of a song: ``SONG`` (the whole clip), ``TRAIN_EXCERPT`` (random short excerpts
that show a head partial windows, ``--train_excerpts_per_song``) and ``EVAL_EXCERPT``
(random excerpts of the test songs that measure snippet accuracy, ``--excerpt_seconds``).
Every segment is filled by the run's short-clip policy exactly as the exported model
fills its input.
"""

import dataclasses
import functools
import hashlib
import os

import numpy as np
import tensorflow as tf
from absl import logging

from genre_tf.data import excerpts, file_digests, pipeline
from genre_tf.frontends import base

SONG, TRAIN_EXCERPT, EVAL_EXCERPT = 0, 1, 2
SEGMENT_NAMES = {SONG: "song", TRAIN_EXCERPT: "train_excerpt", EVAL_EXCERPT: "eval_excerpt"}
# Songs whose images estimate a CNN head's standardisation.
_HEAD_SAMPLE_SONGS = 64
# Songs' worth of streamed examples in the training shuffle buffer (songs already arrive
# in a random order, so this only mixes crops of neighbouring songs).
_SHUFFLE_SONGS = 32


@dataclasses.dataclass(frozen=True)
class ExampleConfig:
    """How clips become examples, besides the front end itself.

    Attributes:
      short_clips: the short-clip policy (``genre_tf.audio.fill.POLICIES``).
      train_excerpts: excerpts of every training song added to its training examples.
      eval_excerpts: excerpts of every test song scored separately (snippet accuracy).
      cache_dir: root of the feature store and digest index (None: a temporary store).
      spectrogram_cache: streamed front ends cache deterministic evaluation images.
      memory_budget_mb: a split's stored rows up to this size are cached in memory;
        larger ones stream from disk with a bounded shuffle buffer.
    """
    short_clips: str = "repeat"
    train_excerpts: excerpts.ExcerptPlan = excerpts.ExcerptPlan()
    eval_excerpts: excerpts.ExcerptPlan = excerpts.ExcerptPlan()
    cache_dir: str = None
    spectrogram_cache: bool = False
    memory_budget_mb: int = 1024

    def identity(self):
        """The settings that change examples; where and how they are held do not."""
        settings = dataclasses.asdict(self)
        for name in ("cache_dir", "spectrogram_cache", "memory_budget_mb"):
            del settings[name]
        return settings

    def plan(self, segment):
        return {TRAIN_EXCERPT: self.train_excerpts, EVAL_EXCERPT: self.eval_excerpts}.get(
            segment)


def shuffled_batches(columns, batch_size, seed):
    """Batches of in-memory ``columns`` (arrays of one length), shuffled anew every
    pass: the batches ``from_tensor_slices(columns).shuffle(rows, seed,
    reshuffle_each_iteration=True).batch(batch_size)`` gives, pass by pass (the shuffle
    draws the same permutation for row numbers as for the rows themselves), but
    gathered by row number. Shuffling and batching rows one by one cost ~50-80 ms a
    pass over ~1000 rows of 753 floats (a musicnn split, 2 busy cores), several times
    the training steps of a dense head; this costs ~10 ms.

    A ``batch_size`` of at least the row count (full-batch training) gives every pass
    the one batch of all rows in their given order: a step's loss and metrics are means
    over the batch's rows, the same in any order (to rounding), so the batch is made
    once and cached, not shuffled and gathered per pass (a third of a full-batch
    musicnn step): ``one_batch``."""
    if batch_size >= len(columns[0]):
        return one_batch(columns)
    rows = tf.data.Dataset.range(len(columns[0])).shuffle(
        max(1, len(columns[0])), seed=seed, reshuffle_each_iteration=True)
    return _gathered(rows.batch(batch_size), columns)


def ordered_batches(columns, batch_size):
    """Batches of in-memory ``columns`` in row order, as
    ``from_tensor_slices(columns).batch(batch_size)`` gives them, but gathered by row
    number (rows one by one cost ~90 ms a call on a musicnn split's test rows, more
    than scoring them); ``one_batch`` where one batch holds them all."""
    if batch_size >= len(columns[0]):
        return one_batch(columns)
    return _gathered(tf.data.Dataset.range(len(columns[0])).batch(batch_size), columns)


def one_batch(columns):
    """One batch of every row of in-memory ``columns``, batched once and cached.

    Not ``_gathered``: a dataset function that captures the rows made the first call
    of Keras' training function on every new dataset ~0.2 s slower than the others (a
    musicnn split of gtzan_mini, 2 cores; 25 passes take ~0.06 s), and tf.data's
    default graph rewrites, run at every new iterator, serialised the captured rows:
    50-200 ms more. Not ``from_tensors``: the batch's row count must stay unknown to
    the graph, as a batch's always is, so that a function traced on it serves every
    split's row count (a constant batch's fixed shape made Keras trace its training
    loop twice, seconds each). Slicing and batching the rows once costs ~10-30 ms."""
    rows = max(1, len(columns[0]))
    return _unoptimised(tf.data.Dataset.from_tensor_slices(tuple(columns))
                        .batch(rows).cache())


def is_one_batch(dataset):
    """Whether ``dataset`` is one ``(features, label)`` batch (a full batch of held rows,
    ``one_batch``; its size known): a fit may then precompute or pad it once."""
    spec = dataset.element_spec
    return (int(dataset.cardinality()) == 1 and isinstance(spec, tuple) and len(spec) == 2
            and isinstance(spec[0], tf.TensorSpec))


def _unoptimised(dataset):
    """``dataset`` (one batch of held rows) without tf.data's default graph rewrites:
    they run at every new iterator and serialise the dataset's graph, its rows
    included, with nothing to gain on one batch. The option holds for every dataset
    built on this one (a fit's padding, prefetch, repeat)."""
    options = tf.data.Options()
    options.experimental_optimization.apply_default_optimizations = False
    return dataset.with_options(options)


def _gathered(row_batches, columns):
    """``row_batches`` (batches of row numbers) as batches of ``columns``' rows."""
    tensors = tuple(tf.constant(column) for column in columns)
    return row_batches.map(
        lambda picked: tuple(tf.gather(tensor, picked) for tensor in tensors))


def excerpt_examples(frontend, waveform, fractions, plan, policy):
    """Examples of each of a clip's ``plan.count`` excerpts (graph code).

    One front end in a loop rather than ``plan.count`` copies of it: Grappler inlines
    each copy's feature graph when the function first runs, and with 4 evaluation
    excerpts that took 10 s of a tiny run's extraction (2.6 s as a loop).

    Returns:
      (examples ``[n, ...]``, counts ``[plan.count]``: examples per excerpt).
    """
    floor = frontend.min_samples if policy == "skip" else 0

    def one(k, rows, counts):
        part = base.filled_examples(frontend, excerpts.cut(waveform, fractions[k], plan,
                                                          frontend.sample_rate, floor), policy)
        return k + 1, rows.write(k, part), counts.write(k, tf.shape(part)[0])

    rows = tf.TensorArray(tf.float32, size=plan.count, infer_shape=False,
                          element_shape=[None, *frontend.example_shape])
    counts = tf.TensorArray(tf.int32, size=plan.count)
    _, rows, counts = tf.while_loop(lambda k, *_: k < plan.count, one,
                                    (tf.constant(0), rows, counts))
    return rows.concat(), counts.stack()


class ExampleSet:
    """Songs, labels and the datasets every system trains and is evaluated on.

    Attributes:
      song_ids: one id per usable song (splits index into these).
      song_labels: int ``[songs]``.
      class_names: label of each class index.
      frontend: the front end (None for a features CSV).
      report: the ``DecodeReport`` of skipped and filled files.
      excerpts_per_song: evaluation excerpts per song (0: none).
    """

    song_ids = None
    song_labels = None
    class_names = None
    frontend = None
    report = None
    excerpts_per_song = 0

    def training_dataset(self, songs, batch_size, seed=0):
        raise NotImplementedError

    def evaluation_dataset(self, songs, batch_size, segment=SONG):
        raise NotImplementedError

    def excerpt_group(self, song, part):
        """The group id of excerpt ``part`` of ``song`` (numpy or tensors)."""
        return song * max(self.excerpts_per_song, 1) + part

    def song_of_excerpt(self, group):
        """The song an excerpt group id belongs to."""
        return group // max(self.excerpts_per_song, 1)

    def validation_dataset(self, songs, batch_size):
        """``(x, label)`` of whole songs, for early stopping."""
        return self.evaluation_dataset(songs, batch_size).map(lambda x, y, group: (x, y))

    def head_sample(self, songs):
        raise NotImplementedError

    def data_digest(self, songs):
        """A digest of what ``songs`` hold (ids, labels and content): a finished split
        may be reused only when it is unchanged, not merely when the names match."""
        raise NotImplementedError

    def song_digests(self, songs):
        """``{song id: short digest of that song alone}``: a run folder records them so
        that a rerun on changed data names the songs that changed."""
        return {self.song_ids[song]: self.data_digest([song])[:16]
                for song in np.asarray(songs)}

    @property
    def example_shape(self):
        raise NotImplementedError

    def feature_names(self):
        return None


class RowExamples(ExampleSet):
    """Examples held as rows in memory (see the module docstring)."""

    def __init__(self, features, row_song, row_segment, row_part, song_ids, song_labels,
                 class_names, frontend=None, report=None, excerpts_per_song=0,
                 feature_names=None):
        self.features = np.asarray(features, np.float32)
        self.row_song = np.asarray(row_song, np.int64)
        self.row_segment = np.asarray(row_segment, np.int64)
        self.row_part = np.asarray(row_part, np.int64)  # excerpt number, -1 for songs
        self.song_ids = list(song_ids)
        self.song_labels = np.asarray(song_labels, np.int64)
        self.class_names = list(class_names)
        self.frontend = frontend
        self.report = report or pipeline.DecodeReport()
        self.excerpts_per_song = excerpts_per_song
        self._feature_names = feature_names

    @classmethod
    def from_table(cls, table):
        """Rows of a ``feature_table.FeatureTable`` (a features CSV). The rows the table
        left out (``"<csv>:<line>"``: non-finite value, empty label) go into the report
        as undecodable files do, so each is warned about and listed in metrics.json."""
        report = pipeline.DecodeReport()
        for row, reason in table.skipped.items():
            report.skip(row, reason)
        n = len(table.row_song)
        return cls(table.features, table.row_song, np.full(n, SONG), np.full(n, -1),
                   table.song_ids, table.song_labels, table.class_names, report=report,
                   feature_names=table.feature_names)

    def _rows(self, songs, segments):
        return np.flatnonzero(np.isin(self.row_song, songs)
                              & np.isin(self.row_segment, segments))

    def training_dataset(self, songs, batch_size, seed=0):
        rows = self._rows(songs, [SONG, TRAIN_EXCERPT])
        return shuffled_batches((self.features[rows], self.song_labels[self.row_song[rows]]),
                                batch_size, seed).prefetch(tf.data.AUTOTUNE)

    def evaluation_dataset(self, songs, batch_size, segment=SONG):
        rows = self._rows(songs, [segment])
        song = self.row_song[rows]
        group = song if segment == SONG else self.excerpt_group(song, self.row_part[rows])
        data = tf.data.Dataset.from_tensor_slices(
            (self.features[rows], self.song_labels[song], group))
        return data.batch(batch_size).prefetch(tf.data.AUTOTUNE)

    def head_sample(self, songs):
        return self.features[self._rows(songs, [SONG, TRAIN_EXCERPT])]

    def data_digest(self, songs):
        """Rows are a function of the audio and every setting, so hashing them (with
        ids and labels) tells changed data from unchanged."""
        digest = hashlib.sha1()
        starts, order = self._rows_by_song
        for song in np.asarray(songs):
            digest.update(f"{self.song_ids[song]}|{self.song_labels[song]}|".encode())
            digest.update(np.ascontiguousarray(
                self.features[order[starts[song]:starts[song + 1]]]).tobytes())
        return digest.hexdigest()

    @functools.cached_property
    def _rows_by_song(self):
        """``(starts, order)``: song k's rows, in row order, are
        ``order[starts[k]:starts[k + 1]]``. Grouped once: a mask over every row per song
        made the run's per-song digests (``song_digests``) songs x rows work."""
        order = np.argsort(self.row_song, kind="stable")
        counts = np.bincount(self.row_song, minlength=len(self.song_ids))
        return np.concatenate([[0], np.cumsum(counts)]), order

    @property
    def example_shape(self):
        return self.features.shape[1:]

    def feature_names(self):
        return self._feature_names


class StreamedExamples(ExampleSet):
    """Examples recomputed from decoded audio every epoch (see the module docstring)."""

    def __init__(self, index, frontend, config, report=None):
        self.report = report if report is not None else pipeline.DecodeReport()
        self.config = config
        lengths = {}
        waves = pipeline.waveform_dataset([c.path for c in index.clips],
                                          frontend.sample_rate, 1, "repeat", self.report)
        for n_samples, i in waves.map(
                lambda y, i: (tf.shape(y)[0], i)).as_numpy_iterator():
            lengths[int(i)] = int(n_samples)
        if not lengths:
            raise ValueError(f"no clip under {index.root} could be decoded")
        self.frontend = frontend.fit_to_data(list(lengths.values())).load()
        kept = [i for i in sorted(lengths) if pipeline.note_length(
            self.report, index.clips[i].path, lengths[i], self.frontend.min_samples,
            config.short_clips)]
        index.subset(kept).check_every_class_has_clips("decoded clips")
        clips = [index.clips[i] for i in kept]
        self.paths = [c.path for c in clips]
        digests = file_digests.file_digests(self.paths, config.cache_dir)
        self._file_digests = [digests[path] for path in self.paths]
        self.song_ids = [c.song_id for c in clips]
        self.song_labels = np.asarray([c.label for c in clips], np.int64)
        self.class_names = list(index.class_names)
        self.excerpts_per_song = config.eval_excerpts.count
        self._fractions = {
            segment: np.stack([config.plan(segment).fractions(s) for s in self.song_ids])
            for segment in (TRAIN_EXCERPT, EVAL_EXCERPT) if config.plan(segment).count}
        logging.info("Examples: %s; input %s per example",
                     self.report.summary(len(index.clips)), self.frontend.example_shape)

    def _waves(self, songs, shuffle_seed=None):
        return pipeline.waveform_dataset(
            [self.paths[s] for s in songs], self.frontend.sample_rate,
            self.frontend.min_samples, self.config.short_clips, shuffle_seed=shuffle_seed)

    def training_dataset(self, songs, batch_size, seed=0):
        songs = np.asarray(songs)
        labels = tf.constant(self.song_labels[songs])
        plan = self.config.train_excerpts
        fractions = (tf.constant(self._fractions[TRAIN_EXCERPT][songs]) if plan.count
                     else None)
        frontend, policy = self.frontend, self.config.short_clips

        def examples_of(waveform, k):
            x = base.filled_examples(frontend, waveform, policy, training=True)
            if plan.count:
                x = tf.concat([x, excerpt_examples(frontend, waveform, fractions[k], plan,
                                                   policy)[0]], axis=0)
            return x, tf.fill([tf.shape(x)[0]], tf.gather(labels, k))

        per_song = frontend.training_examples_per_clip + plan.count
        data = self._waves(songs, shuffle_seed=seed).map(
            examples_of, num_parallel_calls=tf.data.AUTOTUNE).unbatch()
        data = data.shuffle(_SHUFFLE_SONGS * per_song, seed=seed,
                            reshuffle_each_iteration=True)
        return data.batch(batch_size).prefetch(tf.data.AUTOTUNE)

    def evaluation_dataset(self, songs, batch_size, segment=SONG):
        songs = np.asarray(songs)
        labels = tf.constant(self.song_labels[songs])
        song_index = tf.constant(songs)
        plan = self.config.plan(segment)
        fractions = tf.constant(self._fractions[segment][songs]) if plan else None
        frontend, policy = self.frontend, self.config.short_clips

        def examples_of(waveform, k):
            song = tf.gather(song_index, k)
            if plan:
                x, counts = excerpt_examples(frontend, waveform, fractions[k], plan, policy)
                group = tf.repeat(
                    self.excerpt_group(song, tf.range(plan.count, dtype=tf.int64)), counts)
            else:
                x = base.filled_examples(frontend, waveform, policy)
                group = tf.fill([tf.shape(x)[0]], song)
            return x, tf.fill([tf.shape(x)[0]], tf.gather(labels, k)), group

        data = self._waves(songs).map(examples_of,
                                      num_parallel_calls=tf.data.AUTOTUNE).unbatch()
        if self.config.spectrogram_cache and self.config.cache_dir:
            data = data.cache(self._cache_path(songs, segment))
        return data.batch(batch_size).prefetch(tf.data.AUTOTUNE)

    def _cache_path(self, songs, segment):
        key = hashlib.sha1(repr((sorted(int(s) for s in songs), segment,
                                 self.frontend.key, self.config)).encode()).hexdigest()
        folder = os.path.join(self.config.cache_dir, "spectrograms")
        os.makedirs(folder, exist_ok=True)
        return os.path.join(folder, key[:16])

    def data_digest(self, songs):
        digest = hashlib.sha1()
        for song in np.asarray(songs):
            digest.update(f"{self.song_ids[song]}|{self.song_labels[song]}|"
                          f"{self._file_digests[song]}|".encode())
        return digest.hexdigest()

    def head_sample(self, songs):
        rng = np.random.default_rng(0)
        sample = np.sort(rng.permutation(np.asarray(songs))[:_HEAD_SAMPLE_SONGS])
        return self.evaluation_dataset(sample, 16).map(lambda x, y, group: x)

    @property
    def example_shape(self):
        return self.frontend.example_shape
