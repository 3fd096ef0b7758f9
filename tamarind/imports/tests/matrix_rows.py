"""Permission-matrix rows of the imports app kept here (collected by ``tamarind/tests/test_permission_matrix.py``;
the app's older rows stand in the central file): the mapping page's usage and tickets tabs. Only admins manage
mappings; anyone else gets 404 for a mapping, reading or writing."""

from __future__ import annotations

from tamarind.testing.matrix import Row, only

ROWS: list[Row] = [
    Row(
        "imports:mapping_kind",
        "get",
        lambda b, t: f"/imports/mappings/{t['mapping'].pk}/usage/",
        only({"admin": 200}, 404),
    ),
    Row(
        "imports:mapping_kind",
        "post",
        lambda b, t: f"/imports/mappings/{t['mapping'].pk}/tickets/",
        only({"admin": 302}, 404),
        data=lambda b, t: {"external_id": "Case Number", "opened_at": "Created Date"},
        json=False,
    ),
]
