"""Test support for real Tamarind processes: ``tamarind`` commands and servers run as subprocesses over a database
file of their own, so a test can lock it, kill a worker or restart the database under them.

``sqlite_env(tmp_path)`` is the environment of such a process: a migrated SQLite file under ``tmp_path`` (copied
from one migrated once per test session), its own var/ folder, the database task backend. ``tamarind(env, ...)``
runs a command to the end; ``start(env, ...)`` starts one and returns a ``Proc`` whose output is collected in the
background, so a test can wait for a line (``proc.wait_for("...")``).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[2]
_TEMPLATE: dict[str, Path] = {}
_TEMPLATE_LOCK = threading.Lock()


def base_env(tmp_path: Path) -> dict[str, str]:
    """This interpreter's environment without the suite's database and Tamarind settings, plus a var/ folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "TAMARIND_", "DJANGO_"))}
    env.update(
        TAMARIND_VAR_DIR=str(tmp_path / "var"),
        TAMARIND_TASK_BACKEND="database",
        TAMARIND_LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    return env


def tamarind(env: dict[str, str], *args: str, timeout: float = 180, check: bool = True) -> str:
    """Run ``tamarind <args>`` to the end; its standard output (it must succeed unless ``check`` is off)."""
    done = subprocess.run(  # noqa: S603 - this interpreter running Tamarind with the test's own arguments
        [sys.executable, "-m", "tamarind.cli", *args],
        env=env,
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check:
        assert done.returncode == 0, f"tamarind {' '.join(args)}: {done.stderr[-3000:]}"
    return done.stdout


def _template(tmp_root: Path) -> Path:
    """One migrated SQLite file per test session, copied for each test (migrating takes seconds)."""
    with _TEMPLATE_LOCK:
        if "db" not in _TEMPLATE:
            folder = tmp_root / f"tamarind-template-{os.getpid()}"
            folder.mkdir(parents=True, exist_ok=True)
            env = base_env(folder)
            env["TAMARIND_SQLITE_PATH"] = str(folder / "template.sqlite3")
            tamarind(env, "migrate", "--noinput", "-v0")
            conn = sqlite3.connect(folder / "template.sqlite3")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.close()
            _TEMPLATE["db"] = folder / "template.sqlite3"
        return _TEMPLATE["db"]


def sqlite_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a process over a fresh, migrated SQLite file of its own (``env["TAMARIND_SQLITE_PATH"]``)."""
    env = base_env(tmp_path)
    db = tmp_path / "tamarind.sqlite3"
    shutil.copyfile(_template(tmp_path.parent), db)
    env["TAMARIND_SQLITE_PATH"] = str(db)
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check: Callable[[], Any], *, timeout: float = 30, every: float = 0.1, what: str = "") -> Any:
    """Call ``check`` until it returns something true (returned), or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or check}")
        time.sleep(every)


class Proc:
    """A running ``tamarind`` process whose merged output is read in the background."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.args = args
        self.popen = subprocess.Popen(  # noqa: S603 - this interpreter running Tamarind
            [sys.executable, "-m", "tamarind.cli", *args],
            env=env,
            cwd=PROJECT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # a signal the test sends the group reaches only this process and its children
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def wait_for(self, pattern: str, *, timeout: float = 30, after: int = 0) -> re.Match[str]:
        """The first output line (from line ``after`` on) matching ``pattern``; fails if the process ends first."""
        regex = re.compile(pattern)

        def found() -> re.Match[str] | None:
            for line in self.lines[after:]:
                match = regex.search(line)
                if match:
                    return match
            if not self.alive():
                raise AssertionError(f"tamarind {' '.join(self.args)} ended ({self.popen.returncode}):\n{self.output}")
            return None

        try:
            return wait_until(found, timeout=timeout, what=f"{pattern!r} in the output of {' '.join(self.args)}")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; the output so far:\n{self.output[-6000:]}") from None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        """Signal the process (not its group) and wait for it; kill the group if it does not end in time."""
        if self.alive():
            self.popen.send_signal(sig)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(10)
            raise AssertionError(f"tamarind {' '.join(self.args)} did not stop on {sig!r}:\n{self.output}") from None
        self._reader.join(5)
        return self.popen.returncode

    def kill_group(self) -> None:
        """Last resort at the end of a test: nothing it started may outlive it."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(10)


def start(env: dict[str, str], *args: str) -> Proc:
    return Proc(env, *args)


class TcpProxy:
    """A TCP forwarder from a local port to ``host:port`` that a test can cut off and restore, to show a process
    what a database server restarting looks like (connections dropped, new ones refused) without restarting it."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = free_port()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self.resume()

    def resume(self) -> None:
        """Accept connections again (on the same port)."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(50)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut: the listener was closed
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._pairs.append((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for s in (source, sink):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        """Drop every open connection and refuse new ones, until ``resume()``."""
        if self._listener is not None:
            # shutdown() first: a bare close() leaves the socket listening while accept() blocks on it.
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            for s in pair:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    def close(self) -> None:
        self.cut()


def database_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a process over the suite's kind of database: this run's PostgreSQL test database (the
    test must be transactional, so the process sees its rows and they are flushed after it), or a fresh SQLite
    file."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return sqlite_env(tmp_path, **extra)
    s = connection.settings_dict
    env = base_env(tmp_path)
    env["DATABASE_URL"] = (
        f"postgres://{s['USER']}:{s['PASSWORD'] or ''}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    )
    env.update(extra)
    return env


def query(env: dict[str, str], sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` (``%s`` placeholders) read from the process's database over a connection of the test's own."""
    if "DATABASE_URL" in env:
        import psycopg

        with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
            return list(conn.execute(sql, params).fetchall())  # type: ignore[arg-type]
    conn = sqlite3.connect(env["TAMARIND_SQLITE_PATH"], timeout=10)
    try:
        return list(conn.execute(sql.replace("%s", "?"), params).fetchall())
    finally:
        conn.close()
