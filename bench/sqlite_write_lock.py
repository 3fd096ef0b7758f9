"""How long do the long jobs hold SQLite's one write lock, and how long does a request that writes wait behind them?

Not a ratio benchmark (``make bench`` does not run it): run ``.venv/bin/python bench/sqlite_write_lock.py`` on a quiet
machine. On a fresh SQLite database under ``var/bench/write-lock/`` it runs, each as its own ``tamarind`` process:
the demo load, an import of the demo's account CSV with every ARR changed, an import of the demo's whole usage
history with every value changed, and a full health recompute a day later. Beside each, a probe tries
``BEGIN IMMEDIATE`` without waiting every 5 ms (the longest run of failures is the longest time the lock was held in
one piece), and a "request" takes the lock with the settings' busy timeout every 0.3 s (its longest wait is what a
user waits; a wait past the timeout is a failed write).

What it prints is what README ("The worker") reports; the busy timeout must stay well above the longest hold.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "var" / "bench" / "write-lock"


class Probe:
    """The lock watcher and the writing "request", in threads, around one command."""

    def __init__(self, db: Path, timeout: float) -> None:
        self.db = db
        self.timeout = timeout
        self.holds: list[float] = []
        self.waits: list[float] = []
        self.failures = 0
        self._stop = threading.Event()

    def _watch(self) -> None:
        conn = sqlite3.connect(self.db, timeout=0, isolation_level=None)
        since = None
        while not self._stop.is_set():
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("ROLLBACK")
                if since is not None:
                    self.holds.append(time.monotonic() - since)
                    since = None
            except sqlite3.OperationalError:
                since = since or time.monotonic()
            time.sleep(0.005)
        if since is not None:
            self.holds.append(time.monotonic() - since)
        conn.close()

    def _request(self) -> None:
        conn = sqlite3.connect(self.db, timeout=self.timeout, isolation_level=None)
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("ROLLBACK")
                self.waits.append(time.monotonic() - started)
            except sqlite3.OperationalError:
                self.failures += 1
            self._stop.wait(0.3)
        conn.close()

    def run(self, command: list[str], env: dict[str, str]) -> float:
        threads = [threading.Thread(target=self._watch), threading.Thread(target=self._request)]
        for t in threads:
            t.start()
        started = time.monotonic()
        try:
            subprocess.run(command, env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        finally:
            self._stop.set()
            for t in threads:
                t.join()
        return time.monotonic() - started


def tamarind(*args: str) -> list[str]:
    return [sys.executable, "-m", "tamarind.cli", *args]


def changed_accounts_csv(source: Path, out: Path) -> Path:
    with source.open(newline="") as fh:
        rows = list(csv.reader(fh))
    arr = rows[0].index("CARR (This Account)")
    for row in rows[1:]:
        row[arr] = f"{float(row[arr] or 0) + 1:.2f}"
    with out.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return out


def changed_usage_csv(db: Path, out: Path) -> Path:
    conn = sqlite3.connect(db)
    rows = conn.execute(
        "SELECT a.crm_id, d.day, m.key, d.value FROM usage_usagedaily d "
        "JOIN accounts_account a ON a.id = d.account_id JOIN usage_usagemetric m ON m.id = d.metric_id"
    ).fetchall()
    conn.close()
    with out.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["Account ID", "Date", "Metric", "Value"])
        writer.writerows((crm, day, key, value + 1) for crm, day, key, value in rows)
    return out


RECOMPUTE = (
    "import datetime as dt; from django.utils import timezone; "
    "from tamarind.health.services import health_recompute_all; "
    "health_recompute_all(source='bench', today=timezone.localdate() + dt.timedelta(days=1))"
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=3000)
    parser.add_argument(
        "--timeout", type=float, default=20.0, help="the requests' busy timeout (TAMARIND_SQLITE_TIMEOUT)"
    )
    args = parser.parse_args()
    shutil.rmtree(FOLDER, ignore_errors=True)
    FOLDER.mkdir(parents=True)
    db = FOLDER / "tamarind.sqlite3"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "TAMARIND_", "DJANGO_"))}
    env.update(TAMARIND_VAR_DIR=str(FOLDER), TAMARIND_SQLITE_PATH=str(db), TAMARIND_LOG_LEVEL="WARNING")
    subprocess.run(tamarind("migrate", "--noinput", "-v0"), env=env, cwd=ROOT, check=True)
    print(f"SQLite at {db}; {args.accounts} accounts; a request waits up to {args.timeout:.0f} s for the lock")
    print(f"{'job':<44} {'took':>7} {'longest hold':>13} {'2nd':>6} {'request waited':>15} {'failed':>7}")

    def measure(name: str, command: list[str]) -> None:
        probe = Probe(db, args.timeout)
        took = probe.run(command, env)
        holds = [*sorted(probe.holds, reverse=True), 0.0, 0.0]
        waited = max(probe.waits, default=0.0)
        print(
            f"{name:<44} {took:6.1f}s {holds[0]:12.2f}s {holds[1]:5.2f}s {waited:14.2f}s {probe.failures:7d}",
            flush=True,
        )

    measure("demo load", tamarind("demo", "--accounts", str(args.accounts)))
    source = next((FOLDER / "demo").glob("accounts-*.csv"))
    accounts = changed_accounts_csv(source, FOLDER / "accounts-changed.csv")
    measure(
        "import: the demo's accounts, every ARR changed", tamarind("import", "accounts", str(accounts), "--no-progress")
    )
    usage = changed_usage_csv(db, FOLDER / "usage-changed.csv")
    measure("import: all the demo's usage, values changed", tamarind("import", "usage", str(usage), "--no-progress"))
    measure("full health recompute, the next day", tamarind("shell", "-c", RECOMPUTE))
    return 0


if __name__ == "__main__":
    sys.exit(main())
