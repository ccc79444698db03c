"""Pretrained audio backbones behind one interface: a frozen Keras layer that maps a
mono waveform at ``sample_rate`` to one embedding per frame, ``[frames, dim]``.

- TF-Hub models with VGGish's signature (VGGish, YAMNet), by handle, local folder or
  ``TFHUB_CACHE_DIR`` (``hub_backbone``);
- the MSD/MTT musicnn taggers of the PyPI package ``musicnn`` (ISC licence), rebuilt in
  Keras from its TF1 checkpoints: a real pretrained music backbone that works offline.

A new backbone is one entry in ``BACKBONES``.
"""

import dataclasses

from genre_tf.backbones import hub_backbone, musicnn

# Raised when a backbone's model cannot be loaded; commands treat it as a setting.
BackboneUnavailableError = hub_backbone.BackboneUnavailableError


@dataclasses.dataclass(frozen=True)
class BackboneConfig:
    """Which backbone, and how it frames audio; identifies cached embeddings.

    Attributes:
      name: a key of ``BACKBONES``.
      handle: TF-Hub handle or local SavedModel folder (hub models); None: the
        published one.
      layer: which embedding (musicnn: ``max_pool``, ``mean_pool``, ``penultimate``,
        ``taggram``, ``pooled``); None: the backbone's default.
      frame_hop_seconds: hop between frames; None: the backbone's own.
    """
    name: str = "MSD_musicnn"
    handle: str = None
    layer: str = None
    frame_hop_seconds: float = None

    def __post_init__(self):
        if self.name not in BACKBONES:
            raise ValueError(f"unknown backbone {self.name!r}; choose from "
                             f"{', '.join(sorted(BACKBONES))}")


@dataclasses.dataclass(frozen=True)
class BackboneEntry:
    """A registered backbone: its layer class and how to build it from a config."""
    layer_class: type
    build: object  # BackboneConfig -> layer
    resolve: object  # BackboneConfig -> BackboneConfig with defaults filled in


def _hub(model):
    spec = hub_backbone.KNOWN_HUB_MODELS[model]
    return BackboneEntry(
        hub_backbone.HubBackbone,
        lambda c: hub_backbone.HubBackbone(c.handle, model=model,
                                           frame_hop_seconds=c.frame_hop_seconds),
        lambda c: dataclasses.replace(c, handle=c.handle or spec.handle, layer=None))


def _musicnn(model):
    return BackboneEntry(
        musicnn.MusicnnBackbone,
        lambda c: musicnn.MusicnnBackbone(model, layer=c.layer,
                                          frame_hop_seconds=c.frame_hop_seconds),
        lambda c: dataclasses.replace(c, handle=None, layer=c.layer or "max_pool"))


BACKBONES = {
    "vggish": _hub("vggish"),
    "yamnet": _hub("yamnet"),
    "MSD_musicnn": _musicnn("MSD_musicnn"),
    "MTT_musicnn": _musicnn("MTT_musicnn"),
}


def resolve(config):
    """``config`` with the backbone's defaults (handle, layer) filled in."""
    return BACKBONES[config.name].resolve(config)


def layer_class(config):
    """The layer class: its rate, window and minimum input are known without loading."""
    return BACKBONES[config.name].layer_class


def create_backbone(config):
    """Loads the backbone ``config`` names (weights, TF-Hub module)."""
    config = resolve(config)
    return BACKBONES[config.name].build(config)
