"""TF-Hub audio embedding models (VGGish, YAMNet) as a frozen Keras layer.

``hub.KerasLayer`` fails under Keras 3 with these versions, so ``HubBackbone`` wraps
``hub.load()`` in its own layer. A handle may be a TF-Hub URL (resolved through
``TFHUB_CACHE_DIR`` when cached, downloaded otherwise; commands point it under
``--cache_dir``, ``download_into``), or a local SavedModel folder.
Any model that maps a 1-D 16 kHz waveform to ``[n, dim]`` embeddings (or to a tuple
holding them at ``output_index``, as YAMNet's ``(scores, embeddings, spectrogram)``) works.

Each clip is cut here into 0.975 s windows (VGGish's input: 96 log-mel frames of 10 ms
plus the 25 ms analysis window), every ``frame_hop_seconds`` (default 0.96 s: 31 frames
for a 30 s clip); each window gives one embedding (the mean if the model returns several).
"""

import collections
import os

import keras
import tensorflow as tf

HubModel = collections.namedtuple("HubModel", "handle output_index dim")

KNOWN_HUB_MODELS = {
    "vggish": HubModel("https://tfhub.dev/google/vggish/1", None, 128),
    "yamnet": HubModel("https://tfhub.dev/google/yamnet/1", 1, 1024),
}

SAMPLE_RATE = 16000
WINDOW_SAMPLES = 15600   # 0.975 s
DEFAULT_HOP_SECONDS = 0.96


class BackboneUnavailableError(RuntimeError):
    """A backbone's model cannot be loaded (no network, no cache): a setting to change,
    so commands report it in one line and exit 2, as other configuration errors."""


TFHUB_CACHE_DIR = "TFHUB_CACHE_DIR"
HUB_CACHE_FOLDER = "tfhub_modules"  # under --cache_dir


def download_into(cache_dir, environ=None):
    """TF-Hub downloads go to ``<cache_dir>/tfhub_modules`` unless ``TFHUB_CACHE_DIR`` is
    set (it wins): tensorflow_hub's own default is ``/tmp/tfhub_modules``, which is
    cleared with /tmp, so a rerun after a reboot downloaded VGGish again while its
    embeddings sat in ``--cache_dir``. Nothing without a ``cache_dir``. Returns the
    folder TF-Hub uses, or None where it is tensorflow_hub's default."""
    environ = os.environ if environ is None else environ
    if not environ.get(TFHUB_CACHE_DIR) and cache_dir:
        environ[TFHUB_CACHE_DIR] = os.path.join(cache_dir, HUB_CACHE_FOLDER)
    return environ.get(TFHUB_CACHE_DIR) or None


def load_hub_module(handle):
    """``hub.load(handle)`` with an error that names the offline alternatives."""
    import tensorflow_hub as hub  # pylint: disable=import-outside-toplevel
    try:
        return hub.load(handle)
    except Exception as error:  # pylint: disable=broad-except
        reason = str(error).strip().splitlines()[0][:300] if str(error).strip() else type(
            error).__name__
        raise BackboneUnavailableError(
            f"could not load the TF-Hub model {handle!r} ({reason}). If TF-Hub cannot be "
            "reached from here, use an offline backbone: --backbone=MSD_musicnn (ships "
            "with the pip package musicnn), a local SavedModel folder "
            "(--backbone_handle=/path/to/vggish), or set TFHUB_CACHE_DIR to a cache that "
            "already holds this model.") from None


@keras.saving.register_keras_serializable(package="genre_tf")
class HubBackbone(keras.layers.Layer):
    """Frozen TF-Hub audio model: 16 kHz mono waveform -> ``[frames, dim]``."""

    sample_rate = SAMPLE_RATE
    min_samples = WINDOW_SAMPLES  # one window; shorter input is filled by the front end
    window_samples = WINDOW_SAMPLES

    @staticmethod
    def hop_samples_for(frame_hop_seconds):
        """Samples between frames for a ``frame_hop_seconds`` setting (None: 0.96 s)."""
        return int(round((frame_hop_seconds or DEFAULT_HOP_SECONDS) * SAMPLE_RATE))

    def __init__(self, handle, model="vggish", frame_hop_seconds=None, **kwargs):
        super().__init__(**kwargs)
        self.handle = handle
        self.model_name = model
        self.frame_hop_seconds = frame_hop_seconds
        self.hop_samples = self.hop_samples_for(frame_hop_seconds)
        known = KNOWN_HUB_MODELS.get(model)
        self.output_index = known.output_index if known else None
        self.dim = known.dim if known else None  # unknown until a model's first call
        self.module = load_hub_module(handle)
        self.trainable = False
        self.built = True  # no Keras weights: the loaded module holds them

    def _embed_window(self, window):
        output = self.module(window)
        if self.output_index is not None:
            output = output[self.output_index]
        return tf.reduce_mean(tf.reshape(output, [-1, tf.shape(output)[-1]]), axis=0)

    def call(self, waveform):
        """``[samples >= WINDOW_SAMPLES]`` -> ``[frames, dim]``."""
        windows = tf.signal.frame(waveform, WINDOW_SAMPLES, self.hop_samples)
        return tf.map_fn(self._embed_window, windows, fn_output_signature=tf.float32)

    def get_config(self):
        return {**super().get_config(), "handle": self.handle, "model": self.model_name,
                "frame_hop_seconds": self.frame_hop_seconds}
