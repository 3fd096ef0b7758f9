"""``tamarind demo [--accounts N] [--seed S] [--if-empty]``: load the demo book."""

from __future__ import annotations

import time
from typing import IO, Any, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tamarind.accounts.demo import DEMO_PASSWORD, build_demo
from tamarind.accounts.models import Account
from tamarind.core.context import request_id_scope
from tamarind.core.progress import Progress
from tamarind.people.models import User


class Command(BaseCommand):
    help = "Load a deterministic demo book: regions, managers, TAMs, SALs, SAs and N accounts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--accounts", type=int, default=3000, help="how many accounts (default 3000)")
        parser.add_argument("--seed", type=int, default=7, help="random seed; the same seed gives the same book")
        parser.add_argument(
            "--no-health",
            action="store_true",
            help="skip the health story (usage, tickets, reviews, calls, scores, triage board)",
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing (and succeed) when the database already has accounts"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["accounts"] < 1:
            raise CommandError("--accounts must be at least 1.")
        if Account.objects.exists() or User.objects.exists():
            if opts["if_empty"]:
                self.stdout.write("The database already has data; the demo book was not loaded again.")
                return
            raise CommandError("The database already has people or accounts; the demo loads into an empty one.")
        started = time.monotonic()
        progress = Progress("demo accounts", stream=cast(IO[str], self.stderr._out))
        stories = Progress("demo onboarding", stream=cast(IO[str], self.stderr._out))
        health = Progress("demo health", stream=cast(IO[str], self.stderr._out))
        with request_id_scope():
            out = build_demo(
                accounts=opts["accounts"],
                seed=opts["seed"],
                progress=progress,
                onboarding_progress=stories,
                health=not opts["no_health"],
                health_progress=health,
            )
            from tamarind.renewals.demo import seed_renewals

            renewals = seed_renewals(seed=opts["seed"], actor=out.cast.admin)
            # After the renewals story: the signal evidence adds past closed renewals where the story has none.
            from tamarind.signals.demo import seed_signals_demo

            signals = seed_signals_demo(seed=opts["seed"])
        progress.close()
        stories.close()
        health.close()
        job = out.job
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo book loaded: {Account.objects.count()} accounts, {User.objects.count()} people "
                f"in {time.monotonic() - started:.1f}s (import: {job.summary()}; {out.onboardings} onboarding records)."
            )
        )
        if out.health is not None:
            self.stdout.write(f"Health: {out.health.summary()} ({out.health.seconds:.1f}s).")
        self.stdout.write(f"Renewals: {renewals.summary()}.")
        self.stdout.write(f"Signals: {signals['intervals']} signal intervals, {signals['outcomes']} outcomes.")
        self.stdout.write(f"Every demo login uses the password: {DEMO_PASSWORD}")
