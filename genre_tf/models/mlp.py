"""The dense head of systems 1 and 3: the study's MLP on feature statistics, and the
classifier on pretrained embeddings."""

import keras

from genre_tf.models import standardize as standardize_lib


def default_hidden_units(n_features, n_classes):
    """The study's width: the mean of the input and output sizes."""
    return max(1, (n_features + n_classes) // 2)


def build_mlp(n_features, n_classes, train_features, hidden_units=(0,), dropout=0.5,
              name="feature_mlp", trunk=None):
    """Standardise -> [Dense(ReLU) -> Dropout] per hidden layer -> Dense(softmax).

    System 1 uses one hidden layer (the study); system 3 puts the same head on
    pretrained embeddings.

    Standardisation is a Normalization layer (``standardize.Standardize``) adapted to
    the *training* rows only, so the model takes raw feature vectors and no test
    statistics leak into training.

    Args:
      n_features: input width.
      n_classes: output width.
      train_features: float ``[rows, n_features]`` of the training split.
      hidden_units: width of each hidden layer; 0 means ``default_hidden_units``.
      dropout: dropout rate after each hidden layer.
      name: the model's name.
      trunk: optional trainable model applied to the inputs instead of standardisation
        (e.g. a pretrained backbone's top, to fine-tune it with the head).

    Returns:
      An uncompiled ``keras.Model`` from ``features`` to class probabilities.
    """
    inputs = keras.Input((n_features,), name="features")
    if trunk is None:
        standardize = standardize_lib.Standardize(name="standardize")
        standardize.adapt(train_features)
        x = standardize(inputs)
    else:
        x = trunk(inputs)
    for depth, units in enumerate(hidden_units):
        suffix = f"_{depth}" if depth else ""
        units = units or default_hidden_units(n_features, n_classes)
        x = keras.layers.Dense(units, activation="relu", name="hidden" + suffix)(x)
        x = keras.layers.Dropout(dropout, name="dropout" + suffix)(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name=name)
