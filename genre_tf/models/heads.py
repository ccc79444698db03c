"""Heads: the trainable Keras model on a front end's examples, one registry entry each.

A head is built from the shape of one example, the class count and a sample of the
training inputs (which its standardisation layer adapts to, so test songs never shape
it); it also names the hyperparameters KerasTuner may search. A new head is one class
here and one entry in ``HEADS``.
"""

import dataclasses

import keras

from genre_tf.models import cnn, mlp


def add_l2(model, l2):
    """Adds ``l2 * sum(w ** 2)`` of every dense kernel of ``model`` to its loss.

    Why: on a few hundred songs a head overfits frames within a few epochs, and early
    stopping on ~10 valid songs is a noisy brake; an L2 penalty is what keeps logistic
    regression (``bench/baselines.py``) steady there. ``l2 ~ 1 / (2 C n_rows)`` is
    scikit-learn's ``LogisticRegression(C)`` on ``n_rows`` rows. Set on the built
    variables (Keras sums ``variable.regularizer`` into ``model.losses``), so the
    builders stay as they are.
    """
    if l2:
        for layer in model.layers:
            if isinstance(layer, keras.layers.Dense):
                layer.kernel.regularizer = keras.regularizers.L2(l2)
    return model


@dataclasses.dataclass(frozen=True)
class DenseHead:
    """Standardise -> dense hidden layers -> softmax (systems 1 and 3); ``l2``: the
    kernels' L2 penalty (``add_l2``; 0: none, the study)."""
    hidden_units: tuple = (0,)
    dropout: float = 0.5
    l2: float = 0.0

    def build(self, example_shape, n_classes, train_sample, frontend=None):
        del frontend
        return add_l2(mlp.build_mlp(int(example_shape[-1]), n_classes, train_sample,
                                    self.hidden_units, self.dropout), self.l2)

    @staticmethod
    def search_space(hp):
        return {"hidden_units": hp.Choice("hidden_units", [0, 64, 128, 256, 512]),
                "dropout": hp.Float("dropout", 0.0, 0.6, step=0.1)}

    def with_values(self, values):
        return dataclasses.replace(self, hidden_units=(int(values["hidden_units"]),),
                                   dropout=float(values["dropout"]))


@dataclasses.dataclass(frozen=True)
class FinetunedTopHead(DenseHead):
    """musicnn's pretrained top (batch norm, dense 200, batch norm), trained together
    with a dense head from cached ``pooled`` embeddings (``--finetune_top``)."""
    needs_musicnn = True  # a class fact, not a field: the system checks its backbone

    def build(self, example_shape, n_classes, train_sample, frontend=None):
        from genre_tf.backbones import musicnn  # pylint: disable=import-outside-toplevel
        top = musicnn.build_top(frontend.backbone.network)
        return add_l2(mlp.build_mlp(int(example_shape[-1]), n_classes, None,
                                    self.hidden_units, self.dropout, name="finetuned_head",
                                    trunk=top), self.l2)


@dataclasses.dataclass(frozen=True)
class CnnHead:
    """The study's block-stacking spectrogram CNN (system 2); ``standardization`` and
    ``classifier`` are keys of ``cnn.STANDARDIZATION_AXES`` and ``cnn.CLASSIFIERS``
    (the defaults: the study's)."""
    final_conv_dim: int = 4
    base_filters: int = 16
    max_filters: int = 256
    fc_units: int = 256
    dropout: float = 0.5
    batch_norm: bool = False
    spec_augment: bool = False
    standardization: str = "global"
    classifier: str = "fc"

    def build(self, example_shape, n_classes, train_sample, frontend=None):
        del frontend
        return cnn.build_spectrogram_cnn(tuple(example_shape), n_classes, train_sample,
                                         **dataclasses.asdict(self))

    @staticmethod
    def search_space(hp):
        return {"base_filters": hp.Choice("base_filters", [8, 16, 32]),
                "fc_units": hp.Choice("fc_units", [64, 128, 256]),
                "dropout": hp.Float("dropout", 0.0, 0.6, step=0.1),
                "batch_norm": hp.Boolean("batch_norm")}

    def with_values(self, values):
        return dataclasses.replace(self, **values)


HEADS = {"dense": DenseHead, "finetuned_top": FinetunedTopHead, "cnn": CnnHead}
