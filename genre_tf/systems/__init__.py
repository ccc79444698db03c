"""A system is a front end (waveform -> examples) plus a head (examples -> genres).

Everything else (examples, splits, trainer, evaluation, export) is shared and written
once. The study's three systems and their heads:

    mlp        feature statistics        -> dense head (``models.heads.DenseHead``)
    cnn        spectrogram crops/images  -> block CNN  (``models.heads.CnnHead``)
    embedding  pretrained backbone frames -> dense head (or musicnn's own top)

A new system is one front end module (``genre_tf.frontends``) and one flag file.
"""

import dataclasses

from genre_tf import frontends


@dataclasses.dataclass(frozen=True)
class SystemConfig:
    """Which front end with which settings, and which head.

    Attributes:
      name: a key of ``genre_tf.frontends.FRONTENDS`` (the ``--system`` flag).
      frontend: the front end's config object (None: examples come from a features
        CSV, so there is no waveform front end).
      head: a head config from ``genre_tf.models.heads``.
    """
    name: str
    frontend: object
    head: object


class System:
    """A front end and a head, built from a ``SystemConfig``."""

    def __init__(self, config):
        self.config = config
        self.name = config.name
        self.frontend = (frontends.create(config.name, config.frontend)
                         if config.frontend is not None else None)
        self.head = config.head
        if getattr(config.head, "needs_musicnn", False) and not (
                config.frontend and config.frontend.name.endswith("musicnn")):
            raise ValueError("--finetune_top needs a musicnn backbone: a TF-Hub model "
                             "cannot be split into frozen and trainable parts")

    def with_frontend(self, frontend):
        """The same system with a front end fitted to the data (see
        ``FrontEnd.fit_to_data``)."""
        self.frontend = frontend
        return self

    def with_head(self, head):
        self.head = head
        return self

    def build_model(self, examples, train_songs):
        """An uncompiled head; its statistics come from ``train_songs`` only."""
        return self.head.build(examples.example_shape, len(examples.class_names),
                               examples.head_sample(train_songs), self.frontend)

    def run_name(self):
        """Default name of a run folder: the system, or its backbone."""
        return self.frontend.run_name() if self.frontend else self.name

    def describe(self):
        """The settings recorded in metrics.json and model_info.json."""
        front = self.frontend.describe() if self.frontend else {"frontend": "features_csv"}
        return {"system": self.name, **front, "head": type(self.head).__name__,
                **{f"head_{k}": v for k, v in dataclasses.asdict(self.head).items()}}
