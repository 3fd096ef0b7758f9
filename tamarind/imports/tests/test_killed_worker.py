"""A worker killed (SIGKILL) in the middle of an import's write: nothing of the file is kept, the job does not stay
"running" for ever (the next worker's tick fails it as lost within the lease), and the file imports when run again.

Real processes over the suite's kind of database: an SQLite file, or this run's PostgreSQL test database.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from django.db import connection

from tamarind.testing.browser import seed_defaults
from tamarind.testing.processes import database_env, query, start, tamarind, wait_until

ROWS = 10_000
LEASE = "3"

SEED = """
import os
from pathlib import Path
from tamarind.imports.services import import_job_create_from_path, import_job_enqueue
from tamarind.people.models import Region, Role, User
Region.objects.get_or_create(name="East")
admin = User.objects.filter(email="admin@killed.test").first() or User.objects.create_user(
    email="admin@killed.test", password="x", role=Role.ADMIN, full_name="Ada Admin"
)
job = import_job_create_from_path(actor=admin, path=Path(os.environ["TAMARIND_TEST_CSV"]))
import_job_enqueue(job)
print(job.pk)
"""


def write_csv(path: Path, rows: int) -> Path:
    lines = ["Account ID,Account Name,Parent Account ID,Region,Sales Segment,CARR (This Account)"]
    lines += [f"0015k{i:012d},Killed {i},,East,Enterprise,{100_000 + i}.00" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


def job_row(env: dict[str, str], job_id: int) -> tuple[str, str, str, str]:
    rows = query(env, "SELECT status, stage, message, worker FROM imports_importjob WHERE id = %s", (job_id,))
    return rows[0]


def written_rows(env: dict[str, str]) -> dict[str, int]:
    """What an import writes: accounts, their audit events, TAM assignments, qualification records."""
    return {
        "accounts": query(env, "SELECT COUNT(*) FROM accounts_account")[0][0],
        "audit": query(env, "SELECT COUNT(*) FROM audit_auditevent WHERE object_type = 'accounts.account'")[0][0],
        "tam": query(env, "SELECT COUNT(*) FROM accounts_tamassignment")[0][0],
    }


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_while_writing_an_import_leaves_nothing_and_the_job_is_failed(tmp_path: Path) -> None:
    if connection.vendor == "postgresql":
        seed_defaults()  # the rules and models migrate seeds, which an earlier transactional test's flush took
    env = database_env(tmp_path, TAMARIND_JOB_LEASE_SECONDS=LEASE)
    csv = write_csv(tmp_path / "book.csv", ROWS)
    queue = {**env, "TAMARIND_TEST_CSV": str(csv)}
    job_id = int(tamarind(queue, "shell", "-c", SEED).split()[-1])
    worker = start(env, "worker", "--interval", "0.1", "--tick", "0.5")
    second = None
    try:
        wait_until(lambda: job_row(env, job_id)[1] == "writing", timeout=120, every=0.02, what="the write phase")
        os.kill(worker.pid, signal.SIGKILL)
        worker.popen.wait(10)
        status, stage, _, killed_worker = job_row(env, job_id)
        assert (status, stage) == ("running", "writing")  # what a dead worker leaves: "running" at 99 %, for ever
        assert killed_worker.endswith(f":{worker.pid}")
        time.sleep(1)  # PostgreSQL ends the dead connection's transaction once it sees the socket closed
        assert written_rows(env) == {"accounts": 0, "audit": 0, "tam": 0}, "a killed import kept rows"

        # The next worker's tick fails the job as lost, within the lease, and says why.
        second = start(env, "worker", "--interval", "0.1", "--tick", "0.5")
        killed_at = time.monotonic()
        wait_until(lambda: job_row(env, job_id)[0] == "failed", timeout=60, what="the lost job to be failed")
        assert time.monotonic() - killed_at < 30
        _, stage, message, _ = job_row(env, job_id)
        assert message.startswith("Worker lost: no heartbeat since "), message
        assert f"(worker {killed_worker})" in message
        assert "nothing was imported" in message
        assert stage == ""
        assert written_rows(env) == {"accounts": 0, "audit": 0, "tam": 0}

        # The file was never the problem: run again, it imports whole.
        again = int(tamarind(queue, "shell", "-c", SEED).split()[-1])
        try:
            wait_until(lambda: job_row(env, again)[0] == "succeeded", timeout=120, what="the import run again")
        except AssertionError as exc:
            raise AssertionError(
                f"{exc}: job {job_row(env, again)}; the worker said:\n{second.output[-4000:]}"
            ) from None
        assert written_rows(env)["accounts"] == ROWS
        assert second.stop() == 0
    finally:
        worker.kill_group()
        if second is not None:
            second.kill_group()
