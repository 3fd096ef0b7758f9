"""The published OpenAPI document describes the API exactly: one schema per name, every error answer documented,
and the real answers of every operation valid against it."""

from __future__ import annotations

import enum
import json
import typing
from typing import Any

import jsonschema_rs
import pytest
from pydantic import BaseModel

from tamarind.core.api import api
from tamarind.testing.api_operations import api_operations, openapi_document, probe_rows, row_ids_for

pytestmark = pytest.mark.django_db


def _named_types(annotation: Any, found: dict[str, set[str]], seen: set[Any]) -> None:
    """Every pydantic model and enum reachable from ``annotation``, by the name the OpenAPI document gives it."""
    if annotation in seen:
        return
    seen.add(annotation)
    for arg in typing.get_args(annotation):
        _named_types(arg, found, seen)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        found.setdefault(annotation.__name__, set()).add(f"{annotation.__module__}.{annotation.__qualname__}")
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation.__module__.startswith("tamarind."):
            found.setdefault(annotation.__name__, set()).add(f"{annotation.__module__}.{annotation.__qualname__}")
        for field in annotation.model_fields.values():
            _named_types(field.annotation, found, seen)


def test_every_schema_name_is_one_schema():
    """Two classes of one name would share one component, the last one registered winning: the other
    operations' answers would break the published schema."""
    found: dict[str, set[str]] = {}
    seen: set[Any] = set()
    for router in api._get_bound_routers():
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                for model in operation.response_models.values():
                    _named_types(model, found, seen)
                for model in operation.models:
                    _named_types(model, found, seen)
    assert len(found) > 60
    shared = {name: sorted(where) for name, where in found.items() if len(where) > 1}
    assert not shared, json.dumps(shared, indent=1)


def test_every_operation_documents_its_error_answers():
    document = openapi_document()
    missing = []
    for op in api_operations():
        expected = {"422"}  # a NUL in any query parameter, a value out of range, a service's refusal
        if op.spec.get("security"):
            expected.add("401")
        if op.path_params:
            expected.add("404")
        if op.method != "get":
            expected.add("403")  # a session's write without its CSRF token, or no permission
        if "requestBody" in op.spec:
            expected |= {"400", "413"}  # malformed body; body over the upload limit
        for status in sorted(expected):
            response = op.spec["responses"].get(status)
            ref = (response or {}).get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
            if ref != "#/components/schemas/ErrorOut":
                missing.append(f"{op} {status}: {response}")
    assert not missing, "\n".join(missing)
    error = document["components"]["schemas"]["ErrorOut"]
    assert error["required"] == ["detail"] and set(error["properties"]) == {"detail", "errors"}


def _validator(document: dict[str, Any], op, status: int):
    response = op.spec["responses"].get(str(status))
    assert response is not None, f"{op}: {status} is not documented"
    content = response.get("content", {}).get("application/json")
    if content is None:
        return None
    return jsonschema_rs.validator_for({**content["schema"], "components": document["components"]})


@pytest.mark.parametrize("who", ["admin", "tam"])
def test_real_answers_of_every_read_match_the_published_schema(book, api_for, who):
    document = openapi_document()
    rows = probe_rows(book)
    client = api_for(getattr(book, who))
    problems = []
    checked = 0
    for op in api_operations(methods=("get",)):
        response = client.get(op.url(10**9, **row_ids_for(op, rows)))
        if response.status_code >= 500:
            problems.append(f"{op}: {response.status_code}")
            continue
        validator = _validator(document, op, response.status_code)
        if validator is None:
            continue
        errors = list(validator.iter_errors(response.json()))
        checked += 1
        if errors:
            problems.append(f"{op} {response.status_code}: {errors[0]}"[:400])
    assert checked >= 40
    assert not problems, "\n".join(problems)
