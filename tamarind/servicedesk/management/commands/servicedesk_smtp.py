"""``tamarind servicedesk_smtp --host 0.0.0.0 --port 2525``: the Service Desk's inbound SMTP listener."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tamarind.servicedesk.smtp import controller


class Command(BaseCommand):
    help = "Listen for Service Desk email over SMTP (aiosmtpd) until stopped."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=2525)

    def handle(self, *args: Any, **options: Any) -> None:
        ctl = controller(options["host"], options["port"])
        ctl.start()
        self.stdout.write(f"Service Desk SMTP listening on {options['host']}:{options['port']}")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            while not stop.wait(1):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            ctl.stop()
