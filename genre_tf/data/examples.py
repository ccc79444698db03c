"""Every system's examples, built once from a front end: decode, fill, cut, examples,
cache, shuffle, and which song (or excerpt) each example belongs to.

Two ways to hold them, chosen by the front end:

- ``RowExamples``: front ends whose examples are a pure function of the audio (feature
  vectors, backbone embeddings) are run once per clip and cached as rows on disk
  (``row_cache``); a features CSV also becomes rows. Cross-validation and tuning then
  train heads from memory in seconds.
- ``StreamedExamples``: front ends that draw new random crops each epoch (spectrogram
  CNNs) are recomputed from decoded audio in ``tf.data`` every epoch; nothing holds
  the dataset's images in memory.

Both give the same three datasets: ``training_dataset`` (whole songs plus training
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
import hashlib
import os

import keras
import numpy as np
import tensorflow as tf
from absl import logging

from genre_tf.data import excerpts, pipeline, row_cache
from genre_tf.frontends import base

SONG, TRAIN_EXCERPT, EVAL_EXCERPT = 0, 1, 2
_SEGMENT_NAMES = {SONG: "song", TRAIN_EXCERPT: "train_excerpt", EVAL_EXCERPT: "eval_excerpt"}
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
      cache_dir: root of the row cache (None: no cache).
      spectrogram_cache: streamed front ends cache deterministic evaluation images.
    """
    short_clips: str = "repeat"
    train_excerpts: excerpts.ExcerptPlan = excerpts.ExcerptPlan()
    eval_excerpts: excerpts.ExcerptPlan = excerpts.ExcerptPlan()
    cache_dir: str = None
    spectrogram_cache: bool = False

    def identity(self):
        """The settings that change examples; where they are cached does not."""
        settings = dataclasses.asdict(self)
        del settings["cache_dir"], settings["spectrogram_cache"]
        return settings

    def plan(self, segment):
        return {TRAIN_EXCERPT: self.train_excerpts, EVAL_EXCERPT: self.eval_excerpts}.get(
            segment)


def excerpt_examples(frontend, waveform, fractions, plan, policy):
    """Examples of each of a clip's ``plan.count`` excerpts (graph code).

    Returns:
      (examples ``[n, ...]``, counts ``[plan.count]``: examples per excerpt).
    """
    floor = frontend.min_samples if policy == "skip" else 0
    parts = [base.filled_examples(frontend, excerpts.cut(waveform, fractions[k], plan,
                                                    frontend.sample_rate, floor), policy)
             for k in range(plan.count)]
    return tf.concat(parts, axis=0), tf.stack([tf.shape(p)[0] for p in parts])


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
        data = tf.data.Dataset.from_tensor_slices(
            (self.features[rows], self.song_labels[self.row_song[rows]]))
        data = data.shuffle(len(rows), seed=seed, reshuffle_each_iteration=True)
        return data.batch(batch_size).prefetch(tf.data.AUTOTUNE)

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
        for song in np.asarray(songs):
            digest.update(f"{self.song_ids[song]}|{self.song_labels[song]}|".encode())
            digest.update(np.ascontiguousarray(
                self.features[self.row_song == song]).tobytes())
        return digest.hexdigest()

    @property
    def example_shape(self):
        return self.features.shape[1:]

    def feature_names(self):
        return self._feature_names


def _segment_rows(index, frontend, config, segment, kept, report, file_digests):
    """Rows of one segment kind of the clips at ``kept``: cached, or computed in one
    parallel tf.data pass and cached. ``file_digests``: {clip position: content digest}
    (empty without a cache). Returns {clip position: (rows, counts, n)}."""
    plan = config.plan(segment)
    folder = None
    if config.cache_dir:
        name = f"{frontend.key}-{config.short_clips}" + (
            f"-{plan.key()}" if plan else "")
        folder = os.path.join(config.cache_dir, "features", name)
    cache = row_cache.RowCache(folder)
    digests = {i: _entry_key(file_digests.get(i), index.clips[i].song_id, plan)
               for i in kept}
    found = {}
    for i in kept:
        entry = cache.load(digests[i])
        if entry is not None:
            found[i] = entry
            if segment == SONG:
                pipeline.note_length(report, index.clips[i].path, entry[2],
                                     frontend.min_samples, config.short_clips)
    todo = [i for i in kept if i not in found]
    if not todo:
        return found
    logging.info("Computing %s (%s) of %d clips (%d cached)", frontend.key,
                 _SEGMENT_NAMES[segment], len(todo), len(found))
    frontend.load()
    fractions = tf.constant(np.stack([
        plan.fractions(index.clips[i].song_id) if plan else np.zeros((0, 2), np.float32)
        for i in todo]))
    waves = pipeline.waveform_dataset(
        [index.clips[i].path for i in todo], frontend.sample_rate, frontend.min_samples,
        config.short_clips, report if segment == SONG else pipeline.DecodeReport())

    def clip_rows(waveform, k):
        if plan:
            rows, counts = excerpt_examples(frontend, waveform, fractions[k], plan,
                                            config.short_clips)
        else:
            rows = base.filled_examples(frontend, waveform, config.short_clips)
            counts = tf.shape(rows)[:1]
        return rows, counts, tf.shape(waveform)[0], k

    progress = keras.utils.Progbar(len(todo), unit_name="clip")
    for rows, counts, n_samples, k in waves.map(
            clip_rows, num_parallel_calls=tf.data.AUTOTUNE).prefetch(
                tf.data.AUTOTUNE).as_numpy_iterator():
        i = todo[k]
        found[i] = (rows, counts, int(n_samples))
        cache.save(digests[i], rows, counts, int(n_samples))
        progress.add(1)
    progress.update(len(todo), finalize=True)
    return found


def _entry_key(digest, song_id, plan):
    """A clip's cache key: its content, and for excerpts also its song id, since the
    excerpts drawn depend on the id (GTZAN holds byte-identical files under two names)."""
    if digest and plan:
        return hashlib.sha1(f"{digest}|{song_id}".encode()).hexdigest()
    return digest


def _file_digests(clips):
    """{position: content digest} of the clips that are files: read once per run and
    shared by every segment kind's cache lookups."""
    return {i: row_cache.file_digest(clip.path) for i, clip in enumerate(clips)
            if os.path.isfile(clip.path)}


def rows_from_audio(index, frontend, config, report=None):
    """``RowExamples`` of every clip of a ``ClipIndex`` through ``frontend``.

    Raises:
      ValueError: no clip decodes, or a class has no clips left.
    """
    report = report if report is not None else pipeline.DecodeReport()
    file_digests = _file_digests(index.clips) if config.cache_dir else {}
    songs = _segment_rows(index, frontend, config, SONG, range(len(index.clips)), report,
                          file_digests)
    logging.info("Examples: %s", report.summary(len(index.clips)))
    kept = sorted(songs)
    if not kept:
        raise ValueError(f"no clip under {index.root} could be decoded: "
                         f"{len(report.skipped)} skipped")
    index.subset(kept).check_every_class_has_clips("decoded clips")
    parts = {SONG: songs}
    for segment in (TRAIN_EXCERPT, EVAL_EXCERPT):
        if config.plan(segment).count:
            parts[segment] = _segment_rows(index, frontend, config, segment, kept, report,
                                           file_digests)
    features, row_song, row_segment, row_part = [], [], [], []
    for song, i in enumerate(kept):
        for segment, found in parts.items():
            rows, counts, _ = found[i]
            features.append(rows)
            row_song.append(np.full(len(rows), song))
            row_segment.append(np.full(len(rows), segment))
            row_part.append(np.repeat(np.arange(len(counts)) if segment != SONG
                                      else [-1], counts))
    return RowExamples(
        np.concatenate(features), np.concatenate(row_song), np.concatenate(row_segment),
        np.concatenate(row_part), [index.clips[i].song_id for i in kept],
        [index.clips[i].label for i in kept], index.class_names, frontend, report,
        config.eval_excerpts.count, frontend.feature_names())


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
        self._file_digests = [row_cache.file_digest(c.path) for c in clips]
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


def build_examples(index, frontend, config, report=None):
    """The ``ExampleSet`` a front end needs: rows when cacheable, streamed otherwise."""
    if frontend.cacheable:
        return rows_from_audio(index, frontend, config, report)
    return StreamedExamples(index, frontend, config, report)
