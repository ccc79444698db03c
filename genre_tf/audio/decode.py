"""Decode an audio file to a mono float32 waveform at a target rate, or say why not.

WAV goes through ``tf.audio.decode_wav``, FLAC/OGG through tensorflow-io, and MP3, Sun
``.au`` (GTZAN's original format) plus anything TF cannot read (24-bit WAV, AIFF) through
soundfile (see ``params.TF_DECODED_EXTENSIONS`` for why MP3 is not tensorflow-io's). Channels are averaged to mono; the rate is converted with soxr (via
``librosa.resample``), which is both faster and more exact than ``tfio.audio.resample``
(that op delays the signal by 32 samples at 22050 -> 16000 Hz).

``read_waveform`` raises ``DecodeError`` with a short human reason (``file not found``,
``is a directory``, ``empty file``, ``not a WAV file``, ``cannot decode (...)``); the
tf.data layer turns that into one warning naming the file and skips it, so one bad file
never stops a run, and ``predict.py`` prints the same reason. Cheap checks come first:
the path itself, then the first bytes against the signature every file of the
extension's format starts with, so a text file named ``.wav`` is called what it is
instead of whatever the decoder happens to complain about. Decoder messages lose TF's
op and device names, which mean nothing to a user, and libsndfile's "file does not
exist" for content it cannot place (its MP3 reader's answer to bytes without an MP3
frame) becomes ``cannot decode (not a recognised audio format)``: the path checks have
already found the file. libmpg123's own warning lines on stderr are dropped on the
main thread (``native_stderr``).
"""

import os
import re
import struct

import librosa
import numpy as np
import soundfile
import tensorflow as tf

from genre_tf.audio import native_stderr, params


class DecodeError(Exception):
    """A file that cannot be used as audio; the message is the reason, for the user."""


# Signatures of formats whose files must start with one: ``(offset, accepted bytes)``
# pairs. MP3 has none (a frame sync or an ID3 tag, after any junk), so it is not here.
_AIFF = ("an AIFF", ((0, (b"FORM",)), (8, (b"AIFF", b"AIFC"))))
_SIGNATURES = {
    ".wav": ("a WAV", ((0, (b"RIFF", b"RIFX", b"RF64")), (8, (b"WAVE",)))),
    ".au": ("an AU", ((0, (b".snd",)),)),
    ".aif": _AIFF,
    ".aiff": _AIFF,
    ".flac": ("a FLAC", ((0, (b"fLaC",)),)),
    ".ogg": ("an Ogg", ((0, (b"OggS",)),)),
}
_HEADER_BYTES = 12

# What TF and libsndfile wrap around the reason: "{{function_node ...}}", "[Op:...]",
# "Error opening '<path>': ".
_NOISE = re.compile(r"\{\{function_node [^}]*\}\}|\[Op:[^\]]*\].*$|^Error opening '.*?': ")


def short_reason(error):
    """The reason inside a decoder's or TF op's error message, on one short line,
    without TF's function and op names or libsndfile's repeat of the path."""
    lines = str(error).strip().splitlines()
    text = _NOISE.sub("", lines[0]).strip().rstrip(".") if lines else ""
    return text[:200] or type(error).__name__


# libsndfile's error codes for content it cannot place: SF_ERR_UNRECOGNISED_FORMAT, and
# SFE_BAD_FILE, whose text "File does not exist or is not a regular file (possibly a
# pipe?)" its MP3 reader also returns for bytes without an MP3 frame.
_UNRECOGNISED_FORMAT_CODES = (1, 7)
UNRECOGNISED_FORMAT = "not a recognised audio format"


def _decoder_reason(error):
    """``short_reason``, except that libsndfile's answers for unknown content, called
    only once ``_check_path`` has found a readable regular file, say what is true."""
    if (isinstance(error, soundfile.LibsndfileError)
            and error.code in _UNRECOGNISED_FORMAT_CODES):
        return UNRECOGNISED_FORMAT
    return short_reason(error)


def _check_path(path):
    """Raises DecodeError if ``path`` is not a readable, non-empty regular file."""
    if os.path.isdir(path):
        raise DecodeError("is a directory")
    if not os.path.exists(path):
        raise DecodeError("file not found")
    if not os.path.isfile(path):
        raise DecodeError("not a regular file")
    if not os.access(path, os.R_OK):
        raise DecodeError("permission denied")
    if os.path.getsize(path) == 0:
        raise DecodeError("empty file")


def _header_problem(path, extension):
    """Why the first bytes are not a header of the extension's format, or None."""
    if extension not in _SIGNATURES:
        return None
    name, parts = _SIGNATURES[extension]
    with open(path, "rb") as handle:
        head = handle.read(_HEADER_BYTES)
    pieces = [(head[offset:offset + 4], accepted) for offset, accepted in parts]
    if all(piece in accepted for piece, accepted in pieces):
        return None
    if len(head) < _HEADER_BYTES and all(
            any(option.startswith(piece) for option in accepted)
            for piece, accepted in pieces):
        return "cannot decode (truncated header)"
    return f"not {name} file"


# RIFF data sizes that mean "unknown" (a recorder that never went back to fill it in).
_UNKNOWN_DATA_SIZES = (0, 0xFFFFFFFF)


class WavLayout:
    """What a RIFF WAV header says: format tag, channels, rate, bits per sample, bytes
    per frame, and the data chunk's declared and actually present sizes."""
    __slots__ = ("format_tag", "channels", "rate", "bits", "frame_bytes", "data_size",
                 "data_held")

    def __init__(self, **fields):
        for name in self.__slots__:
            setattr(self, name, fields.get(name))


def wav_layout(path):
    """The ``WavLayout`` of a RIFF WAV file, or None if it is not one or has no data
    chunk (the decoder then names the problem). Reads the header only."""
    with open(path, "rb") as handle:
        head = handle.read(12)
        if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None  # RIFX (big-endian) and RF64 are left to the decoders
        file_size = os.fstat(handle.fileno()).st_size
        layout = WavLayout(frame_bytes=1)
        while True:
            chunk = handle.read(8)
            if len(chunk) < 8:
                return None
            name, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if name == b"fmt ":
                fmt = handle.read(min(size, 16))
                if len(fmt) >= 16:
                    (layout.format_tag, layout.channels, layout.rate, _,
                     frame_bytes, layout.bits) = struct.unpack("<HHIIHH", fmt)
                    layout.frame_bytes = max(1, frame_bytes)
                handle.seek(size - len(fmt) + (size & 1), os.SEEK_CUR)
            elif name == b"data":
                layout.data_size = size
                layout.data_held = file_size - handle.tell()
                return layout
            else:
                handle.seek(size + (size & 1), os.SEEK_CUR)


def _wav_truncation(path):
    """Why a RIFF WAV holds fewer data bytes than its header declares, or None.

    TF's and libsndfile's decoders return the samples that are there without a word, so
    a file cut short by a failed copy would silently train on part of a clip."""
    layout = wav_layout(path)
    if (layout is None or layout.data_size in _UNKNOWN_DATA_SIZES
            or layout.data_held >= layout.data_size):
        return None
    return (f"truncated: header says {layout.data_size // layout.frame_bytes} samples, "
            f"file holds {layout.data_held // layout.frame_bytes}")


_PCM = 1


def in_graph_frames(path, sample_rate):
    """Frames of a WAV that ``tf.audio.decode_wav`` can decode exactly as
    ``read_waveform`` would, or None: 16-bit PCM at ``sample_rate`` (no resampling),
    complete, with samples, named ``.wav``. Such files, the common case, decode inside
    the tf.data graph without Python's GIL; everything else takes ``read_waveform``."""
    if not path.lower().endswith(".wav") or not os.path.isfile(path):
        return None
    try:
        layout = wav_layout(path)
    except OSError:
        return None
    if (layout is None or layout.format_tag != _PCM or layout.bits != 16
            or layout.rate != sample_rate or not layout.channels
            or layout.data_size in _UNKNOWN_DATA_SIZES
            or layout.data_held < layout.data_size):
        return None
    frames = layout.data_size // layout.frame_bytes
    return frames or None


def _content_is_audio(path):
    """Whether libsndfile knows the file's real format from its content (a FLAC named
    .wav); header-less RAW is its guess for anything, so it does not count."""
    try:
        with native_stderr.without_decoder_noise():
            return soundfile.info(path).format != "RAW"
    except Exception:  # pylint: disable=broad-except
        return False


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
    with native_stderr.without_decoder_noise():
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
      DecodeError: the file is missing, a directory, empty, not of its extension's
        format, truncated (a WAV whose data chunk is shorter than its header says), without samples, or holds non-finite values. The message is
        the reason.
    """
    _check_path(path)
    extension = os.path.splitext(path)[1].lower()
    problem = _header_problem(path, extension)
    if problem and not _content_is_audio(path):
        raise DecodeError(problem)
    truncation = _wav_truncation(path) if extension == ".wav" and not problem else None
    if truncation:
        raise DecodeError(truncation)
    try:
        if problem:  # Mislabelled but audio: let libsndfile read its real format.
            samples, rate = _decode_with_soundfile(path)
        elif extension in params.TF_DECODED_EXTENSIONS:
            try:
                samples, rate = _decode_with_tf(path, extension)
            except (tf.errors.OpError, ValueError) as tf_error:
                # TF reads only 16-bit PCM WAV; soundfile reads float and 24-bit too.
                try:
                    samples, rate = _decode_with_soundfile(path)
                except Exception:  # pylint: disable=broad-except
                    raise DecodeError(f"cannot decode ({short_reason(tf_error)})") from None
        else:
            samples, rate = _decode_with_soundfile(path)
    except DecodeError:
        raise
    except Exception as error:  # pylint: disable=broad-except
        raise DecodeError(f"cannot decode ({_decoder_reason(error)})") from None
    if samples.size == 0:
        raise DecodeError("no audio samples")
    waveform = samples.mean(axis=1) if samples.ndim == 2 else samples
    if not np.all(np.isfinite(waveform)):
        raise DecodeError("non-finite samples")
    if rate != sample_rate:
        waveform = librosa.resample(waveform, orig_sr=rate, target_sr=sample_rate)
    return np.ascontiguousarray(waveform, dtype=np.float32)
