"""Latency of one 30 s song through each system's SavedModel and TFLite file.

    PYTHONPATH=/path/to/ai-edge-litert python bench/predict.py [--systems=mlp,cnn,cnn_plus,musicnn] [--repeats=3] [--clips=4]

For each system (mlp.flags, cnn.flags, cnn_plus.flags, musicnn.flags; VGGish needs
TF-Hub and is left out) it builds the front end and an untrained head (latency does not
depend on the weights; the head's standardisation is adapted to a few clips so its
answers are not saturated), exports it as the trainer does (SavedModel with
``classify_waveform``; ``model.tflite`` traced for builtin ops; its float16 twin), then
times ``classify_waveform`` on the first of ``--clips`` songs of ``--data_dir`` (30 s at
the system's rate, tiled where the file is shorter: gtzan_mini's clips are 15-20 s;
synthetic 30 s clips when the folder is absent):

- SavedModel, ``tf.lite.Interpreter`` and, in a subprocess that imports no TensorFlow,
  the edge runtime ``ai-edge-litert`` (``requirements-bench.txt``; "n/a" when it is
  not importable), each the median of ``--repeats`` calls after one warm-up call, one
  after the other in this run; the ratio TFLite / SavedModel;
- whether the file needs the Flex delegate, its size, and whether the float16 file
  answers like the float32 one (same genre, largest probability difference) on the
  ``--clips`` songs (whose examples also adapt the head's standardisation) and on two
  synthetic clips.

Timings on a shared machine are noisy: read the ratios, not the milliseconds.
"""

import common  # noqa: F401  (first: quiet TensorFlow, project on sys.path, flags)

import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from absl import app, flags  # noqa: E402

from genre_tf import backbones, console  # noqa: E402
from genre_tf.audio import decode  # noqa: E402
from genre_tf.export import endpoints, saved_model, tflite  # noqa: E402
from genre_tf.features import statistics  # noqa: E402
from genre_tf.frontends import embedding, feature_stats, spectrogram  # noqa: E402
from genre_tf.models import heads  # noqa: E402
from tests import fixtures  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_list("systems", ["mlp", "cnn", "cnn_plus", "musicnn"],
                  "Systems to time (keys of SYSTEMS).")
flags.DEFINE_integer("repeats", 3, "Timed calls per runtime (median reported).")

SONG_SECONDS = 30
CLASSES = tuple(f"genre_{k}" for k in range(10))


def _mlp():
    return feature_stats.FeatureStatsFrontEnd(statistics.FeatureConfig()), heads.DenseHead()


def _cnn():  # cnn.flags: the clip cropped to the shortest of GTZAN (~29.9 s), 512x512
    config = spectrogram.ImageConfig(crop_samples=int(29.9 * 22050))
    return spectrogram.SpectrogramFrontEnd(config), heads.CnnHead()


def _cnn_plus():  # cnn_plus.flags: 2.95 s mel crops every 1.5 s, each votes
    config = spectrogram.ImageConfig(image_size=0, crop_seconds=2.95,
                                     crop_hop_seconds=1.5)
    return (spectrogram.SpectrogramFrontEnd(config),
            heads.CnnHead(final_conv_dim=16, base_filters=16, max_filters=64,
                          batch_norm=True, spec_augment=True, standardization="per_band",
                          classifier="time_pool"))


def _musicnn():  # musicnn.flags: the pooled layer, a linear head
    config = backbones.BackboneConfig("MSD_musicnn", layer="pooled",
                                      frame_hop_seconds=1.5)
    return embedding.EmbeddingFrontEnd(config), heads.DenseHead(hidden_units=())


# Name -> () -> (front end, head config).
SYSTEMS = {"mlp": _mlp, "cnn": _cnn, "cnn_plus": _cnn_plus, "musicnn": _musicnn}

# Runs in a subprocess without TensorFlow: argv = model path, waveform .npy, repeats.
_EDGE_RUNTIME = """
import json, sys, time
import numpy as np
from ai_edge_litert.interpreter import Interpreter
path, clip, repeats = sys.argv[1], np.load(sys.argv[2]), int(sys.argv[3])
runner = Interpreter(model_path=path, num_threads=%d).get_signature_runner(%r)
answer = runner(waveform=clip)
seconds, cpu_seconds = [], []
for _ in range(repeats):
    started, cpu_started = time.perf_counter(), time.process_time()
    runner(waveform=clip)
    seconds.append(time.perf_counter() - started)
    cpu_seconds.append(time.process_time() - cpu_started)
print(json.dumps({"ms": 1e3 * float(np.median(seconds)),
                  "cpu_ms": 1e3 * float(np.median(cpu_seconds)),
                  "probabilities": answer["probabilities"].tolist()}))
"""


def _median_ms(call, repeats):
    """Median wall and CPU time (this process, all threads) of ``call()`` in ms, after
    one warm-up call; and its answer. On a busy machine wall time mostly measures the
    wait for a core; CPU time is the work."""
    answer = call()
    seconds, cpu_seconds = [], []
    for _ in range(repeats):
        started, cpu_started = time.perf_counter(), time.process_time()
        call()
        seconds.append(time.perf_counter() - started)
        cpu_seconds.append(time.process_time() - cpu_started)
    return (1e3 * float(np.median(seconds)), 1e3 * float(np.median(cpu_seconds))), answer


def _songs(sample_rate):
    """``{name: 30 s waveform}`` of ``--clips`` songs of --data_dir at
    ``sample_rate`` (spread over the genres; a shorter file repeated), else of
    synthetic clips."""
    try:
        paths = common.sample_paths()
    except (OSError, ValueError):
        paths = []
    if not paths:
        return {f"synthetic_{seed}": fixtures.music_like(SONG_SECONDS, sr=sample_rate,
                                                         seed=seed)
                for seed in range(4)}
    return {os.path.basename(path): np.resize(  # tiled to 30 s, or cut
        decode.read_waveform(path, sample_rate), SONG_SECONDS * sample_rate).astype(
            np.float32)
        for path in paths}


def _export(name, folder):
    """(front end, songs, paths: SavedModel dir, float32 and float16 .tflite) of an
    untrained ``name`` system whose standardisation is adapted to the songs."""
    frontend, head = SYSTEMS[name]()
    frontend.load()
    songs = _songs(frontend.sample_rate)
    train = np.concatenate([frontend.examples(tf.constant(song)).numpy()
                            for song in songs.values()])
    model = head.build(frontend.example_shape, len(CLASSES), train, frontend)
    policy = "repeat"
    paths = {}
    with console.quiet_export():
        paths["saved_model"] = saved_model.export_saved_model(
            model, os.path.join(folder, name), CLASSES,
            endpoints.waveform_endpoints(frontend, model, policy), frontend.trackables())
        for quantization in (None, "float16"):
            paths[quantization] = tflite.export_tflite(
                model, frontend, policy, CLASSES,
                os.path.join(folder, f"{name}_{quantization or 'float32'}.tflite"),
                quantization)
    return frontend, songs, paths


def _edge_runtime_ms(path, clip, folder):
    """((median wall ms, CPU ms), probabilities) in ai-edge-litert, or (None, reason)."""
    clip_path = os.path.join(folder, "clip.npy")
    np.save(clip_path, clip)
    script = _EDGE_RUNTIME % (os.cpu_count(), tflite.SIGNATURE)
    result = subprocess.run([sys.executable, "-c", script, path, clip_path,
                             str(FLAGS.repeats)], capture_output=True, text=True,
                            check=False)
    if result.returncode:
        return None, result.stderr.strip().splitlines()[-1][:120]
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    return (answer["ms"], answer["cpu_ms"]), np.array(answer["probabilities"])


def _lite_runner(path):
    interpreter = tf.lite.Interpreter(model_path=path, num_threads=os.cpu_count())
    return interpreter.get_signature_runner(tflite.SIGNATURE)


def _measure(name, folder):
    frontend, songs, paths = _export(name, folder)
    song_name, song = next(iter(songs.items()))
    loaded = tf.saved_model.load(paths["saved_model"])
    (saved_ms, saved_cpu_ms), saved = _median_ms(
        lambda: loaded.classify_waveform(tf.constant(song))["probabilities"].numpy(),
        FLAGS.repeats)
    runner = _lite_runner(paths[None])
    (lite_ms, _), lite = _median_ms(lambda: runner(waveform=song)["probabilities"],
                               FLAGS.repeats)
    edge_times, edge = _edge_runtime_ms(paths[None], song, folder)
    edge_ms, edge_cpu_ms = edge_times or (None, None)
    half_runner = _lite_runner(paths["float16"])
    clips = list(songs.values()) + [fixtures.music_like(5.0, sr=frontend.sample_rate,
                                                        seed=s) for s in (7, 8)]
    same_genre, largest_difference = True, 0.0
    for clip in clips:
        full = runner(waveform=clip)["probabilities"]
        half = half_runner(waveform=clip)["probabilities"]
        same_genre &= bool(np.argmax(full) == np.argmax(half))
        largest_difference = max(largest_difference, float(np.abs(full - half).max()))
    with open(paths[None], "rb") as handle:
        blob = handle.read()
    return {
        "system": name, "song": song_name, "saved_model_ms": saved_ms,
        "tflite_ms": lite_ms, "edge_ms": edge_ms, "saved_model_cpu_ms": saved_cpu_ms,
        "edge_cpu_ms": edge_cpu_ms,
        "edge_note": "" if edge_ms is not None else edge,
        "lite_vs_saved_model": float(np.abs(lite - saved).max()),
        "edge_vs_lite": (float(np.abs(edge - lite).max()) if edge_ms is not None
                         else None),
        "flex": tflite.flex_ops(blob), "mb": len(blob) / 1e6,
        "float16_mb": os.path.getsize(paths["float16"]) / 1e6,
        "float16_same_genre": same_genre, "float16_max_diff": largest_difference,
    }


def _print(rows):
    print(f"{'system':9} {'SavedModel':>10} {'TFLite':>8} {'LiteRT':>8} {'TFLite/SM':>9} "
          f"{'LiteRT/SM':>9} {'Flex':>5} {'MB':>5} {'f16 MB':>6}  float16 agreement")
    for row in rows:
        edge = (f"{row['edge_ms']:6.0f}ms" if row["edge_ms"] is not None else "    n/a")
        edge_ratio = (f"{row['edge_ms'] / row['saved_model_ms']:9.2f}"
                      if row["edge_ms"] is not None else f"{'n/a':>9}")
        print(f"{row['system']:9} {row['saved_model_ms']:8.0f}ms {row['tflite_ms']:6.0f}ms "
              f"{edge} {row['tflite_ms'] / row['saved_model_ms']:9.2f} {edge_ratio} "
              f"{'yes' if row['flex'] else 'no':>5} {row['mb']:5.1f} "
              f"{row['float16_mb']:6.1f}  "
              f"{'same genre' if row['float16_same_genre'] else 'GENRE DIFFERS'}, "
              f"max |dp| {row['float16_max_diff']:.1e}")
    print(f"CPU time per call (ms, all threads of the process): {'system':9} "
          f"{'SavedModel':>10} {'LiteRT':>8} {'LiteRT/SM':>9}")
    for row in rows:
        if row["edge_cpu_ms"] is not None:
            print(f"{'':52}{row['system']:9} {row['saved_model_cpu_ms']:8.0f}ms "
                  f"{row['edge_cpu_ms']:6.0f}ms "
                  f"{row['edge_cpu_ms'] / row['saved_model_cpu_ms']:9.2f}")
    for row in rows:
        notes = [f"song {row['song']}",
                 f"TFLite vs SavedModel max |dp| {row['lite_vs_saved_model']:.1e}"]
        if row["edge_vs_lite"] is not None:
            notes.append(f"LiteRT vs TFLite max |dp| {row['edge_vs_lite']:.1e}")
        if row["flex"]:
            notes.append("Flex ops: " + ", ".join(row["flex"]))
        if row["edge_note"]:
            notes.append("LiteRT: " + row["edge_note"])
        print(f"{row['system']}: " + "; ".join(notes))


def main(argv):
    del argv
    unknown = set(FLAGS.systems) - set(SYSTEMS)
    if unknown:
        raise app.UsageError(f"unknown --systems {sorted(unknown)}; choose from "
                             f"{sorted(SYSTEMS)}")
    print(f"{os.cpu_count()} CPU threads for every runtime; median of {FLAGS.repeats} "
          "calls after a warm-up; one 30 s song per system")
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_predict_") as folder:
        for name in FLAGS.systems:
            rows.append(_measure(name, folder))
            print(json.dumps(rows[-1]), flush=True)
    _print(rows)


if __name__ == "__main__":
    app.run(main)
