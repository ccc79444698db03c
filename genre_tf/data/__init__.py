"""Data layer shared by every system: discovery, song-level splits, tf.data decoding."""
