"""Pretrained audio backbones behind one interface: a frozen Keras layer that maps a
mono waveform at ``backbone.sample_rate`` to one embedding per frame, ``[frames, dim]``.

- ``hub``: any TF-Hub audio embedding model with VGGish's signature (VGGish, YAMNet),
  by handle, local folder or ``TFHUB_CACHE_DIR``.
- ``musicnn``: the MSD/MTT musicnn and VGG taggers of the PyPI package ``musicnn``
  (ISC licence), rebuilt in Keras and loaded from its TF1 checkpoints: a real pretrained
  music backbone that works offline.
"""

from genre_tf.backbones import hub_backbone, musicnn


def backbone_class(name):
    """The layer class of backbone ``name`` (its rate and minimum input are class facts)."""
    if name in hub_backbone.KNOWN_HUB_MODELS:
        return hub_backbone.HubBackbone
    if name in musicnn.MODELS:
        return musicnn.MusicnnBackbone
    raise ValueError(f"unknown backbone {name!r}; choose from "
                     f"{', '.join(sorted(hub_backbone.KNOWN_HUB_MODELS) + sorted(musicnn.MODELS))}")


def backbone_key(name, handle=None, layer=None, frame_hop_seconds=None):
    """What identifies a backbone's embeddings in the cache, without loading it."""
    if name in hub_backbone.KNOWN_HUB_MODELS:
        handle = handle or hub_backbone.KNOWN_HUB_MODELS[name].handle
        layer = None
    return f"{name}|{handle}|{layer or 'max_pool'}|{frame_hop_seconds or 'default'}"


def create_backbone(name, handle=None, layer=None, frame_hop_seconds=None):
    """Builds the backbone ``name`` ("vggish", "yamnet", or a musicnn model name)."""
    if name in hub_backbone.KNOWN_HUB_MODELS:
        return hub_backbone.HubBackbone(handle or hub_backbone.KNOWN_HUB_MODELS[name].handle,
                                        model=name, frame_hop_seconds=frame_hop_seconds)
    if name in musicnn.MODELS:
        return musicnn.MusicnnBackbone(name, layer=layer or "max_pool",
                                       frame_hop_seconds=frame_hop_seconds)
    return backbone_class(name)  # raises the ValueError naming the choices
