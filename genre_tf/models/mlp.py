"""System 1's head: the study's one-hidden-layer MLP on feature statistics."""

import keras


def default_hidden_units(n_features, n_classes):
    """The study's width: the mean of the input and output sizes."""
    return max(1, (n_features + n_classes) // 2)


def build_mlp(n_features, n_classes, train_features, hidden_units=0, dropout=0.5):
    """Standardise -> Dense(ReLU) -> Dropout -> Dense(softmax).

    Standardisation is a Normalization layer adapted to the *training* rows only, so the
    model takes raw feature vectors and no test statistics leak into training.

    Args:
      n_features: input width.
      n_classes: output width.
      train_features: float ``[rows, n_features]`` of the training split.
      hidden_units: hidden width; 0 means ``default_hidden_units``.
      dropout: dropout rate after the hidden layer.

    Returns:
      An uncompiled ``keras.Model`` from ``features`` to class probabilities.
    """
    hidden_units = hidden_units or default_hidden_units(n_features, n_classes)
    standardize = keras.layers.Normalization(axis=-1, name="standardize")
    standardize.adapt(train_features)
    inputs = keras.Input((n_features,), name="features")
    x = standardize(inputs)
    x = keras.layers.Dense(hidden_units, activation="relu", name="hidden")(x)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="feature_mlp")
