"""Long input cut into windows and handed over in batches, never all at once.

An hour at 16 kHz is 57.6 M samples, 230 MB as float32. Cut into 3 s windows that hop
1.5 s it would be 2400 copies of 48000 samples, 460 MB, and more the more the windows
overlap. So the windows are a strided view of the waveform (``sliding_window_view``)
and only one batch of them at a time is copied out: memory stays bounded by the
waveform plus one batch, whatever the number of windows.

Windows start every ``hop`` samples. Where the last of them stops short of the end, one
more window ends exactly at the end (overlapping its predecessor), so no tail of a song
goes unheard.
"""

import numpy as np


def window_starts(n_samples, window, hop):
    """First sample of every window of a ``n_samples`` waveform.

    Args:
      n_samples: length of the waveform; at least ``window``.
      window, hop: window length and the step between window starts, in samples.

    Returns:
      int64 ``[windows]``, ascending; the last window ends at ``n_samples``.
    """
    if n_samples < window:
        raise ValueError(f"{n_samples} samples are shorter than one {window}-sample window")
    starts = np.arange(0, n_samples - window + 1, hop, dtype=np.int64)
    if starts[-1] + window < n_samples:
        starts = np.append(starts, n_samples - window)
    return starts


def window_batches(waveform, window, hop, batch_size):
    """Yields the windows of ``waveform`` a batch at a time.

    Args:
      waveform: float32 ``[samples]``, at least ``window`` long.
      window, hop: as in ``window_starts``.
      batch_size: windows per batch (the last batch may hold fewer).

    Yields:
      ``(starts, windows)``: int64 ``[b]`` first samples, and a float32 ``[b, window]``
      copy of just those windows.
    """
    view = np.lib.stride_tricks.sliding_window_view(waveform, window)  # No copy.
    starts = window_starts(waveform.shape[0], window, hop)
    for first in range(0, starts.size, batch_size):
        batch_starts = starts[first:first + batch_size]
        yield batch_starts, view[batch_starts]  # Fancy indexing copies this batch only.
