"""genre_tf: music genre recognition in TensorFlow/Keras.

The package follows the pipeline a clip travels through:

    audio -> features -> data -> models -> training -> evaluation -> export

Each sub-package has one job; the three systems of the study (feature-statistics MLP,
spectrogram CNN, pretrained-embedding transfer) share everything except their front end
and head.
"""

__version__ = "0.1.0"
