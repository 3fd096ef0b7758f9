"""``tamarind renewals_backfill [--months 24]``: rebuild monthly ARR snapshots from the audit trail of ARR changes."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tamarind.renewals.services import arr_history_backfill


class Command(BaseCommand):
    help = "Backfill each account's month-end ARR from the audit trail (months with a snapshot are left as they are)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--months", type=int, default=24, help="how many months back (default 24)")

    def handle(self, *args: Any, **opts: Any) -> None:
        if not 1 <= opts["months"] <= 240:
            raise CommandError("--months must be between 1 and 240.")
        out = arr_history_backfill(months=opts["months"], source="cli")
        self.stdout.write(f"Backfilled {out.written} monthly snapshots over {out.accounts} accounts.")
