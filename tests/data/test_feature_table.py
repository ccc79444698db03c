"""Features CSV tables: rows that cannot be trained on (non-finite values, no label) are
left out, named by file and line, and reach the run's report; broken tables are errors
that name where they break."""

import os

import numpy as np
import tensorflow as tf

from genre_tf.data import examples, feature_table

HEADER = "filename,length,mfcc3_mean,rms,label\n"


def _segment_rows(song, label, values, segments=3):
    """``features_3_sec.csv`` rows of one song: ``<song>.<segment>.wav,66149,...``."""
    return "".join(f"{song}.{k}.wav,66149,{values},{label}\n" for k in range(segments))


class TableFromCsvTest(tf.test.TestCase):

    def _write(self, text, name="features.csv"):
        path = os.path.join(self.get_temp_dir(), name)
        with open(path, "w") as handle:
            handle.write(text)
        return path

    def test_non_finite_rows_are_skipped_named_and_reported(self):
        path = self._write(
            HEADER
            + _segment_rows("blues.00000", "blues", "1.0,0.5")        # lines 2-4
            + "\n"                                                   # line 5, blank
            + "blues.00001.0.wav,66149,2.0,0.5,blues\n"              # line 6
            + "blues.00001.1.wav,66149,nan,0.5,blues\n"              # line 7
            + "rock.00000.0.wav,66149,3.0,inf,rock\n"                # line 8
            + "rock.00000.1.wav,66149,1e39,0.5,rock\n"               # line 9: > float32
            + "rock.00001.0.wav,66149,4.0,0.25,rock\n"               # line 10
            + "rock.00001.1.wav,66149,,0.25,rock\n")                 # line 11: empty
        table = feature_table.table_from_csv(path)
        self.assertEqual(table.skipped, {
            f"{path}:7": "non-finite value in column mfcc3_mean",
            f"{path}:8": "non-finite value in column rms",
            f"{path}:9": "non-finite value in column mfcc3_mean",
            f"{path}:11": "missing value in column mfcc3_mean"})
        # rock.00000 had only bad rows: no song without rows.
        self.assertEqual(table.song_ids, ["blues.00000", "blues.00001", "rock.00001"])
        self.assertAllEqual(table.row_song, [0, 0, 0, 1, 2])
        self.assertAllEqual(table.features[:, 0], [1, 1, 1, 2, 4])
        self.assertTrue(np.isfinite(table.features).all())

        with self.assertLogs(level="WARNING") as logs:
            rows = examples.RowExamples.from_table(table)
        self.assertIn(f"{path}:7: non-finite value in column mfcc3_mean; skipped",
                      "\n".join(logs.output))
        self.assertEqual(rows.report.as_dict()["skipped"], table.skipped)
        self.assertEqual(rows.features.shape, (5, 2))

    def test_row_with_empty_label_is_skipped_not_a_class(self):
        path = self._write(HEADER + _segment_rows("blues.00000", "blues", "1.0,0.5")
                           + "jazz.00000.0.wav,66149,2.0,0.5,\n"      # line 5
                           + _segment_rows("rock.00000", "rock", "3.0,0.5"))
        table = feature_table.table_from_csv(path)
        self.assertEqual(table.class_names, ["blues", "rock"])
        self.assertEqual(table.song_ids, ["blues.00000", "rock.00000"])
        self.assertEqual(table.skipped, {f"{path}:5": "empty label"})

    def test_non_numeric_cell_is_an_error_naming_line_and_column(self):
        path = self._write(HEADER + _segment_rows("blues.00000", "blues", "1.0,0.5")
                           + "blues.00000.3.wav,66149,1.0,loud,blues\n")
        with self.assertRaisesRegex(ValueError, r"features\.csv:5: column rms: 'loud' is "
                                                "not a number"):
            feature_table.table_from_csv(path)

    def test_header_only_and_headerless_tables_are_told_apart(self):
        with self.assertRaisesRegex(ValueError, "features table has no rows"):
            feature_table.table_from_csv(self._write(HEADER))
        with self.assertRaisesRegex(ValueError, "needs a header with columns "
                                                r"filename,\.\.\.,label"):
            feature_table.table_from_csv(self._write(_segment_rows("a.00000", "a", "1,2")))
        with self.assertRaisesRegex(ValueError, "needs a header"):
            feature_table.table_from_csv(self._write(""))

    def test_row_with_more_cells_than_the_header_is_an_error(self):
        path = self._write(HEADER + "blues.00000.0.wav,66149,1.0,0.5,0.7,blues\n")
        with self.assertRaisesRegex(ValueError, r"features\.csv:2: 6 cells, the header "
                                                "has 5"):
            feature_table.table_from_csv(path)

    def test_class_left_without_usable_rows_is_an_error(self):
        path = self._write(HEADER + _segment_rows("blues.00000", "blues", "1.0,0.5")
                           + _segment_rows("rock.00000", "rock", "nan,0.5"))
        with self.assertRaisesRegex(ValueError, "classes with no usable rows: rock"):
            feature_table.table_from_csv(path)


if __name__ == "__main__":
    tf.test.main()
