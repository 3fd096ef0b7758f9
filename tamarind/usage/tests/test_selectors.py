"""usage_facts (from the rollups, a constant number of queries) and the usage state it reads."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from tamarind.core.bulk import IdRange
from tamarind.testing.factories import AccountFactory
from tamarind.usage.models import UsageMetric, UsageState
from tamarind.usage.rows import TicketRow, UsageRow
from tamarind.usage.selectors import usage_facts
from tamarind.usage.services import tickets_ingest, usage_ingest_daily

D = dt.date


def push(actor: Any, crm: str, items: list[tuple[str, str, int]]) -> None:
    usage_ingest_daily(actor=actor, rows=[UsageRow(crm, D.fromisoformat(d), m, v) for d, m, v in items])


@pytest.mark.django_db
def test_usage_facts(book: Any) -> None:
    crm = book.account.crm_id
    push(
        book.admin,
        crm,
        [
            ("2026-02-10", "active_users", 80),
            ("2026-03-01", "active_users", 70),
            ("2026-03-20", "active_users", 60),
            ("2026-03-20", "licenses", 300),
            ("2026-03-20", "ci_users", 12),
            ("2026-03-20", "scm_users", 0),
        ],
    )
    now = timezone.now()
    tickets_ingest(
        actor=book.admin,
        rows=[
            TicketRow(crm, "A", now - dt.timedelta(days=3), None, "urgent", "open"),
            TicketRow(crm, "B", now - dt.timedelta(days=40), None, "urgent", "pending"),
            TicketRow(crm, "C", now - dt.timedelta(days=2), now, "urgent", "solved"),
        ],
    )
    facts = usage_facts([book.account.pk, book.other_account.pk])
    f = facts[book.account.pk]
    assert (f.licenses, f.active_users, f.active_users_prev) == (300, 60, 80)
    assert (f.use_cases_adopted, f.use_cases_total) == (1, UsageMetric.objects.filter(kind="use_case").count())
    assert (f.tickets_last_30d, f.open_urgent_tickets) == (2, 2)
    assert f.usage_updated_at == D(2026, 3, 20)
    assert f.tickets_updated_at is not None
    assert f.utilization == pytest.approx(0.2)
    other = facts[book.other_account.pk]
    assert (other.licenses, other.active_users, other.tickets_last_30d, other.usage_updated_at) == (250, None, 0, None)
    assert set(usage_facts(None)) == {book.account.pk, book.other_account.pk}


@pytest.mark.django_db
def test_usage_facts_query_count_is_constant(book: Any, django_assert_num_queries: Any) -> None:
    push(book.admin, book.account.crm_id, [("2026-03-01", "active_users", 5)])
    with django_assert_num_queries(4):
        usage_facts([book.account.pk])
    more = [AccountFactory(region=book.east) for _ in range(5)]
    for i, account in enumerate(more):
        push(book.admin, account.crm_id, [(f"2026-0{1 + i % 3}-0{1 + i}", "active_users", i)])
    with django_assert_num_queries(4):
        usage_facts([book.account.pk, *[a.pk for a in more]])


@pytest.mark.django_db
def test_usage_facts_over_a_range_equal_the_list_form(book: Any) -> None:
    push(book.admin, book.account.crm_id, [("2026-02-10", "active_users", 8), ("2026-03-05", "active_users", 9)])
    ids = sorted([book.account.pk, book.other_account.pk])
    assert usage_facts(IdRange(ids[0], ids[-1])) == usage_facts(ids)


@pytest.mark.django_db
def test_usage_state_follows_the_latest_month_whatever_the_order_of_arrival(book: Any) -> None:
    crm = book.account.crm_id
    push(book.admin, crm, [("2026-03-20", "active_users", 60)])
    state = UsageState.objects.get(account=book.account)
    assert (state.latest_month, state.previous_month, state.last_day) == (D(2026, 3, 1), D(2026, 2, 1), D(2026, 3, 20))
    push(book.admin, crm, [("2026-01-31", "active_users", 10)])  # a late report of an older month changes nothing
    state.refresh_from_db()
    assert (state.latest_month, state.last_day) == (D(2026, 3, 1), D(2026, 3, 20))
    push(book.admin, crm, [("2026-01-02", "licenses", 5), ("2026-04-01", "active_users", 61)])
    state.refresh_from_db()
    assert (state.latest_month, state.previous_month, state.last_day) == (D(2026, 4, 1), D(2026, 3, 1), D(2026, 4, 1))
    assert state.tickets_updated_at is None
    tickets_ingest(actor=book.admin, rows=[TicketRow(crm, "Z", timezone.now(), None, "normal", "open")])
    state.refresh_from_db()
    assert state.tickets_updated_at is not None and state.latest_month == D(2026, 4, 1)
    # facts read the previous calendar month only: a gap month means no "previous" value
    facts = usage_facts([book.account.pk])[book.account.pk]
    assert (facts.active_users, facts.active_users_prev, facts.usage_updated_at) == (61, 60, D(2026, 4, 1))
