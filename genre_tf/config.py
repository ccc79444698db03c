"""The plain config objects a run is made of (Model Garden style: experiments are
configurations). ``genre_tf.cli`` builds them from flags; nothing below it reads flags.
"""

import dataclasses

from genre_tf.data import examples as examples_lib
from genre_tf.data import extraction as extraction_lib
from genre_tf.systems import SystemConfig
from genre_tf.training.trainer import TrainConfig


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """Where songs come from and how they become examples.

    Attributes:
      data_dir: audio root (GTZAN layout) or path,label CSV manifest.
      features_csv: a features table instead of audio.
      synthetic_demo: ``data_dir`` is the generated demo dataset (not music).
      examples: short-clip policy, excerpts and caching.
      extraction: the slice of clips this process extracts (one worker of several).
    """
    data_dir: str = None
    features_csv: str = None
    synthetic_demo: bool = False
    examples: examples_lib.ExampleConfig = examples_lib.ExampleConfig()
    extraction: extraction_lib.ExtractionSlice = extraction_lib.ExtractionSlice()

    @property
    def source(self):
        return self.features_csv or self.data_dir


@dataclasses.dataclass(frozen=True)
class SplitConfig:
    """Song-level splits (``genre_tf.data.splits.make_splits``)."""
    kind: str = "shuffle"
    folds: int = 5
    test_size: float = 0.2
    validation_fraction: float = 0.1
    split_dir: str = None


@dataclasses.dataclass(frozen=True)
class ExportConfig:
    """What the run leaves for users of the model."""
    final_fit: bool = True
    tflite: bool = True
    tflite_quantize: bool = False


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """One run: a system on data, its splits, training, export, and where it writes.

    ``overwrite``: clear the outputs of a run already in ``output_dir`` (otherwise a
    folder holding another run is refused: ``genre_tf.training.run_folder``).
    ``distribution``: a key of ``genre_tf.training.distribute.STRATEGIES``; how the run
    is spread over devices and machines, not part of what it computes (a run folder
    resumes under another one)."""
    system: SystemConfig
    data: DataConfig
    output_dir: str
    splits: SplitConfig = SplitConfig()
    training: TrainConfig = TrainConfig()
    export: ExportConfig = ExportConfig()
    seed: int = 0
    overwrite: bool = False
    distribution: str = "none"
