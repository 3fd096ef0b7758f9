"""``tamarind worker --supervise``: keep a worker process running, restarting it whenever it ends.

The worker survives a database that is locked or gone for a while on its own; the supervisor covers the rest: a
worker killed (out of memory, ``kill -9``), crashed on a bug, or ended by anyone but the supervisor. Each restart
is logged with why the worker ended and when the next one starts; restarts back off (1, 2, 4, ... seconds, at most
``MAX_DELAY``) while workers keep dying young, and start again from one second once a worker has lived
``HEALTHY_AFTER`` seconds. SIGINT or SIGTERM stops the worker (SIGTERM: it finishes the task at hand, up to
``STOP_TIMEOUT`` seconds, then it is killed) and then the supervisor; it exits 0. The supervisor itself needs no
database.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from types import FrameType

logger = logging.getLogger("tamarind.supervisor")

FIRST_DELAY = 1.0
MAX_DELAY = 60.0
HEALTHY_AFTER = 60.0
STOP_TIMEOUT = 30.0


def how_it_ended(returncode: int) -> str:
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"was killed by {name}"
    return f"exited with code {returncode}"


class Supervisor:
    """Runs ``command`` (a ``tamarind worker`` without ``--supervise``) again each time it ends, until stopped."""

    def __init__(
        self,
        command: Sequence[str],
        *,
        first_delay: float = FIRST_DELAY,
        max_delay: float = MAX_DELAY,
        healthy_after: float = HEALTHY_AFTER,
        stop_timeout: float = STOP_TIMEOUT,
    ) -> None:
        self.command = list(command)
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.healthy_after = healthy_after
        self.stop_timeout = stop_timeout
        self.child: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self._stopping = threading.Event()
        self._signalled: set[int] = set()

    def stop(self, signum: int | None = None, frame: FrameType | None = None) -> None:
        """Stop the worker and then the supervisor (the SIGINT/SIGTERM handler)."""
        if not self._stopping.is_set():
            why = f" on {signal.Signals(signum).name}" if signum else ""
            logger.info("supervisor: stopping%s", why)
        self._stopping.set()
        self._terminate_child()

    def _terminate_child(self) -> None:
        """SIGTERM the worker, once: a second signal would make it abandon the task at hand."""
        child = self.child
        if child is None or child.pid in self._signalled or child.poll() is not None:
            return
        self._signalled.add(child.pid)
        with contextlib.suppress(ProcessLookupError):
            child.terminate()

    def install_signals(self) -> None:
        signal.signal(signal.SIGINT, self.stop)
        signal.signal(signal.SIGTERM, self.stop)

    def run(self) -> int:
        delay = self.first_delay
        while not self._stopping.is_set():
            started = time.monotonic()
            self.child = subprocess.Popen(self.command)  # noqa: S603 - this interpreter, `tamarind worker`
            self.starts += 1
            logger.info("supervisor: started the worker (pid %d)", self.child.pid)
            returncode = self._wait_child()
            lived = time.monotonic() - started
            if self._stopping.is_set():
                logger.info("supervisor: the worker (pid %d) %s; stopped.", self.child.pid, how_it_ended(returncode))
                break
            if lived >= self.healthy_after:
                delay = self.first_delay
            logger.warning(
                "supervisor: the worker (pid %d) %s after %.1fs; starting a new one in %.0fs.",
                self.child.pid,
                how_it_ended(returncode),
                lived,
                delay,
            )
            if self._stopping.wait(delay):
                break
            delay = min(self.max_delay, delay * 2)
        return 0

    def _wait_child(self) -> int:
        """Wait for the worker to end; once stopping, give it ``stop_timeout`` seconds and then kill it."""
        assert self.child is not None
        while True:
            try:
                return self.child.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                pass
            if self._stopping.is_set():
                self._terminate_child()  # in case the stop came before this worker was started
                try:
                    return self.child.wait(timeout=self.stop_timeout)
                except subprocess.TimeoutExpired:
                    logger.warning(
                        "supervisor: the worker (pid %d) did not stop within %.0fs; killing it.",
                        self.child.pid,
                        self.stop_timeout,
                    )
                    self.child.kill()
                    return self.child.wait()


def worker_command(args: Sequence[str]) -> list[str]:
    """The command line of a supervised worker: this interpreter running ``tamarind worker <args>``."""
    return [sys.executable, "-m", "tamarind.cli", "worker", *args]


def supervise(args: Sequence[str]) -> int:
    supervisor = Supervisor(worker_command(args))
    supervisor.install_signals()
    return supervisor.run()
