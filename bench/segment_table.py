"""Builds a segment features table in the layout of Kaggle's GTZAN ``features_3_sec.csv``.

    python bench/segment_table.py --data_dir=PATH --output=segments_3_sec.csv
    python train.py --flagfile=mlp_plus.flags --features_csv=segments_3_sec.csv
    python bench/baselines.py --flagfile=mlp_plus.flags --features_csv=segments_3_sec.csv

Why: the published table holds the 1000 GTZAN clips; to compare the head with the
baselines on *that layout* with songs we have (gtzan_mini), we compute the same columns
with librosa, as the table's authors did. Each clip of ``--data_dir`` is read at 22050 Hz
(the project's decoder) and cut into up to ``--segments_per_clip`` consecutive
``--segment_seconds`` segments (a clip shorter than one segment gives one row of its
whole length). Per segment (librosa defaults: n_fft 2048, hop 512), the mean and the
variance over frames (over samples for ``harmony``/``perceptr``) of:
chroma_stft (all 12 bins pooled), rms, spectral_centroid, spectral_bandwidth, rolloff,
zero_crossing_rate, harmony and perceptr (the harmonic and percussive waveforms of
``librosa.effects.hpss``), the global ``tempo`` and mfcc1..20.

Rows are named ``<clip stem>.<k>.wav`` (``blues.00000.3.wav``: song ``blues.00000``,
segment 3), so ``genre_tf.data.feature_table`` groups a song's rows into one split. A
stem that does not end in ``.<number>`` (``my song``) gets ``.0`` appended first
(``my song.0.3.wav``): otherwise each of its segments would be read as a song of its
own and one song's segments could land in both training and test.
"""

import csv
import os
import re
import time

import common  # noqa: F401  (sets up TF logging, sys.path and --data_dir first)
import numpy as np
from absl import app, flags, logging

from genre_tf.audio import decode
from genre_tf.data import discovery

flags.DEFINE_string("output", "segments_3_sec.csv", "Where to write the table (CSV).")
flags.DEFINE_float("segment_seconds", 3.0, "Segment length, seconds (Kaggle: 3).")
flags.DEFINE_integer("segments_per_clip", 10, "Most segments per clip (Kaggle: 10).")
FLAGS = flags.FLAGS

SAMPLE_RATE = 22050
N_MFCC = 20
# The published table's columns, in its order.
_MEAN_VAR = ("chroma_stft", "rms", "spectral_centroid", "spectral_bandwidth", "rolloff",
             "zero_crossing_rate", "harmony", "perceptr")
COLUMNS = (["filename", "length"]
           + [f"{name}_{stat}" for name in _MEAN_VAR for stat in ("mean", "var")]
           + ["tempo"]
           + [f"mfcc{k}_{stat}" for k in range(1, N_MFCC + 1) for stat in ("mean", "var")]
           + ["label"])
_SONG_NUMBER = re.compile(r"\.\d+$")


def segment_features(segment, sample_rate=SAMPLE_RATE):
    """{column: value} of one segment's features (every column but filename, length and
    label), as the published table computes them."""
    import librosa  # pylint: disable=import-outside-toplevel  (bench-only dependency)
    y = np.asarray(segment, np.float32)
    stft = np.abs(librosa.stft(y))
    harmonic, percussive = librosa.effects.hpss(y)
    frames = {
        "chroma_stft": librosa.feature.chroma_stft(S=stft ** 2, sr=sample_rate),
        "rms": librosa.feature.rms(y=y),
        "spectral_centroid": librosa.feature.spectral_centroid(S=stft, sr=sample_rate),
        "spectral_bandwidth": librosa.feature.spectral_bandwidth(S=stft, sr=sample_rate),
        "rolloff": librosa.feature.spectral_rolloff(S=stft, sr=sample_rate),
        "zero_crossing_rate": librosa.feature.zero_crossing_rate(y),
        "harmony": harmonic,
        "perceptr": percussive,
    }
    row = {}
    for name, values in frames.items():
        row[f"{name}_mean"] = float(np.mean(values))
        row[f"{name}_var"] = float(np.var(values))
    row["tempo"] = float(np.atleast_1d(librosa.feature.tempo(y=y, sr=sample_rate))[0])
    mfcc = librosa.feature.mfcc(y=y, sr=sample_rate, n_mfcc=N_MFCC)
    for k in range(N_MFCC):
        row[f"mfcc{k + 1}_mean"] = float(np.mean(mfcc[k]))
        row[f"mfcc{k + 1}_var"] = float(np.var(mfcc[k]))
    return row


def segments_of(waveform, segment_samples, most):
    """Up to ``most`` consecutive whole segments; the whole clip if shorter than one."""
    n = min(most, len(waveform) // segment_samples)
    if n == 0:
        return [waveform]
    return [waveform[k * segment_samples:(k + 1) * segment_samples] for k in range(n)]


def segment_name(path, k):
    """``blues.00000.wav``, 3 -> ``blues.00000.3.wav`` (see the module docstring)."""
    stem = os.path.splitext(os.path.basename(path))[0]
    if not _SONG_NUMBER.search(stem):
        stem += ".0"
    return f"{stem}.{k}.wav"


def clip_rows(path, label, segment_seconds=3.0, most=10, sample_rate=SAMPLE_RATE):
    """The table's rows of one clip."""
    waveform = decode.read_waveform(path, sample_rate)
    rows = []
    for k, segment in enumerate(segments_of(waveform, int(round(segment_seconds
                                                                * sample_rate)), most)):
        rows.append({"filename": segment_name(path, k), "length": len(segment),
                     **segment_features(segment, sample_rate), "label": label})
    return rows


def write_table(rows, path):
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def main(argv):
    del argv
    index = discovery.discover_clips(FLAGS.data_dir)
    rows, started = [], time.time()
    for n, clip in enumerate(index.clips):
        try:
            rows += clip_rows(clip.path, index.class_names[clip.label],
                              FLAGS.segment_seconds, FLAGS.segments_per_clip)
        except Exception as error:  # pylint: disable=broad-except  (one bad file)
            logging.warning("%s: cannot decode (%s); skipped", clip.path, error)
        if (n + 1) % 10 == 0:
            logging.info("%d/%d clips, %.0f s", n + 1, len(index.clips),
                         time.time() - started)
    print(f"{len(rows)} rows of {len(index.clips)} clips written to "
          f"{write_table(rows, FLAGS.output)} in {time.time() - started:.0f} s")


if __name__ == "__main__":
    app.run(main)
