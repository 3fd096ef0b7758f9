"""``tamarind worker``: run background tasks (imports now; the scheduler tick later) from the database queue."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Run the background worker (django-tasks database backend). With TAMARIND_TASK_BACKEND=rq, use `rqworker`."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between queue polls")
        parser.add_argument("--batch", action="store_true", help="exit once the queue is empty")

    def handle(self, *args: Any, **opts: Any) -> None:
        backend = settings.TASKS["default"]["BACKEND"]
        if backend != "django_tasks_db.DatabaseBackend":
            raise CommandError(f"The task backend is {backend}; `tamarind worker` runs the database backend only.")
        extra = ["--no-reload", *(["--batch"] if opts["batch"] else [])]
        call_command("db_worker", "--interval", str(opts["interval"]), *extra)
