"""The interface every system implements for the shared cross-validation driver."""

import abc


class System(abc.ABC):
    """A front end and a head.

    After ``prepare``, ``song_ids``, ``song_labels`` and ``class_names`` describe the
    songs that can be used; splits index into them. Examples may be several per song
    (segments, crops, frames); ``example_songs`` says which song each one is.
    """

    name = "system"

    def __init__(self):
        self.song_ids = None
        self.song_labels = None
        self.class_names = None

    @classmethod
    @abc.abstractmethod
    def from_flags(cls, flag_values):
        """Builds the system from parsed absl flags."""

    @abc.abstractmethod
    def prepare(self, report):
        """Loads or computes what the front end needs; records bad files in ``report``."""

    @abc.abstractmethod
    def dataset(self, songs, training, batch_size, seed=0):
        """Batched ``(inputs, label)`` examples of ``songs``.

        Training datasets are shuffled across songs; evaluation datasets are in the
        order ``example_songs(songs)`` describes.
        """

    @abc.abstractmethod
    def example_songs(self, songs):
        """Song index of each example ``dataset(songs, training=False)`` yields."""

    @abc.abstractmethod
    def build_model(self, train_songs):
        """An uncompiled Keras model; statistics may come from ``train_songs`` only."""

    def export_endpoints(self, model):
        """Extra SavedModel endpoints ``{name: (tf_function, input_signature)}``."""
        del model
        return {}

    def search_space(self, hp):
        """Draws head hyperparameters from a KerasTuner ``hp``; returns them by flag name."""
        raise NotImplementedError(f"{self.name} defines no search space")

    def apply_hyperparameters(self, values):
        """Sets head options from ``{flag name: value}`` (as ``search_space`` returns)."""
        raise NotImplementedError(f"{self.name} defines no search space")

    @property
    @abc.abstractmethod
    def sample_rate(self):
        """Rate, in Hz, of the waveforms the front end (and ``classify_waveform``) takes."""

    def run_name(self):
        """Default name of a run folder: the system, and its backbone if any."""
        return self.name

    def export_trackables(self):
        """Objects the exported endpoints use besides the model (e.g. a backbone)."""
        return []

    def describe(self):
        """The settings recorded in metrics.json."""
        return {"system": self.name}
