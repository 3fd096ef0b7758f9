"""``tamarind export accounts [FILE]``: every account as a CRM CSV, in the format ``tamarind import`` reads.

Export then import changes nothing. Writes to FILE, or to stdout when FILE is omitted or ``-``. Cells a spreadsheet
would run as a formula are escaped (``core.csv_safe``), and the importer takes exactly that escape off again.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tamarind.core.csv_safe import SafeWriter
from tamarind.imports import selectors


class Command(BaseCommand):
    help = "Export accounts as a CSV in the import format (default mapping headers)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=["accounts"], help="What to export (accounts).")
        parser.add_argument("file", nargs="?", default="-", help="Output file (default: stdout).")

    def handle(self, *args: Any, **options: Any) -> None:
        target = options["file"]
        rows = selectors.account_export_rows()
        if target == "-":
            out: Any = self.stdout._out if hasattr(self.stdout, "_out") else sys.stdout
            try:
                count = self._write(out, rows)
                out.flush()
            except BrokenPipeError:
                # The reader went away (``| head``): stop quietly, as other command-line tools do.
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                return
            finally:
                rows.close()
            self.stderr.write(f"exported {count} accounts")
            return
        path = Path(target)
        if path.parent and not path.parent.exists():
            raise CommandError(f"{path.parent}: no such directory.")
        with path.open("w", encoding="utf-8", newline="") as out:
            count = self._write(out, rows)
        self.stderr.write(f"exported {count} accounts to {path}")

    @staticmethod
    def _write(out: Any, rows: Any) -> int:
        writer = SafeWriter(out)
        count = -1  # the header is not an account
        for row in rows:
            writer.writerow(row)
            count += 1
        return max(count, 0)
