"""Front ends: TF functions from a mono waveform to a head's examples.

A new front end is one module here, one entry in ``FRONTENDS`` (its name is the
``--system`` flag value) and one flag file at the project root.
"""

from genre_tf.frontends import embedding, feature_stats, spectrogram

FRONTENDS = {
    "mlp": feature_stats.FeatureStatsFrontEnd,
    "cnn": spectrogram.SpectrogramFrontEnd,
    "embedding": embedding.EmbeddingFrontEnd,
}


def create(name, config):
    """The front end ``name`` built from its config object."""
    try:
        return FRONTENDS[name](config)
    except KeyError:
        raise ValueError(f"unknown --system={name}; choose from "
                         f"{', '.join(sorted(FRONTENDS))}") from None
