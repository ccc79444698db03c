"""predict's memory on long input: bounded by the decoded waveform, not by its windows.

Ten minutes at 16 kHz (38 MB as float32) through 3 s windows hopping 0.5 s is 1189
windows; materialised they would take six times the waveform. The measured growth of
peak RSS must stay below four times the waveform (the decoder alone peaks near three)
plus a little, which a materialising version cannot meet. The hour-long run of
``bench/predict_memory.py`` is marked slow.
"""

import importlib.util
import json
import os
import re
import subprocess
import sys

import pytest
import tensorflow as tf

from genre_tf.inference import classify, model, windows
from tests import inference as helpers

_BENCH = os.path.join(helpers.PROJECT_ROOT, "bench", "predict_memory.py")
_MB = 1e6


def _bench_module():
    spec = importlib.util.spec_from_file_location("predict_memory", _BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class PredictMemoryTest(tf.test.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.folder = helpers.class_folder(cls, "memory")

    def test_ten_minutes_cost_the_waveform_not_the_windows(self):
        bench = _bench_module()
        export = model.load_export(helpers.write_export(
            self.folder, "dense", window_seconds=3.0, hop_seconds=0.5))
        warm_up = bench.write_recording(os.path.join(self.folder, "warm.wav"), 10,
                                        helpers.SR)
        bench.measure(export, warm_up, classify.Settings(stream_above_seconds=0))
        seconds = 600
        path = bench.write_recording(os.path.join(self.folder, "ten.wav"), seconds,
                                     helpers.SR)
        growth, _, output = bench.measure(export, path, classify.Settings())
        record = json.loads(output)[0]
        n_windows = windows.window_starts(seconds * helpers.SR, 3 * helpers.SR,
                                          helpers.SR // 2).size
        self.assertEqual(record["windows"], n_windows)
        waveform_bytes = seconds * helpers.SR * 4
        materialised_bytes = n_windows * 3 * helpers.SR * 4
        bound = 4 * waveform_bytes + 40 * _MB
        self.assertGreater(materialised_bytes, bound)  # so the bound can catch that
        self.assertLess(growth, bound)

    @pytest.mark.slow
    def test_one_hour_with_the_benchmark(self):
        result = subprocess.run([sys.executable, _BENCH, "--minutes=60"], text=True,
                                capture_output=True, cwd=helpers.PROJECT_ROOT,
                                timeout=600, check=True)
        waveform = float(re.search(r"waveform: ([\d.]+) MB", result.stdout).group(1))
        growth = float(re.search(r"peak RSS growth: ([\d.]+) MB", result.stdout).group(1))
        self.assertAllClose(waveform, 3600 * helpers.SR * 4 / _MB)
        self.assertLess(growth, 4 * waveform + 300)
        self.assertIn('"windows": 2399', result.stdout)


if __name__ == "__main__":
    tf.test.main()
