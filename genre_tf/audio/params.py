"""Audio constants shared by every system.

Like VGGish's ``vggish_params.py``: every number of the audio front end lives here, named
and commented once, so no other module carries a magic number.
"""

# GTZAN is mono 22050 Hz; the study and librosa's defaults use this rate.
SAMPLE_RATE = 22050

# The ten GTZAN genres, in the dataset's (alphabetical) order.
GTZAN_GENRES = (
    "blues", "classical", "country", "disco", "hiphop",
    "jazz", "metal", "pop", "reggae", "rock",
)

# File extensions the decoder accepts. ``.au`` is the original GTZAN format.
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3", ".au", ".aif", ".aiff")

# Extensions decoded by TensorFlow ops (tf.audio / tensorflow-io); the rest go through
# soundfile, because tensorflow-io cannot read Sun .au files, and its MP3 decoder
# crashes the process (SIGSEGV) when a damaged MP3 is read while other files decode in
# parallel, as tf.data does (libsndfile's decodes MP3 to within 1e-6 of it, safely).
TF_DECODED_EXTENSIONS = (".wav", ".flac", ".ogg")
