"""``tamarind token create EMAIL [--name NAME]``: print a new API token for a person."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tamarind.core.context import request_id_scope
from tamarind.people.models import User
from tamarind.people.services import token_create


class Command(BaseCommand):
    help = "Manage API tokens. `create EMAIL` prints a new bearer token for that person (shown once)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a token for EMAIL and print it")
        create.add_argument("email")
        create.add_argument("--name", default="CLI token")

    def handle(self, *args: Any, **opts: Any) -> None:
        user = User.objects.filter(email__iexact=opts["email"].strip()).first()
        if user is None:
            raise CommandError(f"No person has the email {opts['email']!r}.")
        if not user.is_active:
            raise CommandError(f"{user.email} is deactivated.")
        with request_id_scope():
            _, raw = token_create(actor=user, user=user, name=opts["name"])
        self.stdout.write(raw)
