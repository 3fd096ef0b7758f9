"""Every operation of the published API (from its OpenAPI document), for tests that walk them all."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

WRITE_METHODS = ("post", "put", "patch", "delete")


@dataclass(frozen=True)
class ApiOperation:
    method: str  # lower case, as in the OpenAPI document
    path: str  # the template, e.g. ``/api/v1/triage/cases/{case_id}``
    spec: dict[str, Any]

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.path)

    def url(self, value: Any = 1, **values: Any) -> str:
        """The path with each parameter replaced by ``values[name]`` (``value`` for the others)."""
        return re.sub(r"{(\w+)}", lambda m: str(values.get(m.group(1), value)), self.path)

    def query_params(self) -> list[dict[str, Any]]:
        return [p for p in self.spec.get("parameters", []) if p["in"] == "query"]

    def body_content_type(self) -> str | None:
        content = self.spec.get("requestBody", {}).get("content", {})
        return next(iter(content), None)

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path}"


def openapi_document() -> dict[str, Any]:
    from tamarind.core.api import api

    return api.get_openapi_schema()


def api_operations(*, methods: tuple[str, ...] | None = None) -> list[ApiOperation]:
    """The documented operations, in document order (optionally only ``methods``)."""
    ops = []
    for path, items in openapi_document()["paths"].items():
        for method, spec in items.items():
            if methods is None or method in methods:
                ops.append(ApiOperation(method, path, spec))
    return ops
