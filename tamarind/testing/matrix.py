"""Shared parts of the permission matrix (``tamarind/tests/test_permission_matrix.py``).

Each app may keep its own rows in ``tamarind/<app>/tests/matrix_rows.py`` as ``ROWS: list[Row]``; the matrix
collects them all, so an app adds its routes without editing the central file. A row's ``path`` and ``data``
callables receive ``(book, t)``: ``t`` is a dict of shared targets that a row may also use to stash objects it
creates (``path`` is called before ``data``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps

ROLES = ["anonymous", "admin", "director", "manager", "other_manager", "tam", "tam2", "other_tam", "sal", "sa"]
SIGNED_IN = ROLES[1:]
LOGIN = 302  # anonymous web requests are sent to the sign-in page


def everyone(status: int, anonymous: int = LOGIN, **overrides: int) -> dict[str, int]:
    cells = {role: status for role in SIGNED_IN}
    cells["anonymous"] = anonymous
    cells.update(overrides)
    return cells


def only(allowed: dict[str, int], denied: int, anonymous: int = LOGIN) -> dict[str, int]:
    cells = {role: denied for role in SIGNED_IN}
    cells["anonymous"] = anonymous
    cells.update(allowed)
    return cells


# Reading book.account: region east's people, its owners, admin and director; west's people are outsiders.
ACCOUNT_READERS = {"admin": 200, "director": 200, "manager": 200, "tam": 200, "tam2": 200, "sal": 200, "sa": 200}
ACCOUNT_OUTSIDERS = {"other_manager": 404, "other_tam": 404}


def account_write(ok: int) -> dict[str, int]:
    """Writing book.account: admin, its manager and (TAM-owned fields) its TAM; readers 403; outsiders 404."""
    return only({"admin": ok, "manager": ok, "tam": ok, **ACCOUNT_OUTSIDERS}, denied=403)


@dataclass
class Row:
    name: str  # URL name, namespaced (``accounts:detail``, ``api:account_list``)
    method: str
    path: Callable[[Any, dict[str, Any]], str]
    expect: dict[str, int]
    data: Callable[[Any, dict[str, Any]], Any] | None = None
    api: bool = False
    json: bool = True
    headers: dict[str, str] = field(default_factory=dict)


def app_rows() -> list[Row]:
    """The rows every installed Tamarind app keeps in its ``tests/matrix_rows.py``."""
    rows: list[Row] = []
    for config in apps.get_app_configs():
        if not config.name.startswith("tamarind."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.tests.matrix_rows")
        except ModuleNotFoundError as exc:
            if exc.name not in (f"{config.name}.tests.matrix_rows", f"{config.name}.tests"):
                raise
            continue
        rows.extend(module.ROWS)
    return rows
