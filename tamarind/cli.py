"""The ``tamarind`` console command: Django's manage.py for this project, plus Tamarind's own commands.

``tamarind demo``, ``tamarind import accounts FILE``, ``tamarind export accounts [FILE]``,
``tamarind token create EMAIL``, ``tamarind serve`` and ``tamarind worker`` are management commands;
every other Django command (migrate, createsuperuser, check, shell, ...) works as usual.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tamarind.config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["tamarind", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
