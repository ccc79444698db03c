"""What a command prints: what the user needs, not TensorFlow's own chatter.

The TensorFlow 2.16 wheel registers its CUDA plugins at import, and on a machine without
a GPU the C++ runtime logs "Unable to register cuFFT/cuDNN/cuBLAS factory" at error
level: ``TF_CPP_MIN_LOG_LEVEL=2`` does not hide them and 3 would hide real errors too.
``import_tensorflow`` imports TensorFlow with the process's stderr passed through a
filter that drops exactly those lines (and TF's start-up notices), then restores it.
Call it first thing in a command, before anything imports TensorFlow.
``quiet_export`` does the same around a SavedModel or TFLite export, whose Python and
C++ loggers narrate every step. ``run_command`` runs a command's ``main`` with the exit
statuses scripts rely on. Nothing here imports TensorFlow or the project's flags at
module level, so a command answers ``--helpshort`` at once.
"""

import contextlib
import logging
import os
import re
import sys
import threading
import time

# C++ start-up lines that describe the wheel, not the user's run.
_START_UP_NOISE = re.compile(
    r"Unable to register cu(FFT|DNN|BLAS) factory|"
    r"computation placer already registered|"
    r"TF-TRT Warning: Could not find TensorRT|"
    r"This TensorFlow binary is optimized to use available CPU instructions|"
    r"rebuild TensorFlow with the appropriate compiler flags|"
    r"oneDNN custom operations are on|"
    r"All log messages before absl::InitializeLog|"
    r"Ignored output_format|Ignored drop_control_dependency")


class LoggedProgress:
    """Progress as a log line (stderr) at most every ``every_seconds`` and at the end,
    with the same ``add``/``update`` calls as Keras' ``Progbar``: for a stdout that is
    not a terminal, where the Progbar (which takes any POSIX stdout for one) would write
    colour escapes and backspaces into the user's log file."""

    def __init__(self, total, unit_name, every_seconds=10.0):
        self.total, self.unit_name, self.every_seconds = total, unit_name, every_seconds
        self.done = 0
        self.started = self.logged = time.monotonic()

    def add(self, count):
        self.update(self.done + count)

    def update(self, current, finalize=False):
        self.done = current
        now = time.monotonic()
        if finalize or now - self.logged >= self.every_seconds:
            self.logged = now
            from absl import logging as absl_logging  # pylint: disable=import-outside-toplevel
            rate = (now - self.started) / max(self.done, 1)
            absl_logging.info("%d/%d %ss (%.2f s a %s)", self.done, self.total,
                              self.unit_name, rate, self.unit_name)


def progress(total, unit_name):
    """Keras' ``Progbar`` on a terminal, else ``LoggedProgress``."""
    if sys.stdout.isatty():
        import keras  # pylint: disable=import-outside-toplevel
        return keras.utils.Progbar(total, unit_name=unit_name)
    return LoggedProgress(total, unit_name)


def _forward(read_fd, write_fd):
    with os.fdopen(read_fd, "rb") as source:
        for line in source:
            if not _START_UP_NOISE.search(line.decode("utf-8", "replace")):
                os.write(write_fd, line)


@contextlib.contextmanager
def filtered_native_stderr():
    """Passes file descriptor 2 (C++ logs included) through the noise filter."""
    sys.stderr.flush()
    saved = os.dup(2)
    read_fd, write_fd = os.pipe()
    os.dup2(write_fd, 2)
    os.close(write_fd)
    forwarder = threading.Thread(target=_forward, args=(read_fd, saved), daemon=True)
    forwarder.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)  # closes the pipe's last writer: the forwarder ends
        forwarder.join(timeout=5)
        os.close(saved)


def import_tensorflow():
    """Imports TensorFlow without its start-up noise; returns the module.

    It also picks TensorFlow's pooling (BFC) allocator for CPU tensors unless the
    environment chose: with the default one, every large temporary of the feature
    graphs (a 30 s clip's STFT frames are megabytes, ~15 of them per window size) came
    from fresh pages of the system allocator, ~9000 page faults and 25-40 ms of kernel
    time per clip for the MLP's features, ~25% of their CPU (``bench/features.py``).
    The pool keeps what it has allocated, so memory stays at its high-water mark, and
    TensorFlow caps it at ``TF_CPU_BFC_MEM_LIMIT_IN_MB`` (64 GB unless set): set
    ``TF_CPU_ALLOCATOR_USE_BFC=false`` for the default allocator. It only takes effect
    before TensorFlow's first import, so it is set only then.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    os.environ.setdefault("TF_CPU_ALLOCATOR_USE_BFC", "true")
    with filtered_native_stderr():
        import tensorflow  # pylint: disable=import-outside-toplevel
    return tensorflow


@contextlib.contextmanager
def quiet_export():
    """Silences TensorFlow's step-by-step INFO logs of saving and converting a model
    (warnings and errors still show)."""
    from absl import logging as absl_logging  # pylint: disable=import-outside-toplevel
    tf_logger = logging.getLogger("tensorflow")
    level, verbosity = tf_logger.level, absl_logging.get_verbosity()
    tf_logger.setLevel(logging.WARNING)
    absl_logging.set_verbosity(absl_logging.WARNING)
    try:
        with filtered_native_stderr():
            yield
    finally:
        tf_logger.setLevel(level)
        absl_logging.set_verbosity(verbosity)


# Exit statuses every command shares: 2 is a usage or configuration error.
USAGE_ERROR = 2
_HELP_ARGUMENTS = ("--help", "-help", "--helpshort", "-helpshort", "-h", "-?")


def _parse_flags_or_exit(argv):
    """absl's parsing, except that asking for help prints the command's own flags and
    exits 0 (absl exits 1), and a bad flag is a usage error (exit 2), so a script can
    tell a wrong command from a failed run."""
    from absl import app, flags  # pylint: disable=import-outside-toplevel
    own = argv[1:argv.index("--")] if "--" in argv else argv[1:]
    if any(arg in _HELP_ARGUMENTS for arg in own) or any("helpfull" in arg for arg in own):
        app.usage(shorthelp=not any("helpfull" in arg for arg in own),
                  writeto_stdout=True)
        sys.exit(0)
    try:
        return flags.FLAGS(argv)
    except flags.Error as error:
        print(f"{os.path.basename(argv[0])}: {error} (--helpshort for help)",
              file=sys.stderr)
        sys.exit(USAGE_ERROR)


INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a command stopped by Ctrl-C


def guarded(main, configuration_errors=(), interrupted_hint=""):
    """``main`` with the shared exit statuses: an exception of ``configuration_errors``
    (a missing ``--data_dir``...) prints one line naming the problem, without a
    traceback, and exits 2; Ctrl-C prints one line (plus ``interrupted_hint``, e.g. how
    to resume) and exits 130, not a traceback from wherever TensorFlow was."""
    command = os.path.basename(sys.argv[0])

    def run(argv):
        try:
            return main(argv)
        except tuple(configuration_errors) as error:
            print(f"{command}: error: {error}", file=sys.stderr)
            sys.exit(USAGE_ERROR)
        except KeyboardInterrupt:
            print(f"{command}: interrupted{interrupted_hint}", file=sys.stderr)
            sys.exit(INTERRUPTED)
    return run


def run_command(main, configuration_errors=(), interrupted_hint=""):
    """``absl.app.run(main)`` with the shared exit statuses: help exits 0, a bad flag
    exits 2, and ``guarded``'s."""
    from absl import app  # pylint: disable=import-outside-toplevel
    app.run(guarded(main, configuration_errors, interrupted_hint),
            flags_parser=_parse_flags_or_exit)
