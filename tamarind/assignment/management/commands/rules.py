"""``tamarind rules evaluate [--stale]``: evaluate accounts against the live qualification rules, with progress."""

from __future__ import annotations

import json
from typing import IO, Any, cast

from django.core.management.base import BaseCommand, CommandParser

from tamarind.assignment import services
from tamarind.core.progress import Progress


class Command(BaseCommand):
    help = "Evaluate accounts against the live qualification rules (consequences fire only on changes of standing)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        evaluate = sub.add_parser("evaluate", help="Evaluate every account (or only the stale ones).")
        evaluate.add_argument("--stale", action="store_true", help="Only accounts not yet judged by the live version.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["stale"]:
            summary = services.qualification_refresh_stale()
        else:
            bar = Progress("evaluating", stream=cast(IO[str], self.stderr._out))
            try:
                summary = services.qualification_refresh(
                    actor=None, account_ids=None, source="cli", progress=bar
                ).summary()
            finally:
                bar.close()
        self.stdout.write(json.dumps(summary))
