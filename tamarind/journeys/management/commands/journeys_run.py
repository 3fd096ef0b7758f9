"""``manage.py journeys_run [--day YYYY-MM-DD] [--deliver]``: queue the digital journey's sends due on a day."""

from __future__ import annotations

import datetime as dt
from typing import IO, Any, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tamarind.core.progress import Progress
from tamarind.journeys.services import journey_run, sends_deliver


class Command(BaseCommand):
    help = "Queue every digital journey step due on a day (default today); --deliver sends a batch afterwards."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--day", help="The day to run for, YYYY-MM-DD (default: today).")
        parser.add_argument("--deliver", action="store_true", help="Deliver due queued sends afterwards.")

    def handle(self, *args: Any, **options: Any) -> None:
        day = None
        if options["day"]:
            try:
                day = dt.date.fromisoformat(options["day"])
            except ValueError:
                raise CommandError(f"--day must be YYYY-MM-DD, not {options['day']!r}") from None
        progress = Progress("journeys", stream=cast(IO[str], self.stderr._out))
        try:
            result = journey_run(day=day, progress=progress)
        finally:
            progress.close()
        self.stdout.write(
            f"{result['day']}: {result['due']} due, {result['queued']} queued (the rest were queued before)."
        )
        if options["deliver"]:
            self.stdout.write(f"Delivered: {sends_deliver(limit=100_000)}")
