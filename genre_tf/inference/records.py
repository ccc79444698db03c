"""One record per input file, written as text, JSON or CSV for people and scripts.

A record holds the path, the top genres with their probabilities (best first), the
duration, how short input was filled (``repeat``, ``pad``, or None when it was long
enough), how many windows were averaged (None when the whole waveform was classified in
one call), the error (None on success) and, on request, the timeline: the top genre of
every window. Failed inputs get a record too, so a script sees every input it named.

- ``text``: ``path: genre 0.97, genre 0.02 (12.0 s)``, or ``path: error: reason``;
  timeline windows follow on indented lines. Written as each file is done.
- ``json``: one JSON list of objects (keys as ``Record.as_dict``), written at the end so
  the output is always one valid document.
- ``csv``: a header row, then one row per file: ``path``, ``genre_1``,
  ``probability_1`` ... ``genre_k``, ``probability_k``, ``duration_seconds``,
  ``filled``, ``windows``, ``error`` (empty cells for None), and with a timeline a
  ``timeline`` cell of ``start-end genre probability`` entries joined by ``;``.
"""

import csv
import dataclasses
import json

FORMATS = ("text", "json", "csv")


@dataclasses.dataclass(frozen=True)
class WindowAnswer:
    """The top genre of one window, times in seconds from the start of the file."""

    start_seconds: float
    end_seconds: float
    genre: str
    probability: float


@dataclasses.dataclass(frozen=True)
class Record:
    """What predict says about one input."""

    path: str
    genres: tuple = ()  # ((genre, probability), ...), best first
    duration_seconds: float | None = None
    filled: str | None = None
    windows: int | None = None
    error: str | None = None
    timeline: tuple | None = None  # (WindowAnswer, ...) when asked for

    @property
    def ok(self):
        return self.error is None

    def as_dict(self):
        """The record as JSON-ready values (rounded: probabilities to 6 places)."""
        result = {
            "path": self.path,
            "genres": [{"genre": genre, "probability": round(float(p), 6)}
                       for genre, p in self.genres],
            "duration_seconds": (None if self.duration_seconds is None
                                 else round(self.duration_seconds, 3)),
            "filled": self.filled,
            "windows": self.windows,
            "error": self.error,
        }
        if self.timeline is not None:
            result["timeline"] = [
                {"start_seconds": round(w.start_seconds, 3),
                 "end_seconds": round(w.end_seconds, 3),
                 "genre": w.genre, "probability": round(float(w.probability), 6)}
                for w in self.timeline]
        return result


def seconds_text(seconds):
    """A duration for people: tenths of a second, or milliseconds below one second
    (a 23 ms clip is not "0.0 s")."""
    return f"{seconds:.1f}" if seconds >= 1 else f"{seconds:.3f}"


def _span(window):
    return f"{window.start_seconds:.1f}-{window.end_seconds:.1f}"


class TextWriter:
    """Lines for people, one record at a time."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, record):
        if not record.ok:
            print(f"{record.path}: error: {record.error}", file=self._stream, flush=True)
            return
        ranked = ", ".join(f"{genre} {p:.2f}" for genre, p in record.genres)
        notes = [f"{seconds_text(record.duration_seconds)} s"]
        if record.filled:
            notes.append(f"filled by {record.filled}")
        if record.windows:
            notes.append(f"mean of {record.windows} windows")
        print(f"{record.path}: {ranked} ({'; '.join(notes)})", file=self._stream)
        for window in record.timeline or ():
            print(f"  {_span(window)} s  {window.genre} {window.probability:.2f}",
                  file=self._stream)
        self._stream.flush()

    def close(self):
        pass


class JsonWriter:
    """One JSON list of every record, written by ``close``."""

    def __init__(self, stream):
        self._stream = stream
        self._records = []

    def write(self, record):
        self._records.append(record.as_dict())

    def close(self):
        json.dump(self._records, self._stream, indent=2)
        self._stream.write("\n")
        self._stream.flush()


class CsvWriter:
    """A header row, then one row per record with ``top_k`` genre/probability pairs."""

    def __init__(self, stream, top_k, timeline=False):
        self._stream = stream
        self._top_k = top_k
        self._timeline = timeline
        self._writer = csv.writer(stream, lineterminator="\n")
        ranks = [(f"genre_{k}", f"probability_{k}") for k in range(1, top_k + 1)]
        self._writer.writerow(
            ["path", *[name for pair in ranks for name in pair], "duration_seconds",
             "filled", "windows", "error"] + (["timeline"] if timeline else []))

    def write(self, record):
        values = record.as_dict()
        genres = [cell for g in values["genres"] for cell in (g["genre"], g["probability"])]
        genres += [""] * (2 * self._top_k - len(genres))
        row = [record.path, *genres] + [
            "" if values[key] is None else values[key]
            for key in ("duration_seconds", "filled", "windows", "error")]
        if self._timeline:
            row.append(";".join(f"{_span(w)} {w.genre} {w.probability:.4f}"
                                for w in record.timeline or ()))
        self._writer.writerow(row)
        self._stream.flush()

    def close(self):
        pass


def make_writer(output_format, stream, top_k, timeline=False):
    """A writer of ``output_format`` (one of ``FORMATS``) to ``stream``."""
    if output_format == "text":
        return TextWriter(stream)
    if output_format == "json":
        return JsonWriter(stream)
    if output_format == "csv":
        return CsvWriter(stream, top_k, timeline)
    raise ValueError(f"unknown format {output_format!r}; choose from {', '.join(FORMATS)}")
