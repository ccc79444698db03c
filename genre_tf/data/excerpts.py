"""Random excerpts of songs: short and partial inputs for training and evaluation.

A model trained and scored only on whole clips says nothing about how it answers the
2-3 s snippets users actually send. An ``ExcerptPlan`` draws ``count`` excerpts per song
with random offsets and lengths; the draw depends only on the plan's seed and the song's
id (not on which other songs are in the data), and is expressed as fractions so it can
be cut inside the graph once the clip's length is known. The same ``cut`` serves the
training excerpts (``--train_excerpts_per_song``) and the evaluation excerpts
(``--excerpt_seconds``).
"""

import dataclasses
import hashlib

import numpy as np
import tensorflow as tf


@dataclasses.dataclass(frozen=True)
class ExcerptPlan:
    """``count`` excerpts per song, each ``min_seconds``..``max_seconds`` long.

    Attributes:
      count: excerpts per song (0: none).
      min_seconds, max_seconds: excerpt length range (equal: a fixed length).
      seed: the draw's seed.
    """
    count: int = 0
    min_seconds: float = 2.5
    max_seconds: float = 2.5
    seed: int = 0

    def __post_init__(self):
        if self.count and not 0 < self.min_seconds <= self.max_seconds:
            raise ValueError(f"excerpt lengths need 0 < min <= max, got "
                             f"{self.min_seconds}..{self.max_seconds} s")

    def fractions(self, song_id):
        """float32 ``[count, 2]``: (offset fraction, length fraction) of each excerpt."""
        digest = hashlib.sha1(f"{self.seed}|{song_id}".encode()).digest()
        rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
        return rng.random((self.count, 2)).astype(np.float32)

    def key(self):
        return f"x{self.count}-{self.min_seconds}-{self.max_seconds}-s{self.seed}"


def cut(waveform, fraction, plan, sample_rate, min_samples=0):
    """One excerpt of ``waveform`` (graph code).

    Args:
      waveform: float32 ``[samples]``.
      fraction: float32 ``[2]`` from ``ExcerptPlan.fractions``.
      plan: the ``ExcerptPlan``.
      sample_rate: Hz.
      min_samples: excerpts are at least this long (where the clip allows): the caller's
        policy refuses to fill shorter input.

    Returns:
      float32 ``[length]``, length clipped to the clip's own.
    """
    n = tf.shape(waveform)[0]
    seconds = plan.min_seconds + fraction[1] * (plan.max_seconds - plan.min_seconds)
    length = tf.cast(tf.round(seconds * sample_rate), tf.int32)
    length = tf.minimum(tf.maximum(length, min_samples), n)
    start = tf.cast(tf.floor(fraction[0] * tf.cast(n - length, tf.float32)), tf.int32)
    return waveform[start:start + length]
