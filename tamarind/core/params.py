"""Reading query parameters the same way everywhere (web forms send repeated keys, the API comma lists)."""

from __future__ import annotations

from typing import Any


def getlist(params: Any, key: str) -> list[str]:
    """Every value of ``key``: repeated keys (``?tam=1&tam=2``) and comma lists (``?tam=1,2``) alike, blanks dropped.

    ``params`` is a QueryDict or a plain dict (whose value may be a list or one string).
    """
    if hasattr(params, "getlist"):
        values = params.getlist(key)
    else:
        raw = params.get(key, [])
        values = raw if isinstance(raw, list) else [raw]
    out: list[str] = []
    for v in values:
        out.extend(part.strip() for part in str(v).split(",") if part.strip())
    return out
