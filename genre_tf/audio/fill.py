"""One policy for input shorter than a front end needs, used by training, evaluation and
the exported model alike (``--short_clips``).

A head learns from what its front end shows it. Zero padding a 2 s snippet into a 3 s
window shows it a third of silence it never saw in training, and it answers with
whatever genre it associates with quiet endings (seen: 62% of real snippets called
"hiphop" or "reggae"). Tiling the snippet until it fills the window keeps the window
full of music, so ``repeat`` is the default:

- ``repeat``: tile the clip until it is ``target`` samples long;
- ``pad``: zero-pad it at the end (the study's implicit behaviour);
- ``skip``: refuse it: the data pipeline drops the clip with a named reason, and the
  exported model raises ``InvalidArgumentError`` rather than guess.

Input at least ``target`` samples long is returned unchanged by every policy.
"""

import tensorflow as tf

POLICIES = ("repeat", "pad", "skip")


def check_policy(policy):
    """Raises ValueError for an unknown policy name."""
    if policy not in POLICIES:
        raise ValueError(f"unknown short-clip policy {policy!r}; choose from "
                         f"{', '.join(POLICIES)}")
    return policy


def fill(waveform, target, policy):
    """Brings a mono waveform ``[samples]`` up to ``target`` samples by ``policy``.

    Args:
      waveform: float32 ``[samples]`` with at least one sample.
      target: the shortest input the caller needs (int or scalar tensor).
      policy: one of ``POLICIES``.

    Returns:
      float32 ``[max(samples, target)]``.
    """
    check_policy(policy)
    waveform = tf.convert_to_tensor(waveform, tf.float32)
    n = tf.shape(waveform)[0]
    target = tf.cast(target, tf.int32)
    if policy == "skip":
        with tf.control_dependencies([tf.debugging.assert_greater_equal(
                n, target, message="input shorter than the model's shortest input "
                                   "(short-clip policy: skip)")]):
            return tf.identity(waveform)
    if policy == "pad":
        return tf.pad(waveform, [[0, tf.maximum(target - n, 0)]])
    repeats = tf.maximum(1, (target + n - 1) // tf.maximum(n, 1))
    return tf.tile(waveform, [repeats])[:tf.maximum(n, target)]
