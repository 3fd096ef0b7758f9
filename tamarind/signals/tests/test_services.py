"""Writes: the daily record, the rebuild (equal to the daily record, resumable), outcomes, trust labels."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest

from tamarind.audit.models import AuditEvent
from tamarind.core.errors import ValidationFailed
from tamarind.health.models import HealthHistory
from tamarind.renewals.models import ArrSnapshot, Renewal, RenewalStatus
from tamarind.signals import services
from tamarind.signals.models import HEALTH_KEYS, Outcome, RebuildState, SignalInterval, SignalTrust
from tamarind.testing.factories import AccountFactory

pytestmark = pytest.mark.django_db
D0 = dt.date(2026, 1, 1)
COLORS = ["green", "yellow", "red"]


def health_rows() -> list[tuple[int, str, dt.date, dt.date | None]]:
    return sorted(
        SignalInterval.objects.filter(key__in=HEALTH_KEYS).values_list("account_id", "key", "started_on", "ended_on")
    )


def simulate(book, days: int = 60, seed: int = 1) -> list:  # type: ignore[no-untyped-def]
    """A small book whose health changes now and then, recorded day by day as the recompute would."""
    rng = random.Random(seed)
    accounts = [book.account, *AccountFactory.create_batch(7, region=book.east)]
    for day_no in range(days):
        day = D0 + dt.timedelta(days=day_no)
        for account in accounts:
            if day_no == 0 or rng.random() < 0.12:
                color = rng.choice(COLORS)
                HealthHistory.objects.update_or_create(
                    account=account,
                    day=day,
                    defaults={"score": {"green": 80, "yellow": 60, "red": 30}[color], "color": color},
                )
        services.signal_history_record(day=day)
    return accounts


def test_daily_record_opens_and_closes_intervals(book) -> None:  # type: ignore[no-untyped-def]
    HealthHistory.objects.create(account=book.account, day=D0, score=30, color="red")
    services.signal_history_record(day=D0)
    assert SignalInterval.objects.filter(account=book.account, key="health:red", ended_on=None).count() == 1
    assert services.signal_history_record(day=D0).skipped  # the same day again: nothing
    HealthHistory.objects.create(account=book.account, day=D0 + dt.timedelta(days=3), score=90, color="green")
    services.signal_history_record(day=D0 + dt.timedelta(days=3))
    row = SignalInterval.objects.get(account=book.account, key="health:red")
    assert (row.started_on, row.ended_on) == (D0, D0 + dt.timedelta(days=3))


def test_daily_record_query_count_is_constant(book) -> None:  # type: ignore[no-untyped-def]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    services.signal_history_record(day=D0 - dt.timedelta(days=1))  # settings and state rows made once
    HealthHistory.objects.create(account=book.account, day=D0, score=30, color="red")
    with CaptureQueriesContext(connection) as small:
        services.signal_history_record(day=D0)
    for account in AccountFactory.create_batch(30, region=book.east):
        HealthHistory.objects.create(account=account, day=D0, score=30, color="red")
    with CaptureQueriesContext(connection) as large:
        services.signal_history_record(day=D0 + dt.timedelta(days=1))
    assert len(large) == len(small)


def test_rebuild_equals_the_daily_record(book) -> None:  # type: ignore[no-untyped-def]
    simulate(book)
    recorded = health_rows()
    assert recorded, "the simulation should fire something"
    assert any(end is not None for *_, end in recorded)
    SignalInterval.objects.filter(key__in=HEALTH_KEYS).delete()
    services.signal_history_rebuild(start=D0, end=D0 + dt.timedelta(days=59))
    assert health_rows() == recorded
    # Rebuilding part of the range over the existing record changes nothing either.
    services.signal_history_rebuild(start=D0 + dt.timedelta(days=23), end=D0 + dt.timedelta(days=59))
    assert health_rows() == recorded


def test_rebuild_resumes_where_it_stopped(book) -> None:  # type: ignore[no-untyped-def]
    simulate(book, days=30, seed=4)
    recorded = health_rows()
    SignalInterval.objects.filter(key__in=HEALTH_KEYS).delete()

    def stop(done: int, total: int) -> None:
        if done >= 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        services.signal_history_rebuild(start=D0, end=D0 + dt.timedelta(days=29), progress=stop, chunk=3)
    state = RebuildState.objects.get()
    assert state.rebuild_after_account is not None and state.rebuild_from == D0
    seen: list[int] = []
    result = services.signal_history_rebuild(start=None, resume=True, chunk=3, progress=lambda d, t: seen.append(d))
    assert result.resumed and seen[0] > 3
    assert health_rows() == recorded
    with pytest.raises(ValidationFailed):
        services.signal_history_rebuild(start=None, resume=True)


def test_rebuild_refuses_bad_ranges(book) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed):
        services.signal_history_rebuild(start=D0, end=D0 - dt.timedelta(days=1))
    services.signal_history_record(day=D0 + dt.timedelta(days=10))
    with pytest.raises(ValidationFailed):
        services.signal_history_rebuild(start=D0, end=D0 + dt.timedelta(days=5))


def test_outcomes_from_renewals_and_arr_history(book) -> None:  # type: ignore[no-untyped-def]
    other = AccountFactory(region=book.east)
    Renewal.objects.create(
        account=book.account,
        renewal_date=dt.date(2026, 3, 1),
        arr=Decimal(100),
        new_arr=Decimal(0),
        status=RenewalStatus.CLOSED,
        outcome="churned",
        closed_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
    )
    for i, arr in enumerate([100, 100, 85, 80, 0]):
        ArrSnapshot.objects.create(account=other, month=dt.date(2025, 1 + i, 1), month_index=2025 * 12 + i, arr=arr)
    # An ARR fall near a renewal outcome of the same account is not counted twice.
    ArrSnapshot.objects.create(account=book.account, month=dt.date(2026, 2, 1), month_index=2026 * 12 + 1, arr=100)
    ArrSnapshot.objects.create(account=book.account, month=dt.date(2026, 3, 1), month_index=2026 * 12 + 2, arr=0)
    result = services.outcomes_refresh()
    got = sorted(Outcome.objects.values_list("account_id", "kind", "on", "source"))
    assert got == sorted(
        [
            (book.account.pk, "churned", dt.date(2026, 3, 1), "renewal"),
            (other.pk, "contracted", dt.date(2025, 3, 1), "arr_history"),  # -15% > 10%
            (other.pk, "churned", dt.date(2025, 5, 1), "arr_history"),
        ]
    )
    assert (result.from_renewals, result.from_arr_history) == (1, 2)
    services.outcomes_refresh()
    assert Outcome.objects.count() == 3  # idempotent


def test_arr_drops_share_is_strict() -> None:
    rows = [(1, dt.date(2025, 1, 1), Decimal(100)), (1, dt.date(2025, 2, 1), Decimal(90))]
    assert services.arr_drops(rows, share=Decimal("0.1")) == []
    assert services.arr_drops(rows, share=Decimal("0.05"))[0][2] == "contracted"


def test_trust_needs_evidence_and_is_versioned_and_audited(book) -> None:  # type: ignore[no-untyped-def]
    weak = {"lift": 1.4, "bad": 50, "horizon": 365}
    with pytest.raises(ValidationFailed):
        services.signal_trust_set(actor=book.admin, key="no_call", trusted=True, evidence=weak)
    with pytest.raises(ValidationFailed):
        services.signal_trust_set(actor=book.admin, key="no_call", trusted=True, evidence={"lift": 3, "bad": 5})
    with pytest.raises(ValidationFailed):
        services.signal_trust_set(actor=book.admin, key="nope", trusted=False, evidence={})
    first = services.signal_trust_set(actor=book.admin, key="no_call", trusted=True, evidence={"lift": 2.5, "bad": 40})
    second = services.signal_trust_set(actor=book.admin, key="no_call", trusted=False, evidence=weak, note="re-check")
    assert (first.version, second.version) == (1, 2)
    assert first.thresholds == {"min_lift": "2.00", "min_outcomes": 30}
    assert SignalTrust.objects.count() == 2
    events = AuditEvent.objects.filter(object_type__icontains="signaltrust")
    assert events.count() == 2


def test_settings_update_validates_and_audits(book) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed):
        services.backtest_settings_update(actor=book.admin, horizons=[0])
    row = services.backtest_settings_update(actor=book.admin, min_outcomes=5, horizons=[30, 90])
    assert row.horizon_days == [30, 90] and row.min_outcomes == 5
