"""What a front end is: a TF function from a mono waveform to a head's examples.

Every system is a front end plus a head. Training (``genre_tf.data.examples``),
evaluation and the exported ``classify_waveform`` (``genre_tf.export.endpoints``) all
call the same ``examples`` function, so a SavedModel user gets the answers the run
measured. The shared code needs only the facts declared here:

- ``sample_rate``: the rate waveforms arrive at;
- ``min_samples``: the shortest input ``examples`` takes; shorter input is filled first
  by the run's short-clip policy (``genre_tf.audio.fill``);
- ``window_samples`` / ``hop_samples``: the span of audio one example covers and the
  step between examples (None for front ends that summarise a whole clip in one
  example); long files are streamed through the model in such windows;
- ``key``: every setting that changes an example, for caches.
"""

import abc

from genre_tf.audio import fill


class FrontEnd(abc.ABC):
    """Waveform -> examples ``[n, *example_shape]``."""

    name = "frontend"
    # True when examples are a pure function of the waveform, so they can be computed
    # once and cached as rows; False when training draws new random crops each epoch.
    cacheable = True

    @property
    @abc.abstractmethod
    def sample_rate(self):
        """Rate, in Hz, of the waveforms ``examples`` takes."""

    @property
    @abc.abstractmethod
    def min_samples(self):
        """Shortest waveform ``examples`` takes; shorter input is filled first."""

    @property
    def window_samples(self):
        """Samples one example covers; None: the whole clip is one example."""
        return None

    @property
    def hop_samples(self):
        """Samples between consecutive examples' windows; None with ``window_samples``."""
        return None

    @property
    @abc.abstractmethod
    def key(self):
        """A string that changes whenever an example would change."""

    @abc.abstractmethod
    def examples(self, waveform):
        """float32 ``[samples >= min_samples]`` -> ``[n >= 1, *example_shape]`` (TF ops)."""

    def load(self):
        """Loads what ``examples`` needs (weights, modules) eagerly; returns self.

        Call it before ``examples`` is traced into a ``tf.data`` function or an export:
        weights assigned while tracing would be graph ops that never run, leaving the
        network at its random initialisation.
        """
        return self

    @property
    def training_examples_per_clip(self):
        """How many examples ``training_examples`` gives per clip (at least)."""
        return 1

    def training_examples(self, waveform, seed=None):
        """Examples to train on; random front ends (crops) override it."""
        del seed
        return self.examples(waveform)

    @property
    @abc.abstractmethod
    def example_shape(self):
        """Shape of one example, without the leading example axis."""

    def fit_to_data(self, clip_lengths):
        """A front end whose settings follow the data (the study's CNN crops every clip
        to the shortest); ``clip_lengths`` in samples. Default: itself."""
        del clip_lengths
        return self

    def run_name(self):
        """Default run-folder name."""
        return self.name

    def trackables(self):
        """Objects ``examples`` uses that the export must save (e.g. a backbone)."""
        return []

    @abc.abstractmethod
    def describe(self):
        """The settings, for metrics.json and model_info.json (JSON-serialisable)."""

    def feature_names(self):
        """Column names of vector examples, or None."""
        return None


def filled_examples(frontend, waveform, policy, training=False, seed=None):
    """The front end's examples of a waveform filled by the short-clip ``policy`` (graph
    code): the one path from audio to examples that training, evaluation and the
    exported model share."""
    waveform = fill.fill(waveform, frontend.min_samples, policy)
    if training:
        return frontend.training_examples(waveform, seed)
    return frontend.examples(waveform)
