"""``tamarind logins``: who to sign in as (one person per role, a manager per region, a few TAMs)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tamarind.people.models import Region, Role, User


class Command(BaseCommand):
    help = "Print the URL and a sign-in for each role (the demo book's people)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000/")
        parser.add_argument("--password", default="", help="the shared password to print beside each login")

    def handle(self, *args: Any, **opts: Any) -> None:
        rows: list[tuple[str, User]] = []
        for role, label in ((Role.ADMIN, "Admin (CS Ops)"), (Role.DIRECTOR, "Director")):
            user = User.objects.active().filter(role=role).order_by("id").first()
            if user:
                rows.append((label, user))
        for region in Region.objects.select_related("manager").order_by("name"):
            if region.manager and region.manager.is_active:
                rows.append((f"TAM Manager, {region.name}", region.manager))
        for user in User.objects.active().filter(role=Role.TAM).select_related("region").order_by("id")[:3]:
            rows.append((f"TAM, {user.region.name if user.region else 'no region'}", user))
        for role, label in ((Role.SAL, "SAL / AE"), (Role.SA, "SA")):
            user = User.objects.active().filter(role=role).order_by("id").first()
            if user:
                rows.append((label, user))
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Tamarind: open {opts['url']}"))
        if not rows:
            self.stdout.write("No one can sign in yet: run `tamarind createsuperuser` or `tamarind demo`.")
            return
        width = max(len(label) for label, _ in rows)
        email_width = max(len(user.email) for _, user in rows)
        pw = f"  password: {opts['password']}" if opts["password"] else ""
        for label, user in rows:
            self.stdout.write(f"  {label:<{width}}  {user.email:<{email_width}}{pw}".rstrip())
        self.stdout.write("")
