"""Feature vectors per second: the project's extraction versus librosa file by file.

    python bench/features.py [--data_dir=../shared/data/gtzan_mini] [--clips=30]

All sides start from the same files and produce the same vectors (checked). genre_tf
runs what extraction runs: files decoded in tf.data, the traced feature graph called per
clip from one thread per core (``genre_tf.data.graph_calls`` says why not
``Dataset.map``). librosa
reads each file with ``librosa.load`` and computes the features
(``genre_tf.features.librosa_reference``) two ways: sharing one STFT per window size
through ``S=`` (the fast way), and calling each feature on the waveform (the way most
feature-extraction scripts are written), each in one process, and the fast way spread
over every core with joblib. Prints clips/s for each and the ratios, the CPU time per
clip of the sides in this process (its ratio moves less with the machine's load than
wall clock), then where the time of one clip goes: each stage of the feature graph as its own ``tf.function`` on the
decoded clips, CPU milliseconds per clip (CPU time, not wall time, so that other load on
the machine inflates it less), and the whole graph called per clip, next to the same
graph inside ``Dataset.map``.
"""

import functools
import os
import resource
import time

import common  # noqa: F401  (sets up TF logging and sys.path first)
import joblib
import librosa
import numpy as np
import tensorflow as tf
from absl import app

from genre_tf.data import graph_calls, pipeline
from genre_tf.features import (librosa_reference, rhythm, spectral, spectral_shape,
                               statistics, temporal)

FLAGS = common.FLAGS


def map_vectors(paths, config):
    """The feature graph inside ``Dataset.map`` (the profile's comparison)."""
    dataset = pipeline.waveform_dataset(paths, config.sample_rate, config.min_samples)
    vector_fn = statistics.feature_vector_function(config)
    dataset = dataset.map(
        lambda y, i: (vector_fn(y), i),
        num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
    return {int(i): v for v, i in dataset.as_numpy_iterator()}


def project_vectors(paths, config):
    """What extraction runs: files decoded in tf.data, the traced feature graph called
    per clip from one thread per core (``genre_tf.data.graph_calls``)."""
    dataset = pipeline.waveform_dataset(paths, config.sample_rate, config.min_samples)
    return {int(i): v for v, i in graph_calls.map_in_threads(_per_clip_call(config),
                                                             dataset)}


@functools.lru_cache(maxsize=None)
def _per_clip_call(config):
    """The traced per-clip call, made once per config as extraction makes it once per
    run, so the warm-up traces it and the timed run does not. (A new ``tf.function``
    per timed run traced and optimised the whole inlined feature graph inside the
    timing: ~3 s of CPU, ~150 ms per clip of a 20-clip run.)"""
    vector_fn = statistics.feature_vector_function(config)
    return graph_calls.traced(lambda y, i: (vector_fn(y), i),
                              tf.TensorSpec([None], tf.float32),
                              tf.TensorSpec([], tf.int64))


def librosa_vectors(paths, config, shared_stft=True):
    return {i: librosa_reference.feature_vector(
        librosa.load(p, sr=config.sample_rate)[0], config, shared_stft)
        for i, p in enumerate(paths)}


def _librosa_vector(path, config):
    return librosa_reference.feature_vector(librosa.load(path, sr=config.sample_rate)[0],
                                            config)


def librosa_parallel_vectors(paths, config, n_jobs):
    """The fast librosa recipe, files spread over ``n_jobs`` processes."""
    vectors = joblib.Parallel(n_jobs=n_jobs)(
        joblib.delayed(_librosa_vector)(p, config) for p in paths)
    return dict(enumerate(vectors))


def _stage_functions(config):
    """(name, function of the clip's waveform and its shared spectrograms) per stage.

    The inputs of every stage are computed beforehand, so each stage is timed alone.
    Stages that serve every window at once run at the first (ZCR and RMS) or at the
    2048 window (tempo) and are zeros at the others.
    """
    sr = config.sample_rate
    windows = [(n, n // 4) for n in config.window_sizes]
    stages = [("STFT -> power, magnitude (per window)",
               lambda y, n, power, mel_db: spectral.compute_power_spectrogram(y, n, n // 4))]
    for name in ("mel + chroma, mfcc", "contrast", "centroid, bandwidth, rolloff",
                 "flatness"):
        stages.append((f"{name} from the shared spectrogram",
                       lambda y, n, power, mel_db, name=name: _one_feature(
                           name, y, n, power, config)))
    stages.append(("zcr + rms (every window, one pass)",
                   lambda y, n, power, mel_db: temporal.compute_zcr_and_rms(y, windows)
                   if n == config.window_sizes[0] else tf.zeros([])))
    stages.append(("tempo (from the 2048 mel dB)", lambda y, n, power, mel_db: rhythm.compute_tempo(
        y, sr, n // 4, onset_envelope=rhythm.compute_onset_strength(
            y, sr, n, n // 4, mel_db=mel_db)) if n == 2048 else tf.zeros([])))
    return stages


def _one_feature(name, y, n_fft, power, config):
    sr, hop, magnitude = config.sample_rate, n_fft // 4, tf.sqrt(power)
    if name == "mel + chroma, mfcc":  # the mel dB is what MFCC and tempo share
        mel, chroma = spectral.compute_mel_and_chroma(power, sr, n_fft)
        mel_db = spectral.power_to_db(mel)
        return chroma, spectral.compute_mfcc(y, sr, n_fft, hop, config.n_mfcc,
                                             mel_db=mel_db)
    calls = {
        "contrast": lambda: spectral.compute_spectral_contrast(y, sr, n_fft, hop,
                                                               magnitude=magnitude),
        "centroid, bandwidth, rolloff": lambda: spectral_shape.compute_spectral_shape(
            magnitude, sr, n_fft),
        "flatness": lambda: spectral.compute_spectral_flatness(y, n_fft, hop,
                                                               magnitude=power, power=1.0),
    }
    return calls[name]()


def _with_cpu(function, *args):
    """(result, CPU milliseconds of this process, all its threads) of one call. Wall
    clock ratios move with the machine's load (other processes take the cores for
    seconds at a time); CPU time moves much less."""
    started = resource.getrusage(resource.RUSAGE_SELF)
    result = function(*args)
    ended = resource.getrusage(resource.RUSAGE_SELF)
    return result, 1000 * (ended.ru_utime + ended.ru_stime
                           - started.ru_utime - started.ru_stime)


def _cpu_ms_per_clip(function, inputs):
    """CPU milliseconds per call, after one untimed call that traces."""
    function(*inputs[0])
    started = time.process_time()
    for args in inputs:
        tf.nest.map_structure(lambda t: t.numpy(), function(*args))
    return 1000 * (time.process_time() - started) / len(inputs)


def print_stage_profile(paths, config):
    """CPU ms per clip of decoding, each stage of the feature graph, the statistics, and
    the whole graph called per clip outside tf.data, next to the tf.data pipeline."""
    waves = list(pipeline.waveform_dataset(paths, config.sample_rate, config.min_samples))
    started = time.process_time()
    list(pipeline.waveform_dataset(paths, config.sample_rate, config.min_samples))
    decode_ms = 1000 * (time.process_time() - started) / len(paths)
    print(f"  {'decode (tf.data, in-graph WAV)':44s} {decode_ms:7.1f}")
    rows = {}
    for n_fft in config.window_sizes:
        signature = [tf.TensorSpec([None], tf.float32),
                     tf.TensorSpec([None, n_fft // 2 + 1], tf.float32),
                     tf.TensorSpec([None, 128], tf.float32)]
        frames = tf.function(lambda y, n=n_fft: statistics.compute_frame_features(y, config, n),
                             input_signature=signature[:1])
        shared = [(y, frames(y)) for y, _ in waves]
        inputs = [(y, f["power"], f["mel_db"]) for y, f in shared]
        for name, stage in _stage_functions(config):
            function = tf.function(lambda y, p, m, n=n_fft, stage=stage: stage(y, n, p, m),
                                   input_signature=signature)
            rows[name] = rows.get(name, 0.0) + _cpu_ms_per_clip(function, inputs)
        stacked = [(tf.concat([f[name] for name, _ in config.frame_features()], -1),)
                   for _, f in shared]
        statistics_fn = tf.function(lambda x: [statistics.STATISTICS[s](x)
                                               for s in config.statistics],
                                    input_signature=[tf.TensorSpec([None, None], tf.float32)])
        rows["statistics"] = rows.get("statistics", 0.0) + _cpu_ms_per_clip(statistics_fn,
                                                                            stacked)
    for name, ms in rows.items():
        label = name if "tempo" in name or "every window" in name else f"{name} (all windows)"
        print(f"  {label:44s} {ms:7.1f}")
    vector_fn = statistics.feature_vector_function(config)
    before = resource.getrusage(resource.RUSAGE_SELF)
    whole = _cpu_ms_per_clip(vector_fn, [(y,) for y, _ in waves])
    after = resource.getrusage(resource.RUSAGE_SELF)
    kernel_ms = 1000 * (after.ru_stime - before.ru_stime) / (len(waves) + 1)
    faults = (after.ru_minflt - before.ru_minflt) / (len(waves) + 1)
    print(f"  {'whole vector, called per clip':44s} {whole:7.1f}  (kernel {kernel_ms:.1f} ms, "
          f"{faults:.0f} page faults; TF_CPU_ALLOCATOR_USE_BFC="
          f"{os.environ.get('TF_CPU_ALLOCATOR_USE_BFC', 'unset')})")
    started = time.process_time()
    map_vectors(paths, config)
    in_tf_data = 1000 * (time.process_time() - started) / len(paths)
    print(f"  {'decode + whole vector inside tf.data map':44s} {in_tf_data:7.1f}")


def main(argv):
    del argv
    paths = common.sample_paths()
    config = statistics.FeatureConfig()
    project_vectors(paths[:2], config)  # trace the graph once, outside the timing
    map_vectors(paths[:2], config)
    librosa_vectors(paths[:1], config)
    n_jobs = os.cpu_count()
    librosa_parallel_vectors(paths[:n_jobs], config, n_jobs)  # start and warm the workers
    (ours, tf_seconds), tf_cpu = _with_cpu(common.timed, project_vectors, paths, config)
    (theirs, librosa_seconds), librosa_cpu = _with_cpu(common.timed, librosa_vectors,
                                                       paths, config)
    (naive, naive_seconds), naive_cpu = _with_cpu(common.timed, librosa_vectors, paths,
                                                  config, False)
    parallel, parallel_seconds = common.timed(librosa_parallel_vectors, paths, config,
                                              n_jobs)
    assert all(np.allclose(parallel[i], theirs[i], rtol=1e-5, atol=1e-5) for i in theirs)
    assert all(np.allclose(naive[i], theirs[i], rtol=1e-4, atol=1e-4) for i in theirs)
    ours_matrix = np.stack([ours[i] for i in range(len(paths))])
    theirs_matrix = np.stack([theirs[i] for i in range(len(paths))])
    scale = np.maximum(np.abs(theirs_matrix).max(axis=0), 1e-3)
    worst = float(np.max(np.abs(ours_matrix - theirs_matrix) / scale))
    n = len(paths)
    print(f"clips: {n} from {FLAGS.data_dir}; vector length {ours_matrix.shape[1]}; "
          f"CPU cores: {os.cpu_count()}")
    print(f"genre_tf (decode in tf.data, feature graph in {os.cpu_count()} threads): "
          f"{n / tf_seconds:8.2f} clips/s ({tf_seconds:.1f} s)")
    print(f"librosa per file, one STFT per window: {n / librosa_seconds:8.2f} clips/s "
          f"({librosa_seconds:.1f} s)")
    print(f"librosa per file, each feature from y: {n / naive_seconds:8.2f} clips/s "
          f"({naive_seconds:.1f} s)")
    print(f"librosa, one STFT per window, joblib over {n_jobs} processes: "
          f"{n / parallel_seconds:8.2f} clips/s ({parallel_seconds:.1f} s)")
    print(f"speed-up genre_tf / librosa (one STFT per window): "
          f"{librosa_seconds / tf_seconds:.2f}x")
    print(f"speed-up genre_tf / librosa (each feature from y): "
          f"{naive_seconds / tf_seconds:.2f}x")
    print(f"speed-up genre_tf / librosa (one STFT per window, {n_jobs} processes): "
          f"{parallel_seconds / tf_seconds:.2f}x")
    print(f"CPU ms per clip (all threads of this process): genre_tf {tf_cpu / n:.0f}, "
          f"librosa one STFT per window {librosa_cpu / n:.0f} "
          f"({librosa_cpu / tf_cpu:.2f}x), each feature from y {naive_cpu / n:.0f} "
          f"({naive_cpu / tf_cpu:.2f}x)")
    print(f"largest difference between the two vectors, relative to each column's "
          f"range: {worst:.2e}")
    print("where the time goes, CPU ms per clip:")
    print_stage_profile(paths, config)


if __name__ == "__main__":
    app.run(main)
