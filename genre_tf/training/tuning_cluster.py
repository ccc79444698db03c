"""Which part a process plays in KerasTuner's distributed tuning, read as KerasTuner
reads it.

KerasTuner runs one search on many machines when every process is started with
``KERASTUNER_ORACLE_IP`` and ``KERASTUNER_ORACLE_PORT`` (the chief's address) and its own
``KERASTUNER_TUNER_ID``: the process whose id contains ``chief`` serves the oracle over
gRPC and runs no trial; every other id (``tuner0``, ``tuner1``...) is a worker that asks
the chief for trials and runs them. Without those variables one process does both.

All processes share the search folder, so what a process may write follows from its
part: the chief (or the lone process) writes the run's own files (``flags.txt``,
``best.flags``) and KerasTuner's oracle files; a worker writes only files of the trials
it ran and its own ``<tuner id>.json``.
"""

import dataclasses
import socket
import time

from absl import logging

# How often a waiting worker knocks on the chief's port.
_POLL_SECONDS = 0.25


@dataclasses.dataclass(frozen=True)
class TuningRole:
    """One process's part in a search.

    Attributes:
      tuner_id: KerasTuner's id of this process (``tuner0`` when alone).
      oracle_host: the chief's address (None: not distributed).
      oracle_port: the chief's gRPC port.
    """
    tuner_id: str = "tuner0"
    oracle_host: str = None
    oracle_port: int = None

    @property
    def distributed(self):
        return self.oracle_host is not None

    @property
    def is_chief(self):
        return self.distributed and "chief" in self.tuner_id

    @property
    def is_worker(self):
        return self.distributed and not self.is_chief

    @property
    def writes_outputs(self):
        """Whether this process writes the search's results (never a worker's job)."""
        return not self.is_worker

    def describe(self):
        if not self.distributed:
            return "one process"
        part = "the oracle" if self.is_chief else "worker"
        return f"{self.tuner_id}, {part} at {self.oracle_host}:{self.oracle_port}"

    def wait_for_oracle(self, timeout_seconds=3600.0):
        """Returns once the chief's port accepts connections (at once when not a worker).

        gRPC would also wait, but retries with a backoff that grows to minutes, so
        workers started together could reach the chief seconds apart; polling lets every
        waiting worker ask for its first trial as soon as the chief serves.

        Raises:
          TimeoutError: the chief did not answer within ``timeout_seconds``.
        """
        if not self.is_worker:
            return
        logging.info("%s: waiting for the chief's oracle at %s:%d", self.tuner_id,
                     self.oracle_host, self.oracle_port)
        deadline = time.monotonic() + timeout_seconds
        while True:
            try:
                with socket.create_connection((self.oracle_host, self.oracle_port),
                                              timeout=_POLL_SECONDS):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"{self.tuner_id}: no KerasTuner chief answered at "
                        f"{self.oracle_host}:{self.oracle_port} within "
                        f"{timeout_seconds:.0f} s; start tuner.py with "
                        "KERASTUNER_TUNER_ID=chief there") from None
                time.sleep(_POLL_SECONDS)


def role_from_environment(environ):
    """The ``TuningRole`` KerasTuner gives a process with ``environ`` (os.environ).

    Raises:
      ValueError: the chief's address is set without its port or this process's id
        (KerasTuner would refuse it later, after the data is built).
    """
    host = environ.get("KERASTUNER_ORACLE_IP")
    if host is None:
        return TuningRole()
    missing = [name for name in ("KERASTUNER_ORACLE_PORT", "KERASTUNER_TUNER_ID")
               if not environ.get(name)]
    if missing:
        raise ValueError(f"KERASTUNER_ORACLE_IP is set but {' and '.join(missing)} "
                         f"{'is' if len(missing) == 1 else 'are'} not: distributed "
                         "tuning needs the chief's port and a "
                         "KERASTUNER_TUNER_ID (chief, tuner0, tuner1...) per process")
    return TuningRole(environ["KERASTUNER_TUNER_ID"], host,
                      int(environ["KERASTUNER_ORACLE_PORT"]))
