"""SavedModel export with the class list built in.

``model.export`` gives only a bare ``serve`` endpoint; users of a genre model want the
genre name. ``export_saved_model`` writes a SavedModel whose every endpoint returns
``probabilities``, ``class_id`` and ``class_name`` (the class list is a constant in the
graph), and also writes ``class_names.txt`` beside it for humans. It holds what Keras'
``ExportArchive`` wrote (endpoint functions and signatures, ``serving_default`` = ``serve``,
the layers' ``variables``), written by ``tf.saved_model.save`` directly: the archive
listed its endpoints outside the save's context and the save inside it, so each
endpoint and everything it calls was traced twice (``_as_saving``), and it walked every
tracked layer for lookup tables, which no head or front end here has.

Reload with ``reloaded = tf.saved_model.load(path)`` and keep ``reloaded`` in a variable
while calling ``reloaded.serve(...)``: its functions die with the object.
"""

import contextlib
import json
import os

import keras
import tensorflow as tf
try:  # Private, for ``_as_saving``: no public API traces as the save will.
    from tensorflow.python.saved_model import save_context, save_options
except ImportError:  # moved in another TensorFlow: exports trace twice, nothing else
    save_context = save_options = None

CLASS_NAMES_FILE = "class_names.txt"
INFO_FILE = "model_info.json"


def _labelled(probabilities, class_table):
    class_id = tf.argmax(probabilities, axis=-1, output_type=tf.int32)
    return {"probabilities": probabilities, "class_id": class_id,
            "class_name": tf.gather(class_table, class_id)}


def _labelling(function, class_table):
    """Wraps a probabilities function so it also returns class ids and names."""
    def endpoint(*args):
        return _labelled(function(*args), class_table)
    return endpoint


@contextlib.contextmanager
def _as_saving():
    """Traces functions as ``tf.saved_model.save`` (default options) will look them up.

    A tf.function's cache key holds the save context (its variable policy), and the
    save lists every function of the saved objects again inside its context: each
    endpoint traced before the save was traced a second time within it, and so was
    whatever it calls (musicnn's clip network: ~2.5 s of the export on 2 busy cores).
    Traced in here, the save finds them traced. The save traces inside the same
    context anyway, so the graphs written are the ones it wrote before.
    """
    if save_context is None:
        yield
        return
    with save_context.save_context(save_options.SaveOptions()):
        yield


def _traced(function, input_signature):
    """``function`` as a tf.function of ``input_signature``, traced once (``_as_saving``),
    and that trace; no autograph, as Keras' ExportArchive traced endpoints. The
    signature stays on the function, so the reloaded one converts what it is given
    (a float64 NumPy array, a list) to it, as ExportArchive's did."""
    traced = tf.function(function, input_signature=input_signature, autograph=False)
    with _as_saving():
        concrete = traced.get_concrete_function()
    return traced, concrete


def _unique(variables):
    seen, kept = set(), []
    for variable in variables:
        if id(variable) not in seen:
            seen.add(id(variable))
            kept.append(variable)
    return kept


def export_saved_model(model, export_dir, class_names, extra_endpoints=None,
                       trackables=(), info=None):
    """Writes ``model`` as a SavedModel whose endpoints name the predicted class.

    Args:
      model: a Keras model mapping its input to class probabilities.
      export_dir: output folder (replaced if present).
      class_names: label of each output index.
      extra_endpoints: ``{name: (fn, input_signature)}`` where ``fn`` returns class
        probabilities (e.g. a waveform front end followed by ``model``).
      trackables: other objects those endpoints use (a backbone layer or TF-Hub
        module), saved with the model.
      info: facts a user of the export needs (``sample_rate`` of ``classify_waveform``,
        the system's settings), written to ``model_info.json`` with the class names.

    Returns:
      ``export_dir``.
    """
    class_table = tf.constant(list(class_names))
    input_spec = tf.TensorSpec(model.inputs[0].shape, model.inputs[0].dtype,
                               name=model.inputs[0].name)
    endpoints = {"serve": (lambda inputs: model(inputs, training=False), [input_spec]),
                 **(extra_endpoints or {})}
    root = tf.__internal__.tracking.AutoTrackable()  # as ExportArchive's root
    signatures = {}
    for name, (function, signature) in endpoints.items():
        traced, signatures[name] = _traced(_labelling(function, class_table), signature)
        setattr(root, name, traced)
    signatures["serving_default"] = signatures["serve"]  # TF-Serving's default
    # What Keras' ExportArchive tracked: every layer's variables (those the endpoints
    # read are saved with them anyway) and TF-Hub modules with their own objects.
    layers = [model] + [t for t in trackables if isinstance(t, keras.layers.Layer)]
    for kind in ("variables", "trainable_variables", "non_trainable_variables"):
        setattr(root, kind, _unique(v for layer in layers for v in getattr(layer, kind)))
    _attach_modules(root, trackables)
    if tf.io.gfile.exists(export_dir):
        tf.io.gfile.rmtree(export_dir)
    tf.saved_model.save(root, export_dir, signatures=signatures)
    with open(os.path.join(export_dir, CLASS_NAMES_FILE), "w") as handle:
        handle.write("\n".join(class_names) + "\n")
    with open(os.path.join(export_dir, INFO_FILE), "w") as handle:
        json.dump({**(info or {}), "class_names": list(class_names)}, handle, indent=2)
    return export_dir


def _attach_modules(root, trackables):
    """TF-Hub modules (a trackable's ``module``) as attributes of ``root``: saved with
    their own objects (resources a signature alone would leave untracked)."""
    for position, trackable in enumerate(trackables):
        module = getattr(trackable, "module", None)
        if module is not None:
            setattr(root, f"backbone_module_{position}", module)


def write_signature(export_dir, name, function, input_signature, class_names,
                    trackables=()):
    """Writes one labelled endpoint as a bare SavedModel: its signature, the variables
    it reads and the TF-Hub modules of ``trackables``, nothing else.

    For a converter's input (the TFLite export), which reads the signature's graph and
    freezes its variables: no endpoint functions of the object, no layer variables
    the signature does not read. What the function calls is traced as a save looks it
    up (``_as_saving``), so inner tf.functions already traced in the same mode are
    reused, not traced again (musicnn keeps one clip network per mode: the TFLite
    trace's own).

    Returns:
      ``export_dir``.
    """
    _, concrete = _traced(_labelling(function, tf.constant(list(class_names))),
                          input_signature)
    root = tf.__internal__.tracking.AutoTrackable()
    root.endpoint_variables = list(concrete.variables)  # saved in its checkpoint
    _attach_modules(root, trackables)
    tf.saved_model.save(root, export_dir, signatures={name: concrete})
    return export_dir


def read_model_info(export_dir):
    """``model_info.json`` of an export (``sample_rate``, ``class_names``, settings)."""
    with open(os.path.join(export_dir, INFO_FILE)) as handle:
        return json.load(handle)


def read_class_names(export_dir):
    with open(os.path.join(export_dir, CLASS_NAMES_FILE)) as handle:
        return [line.strip() for line in handle if line.strip()]
