"""Inputs predict refuses to answer for, though they decode: too short, or silent.

A model answers every waveform, with confidence: a 1-sample WAV tiled to the model's
window came out ``metal 0.91``, and 5 s of digital silence got a genre too. Those
answers describe the fill and the model's bias, not the file, so predict reports such
inputs as failed, with the reason, and goes on with the others (exit status 1):

- shorter than ``min_seconds`` (``--min_seconds``, default 0.5 s): ``too short (0.010 s;
  predict needs at least 0.5 s, --min_seconds)`` (under a millisecond: ``(1 sample;``). Input from there up to the model's own
  minimum is still filled by the model's short-clip policy, which is meant for snippets
  of a second or more: a tiled 10 ms blip is a buzz, not music.
- silent: no sample reaches ``SILENCE_DBFS`` (-90 dBFS, just above the last bit of
  16-bit audio): ``silent (all samples are zero)`` or ``silent (peak -96.3 dBFS, below
  -90 dBFS)``.

Training keeps its own policy for short clips (``--short_clips``); nothing here runs
there. A file without any sample is already refused by the decoder (``no audio
samples``).
"""

import numpy as np

from genre_tf.inference import records

# The loudest peak that still counts as digital silence, in dB relative to full scale.
# One step of 16-bit audio is -90.3 dBFS, so dithered silence counts; any music does not.
SILENCE_DBFS = -90.0


def peak_dbfs(waveform):
    """The largest absolute sample in dB relative to full scale (-inf for all zeros).
    Reads the waveform twice instead of copying it (``np.abs``): an hour is 230 MB."""
    peak = max(float(np.max(waveform)), -float(np.min(waveform)))
    return 20.0 * np.log10(peak) if peak > 0 else -np.inf


def refusal(waveform, sample_rate, min_seconds):
    """Why predict will not classify a decoded ``waveform`` (float32 ``[samples]`` at
    ``sample_rate``, at least one sample), or None."""
    n_samples = waveform.shape[0]
    seconds = n_samples / sample_rate
    if seconds < min_seconds:
        length = (f"{records.seconds_text(seconds)} s" if seconds >= 0.001 else
                  f"{n_samples} sample{'s' * (n_samples != 1)}")  # not "0.000 s"
        return (f"too short ({length}; predict needs at least {min_seconds:g} s, "
                "--min_seconds)")
    peak = peak_dbfs(waveform)
    if peak == -np.inf:
        return "silent (all samples are zero)"
    if peak < SILENCE_DBFS:
        return f"silent (peak {peak:.1f} dBFS, below {SILENCE_DBFS:g} dBFS)"
    return None
