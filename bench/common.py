"""What every benchmark shares: quiet TF (``console.import_tensorflow``), the project on
sys.path, the project's flags (``--data_dir`` defaults to ../shared/data/gtzan_mini
here), sampling and timing.

Import it first in a benchmark script (before TensorFlow).
"""

import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from genre_tf import console  # noqa: E402

console.import_tensorflow()  # before anything imports TF: keeps its C++ start-up noise out

from absl import flags  # noqa: E402

from genre_tf.data import discovery  # noqa: E402
from genre_tf.flags import FLAGS  # noqa: E402  (--data_dir means what it means everywhere)

FLAGS.set_default("data_dir", os.path.join(ROOT, "..", "shared", "data", "gtzan_mini"))
flags.DEFINE_integer("clips", 20, "Clips to time on each side (benchmarks only).")


def sample_paths():
    """``--clips`` paths spread evenly over the genres of ``--data_dir``."""
    clips = discovery.discover_clips(FLAGS.data_dir).clips
    return [c.path for c in clips[::max(1, len(clips) // FLAGS.clips)]][:FLAGS.clips]


def timed(function, *args):
    """(result, seconds) of one call."""
    started = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - started
