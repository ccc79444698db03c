"""The CSV files a user hands in (``path,label`` manifests, feature tables), read so that
every message can point at a line of the file.

Both kinds need the same three answers before their own checks: is there a header with
the columns we need, is there any row under it, and on which line of the file is each
row (``csv.DictReader`` drops blank lines and lets a quoted cell span lines, so counting
rows is not counting lines).
"""

import csv

# Line numbers listed in one warning, before "and N more".
_LINES_SHOWN = 20


def read_rows(path, columns, what, header):
    """Every data row of a CSV file with its line number.

    Args:
      path: the CSV file.
      columns: names the header must hold.
      what: what the file is, for messages ("a manifest").
      header: the header to ask for in messages ("path,label").

    Returns:
      A non-empty list of ``(line, row)``: ``line`` is the row's (last) line in the file,
      ``row`` a dict keyed by the header; a cell missing from a short row is None.

    Raises:
      ValueError: no header naming ``columns``, a header with no rows under it, or a row
        with more cells than the header (its cells would land in the wrong columns).
    """
    with open(path, newline="", encoding="utf-8-sig") as handle:  # Excel writes a BOM
        reader = csv.DictReader(handle)
        if not set(columns) <= set(reader.fieldnames or ()):
            raise ValueError(f"{path}: {what} needs a header with columns {header}")
        rows = []
        for row in reader:
            if None in row:
                n_header = len(reader.fieldnames)
                raise ValueError(f"{path}:{reader.line_num}: {n_header + len(row[None])} "
                                 f"cells, the header has {n_header}")
            rows.append((reader.line_num, row))
    if not rows:
        raise ValueError(f"{path}: {what} has no rows, only a header")
    return rows


def cell(row, column):
    """A row's cell without surrounding spaces; '' when the row is too short to hold it."""
    return (row.get(column) or "").strip()


def describe_lines(lines):
    """``lines 3, 7, 9`` for a warning, the list cut short when long."""
    shown = ", ".join(str(line) for line in lines[:_LINES_SHOWN])
    more = f" and {len(lines) - _LINES_SHOWN} more" if len(lines) > _LINES_SHOWN else ""
    return f"line{'s' if len(lines) > 1 else ''} {shown}{more}"
