"""The sweep (opens, refreshes, stamps unstuck; idempotent; a fixed number of queries) and a pool TAM's work
(claim, outreach on the timeline, resolve): audited and permission-checked."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from tamarind.audit.models import AuditEvent
from tamarind.core.errors import ValidationFailed
from tamarind.onboarding.tests.factories import OnboardingFactory
from tamarind.stuck import selectors, services
from tamarind.stuck.models import CaseStatus, Outcome, StuckCase, StuckRule
from tamarind.stuck.tests.factories import case_of, pool_of, pooled
from tamarind.testing.factories import AccountFactory
from tamarind.timeline.models import TimelineEntry

pytestmark = pytest.mark.django_db


def audits(case: StuckCase) -> int:
    return AuditEvent.objects.for_object("stuck.stuckcase", case.pk).count()


def test_default_rules_are_seeded() -> None:
    assert sorted(StuckRule.objects.values_list("kind", flat=True)) == sorted(
        ["low_utilization", "no_first_value", "poor_onboarding", "no_activity", "ticket_spike", "poor_survey"]
    )


def test_a_poor_survey_answer_makes_a_pooled_account_stuck(book: Any) -> None:
    from tamarind.surveys.services import survey_answer_submit, survey_invitation_create
    from tamarind.testing.factories import ContactFactory

    pool_of(book)
    account = pooled(book, days_in=10)  # fine by every other rule
    assert services.stuck_sweep()["opened"] == 0
    invitation = survey_invitation_create(contact=ContactFactory(account=account), kind="nps")
    survey_answer_submit(invitation=invitation, score=4, comment="Slow")
    assert services.stuck_sweep()["opened"] == 1
    case = StuckCase.objects.get(account=account)
    assert [r["kind"] for r in case.reasons] == ["poor_survey"] and "NPS 4 on 0-10" in case.reasons[0]["why"]


def test_sweep_opens_a_case_with_why_for_stuck_pooled_accounts_only(book: Any) -> None:
    pool = pool_of(book)
    stuck = pooled(book)
    fine = pooled(book, days_in=10)
    not_pooled = AccountFactory(region=book.east, customer_since=timezone.localdate() - dt.timedelta(days=90))
    result = services.stuck_sweep()
    assert result["opened"] == 1 and result["pooled"] == 2
    case = StuckCase.objects.get()
    assert case.account == stuck and case.pool == pool and case.status == CaseStatus.OPEN
    assert {r["kind"] for r in case.reasons} == {"no_first_value", "no_activity"}
    assert all(r["why"] for r in case.reasons)
    assert not StuckCase.objects.filter(account__in=[fine, not_pooled]).exists()
    assert audits(case) == 1


def test_sweep_is_idempotent(book: Any) -> None:
    pool_of(book)
    pooled(book)
    services.stuck_sweep()
    events = AuditEvent.objects.count()
    again = services.stuck_sweep()
    assert again["opened"] == again["refreshed"] == again["unstuck"] == 0
    assert StuckCase.objects.count() == 1 and AuditEvent.objects.count() == events


def test_disabled_rule_does_not_fire(book: Any) -> None:
    pool_of(book)
    pooled(book)
    StuckRule.objects.filter(kind="no_activity").update(enabled=False)
    services.stuck_sweep()
    assert [r["kind"] for r in StuckCase.objects.get().reasons] == ["no_first_value"]


def test_sweep_refreshes_reasons_and_stamps_unstuck(book: Any) -> None:
    pool_of(book)
    account = pooled(book)
    services.stuck_sweep()
    case = StuckCase.objects.get()
    # First value reached: one reason left.
    OnboardingFactory(account=account, contract_start=account.customer_since, first_value=timezone.localdate())
    assert services.stuck_sweep()["refreshed"] == 1
    case.refresh_from_db()
    assert [r["kind"] for r in case.reasons] == ["no_activity"]
    # No rule fires any more: unstuck now, within 30 days of opening; the case stays for the TAM to resolve.
    StuckRule.objects.filter(kind="no_activity").update(enabled=False)
    assert services.stuck_sweep()["unstuck"] == 1
    case.refresh_from_db()
    assert case.unstuck_at is not None and case.unstuck_within() and case.status == CaseStatus.OPEN
    # A rule fires again: relapsed.
    StuckRule.objects.filter(kind="no_activity").update(enabled=True)
    assert services.stuck_sweep()["relapsed"] == 1
    case.refresh_from_db()
    assert case.unstuck_at is None


def test_resolved_case_still_stamped_within_30_days_and_no_new_case_soon(book: Any) -> None:
    pool_of(book)
    pooled(book)
    services.stuck_sweep()
    case = StuckCase.objects.get()
    services.stuck_case_resolve(actor=book.tam, case=case, outcome=Outcome.UNSTUCK, notes="Trained their admins")
    assert services.stuck_sweep()["opened"] == 0  # still firing, but resolved lately: no new case
    StuckRule.objects.update(enabled=False)
    assert services.stuck_sweep()["unstuck"] == 1
    case.refresh_from_db()
    assert case.unstuck_within()


def test_new_case_after_the_reopen_delay(book: Any) -> None:
    pool = pool_of(book)
    account = pooled(book)
    long_ago = timezone.now() - dt.timedelta(days=60)
    case_of(
        account, pool, status=CaseStatus.RESOLVED, outcome=Outcome.NO_RESPONSE, resolved_at=long_ago, opened_at=long_ago
    )
    assert services.stuck_sweep()["opened"] == 1
    assert StuckCase.objects.filter(account=account).count() == 2


def test_sweep_queries_do_not_grow_with_accounts(book: Any, django_assert_max_num_queries: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    pool_of(book)
    pooled(book)
    with CaptureQueriesContext(connection) as small:
        services.stuck_sweep()
    StuckCase.objects.all().delete()
    for _ in range(6):
        pooled(book)
    with CaptureQueriesContext(connection) as big:
        services.stuck_sweep()
    # Only the inserts of the new cases (one each) grow.
    assert len(big.captured_queries) - len(small.captured_queries) <= 6


def test_one_open_case_per_account_and_outcome_iff_resolved(book: Any) -> None:
    pool = pool_of(book)
    account = pooled(book)
    case_of(account, pool)
    with pytest.raises(IntegrityError), transaction.atomic():
        case_of(account, pool)
    with pytest.raises(IntegrityError), transaction.atomic():
        case_of(pooled(book), pool, status=CaseStatus.RESOLVED)
    with pytest.raises(IntegrityError), transaction.atomic():
        case_of(pooled(book), pool, outcome=Outcome.UNSTUCK)


def test_claim_outreach_resolve_are_audited(book: Any) -> None:
    pool = pool_of(book)
    case = case_of(pooled(book), pool)
    case = services.stuck_case_claim(actor=book.tam, case=case)
    assert case.status == CaseStatus.CLAIMED and case.claimed_by == book.tam and audits(case) == 1
    entry = services.stuck_case_log_outreach(actor=book.tam, case=case, kind="email", notes="Offered a training")
    assert TimelineEntry.objects.filter(pk=entry.pk, account=case.account, author=book.tam).exists()
    assert AuditEvent.objects.for_object("timeline.timelineentry", entry.pk).count() == 1
    case.refresh_from_db()
    assert case.outreach_count == 1 and audits(case) == 2
    case = services.stuck_case_resolve(actor=book.tam, case=case, outcome="unstuck", notes="Using it now")
    assert case.status == CaseStatus.RESOLVED and case.resolved_at and audits(case) == 3
    with pytest.raises(ValidationFailed):
        services.stuck_case_resolve(actor=book.tam, case=case, outcome="unstuck")
    with pytest.raises(ValidationFailed):
        services.stuck_case_claim(actor=book.tam, case=case)


def test_claim_raises_the_claimers_task_and_resolve_closes_it(book: Any) -> None:
    from tamarind.actions.models import Task, TaskType

    case = case_of(pooled(book), pool_of(book))
    services.stuck_case_claim(actor=book.tam, case=case)
    services.stuck_case_claim(actor=book.manager, case=case)  # takes it over: the TAM's task closes
    tasks = Task.objects.filter(type=TaskType.STUCK_CUSTOMER, account=case.account)
    assert [(t.owner_id, t.status) for t in tasks.filter(status="open")] == [(book.manager.pk, "open")]
    services.stuck_case_resolve(actor=book.manager, case=case, outcome="not_stuck")
    assert not tasks.filter(status="open").exists()


def test_outreach_on_an_open_case_claims_it(book: Any) -> None:
    case = case_of(pooled(book), pool_of(book))
    services.stuck_case_log_outreach(actor=book.tam, case=case, kind="call", title="Check-in")
    case.refresh_from_db()
    assert case.status == CaseStatus.CLAIMED and case.claimed_by == book.tam


def test_bad_input_is_refused_and_writes_nothing(book: Any) -> None:
    case = case_of(pooled(book), pool_of(book))
    with pytest.raises(ValidationFailed):
        services.stuck_case_log_outreach(actor=book.tam, case=case, kind="fax")
    for outcome, notes in (("maybe", ""), ("unstuck", "x" * 5001), ("unstuck", 5)):
        with pytest.raises(ValidationFailed):
            services.stuck_case_resolve(actor=book.tam, case=case, outcome=outcome, notes=notes)
    assert audits(case) == 0 and not TimelineEntry.objects.filter(account=case.account).exists()


@pytest.mark.parametrize("role", ["admin", "manager", "tam"])
def test_pool_people_region_manager_and_admins_may_work(book: Any, role: str) -> None:
    case = case_of(pooled(book), pool_of(book))
    services.stuck_case_claim(actor=getattr(book, role), case=case)


@pytest.mark.parametrize("role", ["director", "tam2", "other_tam", "other_manager", "sal", "sa"])
def test_others_may_not_work(book: Any, role: str) -> None:
    case = case_of(pooled(book), pool_of(book))
    with pytest.raises(PermissionDenied):
        services.stuck_case_claim(actor=getattr(book, role), case=case)
    with pytest.raises(PermissionDenied):
        services.stuck_case_resolve(actor=getattr(book, role), case=case, outcome="unstuck")
    assert audits(case) == 0


def test_rule_update_admin_only_and_validated(book: Any) -> None:
    rule = StuckRule.objects.get(kind="no_activity")
    with pytest.raises(PermissionDenied):
        services.stuck_rule_update(actor=book.manager, rule=rule, enabled=False)
    with pytest.raises(ValidationFailed):
        services.stuck_rule_update(actor=book.admin, rule=rule, params={"days": -1})
    services.stuck_rule_update(actor=book.admin, rule=rule, params={"days": 14}, enabled=False)
    rule.refresh_from_db()
    assert rule.params == {"days": 14} and not rule.enabled


def test_metrics_unstuck_within_30_days(book: Any) -> None:
    pool = pool_of(book)
    now = timezone.now()
    case_of(pooled(book), pool, opened_at=now - dt.timedelta(days=50), unstuck_at=now - dt.timedelta(days=30))
    case_of(pooled(book), pool, opened_at=now - dt.timedelta(days=50), unstuck_at=now - dt.timedelta(days=10))
    case_of(pooled(book), pool, opened_at=now - dt.timedelta(days=45))
    case_of(pooled(book), pool, opened_at=now - dt.timedelta(days=5))  # still within its 30 days
    case_of(pooled(book), pool, opened_at=now - dt.timedelta(days=200))  # outside the window
    m = selectors.metrics(user=book.admin, now=now, days=90)
    assert (m.opened, m.unstuck, m.pending) == (4, 1, 1)
    assert m.share == pytest.approx(1 / 3)


def test_sweep_in_batches_sees_every_account(book: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(services, "SWEEP_BATCH", 2)
    pool_of(book)
    made = {pooled(book).pk for _ in range(5)}
    assert services.stuck_sweep()["opened"] == 5
    assert set(StuckCase.objects.values_list("account_id", flat=True)) == made
    assert services.stuck_sweep()["opened"] == 0
