"""``tamarind serve``: the web server (gunicorn) on 127.0.0.1:$PORT, static files by WhiteNoise."""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve Tamarind with gunicorn (host/port from --bind, or 127.0.0.1:$PORT, default 8000)."

    def add_arguments(self, parser: CommandParser) -> None:
        port = os.environ.get("PORT", "8000")
        parser.add_argument("--bind", default=os.environ.get("TAMARIND_BIND", f"127.0.0.1:{port}"))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("TAMARIND_WEB_WORKERS", "2")))
        parser.add_argument("--threads", type=int, default=int(os.environ.get("TAMARIND_WEB_THREADS", "4")))

    def handle(self, *args: Any, **opts: Any) -> None:
        argv = gunicorn_argv(bind=opts["bind"], workers=opts["workers"], threads=opts["threads"])
        from gunicorn.app.wsgiapp import run

        self.stdout.write(f"Tamarind is serving on http://{opts['bind']}/")
        self.stdout.flush()
        import sys

        sys.argv = argv
        run()


def gunicorn_argv(*, bind: str, workers: int, threads: int) -> list[str]:
    """gunicorn's command line for ``tamarind serve``."""
    return [
        "gunicorn",
        "tamarind.config.wsgi:application",
        "--bind",
        bind,
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--access-logfile",
        "-",
        # Redacts tokens, passwords and cookies in the access and error logs (the query string, the referer).
        "--logger-class",
        "tamarind.core.logs.GunicornLogger",
        "--timeout",
        "120",
    ]
