"""The API against its own OpenAPI document, by Schemathesis: every operation, called in process through WSGI as
an admin and as a TAM over the ``book`` fixture's data, with generated valid and invalid input. It fails on any
5xx, an undocumented status or content type, or an answer that breaks the published schema.

Bounded for CI (a fixed seed, a few examples per operation, no shrinking): it prints what it covered. Raise
``TAMARIND_CONTRACT_EXAMPLES`` to search longer locally.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from typing import Any

import hypothesis
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tamarind.people.services import token_create
from tamarind.testing.api_operations import ApiOperation, probe_rows, row_ids_for

pytestmark = [pytest.mark.django_db, pytest.mark.contract]

SEED = 20261204
# Examples per operation and caller: with the ids of real rows, with generated ids, and invalid input.
EXAMPLES = int(os.environ.get("TAMARIND_CONTRACT_EXAMPLES", "5"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def wsgi_app():
    """Tamarind's WSGI application, as gunicorn runs it; like Django's test client, requests leave the test's
    database connection (and its transaction) alone."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _run(
    strategy: Any, headers: dict[str, str], tally: Counter, succeeded: set[str], failures: list[str], label: str
) -> None:
    @hypothesis.seed(SEED)
    @settings(
        max_examples=EXAMPLES,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: report the first failing input as it was
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(case=strategy)
    def check(case: Any) -> None:
        # Each example starts from the same data: what one wrote (a deactivated caller, a revoked token, a
        # changed role) is rolled back before the next.
        savepoint = transaction.savepoint()
        try:
            response = case.call(headers=headers)
        finally:
            transaction.savepoint_rollback(savepoint)
        tally[response.status_code] += 1
        tally["examples"] += 1
        if response.status_code < 300:
            succeeded.add(label)
        case.validate_response(response, checks=CHECKS, headers=headers)

    try:
        check()
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # Schemathesis' FailureGroup; one operation's failure must not hide the others'
        failures.append(f"{label}: {exc}"[:1500])


def test_every_operation_conforms_to_the_published_schema(book, wsgi_app, capsys):
    started = time.monotonic()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_app)
    rows = probe_rows(book)
    callers = {}
    for who in ("admin", "tam"):
        _, raw = token_create(actor=getattr(book, who), user=getattr(book, who), name="contract")
        callers[who] = {"Authorization": f"Bearer {raw}"}
    tally: Counter = Counter()
    succeeded: set[str] = set()  # "<operation> as <caller>" that got at least one 2xx answer
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        op = ApiOperation(operation.method.lower(), operation.path, {})
        real = row_ids_for(op, rows) if op.path_params else {}
        for who, headers in callers.items():
            label = f"{operation.method.upper()} {operation.path} as {who}"
            strategies = [operation.as_strategy(GenerationMode.POSITIVE)]
            if real and len(real) == len(op.path_params):
                strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=real))
            strategies.append(operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=real or None))
            for strategy in strategies:
                _run(strategy, headers, tally, succeeded, failures, label)
    seconds = time.monotonic() - started
    statuses = ", ".join(f"{status}: {n}" for status, n in sorted((k, v) for k, v in tally.items() if k != "examples"))
    reached = {who: sum(1 for label in succeeded if label.endswith(f" as {who}")) for who in callers}
    with capsys.disabled():
        print(
            f"\nSchemathesis: {operations} operations x {len(callers)} callers (admin, TAM), "
            f"{tally['examples']} requests in {seconds:.0f} s (seed {SEED}, up to {EXAMPLES} examples per "
            f"operation, caller and mode: valid input with real ids, valid input with generated ids, invalid "
            f"input); a 2xx answer from {reached['admin']} operations as admin, {reached['tam']} as TAM; "
            f"statuses {statuses}; {len(failures)} failing"
        )
    assert operations >= 70
    assert not failures, "\n\n".join(failures)
