"""Decode an audio file to a mono float32 waveform at a target rate, or say why not.

WAV goes through ``tf.audio.decode_wav``, FLAC/OGG/MP3 through tensorflow-io, and Sun
``.au`` (GTZAN's original format) plus anything TF cannot read (24-bit WAV, AIFF) through
soundfile. Channels are averaged to mono; the rate is converted with soxr (via
``librosa.resample``), which is both faster and more exact than ``tfio.audio.resample``
(that op delays the signal by 32 samples at 22050 -> 16000 Hz).

``read_waveform`` raises ``DecodeError`` with a short human reason (``empty file``,
``cannot decode (...)``); the tf.data layer turns that into one warning naming the file
and skips it, so one bad file never stops a run.
"""

import os

import librosa
import numpy as np
import soundfile
import tensorflow as tf

from genre_tf.audio import params


class DecodeError(Exception):
    """A file that cannot be used as audio; the message is the reason, for the user."""


def _first_line(error):
    text = str(error).strip().splitlines()
    return text[0][:200] if text else type(error).__name__


def _decode_with_tf(path, extension):
    """Returns (samples [n, channels] float32, rate) using TensorFlow ops."""
    if extension == ".wav":
        audio, rate = tf.audio.decode_wav(tf.io.read_file(path))
        return audio.numpy(), int(rate.numpy())
    import tensorflow_io as tfio  # Imported lazily: loading its ops costs ~1 s.
    audio = tfio.audio.AudioIOTensor(path)
    samples = audio.to_tensor().numpy()
    if np.issubdtype(samples.dtype, np.integer):
        samples = samples.astype(np.float32) / float(np.iinfo(samples.dtype).max + 1)
    return samples.astype(np.float32), int(audio.rate.numpy())


def _decode_with_soundfile(path):
    samples, rate = soundfile.read(path, dtype="float32", always_2d=True)
    return samples, int(rate)


def read_waveform(path, sample_rate=params.SAMPLE_RATE):
    """Reads one audio file as mono float32 at ``sample_rate``.

    Args:
      path: file path; the extension picks the decoder.
      sample_rate: target rate in Hz.

    Returns:
      float32 numpy array ``[samples]``.

    Raises:
      DecodeError: the file is missing, empty, not audio, truncated, silent of samples,
        or holds non-finite values. The message is the reason.
    """
    if not os.path.isfile(path):
        raise DecodeError("file not found")
    if os.path.getsize(path) == 0:
        raise DecodeError("empty file")
    extension = os.path.splitext(path)[1].lower()
    try:
        if extension in params.TF_DECODED_EXTENSIONS:
            try:
                samples, rate = _decode_with_tf(path, extension)
            except (tf.errors.OpError, ValueError) as tf_error:
                # TF reads only 16-bit PCM WAV; soundfile reads float and 24-bit too.
                try:
                    samples, rate = _decode_with_soundfile(path)
                except Exception:  # pylint: disable=broad-except
                    raise DecodeError(f"cannot decode ({_first_line(tf_error)})") from None
        else:
            samples, rate = _decode_with_soundfile(path)
    except DecodeError:
        raise
    except Exception as error:  # pylint: disable=broad-except
        raise DecodeError(f"cannot decode ({_first_line(error)})") from None
    if samples.size == 0:
        raise DecodeError("no audio samples")
    waveform = samples.mean(axis=1) if samples.ndim == 2 else samples
    if not np.all(np.isfinite(waveform)):
        raise DecodeError("non-finite samples")
    if rate != sample_rate:
        waveform = librosa.resample(waveform, orig_sr=rate, target_sr=sample_rate)
    return np.ascontiguousarray(waveform, dtype=np.float32)


def fit_length(waveform, min_samples, short_clips="pad"):
    """Applies the short-clip policy: zero-pad to ``min_samples`` or refuse.

    Returns:
      (waveform, padded) where ``padded`` says whether padding happened.

    Raises:
      DecodeError: the clip is short and ``short_clips == "skip"``.
    """
    if waveform.shape[0] >= min_samples:
        return waveform, False
    if short_clips == "skip":
        raise DecodeError(f"too short ({waveform.shape[0]} samples, need {min_samples})")
    return np.pad(waveform, (0, min_samples - waveform.shape[0])), True
