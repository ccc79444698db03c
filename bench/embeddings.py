"""musicnn embeddings per clip: the project's extraction versus the original extractor.

    python bench/embeddings.py [--data_dir=../shared/data/gtzan_mini] [--clips=20]
        [--backbone_layer=max_pool] [--frame_hop_seconds=1.5]

Both sides embed the same ``--clips`` files (spread over the genres) with the
``MSD_musicnn`` checkpoint of the PyPI package ``musicnn`` 0.1.0, 3 s patches at the
same hop (``musicnn.flags``: ``max_pool`` every 1.5 s, i.e. every 94 mel frames):

- original: ``musicnn.extractor.extractor(file, model='MSD_musicnn', input_length=3,
  input_overlap=..., extract_features=True)``, its TF1 graph, in a subprocess with
  ``TF_USE_LEGACY_KERAS=1``, file after file as the package is meant to be used (each
  call decodes with librosa, builds the graph and restores the checkpoint, then runs
  every patch); ``input_overlap`` is chosen so that its patch step equals ours;
- project: ``genre_tf.data.extraction.extract`` of the songs into a fresh feature
  store (decode in tf.data, mel front end and backbone in the graph, store writes),
  the backbone loaded beforehand (once per run, like the checkpoint restore of a
  single extractor call).

s/clip = wall seconds over all clips / clips, each side after one warm-up on the
first clip (excluded), both including decoding from file. The ratio is the original's
s/clip over the project's, measured in the same run, back to back. CPU seconds (every
thread of each process) are printed too: on a shared machine they move less with the
other load than wall time does. The embeddings are compared
(largest difference relative to the largest magnitude of the original's).
"""

import json
import os
import subprocess
import sys
import tempfile
import time

import common  # noqa: F401  (sets up TF logging and sys.path first)
import librosa
import numpy as np
from absl import app

from genre_tf import backbones
from genre_tf.backbones import musicnn, musicnn_params
from genre_tf.data import discovery, examples, extraction
from genre_tf.frontends import embedding

FLAGS = common.FLAGS
FLAGS.set_default("backbone_layer", "max_pool")  # as musicnn.flags
FLAGS.set_default("frame_hop_seconds", 1.5)

# Times each extractor() call (after a warm-up) and saves the embeddings, one file each.
_ORIGINAL_SCRIPT = """
import json, sys, time
import numpy as np
from musicnn.extractor import extractor
paths, overlap, layer, out = json.loads(sys.argv[1])
extractor(paths[0], model='MSD_musicnn', input_length=3, input_overlap=overlap,
          extract_features=True)
started, cpu_started = time.perf_counter(), time.process_time()
for k, path in enumerate(paths):
    features = extractor(path, model='MSD_musicnn', input_length=3,
                         input_overlap=overlap, extract_features=True)[2]
    np.save(f"{out}/{k}.npy", features[layer])
print(json.dumps([time.perf_counter() - started, time.process_time() - cpu_started]))
"""


def original_overlap_seconds(hop_frames):
    """An ``input_overlap`` (the extractor's patch step, in seconds) that
    ``librosa.time_to_frames`` turns into ``hop_frames``."""
    seconds = (hop_frames * musicnn_params.HOP_LENGTH + musicnn_params.N_FFT // 2
               + musicnn_params.HOP_LENGTH // 2) / musicnn_params.SAMPLE_RATE
    frames = int(librosa.time_to_frames(seconds, sr=musicnn_params.SAMPLE_RATE,
                                        n_fft=musicnn_params.N_FFT,
                                        hop_length=musicnn_params.HOP_LENGTH))
    assert frames == hop_frames, (seconds, frames, hop_frames)
    return seconds


def original_embeddings(paths, hop_frames, layer, folder):
    """(embeddings per clip, wall seconds, CPU seconds) of the original extractor."""
    argument = json.dumps([paths, original_overlap_seconds(hop_frames), layer, folder])
    environment = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="3",
                       CUDA_VISIBLE_DEVICES="")
    result = subprocess.run([sys.executable, "-c", _ORIGINAL_SCRIPT, argument],
                            check=True, capture_output=True, text=True, env=environment)
    seconds, cpu_seconds = json.loads(result.stdout.strip().splitlines()[-1])
    return [np.load(f"{folder}/{k}.npy") for k in range(len(paths))], seconds, cpu_seconds


def clip_index(paths):
    """A ``ClipIndex`` of ``paths`` whose classes are the genres among them."""
    genres = sorted({os.path.basename(os.path.dirname(p)) for p in paths})
    clips = [discovery.Clip(p, genres.index(os.path.basename(os.path.dirname(p))),
                            os.path.splitext(os.path.basename(p))[0]) for p in paths]
    return discovery.ClipIndex(clips, genres, os.path.dirname(os.path.dirname(paths[0])))


def project_embeddings(frontend, paths):
    """Embeddings per clip from ``extraction.extract`` into a fresh store (no cache)."""
    stored = extraction.extract(clip_index(paths), frontend, examples.ExampleConfig())
    rows = {}
    for x, _, song in stored.evaluation_dataset(np.arange(len(paths)), 4096):
        for row, k in zip(x.numpy(), song.numpy()):
            rows.setdefault(int(k), []).append(row)
    return [np.stack(rows[k]) for k in range(len(paths))]


def main(argv):
    del argv
    paths = common.sample_paths()
    config = backbones.BackboneConfig("MSD_musicnn", layer=FLAGS.backbone_layer,
                                      frame_hop_seconds=FLAGS.frame_hop_seconds)
    frontend = embedding.EmbeddingFrontEnd(config).load()
    hop_frames = musicnn.MusicnnBackbone.hop_frames_for(frontend.config.frame_hop_seconds)
    project_embeddings(frontend, paths[:1])  # warm-up (traces), outside the timing
    started, cpu_started = time.perf_counter(), time.process_time()
    ours = project_embeddings(frontend, paths)
    project_seconds = time.perf_counter() - started
    project_cpu = time.process_time() - cpu_started
    with tempfile.TemporaryDirectory(prefix="genre_tf_bench_") as folder:
        theirs, original_seconds, original_cpu = original_embeddings(paths, hop_frames,
                                                       frontend.config.layer, folder)
    worst = max(float(np.max(np.abs(a - b))) / float(np.max(np.abs(b)))
                for a, b in zip(ours, theirs))
    shapes_match = all(a.shape == b.shape for a, b in zip(ours, theirs))
    n = len(paths)
    print(f"clips: {n} from {FLAGS.data_dir}; MSD_musicnn {frontend.config.layer}, "
          f"3 s patches every {hop_frames} frames ({sum(len(a) for a in ours)} patches); "
          f"CPU cores: {os.cpu_count()}")
    print(f"original extractor (TF1 graph): {original_seconds / n:7.3f} s/clip "
          f"({original_seconds:.1f} s; CPU {original_cpu / n:.3f} s/clip)")
    print(f"project extraction:             {project_seconds / n:7.3f} s/clip "
          f"({project_seconds:.1f} s; CPU {project_cpu / n:.3f} s/clip)")
    print(f"speed-up project / original: {original_seconds / project_seconds:.1f}x "
          f"(CPU seconds: {original_cpu / project_cpu:.1f}x)")
    print(f"same patches per clip: {shapes_match}; largest difference relative to the "
          f"original's largest magnitude: {worst:.2e}")


if __name__ == "__main__":
    app.run(main)
