"""``tamarind servicedesk_read_eml DIR``: take in every ``*.eml`` file of a directory as inbound Service Desk email.

Each file taken in is moved to ``DIR/done/`` (so running again takes nothing twice); a file that cannot be taken
in (over the size limit) is moved to ``DIR/rejected/`` with the reason printed: nothing is lost.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tamarind.core.errors import ValidationFailed
from tamarind.servicedesk import services


class Command(BaseCommand):
    help = "Read Service Desk email from .eml files in a directory."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory")

    def handle(self, *args: Any, **options: Any) -> None:
        folder = Path(options["directory"])
        if not folder.is_dir():
            raise CommandError(f"{folder} is not a directory.")
        done, rejected = folder / "done", folder / "rejected"
        counts = {"matched": 0, "unmatched": 0, "rejected": 0}
        for path in sorted(folder.glob("*.eml")):
            if path.stat().st_size > services.RAW_LIMIT:
                rejected.mkdir(exist_ok=True)
                path.rename(rejected / path.name)
                counts["rejected"] += 1
                self.stderr.write(f"{path.name}: over {services.RAW_LIMIT} bytes; moved to rejected/")
                continue
            try:
                inbound = services.inbound_email_receive(path.read_bytes())
            except ValidationFailed as exc:
                rejected.mkdir(exist_ok=True)
                path.rename(rejected / path.name)
                counts["rejected"] += 1
                self.stderr.write(f"{path.name}: {exc}; moved to rejected/")
                continue
            done.mkdir(exist_ok=True)
            path.rename(done / path.name)
            counts[inbound.status if inbound.status in counts else "matched"] += 1
        self.stdout.write(
            f"{counts['matched']} matched, {counts['unmatched']} kept aside for a person, {counts['rejected']} rejected"
        )
