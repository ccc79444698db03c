"""The inputs a command line names: files as given, folders searched for audio.

A file named on the command line is an input whatever its extension, so the decoder says
what is wrong with it instead of it vanishing. A folder is searched recursively for
entries whose names end in an audio extension (``params.AUDIO_EXTENSIONS``), in sorted
order so the output of a run is reproducible. An entry named like audio that is a
folder (``x.wav/``) is still an input (not searched), and is then reported (``is a
directory``) rather than silently passed over; hidden entries (names starting with ``.``: macOS ``._x.wav``
resource forks, ``.git``) are left out. A folder without any audio is itself reported,
so a typo in a folder name fails loudly.
"""

import dataclasses
import os

from genre_tf.audio import params
from genre_tf.data import discovery


@dataclasses.dataclass(frozen=True)
class Input:
    """One path to classify, or a problem found before decoding (``problem``)."""

    path: str
    problem: str | None = None


def search_folder(folder, extensions=params.AUDIO_EXTENSIONS):
    """Sorted paths under ``folder`` named like audio, found as training finds them
    (``discovery.audio_paths``)."""
    return discovery.audio_paths(folder, extensions)


def collect_inputs(paths, extensions=params.AUDIO_EXTENSIONS):
    """The inputs named by ``paths``, in command-line order.

    Args:
      paths: files and folders as the user typed them.
      extensions: what counts as audio inside a folder.

    Returns:
      A list of ``Input``; a folder without audio becomes one ``Input`` with a problem.
    """
    inputs = []
    for path in paths:
        if not os.path.isdir(path):
            inputs.append(Input(path))
            continue
        found = search_folder(path, extensions)
        if not found:
            inputs.append(Input(path, f"no audio files ({', '.join(extensions)}) in this "
                                      "folder"))
        inputs.extend(Input(name) for name in found)
    return inputs
