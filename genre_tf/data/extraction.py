"""Extraction of a front end's rows (feature vectors, backbone embeddings) into the
feature store, once per clip, by one process or by several workers.

Each segment kind (whole songs, training excerpts, evaluation excerpts) has its own
store, named by the front end and every setting that changes its rows. A clip found in
the store is not computed again; the rest are decoded in tf.data and run through the
traced front end (fill, front end) from one thread per core (``graph_calls``), in the
order of their keys, which are content digests, so shards mix
genres instead of holding one folder each. A clip whose rows come out non-finite is
skipped with a warning and never stored; byte-identical clips under two names are
computed once.

``ExtractionSlice(num_shards, shard_index)`` makes a worker extract only the clips
whose file digest falls in its slice (every segment kind of them); every worker writes
its own shards into the shared store, a rerun skips what is done, and a training run
finds every shard and extracts whatever is still missing itself.
"""

import atexit
import dataclasses
import hashlib
import os
import shutil
import tempfile

import numpy as np
import tensorflow as tf
from absl import logging

from genre_tf import console
from genre_tf.data import examples, feature_store, file_digests, graph_calls, pipeline
from genre_tf.data import stored_examples
from genre_tf.frontends import base

SONG, TRAIN_EXCERPT, EVAL_EXCERPT = examples.SONG, examples.TRAIN_EXCERPT, examples.EVAL_EXCERPT


@dataclasses.dataclass(frozen=True)
class ExtractionSlice:
    """The clips one extraction worker owns: those whose file digest, read as a number,
    is ``shard_index`` modulo ``num_shards`` (stable as the corpus grows)."""
    num_shards: int = 1
    shard_index: int = 0

    def __post_init__(self):
        if self.num_shards < 1 or not 0 <= self.shard_index < self.num_shards:
            raise ValueError(f"--shard_index must be in [0, --num_shards={self.num_shards})"
                             f", got {self.shard_index}")

    def owns(self, digest):
        return digest is None or int(digest[:12], 16) % self.num_shards == self.shard_index


def _entry_key(digest, song_id, plan):
    """A clip's key in a store: its content, and for excerpts also its song id, since
    the excerpts drawn depend on the id (GTZAN holds byte-identical files under two
    names). None for a file that could not be read (decoding names the reason)."""
    if digest and plan:
        return hashlib.sha1(f"{digest}|{song_id}".encode()).hexdigest()
    return digest


def _non_finite_reason(rows, segment):
    bad = int(np.sum(~np.all(np.isfinite(rows.reshape(len(rows), -1)), axis=1)))
    return (f"non-finite features in {bad} of {len(rows)} "
            f"{examples.SEGMENT_NAMES[segment]} rows")


class _Extraction:
    """One run's extraction: the clips, their keys per segment kind, and the stores."""

    def __init__(self, index, frontend, config, report, store_root, extraction_slice):
        self.index = index
        self.frontend = frontend
        self.config = config
        self.report = report
        self.store_root = store_root
        self.slice = extraction_slice
        paths = {i: clip.path for i, clip in enumerate(index.clips)
                 if os.path.isfile(clip.path)}
        digests = file_digests.file_digests(list(paths.values()), config.cache_dir)
        self.file_digests = {i: digests[path] for i, path in paths.items()}

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
        """``(store, keys, {position: Entry})`` of one segment kind for the clips at
        ``positions``: found in the store, or computed and stored. Clips outside this
        worker's slice and not in the store are left out."""
        store, keys = self.store(segment), self.keys(segment)
        stored = store.entries()
        found = {i: stored[keys[i]] for i in positions if keys[i] in stored}
        if segment == SONG:
            for i, entry in found.items():
                pipeline.note_length(self.report, self.index.clips[i].path,
                                     entry.n_samples, self.frontend.min_samples,
                                     self.config.short_clips)
        todo, first_of_key = [], {}
        for i in positions:
            if i in found or not self.slice.owns(self.file_digests.get(i)):
                continue
            if keys[i] is not None and keys[i] in first_of_key:
                continue  # the same content under another name: computed once
            first_of_key.setdefault(keys[i], i)
            todo.append(i)
        todo.sort(key=lambda i: keys[i] or "")
        if todo:
            logging.info("Computing %s (%s) of %d clips (%d stored)", self.frontend.key,
                         examples.SEGMENT_NAMES[segment], len(todo), len(found))
            found.update(self._compute(segment, todo, store, keys))
        for i in positions:  # duplicates share the first one's entry
            if i not in found and keys[i] in first_of_key and first_of_key[keys[i]] in found:
                found[i] = found[first_of_key[keys[i]]]
        return store, keys, found

    def _compute(self, segment, todo, store, keys):
        self.frontend.load()
        frontend, policy = self.frontend, self.config.short_clips
        plan = self.config.plan(segment)
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
        progress = console.progress(len(todo), "clip")
        compute = graph_calls.traced(clip_rows, tf.TensorSpec([None], tf.float32),
                                     tf.TensorSpec([], tf.int64))
        with store.writer() as writer:
            for rows, counts, n_samples, k in graph_calls.map_in_threads(compute, waves):
                i = todo[k]
                progress.add(1)
                path = self.index.clips[i].path
                if not np.all(np.isfinite(rows)):  # Never trained on, never stored.
                    self.report.skip(path, _non_finite_reason(rows, segment))
                elif keys[i] is None:  # Unreadable when hashed, readable now.
                    self.report.skip(path, "could not be read to take its digest")
                else:
                    writer.add(keys[i], rows, counts, int(n_samples))
                    found[i] = feature_store.Entry(None, [int(c) for c in counts],
                                                   int(n_samples))
        progress.update(len(todo), finalize=True)
        return found


def _store_root(config):
    """``<cache_dir>/features/v<format>``, or a folder removed when the process ends."""
    if config.cache_dir:
        return os.path.join(config.cache_dir, "features", f"v{feature_store.FORMAT}")
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
    return stored_examples.StoredExamples(
        {segment: stored_examples.StoredSegment(store, [keys[i] for i in kept],
                                                [found[i].counts for i in kept])
         for segment, (store, keys, found) in parts.items()},
        [index.clips[i].song_id for i in kept], [index.clips[i].label for i in kept],
        index.class_names, frontend, report, config.eval_excerpts.count,
        config.memory_budget_mb << 20)
