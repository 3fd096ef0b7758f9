"""Bad input on every API operation, walked from the OpenAPI document: integers beyond 64 bits, dates at the
calendar's ends, NUL characters and bodies over the upload limit, in every path parameter, query parameter and
body field. Each is refused with a JSON 4xx that names what was wrong; none reaches the database as a 500."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client

from tamarind.people.services import token_create
from tamarind.testing.api_operations import ApiOperation, api_operations, openapi_document, probe_rows, row_ids_for

pytestmark = pytest.mark.django_db

BIG_INTS = [2**63, -(2**63) - 1, 10**30]
BAD_DATES = ["9999-12-31", "0001-01-01"]
BAD_DATETIMES = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "9999-12-31T23:59:59", "0001-01-01"]
NUL = "probe\x00value"

OPERATIONS = api_operations()


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    if "allOf" in schema and len(schema["allOf"]) == 1:
        merged = {k: v for k, v in schema.items() if k != "allOf"}
        return {**_resolve(schema["allOf"][0], components), **merged}
    return schema


def _kinds(schema: dict[str, Any], components: dict[str, Any]) -> set[str]:
    """What a value may be: ``integer``, ``date``, ``date-time``, ``text``, ``enum``, ``object``, ``array``..."""
    schema = _resolve(schema, components)
    if "anyOf" in schema:
        return set().union(*(_kinds(s, components) for s in schema["anyOf"]))
    if "enum" in schema:
        return {"enum"}
    kind = schema.get("type")
    if kind == "string":
        return {schema["format"]} if schema.get("format") in ("date", "date-time", "binary") else {"text"}
    return {kind} if kind else set()


class Sampler:
    """Valid values for a schema, with ids of the ``book`` fixture's rows where a field names one."""

    def __init__(self, book: Any, components: dict[str, Any]) -> None:
        self.components = components
        self.ids = {
            "account_id": book.account.pk,
            "region_id": book.east.pk,
            "manager_id": book.manager.pk,
            "owner_id": book.tam.pk,
            "tam_id": book.tam.pk,
            "assignee_id": book.tam.pk,
            "person_id": book.tam.pk,
            "user_id": book.tam.pk,
        }
        self.crm_id = book.account.crm_id

    def value(self, schema: dict[str, Any], name: str = "") -> Any:
        schema = _resolve(schema, self.components)
        if "default" in schema:
            return copy.deepcopy(schema["default"])
        if "anyOf" in schema:
            options = [s for s in schema["anyOf"] if _resolve(s, self.components).get("type") != "null"]
            return self.value(options[0], name) if options else None
        if "enum" in schema:
            return schema["enum"][0]
        kind = schema.get("type")
        if kind == "object":
            props = schema.get("properties", {})
            return {key: self.value(props[key], key) for key in schema.get("required", [])}
        if kind == "array":
            count = schema.get("minItems", 1 if name in ("rows", "") else 0)
            return [self.value(schema.get("items", {}), name) for _ in range(count)]
        if kind == "integer":
            return self.ids.get(name, max(1, schema.get("minimum", 1)))
        if kind == "number":
            return 1
        if kind == "boolean":
            return False
        if kind == "string":
            fmt = schema.get("format")
            if fmt == "date":
                return "2026-01-15"
            if fmt == "date-time":
                return "2026-01-15T10:00:00Z"
            if fmt == "email":
                return "probe@example.com"
            if name == "account":
                return self.crm_id
            return "probe"[: schema.get("maxLength", 5)] or "p"
        return None


def _bad_values(kinds: set[str]) -> list[Any]:
    out: list[Any] = []
    if "integer" in kinds:
        out += BIG_INTS
    if "date" in kinds:
        out += BAD_DATES
    if "date-time" in kinds:
        out += BAD_DATETIMES
    if "text" in kinds:
        out.append(NUL)
    return out


def _body_probes(schema: dict[str, Any], components: dict[str, Any], sampler: Sampler, base: Any, path=()):
    """(path of the field, body with that field made bad) for every scalar field, recursing into objects and
    the first item of arrays of objects."""
    schema = _resolve(schema, components)
    if schema.get("type") == "array" and isinstance(base, list):
        items = _resolve(schema.get("items", {}), components)
        if base and items.get("type") == "object":
            for field_path, body in _body_probes(items, components, sampler, base[0], ()):
                yield (*path, 0, *field_path), _set(base, (0,), body)
        elif "items" in schema:
            for bad in _bad_values(_kinds(schema["items"], components)):
                yield (*path, 0), _set(base, (), [bad])
        return
    for key, prop in schema.get("properties", {}).items():
        kinds = _kinds(prop, components)
        resolved = _resolve(prop, components)
        if resolved.get("type") in ("object", "array"):
            sub = base.get(key) if key in base else sampler.value(prop, key)
            if resolved.get("type") == "array" and not sub and "items" in resolved:
                sub = [sampler.value(resolved["items"], key)]
            for field_path, body in _body_probes(resolved, components, sampler, sub, ()):
                yield (*path, key, *field_path), _set(base, (key,), body)
            continue
        for bad in _bad_values(kinds):
            yield (*path, key), _set(base, (key,), bad)


def _set(base: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    out = copy.deepcopy(base)
    target = out
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return out


def _assert_refused(op: ApiOperation, response, what: str, field: str | None, problems: list[str]) -> None:
    """A JSON 4xx; with ``field``, a 422 whose detail names it."""
    try:
        body = response.json()
    except ValueError:
        problems.append(f"{op} {what}: {response.status_code} not JSON: {response.content[:120]!r}")
        return
    if not 400 <= response.status_code < 500:
        problems.append(f"{op} {what}: {response.status_code} {str(body)[:160]}")
    elif field is not None and (response.status_code != 422 or field not in body.get("detail", "")):
        problems.append(f"{op} {what}: {response.status_code}, want 422 naming {field!r}: {str(body)[:160]}")


def _assert_answered(op: ApiOperation, response, what: str, problems: list[str]) -> None:
    """Any JSON answer but a 5xx (a filter given an odd value may well find nothing)."""
    try:
        body = response.json()
    except ValueError:
        problems.append(f"{op} {what}: {response.status_code} not JSON: {response.content[:120]!r}")
        return
    if response.status_code >= 500:
        problems.append(f"{op} {what}: {response.status_code} {str(body)[:160]}")


@pytest.fixture
def rows(book):
    return probe_rows(book)


class IsolatedClient:
    """An admin's bearer-token client whose requests each run in a savepoint rolled back afterwards (one probe's
    writes or a failed statement never affect the next), answering 500s instead of raising them."""

    def __init__(self, raw_token: str) -> None:
        self.client = Client(raise_request_exception=False, headers={"Authorization": f"Bearer {raw_token}"})

    def __getattr__(self, method: str):
        def call(*args: Any, **kwargs: Any):
            sid = transaction.savepoint()
            try:
                return getattr(self.client, method)(*args, **kwargs)
            finally:
                transaction.savepoint_rollback(sid)

        return call


@pytest.fixture
def admin_api(book):
    _, raw = token_create(actor=book.admin, user=book.admin, name="probe")
    return IsolatedClient(raw)


def test_big_integers_in_path_parameters(book, admin_api, rows):
    problems: list[str] = []
    for op in OPERATIONS:
        for name in op.path_params:
            for bad in BIG_INTS:
                if bad < 0:
                    continue  # not a path: the route does not match (a JSON 404 from the fallback)
                url = op.url(10**9, **{**row_ids_for(op, rows), name: bad})
                response = getattr(admin_api, op.method)(url, content_type="application/json")
                _assert_refused(op, response, f"{name}={bad}", None, problems)
    assert not problems, "\n".join(problems)


def test_bad_values_in_query_parameters(book, admin_api, rows):
    components = openapi_document()["components"]["schemas"]
    problems: list[str] = []
    probed = 0
    for op in OPERATIONS:
        url = op.url(10**9, **row_ids_for(op, rows))
        for param in op.query_params():
            name = param["name"]
            kinds = _kinds(param["schema"], components)
            if "array" in kinds:
                kinds |= _kinds(_resolve(param["schema"], components).get("items", {}), components)
            # Each typed value out of range, and NUL anywhere, is refused naming the parameter.
            for bad in [*_bad_values(kinds - {"text"}), NUL]:
                probed += 1
                _assert_refused(op, admin_api.get(url, {name: str(bad)}), f"?{name}={bad!r}", name, problems)
            # Filters typed as text are often ids or dates read later: those must not fail either.
            if kinds & {"text", "enum"} or not kinds:
                for bad in [*BIG_INTS, *BAD_DATES, BAD_DATETIMES[0]]:
                    probed += 1
                    _assert_answered(op, admin_api.get(url, {name: str(bad)}), f"?{name}={bad!r}", problems)
    assert probed > 200
    assert not problems, "\n".join(problems)


def test_bad_values_in_json_bodies(book, admin_api, rows):
    components = openapi_document()["components"]["schemas"]
    sampler = Sampler(book, components)
    problems: list[str] = []
    probed = 0
    for op in OPERATIONS:
        content = op.spec.get("requestBody", {}).get("content", {})
        if "application/json" not in content:
            continue
        schema = content["application/json"]["schema"]
        base = sampler.value(schema)
        url = op.url(10**9, **row_ids_for(op, rows))
        for field_path, body in _body_probes(schema, components, sampler, base):
            probed += 1
            response = getattr(admin_api, op.method)(url, json.dumps(body), content_type="application/json")
            field = str(next(p for p in reversed(field_path) if isinstance(p, str)))
            _assert_refused(op, response, f"{'.'.join(map(str, field_path))}={body!r:.80}", field, problems)
    assert probed > 150
    assert not problems, "\n".join(problems)


def test_bodies_over_the_upload_limit_are_a_json_413_naming_it(book, admin_api, rows):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    body = json.dumps({"note": "x" * (limit + 1)})
    problems: list[str] = []
    writes = [op for op in OPERATIONS if op.method != "get" and op.body_content_type() == "application/json"]
    assert writes
    for op in writes:
        url = op.url(10**9, **row_ids_for(op, rows))
        response = getattr(admin_api, op.method)(url, body, content_type="application/json")
        try:
            detail = response.json()["detail"]
        except (ValueError, KeyError):
            problems.append(f"{op}: {response.status_code} {response.content[:100]!r}")
            continue
        if response.status_code != 413 or f"{limit:,}" not in detail:
            problems.append(f"{op}: {response.status_code} {detail[:120]}")
    assert not problems, "\n".join(problems)


def _unbounded_integers(schema: dict[str, Any], components: dict[str, Any], where: str, seen: tuple = ()):
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        if name not in seen:
            yield from _unbounded_integers(components[name], components, f"{where}<{name}>", (*seen, name))
        return
    for key in ("anyOf", "allOf", "oneOf"):
        for sub in schema.get(key, []):
            yield from _unbounded_integers(sub, components, where, seen)
    if schema.get("type") == "integer" and "enum" not in schema:
        low, high = schema.get("minimum"), schema.get("maximum")
        if low is None or high is None or low < -(2**63) or high > 2**63 - 1:
            yield where
    if "items" in schema:
        yield from _unbounded_integers(schema["items"], components, f"{where}[]", seen)
    for key, sub in schema.get("properties", {}).items():
        yield from _unbounded_integers(sub, components, f"{where}.{key}", seen)


def test_every_integer_the_api_accepts_is_documented_within_64_bits():
    """Path, query and body integers use the bounded types of ``core.schemas`` (``Id``, ``Int64``, ``Offset``),
    so the published schema says what the API refuses."""
    document = openapi_document()
    components = document["components"]["schemas"]
    found = []
    for op in OPERATIONS:
        for param in op.spec.get("parameters", []):
            found += _unbounded_integers(param["schema"], components, f"{op} {param['in']}:{param['name']}")
        for content in op.spec.get("requestBody", {}).get("content", {}).values():
            found += _unbounded_integers(content["schema"], components, f"{op} body")
    assert not found, "\n".join(found)


def test_bad_values_in_upload_form_fields(book, admin_api):
    from django.core.files.uploadedfile import SimpleUploadedFile

    components = openapi_document()["components"]["schemas"]
    problems: list[str] = []
    probed = 0
    for op in OPERATIONS:
        content = op.spec.get("requestBody", {}).get("content", {})
        if "multipart/form-data" not in content:
            continue
        schema = _resolve(content["multipart/form-data"]["schema"], components)
        for name, prop in schema.get("properties", {}).items():
            if _kinds(prop, components) & {"binary"}:
                continue
            for bad in [NUL, *BIG_INTS]:
                probed += 1
                data = {"file": SimpleUploadedFile("a.csv", b"crm_id\n"), name: str(bad)}
                response = admin_api.post(op.url(10**9), data)
                _assert_refused(op, response, f"{name}={bad!r}", name if bad == NUL else None, problems)
    assert probed >= 9
    assert not problems, "\n".join(problems)
