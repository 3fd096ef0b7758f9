"""Permission-matrix rows for the onboarding routes (collected by ``tamarind/tests/test_permission_matrix.py``).

The target is an open onboarding of ``book.account`` (region east, TAM ``book.tam``), created by the row.
"""

from __future__ import annotations

from typing import Any

from tamarind.testing.matrix import ACCOUNT_OUTSIDERS, ACCOUNT_READERS, Row, only


def onboarding(book: Any, t: dict[str, Any]) -> int:
    if "onboarding" not in t:
        from tamarind.onboarding.tests.factories import OnboardingFactory

        t["onboarding"] = OnboardingFactory(account=book.account, tam=book.tam)
    return t["onboarding"].pk


ROWS: list[Row] = [
    Row(
        "onboarding:detail",
        "get",
        lambda b, t: f"/onboarding/{onboarding(b, t)}/",
        only({**ACCOUNT_READERS, **ACCOUNT_OUTSIDERS}, 404),
    ),
]
