"""Synthetic audio with known answers, and the optional real-music folder."""

import os

import numpy as np
import soundfile
from absl import logging

SR = 22050
MINI_GTZAN = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "shared",
                                           "data", "gtzan_mini"))
SPLIT_LISTS = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..",
                                            "shared", "data", "gtzan_splits",
                                            "fault_filtered"))


def tone(freq, seconds=2.0, sr=SR, amplitude=0.5):
    t = np.arange(int(seconds * sr)) / sr
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def click_track(bpm, seconds=12.0, sr=SR):
    """Short decaying noise bursts every beat: tempo ``bpm``."""
    rng = np.random.default_rng(0)
    y = np.zeros(int(seconds * sr), np.float32)
    burst = (rng.standard_normal(int(0.02 * sr)) * np.exp(-np.arange(int(0.02 * sr)) / 60.0))
    for start in np.arange(0, seconds, 60.0 / bpm):
        i = int(start * sr)
        y[i:i + burst.size] += burst[:max(0, min(burst.size, y.size - i))]
    return y


def music_like(seconds=3.0, sr=SR, seed=0):
    """A chirp, a chord and noise: broadband, changing, deterministic."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    chirp = np.sin(2 * np.pi * (200 * t + 600 * t ** 2))
    chord = sum(np.sin(2 * np.pi * f * t) for f in (261.6, 329.6, 392.0))
    return (0.3 * chirp + 0.2 * chord + 0.05 * rng.standard_normal(t.size)).astype(
        np.float32)


def write_audio(path, waveform, sr=SR, subtype="PCM_16"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    soundfile.write(path, waveform, sr, subtype=subtype)
    return path


def real_clips(n=2):
    """Paths of ``n`` real GTZAN clips from ../shared/data, or [] where absent."""
    if not os.path.isdir(MINI_GTZAN):
        return []
    genres = sorted(os.listdir(MINI_GTZAN))
    return [os.path.join(MINI_GTZAN, g, f"{g}.00000.wav") for g in genres[:n]]


# Three "genres" of tones at well separated pitches: any working pipeline learns them.
TONE_GENRES = {"low": 150.0, "mid": 700.0, "high": 3000.0}


def tone_genre_clip(genre, k, seconds=1.0):
    """Clip ``k`` of a tone genre: its pitch, detuned by 3% per k, plus noise."""
    rng = np.random.default_rng(k)
    y = tone(TONE_GENRES[genre] * (1 + 0.03 * k), seconds=seconds)
    return (y + 0.05 * rng.standard_normal(y.size)).astype(np.float32)


def write_tone_genres(root, per_genre=6, seconds=1.0):
    """Writes ``<root>/<genre>/<genre>.000NN.wav`` for the tone genres; returns root."""
    for genre in TONE_GENRES:
        for k in range(per_genre):
            write_audio(os.path.join(root, genre, f"{genre}.{k:05d}.wav"),
                        tone_genre_clip(genre, k, seconds))
    return root


def run_train(*args, script="train.py"):
    """Runs train.py (or ``script``) with ``args``; returns the CompletedProcess, raising
    on failure."""
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    result = subprocess.run([sys.executable, os.path.join(root, script), *args],
                            capture_output=True, text=True, cwd=root, timeout=900)
    if result.returncode:
        raise AssertionError(result.stdout + result.stderr[-4000:])
    return result


def two_class_rows(shift=0.0):
    """In-memory examples: two well separated classes of 4 one-row songs; ``shift``
    changes song 0's content only (same names, other data)."""
    from genre_tf.data import examples  # pylint: disable=import-outside-toplevel
    features = np.repeat(np.asarray([[0.0], [5.0]], np.float32), 4, axis=0)
    features[0] += shift
    n = len(features)
    return examples.RowExamples(
        features, np.arange(n), np.full(n, examples.SONG), np.full(n, -1),
        [f"{'ab'[i // 4]}/{'ab'[i // 4]}.{i:05d}" for i in range(n)], np.arange(n) // 4,
        ["a", "b"])


def log_info_during(test_case):
    """absl logs at INFO until ``test_case`` ends: other tests in the same pytest
    process may have lowered the verbosity, and ``assertLogs`` would see nothing."""
    verbosity = logging.get_verbosity()
    logging.set_verbosity(logging.INFO)
    test_case.addCleanup(logging.set_verbosity, verbosity)
