"""The exit statuses of ``predict.py``, which scripts branch on.

- ``OK`` (0): every input was classified.
- ``INPUT_FAILED`` (1): at least one input failed; its record carries the reason and
  every other input was still classified and written.
- ``USAGE`` (2): the command itself is wrong (a bad flag, no inputs, a
  ``--saved_model`` that is not an export); one line on stderr says why.

A module of its own, free of TensorFlow, so ``predict.py`` answers ``--helpshort`` and
usage errors without the seconds a TF import costs.
"""

from genre_tf import console

OK = 0
INPUT_FAILED = 1
USAGE = console.USAGE_ERROR  # the code every command uses for a wrong command
