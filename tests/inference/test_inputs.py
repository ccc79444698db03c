"""Which paths a command line turns into inputs: files as named, folders searched."""

import os

import tensorflow as tf

from genre_tf.inference import inputs


def _touch(*parts):
    path = os.path.join(*parts)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        handle.write("x")
    return path


class CollectInputsTest(tf.test.TestCase):

    def setUp(self):
        super().setUp()
        self.root = os.path.join(self.get_temp_dir(), "music")
        self.audio = [_touch(self.root, "b.wav"), _touch(self.root, "a", "deep", "c.FLAC"),
                      _touch(self.root, "a", "d.mp3"), _touch(self.root, "e.aiff")]
        _touch(self.root, "notes.txt")
        _touch(self.root, "._b.wav")  # macOS resource fork
        _touch(self.root, ".hidden", "f.wav")
        self.fake = os.path.join(self.root, "album.au")
        os.makedirs(self.fake)

    def test_folders_are_searched_recursively_in_sorted_order(self):
        found = inputs.collect_inputs([self.root])
        self.assertEqual([item.path for item in found], sorted(self.audio + [self.fake]))
        self.assertTrue(all(item.problem is None for item in found))

    def test_named_files_are_kept_in_command_line_order_whatever_their_name(self):
        named = [os.path.join(self.root, "notes.txt"), os.path.join(self.root, "nope.wav"),
                 self.audio[0]]
        self.assertEqual(inputs.collect_inputs(named), [inputs.Input(p) for p in named])

    def test_folder_without_audio_is_reported(self):
        empty = os.path.join(self.get_temp_dir(), "empty")
        os.makedirs(empty)
        found = inputs.collect_inputs([empty, self.audio[0]])
        self.assertEqual(found[0].path, empty)
        self.assertStartsWith(found[0].problem, "no audio files (.wav")
        self.assertEqual(found[1], inputs.Input(self.audio[0]))


if __name__ == "__main__":
    tf.test.main()
