"""Renewal services: created from accounts and never duplicated, bad input named, forecast alerts, closing rolls
the account on, the task window at its boundaries, the snapshot job idempotent, the backfill, settings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from tamarind.accounts.models import Account
from tamarind.accounts.services import account_update
from tamarind.actions.models import Task, TaskType
from tamarind.audit.models import AuditEvent
from tamarind.conftest import Book
from tamarind.core.errors import ValidationFailed
from tamarind.notifications.models import Notification
from tamarind.renewals import services
from tamarind.renewals.models import ArrSnapshot, Forecast, Renewal, RenewalOutcome, RenewalSettings, month_index
from tamarind.renewals.tests.factories import RenewalFactory, snap
from tamarind.testing.factories import AccountFactory
from tamarind.triage.tests.factories import TriageCaseFactory


def test_renewals_come_from_next_renewal_dates_once(book: Book) -> None:
    created = services.renewals_ensure_for_accounts([book.account.pk, book.other_account.pk])
    assert created == 2
    assert services.renewals_ensure_for_accounts([book.account.pk, book.other_account.pk]) == 0
    r = Renewal.objects.get(account=book.account)
    assert r.renewal_date == book.account.next_renewal_date
    assert r.arr == book.account.arr and r.tam_id == book.tam.pk and r.owner_id == book.sal.pk
    assert AuditEvent.objects.filter(object_type="renewals.renewal", object_id=str(r.pk), action="create").exists()


def test_account_edits_create_the_renewal_of_a_new_date(book: Book) -> None:
    account_update(actor=book.manager, account=book.account, changes={"next_renewal_date": dt.date(2027, 6, 1)})
    assert Renewal.objects.filter(account=book.account, renewal_date=dt.date(2027, 6, 1)).count() == 1
    account_update(actor=book.manager, account=book.account, changes={"arr": Decimal("130000")})
    assert Renewal.objects.filter(account=book.account, renewal_date=dt.date(2027, 6, 1)).count() == 1


def test_create_refuses_duplicates_bad_money_and_outsiders(book: Book) -> None:
    services.renewal_create(actor=book.manager, account=book.account, data={"renewal_date": "2027-03-01"})
    with pytest.raises(ValidationFailed) as exc:
        services.renewal_create(actor=book.tam, account=book.account, data={"renewal_date": "2027-03-01"})
    assert "renewal_date" in exc.value.errors
    for bad in ("-5", "abc", "1.234"):
        with pytest.raises(ValidationFailed) as exc:
            services.renewal_create(
                actor=book.tam, account=book.account, data={"renewal_date": "2027-04-01", "arr": bad}
            )
        assert "arr" in exc.value.errors
    with pytest.raises(ValidationFailed) as exc:
        services.renewal_create(actor=book.tam, account=book.account, data={"renewal_date": "not a date"})
    assert "renewal_date" in exc.value.errors
    with pytest.raises(ValidationFailed) as exc:
        services.renewal_create(
            actor=book.tam, account=book.account, data={"renewal_date": "2027-04-01", "forecast": "maybe"}
        )
    assert "forecast" in exc.value.errors
    for outsider in (book.other_manager, book.sa, book.director, book.tam2):
        with pytest.raises(PermissionDenied):
            services.renewal_create(actor=outsider, account=book.account, data={"renewal_date": "2027-05-01"})
    assert Renewal.objects.filter(account=book.account).count() == 1


def test_forecast_at_risk_notifies_the_manager_and_proposes_triage_once(book: Book) -> None:
    r = RenewalFactory(account=book.account, tam=book.tam)
    services.renewal_update(actor=book.tam, renewal=r, changes={"forecast": "at_risk", "forecast_reason": "budget"})
    services.renewal_update(actor=book.tam, renewal=r, changes={"forecast": "likely"})
    services.renewal_update(actor=book.tam, renewal=r, changes={"forecast": "at_risk"})
    assert Notification.objects.filter(recipient=book.manager, account=book.account).count() == 1
    tasks = Task.objects.filter(account=book.account, type=TaskType.TRIAGE_REVIEW)
    assert tasks.count() == 1 and tasks.get().owner_id == book.tam.pk
    r.refresh_from_db()
    assert r.previous_forecast == Forecast.LIKELY and r.forecast_changed_at is not None


def test_no_triage_proposal_when_a_case_is_open(book: Book) -> None:
    TriageCaseFactory(account=book.account, owner=book.tam)
    r = RenewalFactory(account=book.account)
    services.renewal_update(actor=book.manager, renewal=r, changes={"forecast": "will_churn"})
    assert not Task.objects.filter(account=book.account, type=TaskType.TRIAGE_REVIEW).exists()


def test_readers_may_not_change(book: Book) -> None:
    r = RenewalFactory(account=book.account)
    for who in (book.sa, book.director, book.tam2):
        with pytest.raises(PermissionDenied):
            services.renewal_update(actor=who, renewal=r, changes={"forecast": "commit"})
    services.renewal_update(actor=book.sal, renewal=r, changes={"forecast": "commit"})


def test_closing_rolls_the_account_on_by_the_term(book: Book) -> None:
    r = RenewalFactory(account=book.account, renewal_date=book.account.next_renewal_date, arr=Decimal("120000"))
    with pytest.raises(ValidationFailed) as exc:
        services.renewal_close(actor=book.tam, renewal=r, outcome=RenewalOutcome.EXPANDED, new_arr="")
    assert "new_arr" in exc.value.errors
    with pytest.raises(ValidationFailed) as exc:
        services.renewal_close(actor=book.tam, renewal=r, outcome=RenewalOutcome.EXPANDED, new_arr="100000")
    assert "outcome" in exc.value.errors
    with pytest.raises(ValidationFailed) as exc:
        services.renewal_close(actor=book.tam, renewal=r, outcome=RenewalOutcome.EXPANDED, new_arr="150000")
    assert "outcome_reason" in exc.value.errors
    services.renewal_close(
        actor=book.tam, renewal=r, outcome=RenewalOutcome.EXPANDED, new_arr="150000", reason="seat_expansion"
    )
    book.account.refresh_from_db()
    assert book.account.next_renewal_date == dt.date(2028, 1, 15)
    assert book.account.arr == Decimal("150000")
    nxt = Renewal.objects.get(account=book.account, renewal_date=dt.date(2028, 1, 15))
    assert nxt.is_open and nxt.arr == Decimal("150000")
    with pytest.raises(ValidationFailed):
        services.renewal_close(actor=book.tam, renewal=r, outcome=RenewalOutcome.CHURNED, new_arr="0")


def test_closing_follows_the_crm_date_and_the_term_setting(book: Book) -> None:
    RenewalSettings.objects.create(term_months=24)
    r = RenewalFactory(account=book.account, renewal_date=dt.date(2027, 1, 15), arr=Decimal("100"))
    services.renewal_close(actor=book.manager, renewal=r, outcome="renewed_flat", new_arr="100")
    book.account.refresh_from_db()
    assert book.account.next_renewal_date == dt.date(2029, 1, 15)
    other = AccountFactory(region=book.east, next_renewal_date=dt.date(2027, 2, 1))
    r2 = RenewalFactory(account=other, renewal_date=dt.date(2027, 2, 1), arr=Decimal("100"))
    services.renewal_close(
        actor=book.manager, renewal=r2, outcome="churned", new_arr="0", reason="cancellation",
        next_renewal_date="2027-09-30",
    )  # fmt: skip
    other.refresh_from_db()
    assert other.next_renewal_date == dt.date(2027, 9, 30) and other.arr == 0


@pytest.mark.parametrize(
    ("today", "raised"),
    [
        (dt.date(2026, 7, 14), False),  # a day before the window opens (6 months before 2027-01-15)
        (dt.date(2026, 7, 15), True),  # the day it opens
        (dt.date(2027, 1, 15), True),  # the renewal day itself
        (dt.date(2027, 1, 16), False),  # after the date
    ],
)
def test_the_six_month_task_window_at_its_boundaries(book: Book, today: dt.date, raised: bool) -> None:
    r = RenewalFactory(account=book.account, renewal_date=dt.date(2027, 1, 15), tam=book.tam)
    out = services.renewal_tasks_raise(today=today)
    tasks = Task.objects.filter(account=book.account, type__in=[TaskType.RENEWAL, TaskType.RENEWAL_REVIEW])
    assert tasks.count() == (2 if raised else 0)
    if raised:
        assert out["tasks_raised"] == 2
        review = tasks.get(type=TaskType.RENEWAL_REVIEW)
        assert review.due_on == dt.date(2026, 7, 15) + dt.timedelta(days=60)
        assert tasks.get(type=TaskType.RENEWAL).due_on == r.renewal_date
        # Idempotent, even once the tasks are done.
        tasks.update(status="done", completed_at=timezone.now())
        assert services.renewal_tasks_raise(today=today)["tasks_raised"] == 0
        assert tasks.count() == 2


def test_the_snapshot_job_is_idempotent(book: Book) -> None:
    Account.objects.update(created_at=timezone.now() - dt.timedelta(days=400))
    AccountFactory(region=book.east)  # created today: not in November's snapshot
    out = services.arr_snapshot_take(today=dt.date(2026, 11, 30))
    assert out["month"] == "2026-11-01" and out["written"] == 2
    again = services.arr_snapshot_take(today=dt.date(2026, 11, 30))
    assert again["written"] == 0
    services.arr_snapshot_take(today=dt.date(2026, 12, 1))  # November again: nothing new
    assert ArrSnapshot.objects.count() == 2
    december = services.arr_snapshot_take(today=timezone.localdate().replace(month=12, day=31))
    assert december["written"] == 3


def test_backfill_from_the_audit_trail(book: Book) -> None:
    account = book.account
    account.created_at = account.created_at.replace(year=2025, month=1, day=1)
    account.save(update_fields=["created_at"])
    AuditEvent.objects.create(
        object_type="accounts.account", object_id=str(account.pk), object_repr="x", action="update",
        before={"arr": "100.00"}, after={"arr": "150.00"}, at=dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC),
    )  # fmt: skip
    snap(account.pk, dt.date(2026, 1, 1), 99)  # an existing row wins
    out = services.arr_history_backfill(months=6, today=dt.date(2026, 6, 30))
    got = dict(ArrSnapshot.objects.filter(account=account).values_list("month_index", "arr"))
    assert got[month_index(2026, 1)] == Decimal("99")
    assert got[month_index(2026, 2)] == Decimal("100")
    assert got[month_index(2026, 3)] == Decimal("150")
    assert got[month_index(2026, 6)] == Decimal("150")
    assert out.written > 0
    assert services.arr_history_backfill(months=6, today=dt.date(2026, 6, 30)).written == 0


def test_settings_are_checked_and_audited(book: Book) -> None:
    with pytest.raises(PermissionDenied):
        services.renewal_settings_update(actor=book.manager, changes={"term_months": 6})
    with pytest.raises(ValidationFailed) as exc:
        services.renewal_settings_update(actor=book.admin, changes={"fiscal_start_month": 13})
    assert "fiscal_start_month" in exc.value.errors
    row = services.renewal_settings_update(actor=book.admin, changes={"fiscal_start_month": 1, "term_months": 6})
    assert row.fiscal_start_month == 1
    assert AuditEvent.objects.filter(object_type="renewals.renewalsettings").count() == 1


def test_review_record_checks_region_and_decisions(book: Book) -> None:
    r = RenewalFactory(account=book.account)
    other = RenewalFactory(account=book.other_account)
    with pytest.raises(PermissionDenied):
        services.review_record(actor=book.other_manager, region=book.east, held_on="2026-01-05")
    with pytest.raises(ValidationFailed):
        services.review_record(actor=book.manager, region=book.east, held_on="2026-01-05", decisions={other.pk: "x"})
    with pytest.raises(ValidationFailed):
        services.review_record(actor=book.manager, region=book.east, held_on="")
    review = services.review_record(
        actor=book.manager, region=book.east, held_on="2026-01-05", attendees=[book.tam.pk],
        notes="Q4 call", decisions={r.pk: "Escalate to the VP"},
    )  # fmt: skip
    assert review.decisions.get().renewal_id == r.pk
    assert list(review.attendees.all()) == [book.tam]
