"""The study's systems: each is a front end (clips -> examples) plus a head (model).

Everything else (splits, trainer, evaluation, export) is shared. Adding a system is one
module here, one entry in ``SYSTEMS`` and one flag file at the project root.
"""

from genre_tf.systems import embedding, feature_stats, spectrogram

SYSTEMS = {
    "mlp": feature_stats.FeatureStatsSystem,
    "cnn": spectrogram.SpectrogramSystem,
    "embedding": embedding.EmbeddingSystem,
}


def create(flag_values):
    """Builds the system named by ``--system`` from parsed flags."""
    try:
        system_class = SYSTEMS[flag_values.system]
    except KeyError:
        raise ValueError(f"unknown --system={flag_values.system}; "
                         f"choose from {', '.join(sorted(SYSTEMS))}") from None
    return system_class.from_flags(flag_values)
