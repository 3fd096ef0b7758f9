"""The health dashboard's indicators tab shows the trusted indicators first and the others as "unproven", each
unproven one linking to its evidence on the Signals page; the labels cost one query, however many versions."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tamarind.dashboards.indicators import INDICATORS
from tamarind.dashboards.tests.test_health_dashboard import scored
from tamarind.signals.models import SignalTrust
from tamarind.signals.selectors import trust_first, trusted_keys

pytestmark = pytest.mark.django_db
URL = "/dashboards/health/indicators/"
ORDER = [key for key, _, _ in INDICATORS]


def label(key: str, *trusted: bool) -> None:
    """Versions 1.. of ``key``'s trust label, the last one being its label now."""
    for version, flag in enumerate(trusted, start=1):
        SignalTrust.objects.create(key=key, version=version, trusted=flag)


def totals_order(body: str) -> list[str]:
    return re.findall(r'data-indicator-total="([a-z0-9_]+)"', body)


def test_trusted_keys_reads_the_newest_version_only() -> None:
    label("no_call", True, False)  # trusted once, withdrawn since
    label("ticket_spike", False, True)
    label("open_urgent", True)
    with CaptureQueriesContext(connection) as queries:
        keys = trusted_keys()
    assert keys == {"ticket_spike", "open_urgent"} and len(queries) == 1
    assert trust_first(["a", "open_urgent", "b", "ticket_spike"], keys) == ["open_urgent", "ticket_spike", "a", "b"]


def test_without_labels_every_indicator_is_unproven_in_its_own_order(book, client_for) -> None:  # type: ignore[no-untyped-def]
    body = client_for(book.manager).get(URL).content.decode()
    assert totals_order(body) == [*ORDER, "any"]
    assert 'data-trust="trusted"' not in body
    totals = body[body.index('id="health-indicator-totals"') : body.index('id="health-indicators"')]
    assert totals.count('data-trust="unproven"') == len(ORDER)
    assert f'href="/signals/{ORDER[0]}/" title="Not shown to predict churn yet: see its evidence">unproven</a>' in body


def test_trusted_indicators_first_and_in_what_fired(book, client_for) -> None:  # type: ignore[no-untyped-def]
    today = timezone.localdate()
    # Red, renewing in 20 days, a customer for 400 days without a call: "no call" and "renewal at risk" both fire.
    account = scored(
        book.east,
        book.tam,
        "red",
        20,
        priority=1,
        customer_since=today - dt.timedelta(days=400),
        next_renewal_date=today + dt.timedelta(days=20),
    )
    client = client_for(book.manager)
    before = client.get(URL, {"indicator": "renewal_at_risk"})
    fired = next(r.fired for r in before.context["dash"].indicators if r.account.pk == account.pk)
    keys = [f.key for f in fired]
    assert keys.index("no_call") < keys.index("renewal_at_risk")  # the indicators' own order, nothing trusted

    label("renewal_at_risk", True)
    label("no_call", True, False)  # withdrawn: unproven again
    response = client.get(URL, {"indicator": "renewal_at_risk"})
    body = response.content.decode()
    order = totals_order(body)
    assert order[0] == "renewal_at_risk" and order[-1] == "any"
    assert order[1:-1] == [k for k in ORDER if k != "renewal_at_risk"]
    row = re.search(r'<tr data-indicator-total="renewal_at_risk".*?</tr>', body, re.S)
    assert row is not None and 'data-trust="trusted"' in row.group(0)
    row = re.search(r'<tr data-indicator-total="no_call".*?</tr>', body, re.S)
    assert row is not None and 'href="/signals/no_call/"' in row.group(0)
    fired = next(r.fired for r in response.context["dash"].indicators if r.account.pk == account.pk)
    assert fired[0].key == "renewal_at_risk"
    cell = re.search(rf'<tr data-account="{account.pk}">.*?</tr>', body, re.S)
    assert cell is not None
    text = cell.group(0)
    assert text.index('data-indicator="renewal_at_risk"') < text.index('data-indicator="no_call"')
    assert 'href="/signals/no_call/"' in text and 'href="/signals/renewal_at_risk/"' not in text


def test_query_count_constant_as_trust_versions_grow(book, client_for) -> None:  # type: ignore[no-untyped-def]
    client = client_for(book.manager)
    label("no_call", True)
    client.get(URL)
    with CaptureQueriesContext(connection) as small:
        assert client.get(URL).status_code == 200
    for key in ORDER:
        SignalTrust.objects.bulk_create(
            [SignalTrust(key=key, version=v, trusted=v % 2 == 0) for v in range(2, 30)], ignore_conflicts=True
        )
    with CaptureQueriesContext(connection) as large:
        assert client.get(URL).status_code == 200
    assert len(large) == len(small), [q["sql"][:120] for q in large.captured_queries]
