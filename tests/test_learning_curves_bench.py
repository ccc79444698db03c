"""bench/learning_curves.py: the best epoch is the lowest validation loss, a resumed
epoch counts once, splits come in numeric order, and the PNG is drawn.

Synthetic histories in the trainer's CSVLogger layout: split_0's validation loss is
lowest at its 4th epoch (index 3), and its 3rd epoch is written twice (a fit resumed
from its backup), the first time with a lower loss that must not win; split_10 checks
the order (10 after 2) and a split without result.json.
"""

import importlib.util
import os
import sys
import tempfile

import tensorflow as tf

_BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench")


def _bench():
    if "learning_curves" not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            "learning_curves", os.path.join(_BENCH, "learning_curves.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules["learning_curves"] = module
        spec.loader.exec_module(module)
    return sys.modules["learning_curves"]


_HEADER = "epoch,accuracy,learning_rate,loss,val_accuracy,val_loss\n"


def _write(folder, rows, result=None):
    os.makedirs(folder)
    with open(os.path.join(folder, "history.csv"), "w") as handle:
        handle.write(_HEADER + "".join(",".join(str(v) for v in row) + "\n"
                                       for row in rows))
    if result is not None:
        with open(os.path.join(folder, "result.json"), "w") as handle:
            handle.write('{"mean_probability": {"accuracy": %s}}' % result)


class LearningCurvesTest(tf.test.TestCase):

    def setUp(self):
        super().setUp()
        self.run_dir = tempfile.mkdtemp(prefix="curves_")
        _write(os.path.join(self.run_dir, "split_0"), [
            (0, 0.20, 1e-3, 2.2, 0.10, 2.30),
            (1, 0.35, 1e-3, 1.9, 0.20, 2.10),
            (2, 0.45, 1e-3, 1.6, 0.30, 0.50),   # overwritten by the resumed row below
            (2, 0.46, 1e-3, 1.6, 0.25, 2.00),
            (3, 0.60, 1e-3, 1.2, 0.40, 1.70),
            (4, 0.80, 1e-3, 0.7, 0.30, 1.90),
        ], result=0.35)
        _write(os.path.join(self.run_dir, "split_10"), [
            (0, 0.30, 1e-3, 2.0, 0.50, 1.10),
            (1, 0.70, 1e-3, 1.0, 0.40, 1.40),
        ])
        _write(os.path.join(self.run_dir, "split_2"), [(0, 0.1, 1e-3, 2.3, 0.1, 2.3)])

    def test_best_epoch_and_resumed_rows(self):
        history = _bench().read_history(os.path.join(self.run_dir, "split_0", "history.csv"))
        self.assertEqual(history["epoch"], [0, 1, 2, 3, 4])
        self.assertAllClose(history["val_loss"], [2.3, 2.1, 2.0, 1.7, 1.9])
        summary = _bench().best_epoch_summary(history)
        self.assertEqual(summary["epochs"], 5)
        self.assertEqual(summary["best_epoch"], 4)
        self.assertAllClose(summary["train_accuracy"], 0.60)
        self.assertAllClose(summary["val_accuracy"], 0.40)
        self.assertAllClose(summary["val_loss"], 1.70)

    def test_run_summary_table_and_png(self):
        png, rows = _bench().summarise_run(self.run_dir)
        self.assertEqual([name for name, _ in rows], ["split_0", "split_2", "split_10"])
        self.assertAllClose(rows[0][1]["song_accuracy"], 0.35)
        self.assertIsNone(rows[2][1]["song_accuracy"])
        self.assertEqual(rows[2][1]["best_epoch"], 1)
        with open(png, "rb") as handle:
            self.assertEqual(handle.read(8), b"\x89PNG\r\n\x1a\n")
        self.assertGreater(os.path.getsize(png), 10_000)  # two panels of curves
        table = _bench().format_table(rows).splitlines()
        self.assertLen(table, 4)
        self.assertEqual(table[1].split(), ["split_0", "5", "4", "0.600", "0.400", "1.700",
                                            "0.350"])
        self.assertEqual(table[3].split()[-1], "-")

    def test_a_refit_only_split_is_read_from_its_refit_folder(self):
        """``--patience=0 --refit`` (musicnn.flags) fits once, in ``split_k/refit``;
        Keras' CSVLogger fills its validation columns with ``NA``."""
        run_dir = tempfile.mkdtemp(prefix="refit_only_")
        _write(os.path.join(run_dir, "split_0", "refit"),
               [(0, 0.5, 1e-3, 1.5, "NA", "NA"), (1, 0.9, 1e-3, 0.4, "NA", "NA")])
        with open(os.path.join(run_dir, "split_0", "result.json"), "w") as handle:
            handle.write('{"mean_probability": {"accuracy": 0.9}}')
        png, rows = _bench().summarise_run(run_dir)
        self.assertEqual([name for name, _ in rows], ["split_0"])
        self.assertEqual(rows[0][1]["epochs"], 2)
        self.assertEqual(rows[0][1]["best_epoch"], 2)  # no validation: the last epoch
        self.assertAllClose(rows[0][1]["song_accuracy"], 0.9)
        self.assertTrue(os.path.exists(png))

    def test_folder_without_histories_is_refused(self):
        with self.assertRaisesRegex(FileNotFoundError, "no split_"):
            _bench().summarise_run(tempfile.mkdtemp(prefix="empty_"))


if __name__ == "__main__":
    tf.test.main()
