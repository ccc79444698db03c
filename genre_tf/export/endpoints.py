"""The one waveform endpoint every exported system carries, built from its front end.

``classify_waveform`` takes a mono float32 waveform of any length at the front end's
rate, fills it by the run's short-clip policy (``genre_tf.audio.fill``), runs the front
end and the head, and returns the mean probability of its examples: exactly what
training and evaluation computed, so a user of the SavedModel alone gets the answers
``predict.py`` gives. ``classify_windows`` answers a batch of equal-length windows, one
row each, so a long file can be streamed through the model in bounded memory.
"""

import tensorflow as tf

from genre_tf.frontends import base


def waveform_endpoints(frontend, model, policy):
    """``{name: (function, input_signature)}`` for the export.

    Args:
      frontend: the run's (fitted) front end.
      model: the trained head (examples -> probabilities).
      policy: the short-clip policy the run trained with.
    """

    waveform_signature = [tf.TensorSpec([None], tf.float32, name="waveform")]

    # A tf.function, so ``classify_windows`` calls the one trace of the front end and
    # head rather than tracing them again inside its map_fn (each trace of musicnn's
    # front end is ~1.3 s of the export on 2 busy cores). No autograph, as the
    # export's own endpoints (``saved_model``).
    @tf.function(input_signature=waveform_signature, autograph=False)
    def classify_waveform(waveform):
        """Mono float32 waveform -> mean example probabilities ``[1, classes]``."""
        examples = base.filled_examples(frontend, waveform, policy)
        return tf.reduce_mean(model(examples, training=False), axis=0, keepdims=True)

    def classify_windows(windows):
        """``[n, samples]`` windows -> ``[n, classes]``, each window one clip."""
        return tf.map_fn(lambda window: classify_waveform(window)[0], windows,
                         fn_output_signature=tf.float32)

    return {
        "classify_waveform": (classify_waveform, waveform_signature),
        "classify_windows": (classify_windows,
                             [tf.TensorSpec([None, None], tf.float32, name="windows")]),
    }


def model_info(frontend, policy, synthetic_demo, system_description, run_name):
    """What a user of the export needs besides the graph (``model_info.json``)."""
    return {
        "name": run_name,
        "sample_rate": frontend.sample_rate,
        "window_samples": frontend.window_samples,
        "window_hop_samples": frontend.hop_samples,
        "min_samples": frontend.min_samples,
        "short_clips": policy,
        "synthetic_demo": synthetic_demo,
        "system": system_description,
    }
