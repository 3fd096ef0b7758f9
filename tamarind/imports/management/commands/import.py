"""``tamarind import accounts FILE [--dry-run] [--mapping NAME] [--as EMAIL]``: import a CRM export.

Progress goes to stderr (a tqdm bar on a terminal, a plain counter otherwise); the summary to stdout.
A rejected file prints every error, then what the rows without errors would have done and that nothing was
written, and exits with status 1.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tamarind import policy
from tamarind.core.errors import ValidationFailed
from tamarind.imports import selectors, services
from tamarind.imports.importer import Progress
from tamarind.imports.models import ImportSource, ImportStatus
from tamarind.people.models import Role, User


class Command(BaseCommand):
    help = "Import accounts from a CRM CSV export (all or nothing; re-importing an unchanged file changes nothing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "kind", choices=["accounts", "usage", "tickets"], help="What the file holds (accounts, usage, tickets)."
        )
        parser.add_argument("file", type=Path, help="The CSV file.")
        parser.add_argument("--dry-run", action="store_true", help="Check and count the changes; write nothing.")
        parser.add_argument("--mapping", metavar="NAME", help="Column mapping to use (default: the default mapping).")
        parser.add_argument(
            "--as",
            dest="actor",
            metavar="EMAIL",
            help="The admin the import is recorded for (default: the first admin).",
        )
        parser.add_argument("--no-progress", action="store_true", help="Print no progress on stderr.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file.")
        actor = self._actor(options["actor"])
        mapping = None
        if options["mapping"]:
            mapping = selectors.import_mapping_named(options["mapping"])
            if mapping is None:
                raise CommandError(f"There is no import mapping called “{options['mapping']}”.")
        try:
            job = services.import_job_create_from_path(
                actor=actor,
                path=path,
                dry_run=options["dry_run"],
                mapping=mapping,
                source=ImportSource.CLI,
                kind=options["kind"],
            )
        except ValidationFailed as exc:
            raise CommandError(str(exc)) from exc
        reporter = None if options["no_progress"] else _Reporter(self.stderr._out, size=job.size)
        try:
            job = services.import_job_run(job_id=job.pk, progress=reporter)
        finally:
            if reporter is not None:
                reporter.close()
        if job.status == ImportStatus.SUCCEEDED:
            self.stdout.write(job.summary())
            return
        for error in job.errors or []:
            self.stderr.write(error["message"])
        if job.errors_truncated:
            self.stderr.write(f"... and {job.error_count - len(job.errors)} more errors")
        if job.error_count:  # a file it checked: what the clean rows would have done, and that nothing was written
            self.stderr.write(job.summary())
        raise CommandError(job.message or "The import failed.")

    def _actor(self, email: str | None) -> User:
        if email:
            user = User.objects.filter(email__iexact=email.strip()).first()
            if user is None:
                raise CommandError(f"No person with the email {email}.")
            if not policy.can_import(user):
                raise CommandError(f"{user.email} is not an active admin; only admins import.")
            return user
        user = User.objects.filter(role=Role.ADMIN, is_active=True).order_by("pk").first()
        if user is None:
            raise CommandError("There is no active admin to record the import for: create one, or pass --as EMAIL.")
        return user


class _Reporter:
    """Progress on stderr: tqdm on a terminal, a line every few seconds otherwise (logs, pipes)."""

    def __init__(self, stream: Any, *, size: int) -> None:
        self.stream = stream
        self.size = size
        self.bar: Any = None
        self.last_line = 0.0
        if getattr(stream, "isatty", lambda: False)():
            from tqdm import tqdm

            self.bar = tqdm(total=size, unit="B", unit_scale=True, desc="reading", file=stream, leave=False)

    def __call__(self, progress: Progress) -> None:
        if self.bar is not None:
            # The importer already reports at most twice a second: draw every report.
            self.bar.set_description(progress.stage, refresh=False)
            self.bar.set_postfix_str(f"{progress.rows:,} rows", refresh=False)
            self.bar.n = progress.bytes
            self.bar.refresh()
            return
        now = time.monotonic()
        if progress.stage == "writing" or now - self.last_line >= 2:
            self.last_line = now
            pct = int(progress.bytes * 100 / progress.size) if progress.size else 100
            print(f"{progress.stage}: {progress.rows:,} rows ({pct}%)", file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


if __name__ == "__main__":  # pragma: no cover
    sys.exit("Run it as: tamarind import accounts FILE")
