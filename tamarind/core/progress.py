"""Progress reporting for long jobs on the command line: a tqdm bar on a terminal, periodic lines otherwise."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import IO, Any


class Progress:
    """``progress(done, total)`` callable. On a TTY it draws a bar; piped, it prints a line every few seconds."""

    def __init__(self, label: str, *, stream: IO[str] | None = None, min_interval: float = 2.0) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.min_interval = min_interval
        self._bar: Any = None
        self._last = 0.0
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def __call__(self, done: int, total: int) -> None:
        if self._tty:
            if self._bar is None:
                from tqdm import tqdm

                self._bar = tqdm(total=total or None, desc=self.label, unit="rows", file=self.stream, leave=True)
            self._bar.total = total or None
            self._bar.n = done
            self._bar.refresh()
            return
        now = time.monotonic()
        if now - self._last >= self.min_interval or (total and done >= total):
            self._last = now
            share = f" ({done * 100 // total}%)" if total else ""
            self.stream.write(f"{self.label}: {done}/{total or '?'}{share}\n")
            self.stream.flush()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


ProgressFn = Callable[[int, int], None]
