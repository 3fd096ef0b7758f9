"""``manage.py signals_rebuild --from YYYY-MM-DD [--to YYYY-MM-DD] [--resume]``: rebuild the signal history for
past days from stored history (what can be rebuilt: ``tamarind.signals.history``), with a progress bar; resumable."""

from __future__ import annotations

import datetime as dt
from typing import IO, Any, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tamarind.core.errors import ValidationFailed
from tamarind.core.progress import Progress
from tamarind.signals.services import outcomes_refresh, signal_history_rebuild


def _day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"Not a date (YYYY-MM-DD): {value!r}") from None


class Command(BaseCommand):
    help = "Rebuild the signal history (health colors) for past days from the stored history, and the outcomes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="start", help="First day (YYYY-MM-DD).")
        parser.add_argument("--to", dest="end", help="Last day (default today).")
        parser.add_argument("--resume", action="store_true", help="Carry on the interrupted rebuild.")
        parser.add_argument("--chunk", type=int, default=2000, help="Accounts per transaction.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["resume"] and not options["start"]:
            raise CommandError("Give --from YYYY-MM-DD, or --resume.")
        progress = Progress("signals rebuild", stream=cast(IO[str], self.stderr._out))
        try:
            result = signal_history_rebuild(
                start=_day(options["start"]) if options["start"] else None,
                end=_day(options["end"]) if options["end"] else None,
                resume=options["resume"],
                progress=progress,
                chunk=max(1, options["chunk"]),
            )
        except ValidationFailed as exc:
            raise CommandError(" ".join(m for msgs in exc.errors.values() for m in msgs)) from None
        finally:
            progress.close()
        outcomes = outcomes_refresh()
        self.stdout.write(
            f"Rebuilt {result.accounts} accounts, {result.intervals} intervals; {outcomes.written} outcomes."
        )
