"""What a tuning trial leaves behind: one log line, and ``scores.json`` in its folder.

The line answers "what did that trial try, how did it score, how long did it take" while
a search runs; ``scores.json`` keeps the per-split scores (the spread of a trial's inner
splits is the noise the objective carries) and which process ran the trial. Only the
process that ran a trial writes its file, so workers sharing a folder never collide.
``summarize`` turns a finished search's records into one line about its noise.
"""

import dataclasses
import glob
import json
import os

import numpy as np

from genre_tf import files

SCORES_FILE = "scores.json"


def searched_values(values):
    """Hyperparameter values without KerasTuner's bookkeeping (``tuner/epochs``...)."""
    return {name: value for name, value in values.items()
            if not name.startswith("tuner/")}


def _format_value(value):
    return f"{value:.3g}" if isinstance(value, float) else str(value)


@dataclasses.dataclass(frozen=True)
class TrialRecord:
    """One finished trial.

    Attributes:
      trial_id: KerasTuner's trial id.
      tuner_id: the process that ran it (``tuner0``, ``tuner1``...).
      values: the searched hyperparameter values.
      scores: the objective on each inner split it was trained on.
      seconds: wall time of the trial.
      epochs: (first, last) epoch Hyperband gave it, or None.
      continues: the trial whose weights it continued (Hyperband), or None.
    """
    trial_id: str
    tuner_id: str
    values: dict
    scores: tuple
    seconds: float
    epochs: tuple = None
    continues: str = None

    @property
    def score(self):
        return float(np.mean(self.scores))

    def line(self, objective_name):
        """The trial's log line, e.g. ``trial 03 (tuner0): dropout=0.3 ... ->
        val_song_accuracy 0.8125 (0.750 0.875) in 4.1 s``."""
        values = " ".join(f"{k}={_format_value(v)}" for k, v in sorted(self.values.items()))
        splits = (f" ({' '.join(f'{s:.3f}' for s in self.scores)})"
                  if len(self.scores) > 1 else "")
        budget = ""
        if self.epochs:
            budget = f", epochs {self.epochs[0]}->{self.epochs[1]}"
            if self.continues is not None:
                budget += f" from trial {self.continues}"
        return (f"trial {self.trial_id} ({self.tuner_id}): {values}{budget} -> "
                f"{objective_name} {self.score:.4f}{splits} in {self.seconds:.1f} s")

    def save(self, folder):
        """Writes ``scores.json`` in the trial's folder; returns its path."""
        path = os.path.join(folder, SCORES_FILE)
        files.write_atomically(path, json.dumps(
            {**dataclasses.asdict(self), "score": self.score}, indent=1,
            default=str).encode())  # a kill mid-write must not break the search's end
        return path


def load_records(project_dir):
    """Every ``TrialRecord`` saved under a search folder, by trial id."""
    records = []
    for path in sorted(glob.glob(os.path.join(project_dir, "trial_*", SCORES_FILE))):
        with open(path) as handle:
            saved = json.load(handle)
        saved.pop("score")
        saved["scores"] = tuple(saved["scores"])
        saved["epochs"] = tuple(saved["epochs"]) if saved["epochs"] else None
        records.append(TrialRecord(**saved))
    return records


def summarize(scores, records, objective_name):
    """One line on a search: the range of its trials' ``scores`` (the oracle's), and how
    far a trial's inner splits disagree in the ``records`` at hand (workers on other
    machines keep theirs), since a difference between trials smaller than that is
    noise."""
    if not scores:
        return "no finished trials"
    scores = np.asarray(scores)
    text = (f"{len(scores)} trials: {objective_name} best {scores.max():.4f}, median "
            f"{np.median(scores):.4f}, worst {scores.min():.4f}")
    spreads = [np.std(r.scores) for r in records if len(r.scores) > 1]
    if spreads:
        text += (f"; inner splits of one trial differ by {np.mean(spreads):.3f} (standard "
                 "deviation, mean over trials)")
    return text
