"""Memory and throughput against corpus size: the feature store keeps both flat.

    python bench/scale.py [--sizes=1000,4000,16000] [--clip_seconds=1.0]

For each size a fresh process (so peak RSS is that size's own):
1. writes that many synthetic clips (10 "genres" of tones in noise, 16-bit WAV; not
   timed), extracts the MLP's feature statistics into a feature store and trains the
   MLP head for one epoch, streaming;
2. writes synthetic rows of a realistic size straight into a second store (40 rows x 753
   floats per clip: a minute of musicnn frames, ~120 KB a clip, 1.9 GB at 16k clips) and
   trains the transfer head (standardisation adapted in a streamed pass, then one
   epoch), streaming.
Splits stream from disk (``memory_budget_mb=0``), the path a corpus larger than memory
takes. It prints clips/s for each stage and the peak RSS per size, then
``peak RSS ratio 16k/1k: X.XX`` (target <= 1.3) and the throughput ratios.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from genre_tf import console  # noqa: E402

console.import_tensorflow()  # first: keeps TF's C++ start-up noise out

import numpy as np  # noqa: E402
import soundfile  # noqa: E402
from absl import app, flags  # noqa: E402

flags.DEFINE_list("sizes", ["1000", "4000", "16000"], "Corpus sizes in clips.")
flags.DEFINE_float("clip_seconds", 1.0, "Length of each synthetic clip.")
flags.DEFINE_integer("child_size", 0, "Internal: measure one size in this process.")
flags.DEFINE_string("work", None, "Internal: the child's scratch folder.")
FLAGS = flags.FLAGS

_GENRES = 10
_ROWS_PER_CLIP, _ROW_WIDTH = 40, 753
_SAMPLE_RATE = 22050


def _peak_rss_mb():
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def write_clips(root, n, seconds):
    """``n`` clips in ``_GENRES`` folders: a genre's pitch, detuned per clip, in noise."""
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * _SAMPLE_RATE)) / _SAMPLE_RATE
    for k in range(n):
        genre = k % _GENRES
        pitch = 110.0 * 2 ** (genre / 2) * (1 + 0.01 * (k // _GENRES % 5))
        y = 0.4 * np.sin(2 * np.pi * pitch * t) + 0.05 * rng.standard_normal(t.size)
        folder = os.path.join(root, f"g{genre}")
        os.makedirs(folder, exist_ok=True)
        soundfile.write(os.path.join(folder, f"g{genre}.{k:06d}.wav"), y, _SAMPLE_RATE,
                        subtype="PCM_16")
    return root


def _fit_one_epoch(system, data, songs):
    from genre_tf.training import trainer  # pylint: disable=import-outside-toplevel
    model = system.build_model(data, songs)
    trainer.compile_model(model, trainer.TrainConfig(learning_rate=1e-3))
    model.fit(data.training_dataset(songs, 256), epochs=1, verbose=0)


def measure_audio(work, n):
    """Extracts the MLP features of ``n`` clips and trains its head; returns clips/s."""
    from genre_tf import systems  # pylint: disable=import-outside-toplevel
    from genre_tf.data import discovery, example_sets, examples  # pylint: disable=import-outside-toplevel
    from genre_tf.features import statistics  # pylint: disable=import-outside-toplevel
    from genre_tf.frontends import feature_stats  # pylint: disable=import-outside-toplevel
    from genre_tf.models import heads  # pylint: disable=import-outside-toplevel
    index = discovery.discover_clips(write_clips(os.path.join(work, "audio"), n,
                                                 FLAGS.clip_seconds))
    frontend = feature_stats.FeatureStatsFrontEnd(
        statistics.FeatureConfig(window_sizes=(512, 1024), tempo=False))
    config = examples.ExampleConfig(cache_dir=os.path.join(work, "cache"),
                                    memory_budget_mb=0)
    started = time.perf_counter()
    data = example_sets.build_examples(index, frontend, config)
    extracted = time.perf_counter()
    system = systems.System(systems.SystemConfig("mlp", None, heads.DenseHead()))
    system.with_frontend(data.frontend)
    _fit_one_epoch(system, data, np.arange(len(data.song_ids)))
    trained = time.perf_counter()
    return n / (extracted - started), n / (trained - extracted)


def measure_rows(work, n):
    """Writes ``n`` clips of musicnn-sized rows into a store and trains the transfer
    head on them, streaming; returns clips/s of writing and of training."""
    from genre_tf import systems  # pylint: disable=import-outside-toplevel
    from genre_tf.data import feature_store, pipeline, stored_examples  # pylint: disable=import-outside-toplevel
    from genre_tf.models import heads  # pylint: disable=import-outside-toplevel
    store = feature_store.FeatureStore(os.path.join(work, "rows"))
    rng = np.random.default_rng(1)
    centres = rng.standard_normal((_GENRES, _ROW_WIDTH)).astype(np.float32)
    started = time.perf_counter()
    with store.writer() as writer:
        for k in range(n):
            rows = centres[k % _GENRES] + rng.standard_normal(
                (_ROWS_PER_CLIP, _ROW_WIDTH), np.float32)
            writer.add(f"{k:040x}", rows, [_ROWS_PER_CLIP], 16000 * 60)
    written = time.perf_counter()
    segment = stored_examples.StoredSegment(
        store, [f"{k:040x}" for k in range(n)], [[_ROWS_PER_CLIP]] * n)
    data = stored_examples.StoredExamples(
        {stored_examples.SONG: segment}, [f"clip{k}" for k in range(n)],
        np.arange(n) % _GENRES, [f"g{g}" for g in range(_GENRES)], None,
        pipeline.DecodeReport(), memory_budget_bytes=0)
    system = systems.System(systems.SystemConfig("musicnn", None, heads.DenseHead()))
    started_training = time.perf_counter()
    _fit_one_epoch(system, data, np.arange(n))
    trained = time.perf_counter()
    return n / (written - started), n / (trained - started_training)


def child(n):
    work = FLAGS.work
    extract, mlp = measure_audio(work, n)
    write, transfer = measure_rows(work, n)
    print(json.dumps({"clips": n, "extract_clips_per_s": extract, "mlp_clips_per_s": mlp,
                      "store_write_clips_per_s": write,
                      "transfer_clips_per_s": transfer, "peak_rss_mb": _peak_rss_mb()}))


def parent():
    results = []
    print(f"{'clips':>6} {'extract/s':>10} {'mlp fit/s':>10} {'rows write/s':>13} "
          f"{'transfer fit/s':>15} {'peak RSS MB':>12}", flush=True)
    for size in (int(s) for s in FLAGS.sizes):
        work = tempfile.mkdtemp(prefix=f"genre_tf_scale_{size}_")
        try:
            out = subprocess.run(
                [sys.executable, os.path.abspath(__file__), f"--child_size={size}",
                 f"--work={work}", f"--clip_seconds={FLAGS.clip_seconds}"],
                capture_output=True, text=True, check=False)
            if out.returncode:
                raise SystemExit(out.stderr[-3000:])
            result = json.loads(out.stdout.strip().splitlines()[-1])
        finally:
            shutil.rmtree(work, ignore_errors=True)
        results.append(result)
        print(f"{size:>6} {result['extract_clips_per_s']:>10.1f} "
              f"{result['mlp_clips_per_s']:>10.1f} {result['store_write_clips_per_s']:>13.1f} "
              f"{result['transfer_clips_per_s']:>15.1f} {result['peak_rss_mb']:>12.0f}",
              flush=True)
    first, last = results[0], results[-1]
    name = f"{last['clips'] // 1000}k/{first['clips'] // 1000}k" if first["clips"] >= 1000 \
        else f"{last['clips']}/{first['clips']}"
    for key, label in (("extract_clips_per_s", "extraction"), ("mlp_clips_per_s", "mlp fit"),
                       ("transfer_clips_per_s", "transfer fit")):
        print(f"throughput ratio {name} ({label}): {last[key] / first[key]:.2f}")
    print(f"peak RSS ratio {name}: {last['peak_rss_mb'] / first['peak_rss_mb']:.2f}")


def main(argv):
    del argv
    if FLAGS.child_size:
        child(FLAGS.child_size)
    else:
        parent()


if __name__ == "__main__":
    app.run(main)
