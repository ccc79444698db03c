"""A small procedurally generated demo dataset, so every system runs on a fresh machine.

THIS IS NOT MUSIC DATA. Each "genre" is a recipe (tempo range, drum pattern, swing,
chord type, timbre, distortion) that a seeded generator renders into short clips laid out
like GTZAN (``<root>/<genre>/<genre>.000NN.flac``). Accuracy on it shows the pipeline
works end to end; it says nothing about real music. For that, point ``--data_dir`` at
GTZAN.

Clips are written at 16 kHz (so the decoder's resampling is exercised), mostly as FLAC
(tensorflow-io's decoder) with every fourth clip as Sun ``.au`` (soundfile's), about
8 MB in all, and reused while ``demo.json`` matches the requested settings.
"""

import dataclasses
import json
import os

import numpy as np
import soundfile
from absl import logging

from genre_tf.audio import params

DEMO_SAMPLE_RATE = 16000

# 16-step patterns (one bar of 16th notes): 1 = hit.
_FOUR = "1000100010001000"
_BACKBEAT = "0000100000001000"


@dataclasses.dataclass(frozen=True)
class GenreRecipe:
    """How one synthetic genre sounds."""
    bpm: tuple          # tempo range
    kick: str           # 16-step pattern
    snare: str
    hat: str
    swing: float        # delay of off-beat 16ths, share of a 16th
    chord: tuple        # semitones above the root
    harmonics: float    # spectral tilt of the chord voice: amplitude n ** -harmonics
    distortion: float   # tanh drive of the chord voice (0 = clean)
    chord_steps: str    # when chords are struck
    chord_decay: float  # seconds
    bass_octave: int    # root octave of the bass (2 = ~65 Hz)


RECIPES = {
    "blues": GenreRecipe((78, 92), "1000001010000000", _BACKBEAT, "1011101110111011", 0.6,
                         (0, 4, 7, 10), 1.6, 0.5, "1000000010000000", 0.9, 2),
    "classical": GenreRecipe((60, 76), "0" * 16, "0" * 16, "0" * 16, 0.0,
                             (0, 4, 7, 12), 2.2, 0.0, "1000100010001000", 1.6, 3),
    "country": GenreRecipe((100, 118), "1000000010000000", _BACKBEAT, "1010101010101010",
                           0.0, (0, 4, 7), 1.0, 0.0, "1010101010101010", 0.25, 2),
    "disco": GenreRecipe((116, 128), _FOUR, _BACKBEAT, "0010001000100010", 0.0,
                         (0, 4, 7, 11), 1.2, 0.2, "0010001000100010", 0.2, 2),
    "hiphop": GenreRecipe((84, 98), "1000000110100000", _BACKBEAT, "1010101010101010",
                          0.15, (0, 3, 7), 1.8, 0.0, "1000000000000000", 1.2, 1),
    "jazz": GenreRecipe((130, 160), "1000000000000000", "0000000000000010",
                        "1000101110001011", 0.6, (0, 4, 7, 11, 14), 2.0, 0.0,
                        "1000001000100000", 0.6, 2),
    "metal": GenreRecipe((150, 180), "1111111111111111", _BACKBEAT, "1010101010101010",
                         0.0, (0, 7, 12), 0.8, 6.0, "1111111111111111", 0.12, 1),
    "pop": GenreRecipe((104, 120), "1000000010100000", _BACKBEAT, "1010101010101010", 0.0,
                       (0, 4, 7), 1.3, 0.1, "1000000010000000", 0.7, 2),
    "reggae": GenreRecipe((66, 78), "0000000010000000", "0000000010000000",
                          "0010001000100010", 0.1, (0, 3, 7), 1.1, 0.3,
                          "0010001000100010", 0.12, 1),
    "rock": GenreRecipe((112, 136), "1000000010100000", _BACKBEAT, "1010101010101010",
                        0.0, (0, 7, 12), 1.0, 2.5, "1010101010101010", 0.3, 2),
}


def _envelope(n, sample_rate, decay):
    return np.exp(-np.arange(n) / (decay * sample_rate))


def _kick(sample_rate, rng):
    n = int(0.25 * sample_rate)
    t = np.arange(n) / sample_rate
    sweep = 2 * np.pi * np.cumsum(45 + 80 * np.exp(-t / 0.03)) / sample_rate
    return np.sin(sweep) * _envelope(n, sample_rate, 0.12) * rng.uniform(0.8, 1.0)


def _snare(sample_rate, rng):
    n = int(0.2 * sample_rate)
    noise = rng.standard_normal(n) * _envelope(n, sample_rate, 0.06)
    tone = np.sin(2 * np.pi * 185 * np.arange(n) / sample_rate) * _envelope(
        n, sample_rate, 0.04)
    return 0.5 * noise + 0.4 * tone


def _hat(sample_rate, rng):
    n = int(0.06 * sample_rate)
    return 0.25 * np.diff(rng.standard_normal(n + 1)) * _envelope(n, sample_rate, 0.015)


def _voice(freqs, duration, recipe, sample_rate):
    """A struck chord: additive partials with spectral tilt, then optional drive."""
    n = int(duration * sample_rate)
    t = np.arange(n) / sample_rate
    out = np.zeros(n)
    for f in freqs:
        for k in range(1, 9):
            if k * f < 0.45 * sample_rate:
                out += k ** -recipe.harmonics * np.sin(2 * np.pi * k * f * t)
    out *= _envelope(n, sample_rate, recipe.chord_decay) * np.minimum(1, t / 0.005)
    if recipe.distortion:
        out = np.tanh(recipe.distortion * out) / np.tanh(recipe.distortion)
    return out / max(len(freqs), 1)


def _add(track, sound, start):
    end = min(len(track), start + len(sound))
    if start < end:
        track[start:end] += sound[:end - start]


def render_clip(recipe, seconds, sample_rate, rng):
    """One seeded clip of a recipe, float32 in [-1, 1]."""
    bpm = rng.uniform(*recipe.bpm)
    step = 60.0 / bpm / 4  # a 16th note, seconds
    root = 2 ** (rng.integers(0, 12) / 12)
    track = np.zeros(int(seconds * sample_rate))
    kick, snare = _kick(sample_rate, rng), _snare(sample_rate, rng)
    for i in range(int(seconds / step) + 1):
        position = i % 16
        start = int(((i + (recipe.swing * 0.5 if i % 2 else 0)) * step) * sample_rate)
        if recipe.kick[position] == "1":
            _add(track, kick, start)
        if recipe.snare[position] == "1":
            _add(track, snare, start)
        if recipe.hat[position] == "1":
            _add(track, _hat(sample_rate, rng), start)
        if recipe.chord_steps[position] == "1":
            bar = i // 16
            degree = (0, 5, 7, 0)[bar % 4]  # I-IV-V-I
            base = 130.8 * root * 2 ** (degree / 12)
            chord = [base * 2 ** (s / 12) for s in recipe.chord]
            _add(track, 0.5 * _voice(chord, 4 * step + recipe.chord_decay, recipe,
                                     sample_rate), start)
            bass = 32.7 * 2 ** recipe.bass_octave * root * 2 ** (degree / 12)
            _add(track, 0.4 * _voice([bass], 2 * step, recipe, sample_rate), start)
    track += 0.003 * rng.standard_normal(len(track))
    return (0.9 * track / np.max(np.abs(track))).astype(np.float32)


def make_demo_dataset(root, clips_per_genre=8, seconds=5.0, seed=0):
    """Writes (or reuses) the demo dataset under ``root``; returns ``root``."""
    settings = {"clips_per_genre": clips_per_genre, "seconds": seconds, "seed": seed,
                "sample_rate": DEMO_SAMPLE_RATE, "version": 1}
    marker = os.path.join(root, "demo.json")
    if os.path.isfile(marker):
        with open(marker) as handle:
            if json.load(handle) == settings:
                return root
    logging.info("Writing the synthetic demo dataset (%d clips) to %s",
                 clips_per_genre * len(RECIPES), root)
    for genre_index, genre in enumerate(params.GTZAN_GENRES):
        folder = os.path.join(root, genre)
        os.makedirs(folder, exist_ok=True)
        for k in range(clips_per_genre):
            rng = np.random.default_rng([seed, genre_index, k])
            clip = render_clip(RECIPES[genre], seconds, DEMO_SAMPLE_RATE, rng)
            extension = ".au" if k % 4 == 3 else ".flac"
            soundfile.write(os.path.join(folder, f"{genre}.{k:05d}{extension}"), clip,
                            DEMO_SAMPLE_RATE, subtype="PCM_16")
    with open(marker, "w") as handle:
        json.dump(settings, handle)
    return root
