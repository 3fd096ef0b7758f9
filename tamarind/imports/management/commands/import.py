"""``tamarind import accounts FILE [--dry-run] [--create-regions] [--skip-unknown-owners] [--mapping NAME] [--as EMAIL]``.

Imports a CRM export (or a usage or tickets file).

Progress goes to stderr (a tqdm bar on a terminal, a plain counter otherwise); the summary to stdout.
A rejected file prints every error, then what the rows without errors would have done and that nothing was
written, and exits with status 1. Regions and owners the file names that Tamarind does not know are listed
once, with their line counts; ``--create-regions`` creates those regions with the import (same transaction),
``--skip-unknown-owners`` imports those lines without their unknown owners.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tamarind import policy
from tamarind.core.errors import ValidationFailed
from tamarind.imports import selectors, services
from tamarind.imports.importer import Progress
from tamarind.imports.models import ImportJob, ImportSource, ImportStatus
from tamarind.people.models import Role, User


class Command(BaseCommand):
    help = "Import accounts from a CRM CSV export (all or nothing; re-importing an unchanged file changes nothing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "kind",
            choices=["accounts", "usage", "tickets", "opportunities", "arr_history", "contacts"],
            help="What the file holds (accounts, usage, tickets, opportunities, arr_history, contacts).",
        )
        parser.add_argument("file", type=Path, help="The CSV file.")
        parser.add_argument("--dry-run", action="store_true", help="Check and count the changes; write nothing.")
        parser.add_argument(
            "--create-regions",
            action="store_true",
            help="Create the regions the file names that Tamarind does not know, with the import (all or nothing).",
        )
        parser.add_argument(
            "--skip-unknown-owners",
            action="store_true",
            help="Import lines whose TAM, SAL/AE or SA is not in Tamarind without that owner (new accounts get "
            "none, existing ones keep theirs; importing the file again sets them once the people exist).",
        )
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
                create_regions=options["create_regions"],
                skip_unknown_owners=options["skip_unknown_owners"],
            )
        except ValidationFailed as exc:
            raise CommandError(str(exc)) from exc
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from exc
        reporter = None if options["no_progress"] else _Reporter(self.stderr._out, size=job.size)
        try:
            job = services.import_job_run(job_id=job.pk, progress=reporter)
        finally:
            if reporter is not None:
                reporter.close()
        if job.status == ImportStatus.SUCCEEDED:
            self.stdout.write(job.summary())
            for line in unknown_lines(job):
                self.stdout.write(line)
            return
        for error in job.errors or []:
            self.stderr.write(error["message"])
        if job.errors_truncated:
            self.stderr.write(f"... and {job.error_count - len(job.errors)} more errors")
        if job.error_count:  # a file it checked: what the clean rows would have done, and that nothing was written
            self.stderr.write(job.summary())
            for line in unknown_lines(job):
                self.stderr.write(line)
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


def _lines(n: int) -> str:
    return f"{n} line" if n == 1 else f"{n} lines"


def unknown_lines(job: ImportJob) -> list[str]:
    """What the file names that Tamarind lacks, once each with its line count, and what to do about it."""
    unknown = job.unknown or {}
    out: list[str] = []
    regions, owners = unknown.get("regions") or [], unknown.get("owners") or []
    more_regions = unknown.get("regions_total", 0) - len(regions)
    more_owners = unknown.get("owners_total", 0) - len(owners)
    if regions:
        listed = ", ".join(f"{r['name']} ({_lines(r['lines'])})" for r in regions)
        listed += f", and {more_regions} more" if more_regions > 0 else ""
        if unknown.get("regions_created"):
            out.append(f"regions created: {listed}; give each a TAM Manager (People > Regions)")
        elif unknown.get("create_regions"):
            out.append(f"regions the import would create: {listed}")
        else:
            out.append(f"regions not in Tamarind: {listed}")
            out.append("  to create them with the import, run it again with --create-regions")
    if owners:
        listed = ", ".join(f"{o['role']} {o['value']} ({_lines(o['lines'])})" for o in owners)
        listed += f", and {more_owners} more" if more_owners > 0 else ""
        if unknown.get("skip_unknown_owners"):
            out.append(f"imported without these owners, who are not in Tamarind: {listed}")
            out.append("  add them as people (People > Add a person), then import the file again to set them")
        else:
            out.append(f"owners not in Tamarind: {listed}")
            out.append(
                "  add them as people (People > Add a person) and import again, or run it again with "
                "--skip-unknown-owners to import those lines without them"
            )
    return out


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
