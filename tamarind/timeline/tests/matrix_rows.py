"""Permission-matrix rows for the timeline routes (collected by ``tamarind/tests/test_permission_matrix.py``).

The target is ``book.account``: its readers read the timeline; its TAM, SAL/AE, SA, its region's manager and
admins log entries; the director and the region's other TAM read only; the other region's people are outsiders.
"""

from __future__ import annotations

from tamarind.testing.matrix import ACCOUNT_OUTSIDERS, ACCOUNT_READERS, LOGIN, Row, only


def loggers(ok: int, anonymous: int = LOGIN) -> dict[str, int]:
    allowed = {"admin": ok, "manager": ok, "tam": ok, "sal": ok, "sa": ok, **ACCOUNT_OUTSIDERS}
    return only(allowed, 403, anonymous=anonymous)


ROWS: list[Row] = [
    Row(
        "timeline:account",
        "get",
        lambda b, t: f"/timeline/accounts/{b.account.pk}/",
        only({**ACCOUNT_READERS, **ACCOUNT_OUTSIDERS}, 404),
    ),
    Row(
        "timeline:create",
        "post",
        lambda b, t: f"/timeline/accounts/{b.account.pk}/entries/",
        loggers(200),
        data=lambda b, t: {"kind": "note", "title": "Matrix note"},
        json=False,
        headers={"HX-Request": "true"},
    ),
    Row(
        "api:timeline_entry_list",
        "get",
        lambda b, t: f"/api/v1/timeline/accounts/{b.account.pk}",
        only({**ACCOUNT_READERS, **ACCOUNT_OUTSIDERS}, 404, anonymous=401),
        api=True,
    ),
    Row(
        "api:timeline_entry_create",
        "post",
        lambda b, t: f"/api/v1/timeline/accounts/{b.account.pk}",
        loggers(201, anonymous=401),
        data=lambda b, t: {"kind": "call", "title": "Matrix call", "external_attendees": "Jo Client"},
        api=True,
    ),
]
