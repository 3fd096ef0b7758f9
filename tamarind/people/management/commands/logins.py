"""``tamarind logins``: who to sign in as (one person per role, a manager per region, three TAMs whose books show
the most: several health colors, an onboarding under way, a triage case)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tamarind.people.models import Region, Role, User
from tamarind.people.selectors import representative_tams


class Command(BaseCommand):
    help = "Print the URL and a sign-in for each role (the demo book's people)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000/")
        parser.add_argument("--password", default="", help="the shared password to print beside each login")

    def handle(self, *args: Any, **opts: Any) -> None:
        rows: list[tuple[str, User, str]] = []
        for role, label in ((Role.ADMIN, "Admin (CS Ops)"), (Role.DIRECTOR, "Director")):
            user = User.objects.active().filter(role=role).order_by("id").first()
            if user:
                rows.append((label, user, ""))
        for region in Region.objects.select_related("manager").order_by("name"):
            if region.manager and region.manager.is_active:
                rows.append((f"TAM Manager, {region.name}", region.manager, ""))
        # TAMs whose book shows the product (several health colors, an onboarding, a triage case) come first.
        for book in representative_tams(limit=3):
            user = book.tam
            rows.append((f"TAM, {user.region.name if user.region else 'no region'}", user, book.summary))
        for role, label in ((Role.SAL, "SAL / AE"), (Role.SA, "SA")):
            user = User.objects.active().filter(role=role).order_by("id").first()
            if user:
                rows.append((label, user, ""))
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Tamarind: open {opts['url']}"))
        if not rows:
            self.stdout.write("No one can sign in yet: run `tamarind createsuperuser` or `tamarind demo`.")
            return
        width = max(len(label) for label, _, _ in rows)
        email_width = max(len(user.email) for _, user, _ in rows)
        pw = f"  password: {opts['password']}" if opts["password"] else ""
        for label, user, held in rows:
            note = f"  {held}" if held else ""
            self.stdout.write(f"  {label:<{width}}  {user.email:<{email_width}}{pw}{note}".rstrip())
        self.stdout.write("")
