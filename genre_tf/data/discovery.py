"""Find labelled clips: a GTZAN-style folder tree or a ``path,label`` CSV manifest.

A *song* is one audio file; every split in ``genre_tf.data.splits`` is made over songs,
so frames, crops or feature rows of one song never land in two splits.
"""

import dataclasses
import os

from absl import logging

from genre_tf.audio import params
from genre_tf.data import csv_rows

# Folders that GTZAN downloads wrap the genre folders in.
_WRAPPER_FOLDERS = ("genres_original", "genres", "Data")


@dataclasses.dataclass(frozen=True)
class Clip:
    """One labelled audio file.

    Attributes:
      path: absolute path.
      label: class index into ``ClipIndex.class_names``.
      song_id: the file's path relative to the data root, without extension
        (``blues/blues.00012``); also how fixed split lists name it.
    """
    path: str
    label: int
    song_id: str


@dataclasses.dataclass
class ClipIndex:
    """Every clip of a dataset with the class list (saved with each model)."""
    clips: list
    class_names: list
    root: str

    @property
    def labels(self):
        return [clip.label for clip in self.clips]

    def subset(self, positions):
        """The clips at ``positions`` (e.g. those that decoded), same classes and root."""
        return ClipIndex([self.clips[i] for i in positions], self.class_names, self.root)

    def check_every_class_has_clips(self, what="clips"):
        """Raises ValueError naming each class that has no clips."""
        counts = [0] * len(self.class_names)
        for clip in self.clips:
            counts[clip.label] += 1
        if not self.clips:
            raise ValueError(f"no usable {what} under {self.root}")
        empty = [name for name, count in zip(self.class_names, counts) if count == 0]
        if empty:
            raise ValueError(f"classes with no usable {what} under {self.root}: "
                             f"{', '.join(empty)}; add audio or remove those folders")


def is_audio_name(name, extensions=params.AUDIO_EXTENSIONS):
    """Whether a file name is audio by its extension (any case); hidden names (macOS
    ``._x.wav`` resource forks) are not."""
    return name.lower().endswith(tuple(extensions)) and not name.startswith(".")


def _song_id(path, root):
    relative = os.path.relpath(path, root)
    return os.path.splitext(relative)[0].replace(os.sep, "/")


def _unwrap(root):
    """Descends into the folder a GTZAN download nests its genre folders in."""
    for wrapper in _WRAPPER_FOLDERS:
        candidate = os.path.join(root, wrapper)
        if os.path.isdir(candidate):
            return candidate
    return root


def audio_paths(folder, extensions=params.AUDIO_EXTENSIONS):
    """Sorted paths under ``folder`` named like audio, for training and ``predict.py``
    alike. A folder so named (``x.wav/``) is one of them and is not searched: decoding
    then skips it as ``is a directory`` with a warning, where walking past or into it
    would hide a clip that is not there. Hidden entries (``.git``, macOS ``._x.wav``)
    are neither returned nor searched."""
    found = []
    for parent, folders, files in os.walk(folder):
        named = [name for name in folders if is_audio_name(name, extensions)]
        folders[:] = [name for name in folders
                      if name not in named and not name.startswith(".")]
        found.extend(os.path.join(parent, name) for name in named + files
                     if is_audio_name(name, extensions))
    return sorted(found)


def discover_clips(data_dir):
    """Indexes ``<root>/<label>/**/<file>.<audio ext>``, or a CSV manifest.

    Args:
      data_dir: a folder of label folders (GTZAN layout, optionally nested in
        ``genres_original/``), or a ``.csv`` manifest with columns ``path,label``
        (paths relative to the manifest's folder, or absolute).

    Returns:
      A ``ClipIndex`` with classes in sorted order and clips sorted by path. A folder
      named like audio is a clip (decoding reports it), not searched for more.

    Raises:
      FileNotFoundError: ``data_dir`` does not exist.
      ValueError: no audio is found, or a class folder holds no audio.
    """
    if not os.path.exists(data_dir):
        raise FileNotFoundError(f"--data_dir {data_dir} does not exist")
    if os.path.isfile(data_dir):
        return read_manifest(data_dir)
    root = _unwrap(os.path.abspath(data_dir))
    class_names = sorted(
        entry.name for entry in os.scandir(root)
        if entry.is_dir() and not entry.name.startswith("."))
    clips = []
    for label, name in enumerate(class_names):
        clips.extend(Clip(path, label, _song_id(path, root))
                     for path in audio_paths(os.path.join(root, name)))
    if not clips:
        raise ValueError(
            f"no audio files found under {root}: expected <root>/<genre>/<clip>"
            f"{{{','.join(params.AUDIO_EXTENSIONS)}}} (GTZAN layout) or a path,label CSV")
    index = ClipIndex(sorted(clips, key=lambda c: c.path), class_names, root)
    index.check_every_class_has_clips("audio files")
    return index


def read_manifest(csv_path):
    """Reads a ``path,label`` CSV (header row required) into a ``ClipIndex``.

    A row without a path or a label names no clip of any class; such rows are left out
    with one warning naming their lines, not made a class called ''.

    Raises:
      ValueError: no ``path,label`` header, no rows, or a class without clips.
    """
    root = os.path.dirname(os.path.abspath(csv_path))
    rows = csv_rows.read_rows(csv_path, ("path", "label"), "a manifest", "path,label")
    incomplete = [line for line, row in rows
                  if not (csv_rows.cell(row, "path") and csv_rows.cell(row, "label"))]
    if incomplete:
        logging.warning("%s: %s without a path or label; skipped", csv_path,
                        csv_rows.describe_lines(incomplete))
    skipped = set(incomplete)
    rows = [row for line, row in rows if line not in skipped]
    class_names = sorted({csv_rows.cell(row, "label") for row in rows})
    clips = []
    for row in rows:
        path = csv_rows.cell(row, "path")
        path = path if os.path.isabs(path) else os.path.join(root, path)
        clips.append(Clip(os.path.normpath(path),
                          class_names.index(csv_rows.cell(row, "label")),
                          _song_id(path, root)))
    index = ClipIndex(sorted(clips, key=lambda c: c.path), class_names, csv_path)
    index.check_every_class_has_clips()
    return index
