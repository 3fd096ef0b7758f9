"""Writes of stuck-customer triage: the daily sweep (opens cases for newly stuck pooled accounts, refreshes their
reasons, stamps when they got unstuck), and a pool TAM's claim, outreach (logged on the account's timeline) and
resolution. Atomic, policy-checked, audited; the sweep's actor is the system."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from tamarind import policy
from tamarind.audit.models import AuditAction
from tamarind.audit.services import audit_record, audit_record_many, build_event, snapshot
from tamarind.core.bulk import chunks
from tamarind.core.errors import ValidationFailed
from tamarind.people.models import User
from tamarind.stuck import rules, selectors
from tamarind.stuck.models import UNRESOLVED, UNSTUCK_WITHIN_DAYS, CaseStatus, Outcome, StuckCase, StuckRule
from tamarind.timeline.models import EntryKind, TimelineEntry

CASE_FIELDS = (
    "account",
    "pool",
    "reasons",
    "status",
    "opened_at",
    "claimed_by",
    "claimed_at",
    "outreach_count",
    "last_outreach_at",
    "outcome",
    "notes",
    "resolved_at",
    "resolved_by",
    "unstuck_at",
)
OUTREACH_KINDS = (EntryKind.CALL, EntryKind.MEETING, EntryKind.EMAIL, EntryKind.NOTE)
NOTES_MAX = 5000
# After a case is resolved the account gets no new case for this many days (the outcome stands for a while).
REOPEN_AFTER_DAYS = 30
SWEEP_BATCH = 2000  # accounts per batch of the sweep's queries (the database's bound-parameter limits)
TASK_DUE_DAYS = 7  # the claimer's task is due a week after claiming


def _audit(actor: User | None, case: StuckCase, before: dict[str, Any] | None, source: str) -> None:
    action = AuditAction.CREATE if before is None else AuditAction.UPDATE
    audit_record(actor=actor, obj=case, action=action, before=before, after=snapshot(case, CASE_FIELDS), source=source)


# --- The sweep -------------------------------------------------------------------------------------------------


@transaction.atomic
def stuck_sweep(*, today: dt.date | None = None, now: dt.datetime | None = None) -> dict[str, int]:
    """Evaluate the enabled rules for every pooled account. Idempotent: a second run the same day changes nothing.

    - a pooled account some rule fires for, with no open or claimed case and none resolved in the last
      ``REOPEN_AFTER_DAYS`` days, gets a case (its reasons, its pool);
    - an open or claimed case gets its reasons refreshed; ``unstuck_at`` is stamped once no rule fires (the case
      stays for its TAM to resolve) and cleared if one fires again;
    - a resolved case still within its 30 days, not stamped, is stamped when no rule fires any more (so a
      resolution ahead of the data still counts once the data shows it).
    Accounts no longer pooled keep their cases as they are.
    """
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    specs = selectors.enabled_rules()
    pooled = selectors.pooled_accounts()
    fired: dict[int, list[dict[str, str]]] = {}
    cases: dict[int, StuckCase] = {}  # the newest case per account (rows come oldest first)
    for chunk in chunks(sorted(pooled), SWEEP_BATCH):  # a fixed number of queries per batch of accounts
        for pk, f in selectors.stuck_facts(list(chunk), now=now).items():
            fired[pk] = rules.evaluate(f, specs, today=today)
        for c in StuckCase.objects.filter(account_id__in=list(chunk)).order_by("account_id", "opened_at", "id"):
            cases[c.account_id] = c
    events = []
    opened = refreshed = unstuck = relapsed = 0
    to_create: list[StuckCase] = []
    for account_id, pool_id in sorted(pooled.items()):
        reasons = fired.get(account_id, [])
        case = cases.get(account_id)
        if case is None or (
            case.status == CaseStatus.RESOLVED
            and case.resolved_at is not None
            and case.resolved_at <= now - dt.timedelta(days=REOPEN_AFTER_DAYS)
        ):
            if reasons:
                to_create.append(
                    StuckCase(account_id=account_id, pool_id=pool_id, reasons=reasons, opened_at=now, updated_at=now)
                )
            continue
        before = snapshot(case, CASE_FIELDS)
        fields: list[str] = []
        if case.status in UNRESOLVED:
            if reasons and case.reasons != reasons:
                case.reasons = reasons
                fields.append("reasons")
                refreshed += 1
            if reasons and case.unstuck_at is not None:
                case.unstuck_at = None
                fields.append("unstuck_at")
                relapsed += 1
            elif not reasons and case.unstuck_at is None:
                case.unstuck_at = now
                fields.append("unstuck_at")
                unstuck += 1
        elif not reasons and case.unstuck_at is None and now <= case.opened_at + dt.timedelta(days=UNSTUCK_WITHIN_DAYS):
            case.unstuck_at = now
            fields.append("unstuck_at")
            unstuck += 1
        if fields:
            case.updated_at = now
            case.save(update_fields=[*fields, "updated_at"])
            events.append(
                build_event(
                    actor=None,
                    obj=case,
                    action=AuditAction.UPDATE,
                    before=before,
                    after=snapshot(case, CASE_FIELDS),
                    source="rule",
                )
            )
    for case in to_create:
        case.save()
        events.append(
            build_event(
                actor=None,
                obj=case,
                action=AuditAction.CREATE,
                before=None,
                after=snapshot(case, CASE_FIELDS),
                source="rule",
            )
        )
        opened += 1
    audit_record_many(events)
    return {
        "pooled": len(pooled),
        "opened": opened,
        "refreshed": refreshed,
        "unstuck": unstuck,
        "relapsed": relapsed,
    }


def stuck_sweep_job() -> dict[str, int]:
    """The scheduler's entry point (``periodic.JOBS``)."""
    return stuck_sweep()


# --- A pool TAM's work -----------------------------------------------------------------------------------------


def _task_for(actor: User, case: StuckCase, *, source: str) -> None:
    """The claimer's *Stuck customer* task (closing a previous claimer's): on their task list until resolved."""
    from tamarind.actions.models import TaskType
    from tamarind.actions.services import task_raise, task_resolve_many

    reason = f"stuck-case-{case.pk}"
    task_resolve_many(
        account_ids=[case.account_id], type=TaskType.STUCK_CUSTOMER, reason=reason, actor=actor, source=source
    )
    task_raise(
        type=TaskType.STUCK_CUSTOMER,
        account=case.account,
        owner=actor,
        reason=reason,
        why={"case": case.pk, "reasons": [r.get("why", "") for r in case.reasons if isinstance(r, dict)]},
        due_on=timezone.localdate() + dt.timedelta(days=TASK_DUE_DAYS),
        source=source,
    )


def _close_task(actor: User, case: StuckCase, *, source: str) -> None:
    from tamarind.actions.models import TaskType
    from tamarind.actions.services import task_resolve_many

    task_resolve_many(
        account_ids=[case.account_id],
        type=TaskType.STUCK_CUSTOMER,
        reason=f"stuck-case-{case.pk}",
        actor=actor,
        source=source,
    )


def _check(actor: User, case: StuckCase) -> None:
    if not policy.can_work_stuck_case(actor, case):
        raise PermissionDenied("Only the pool's TAMs, its manager, the region's manager and admins work this case.")


@transaction.atomic
def stuck_case_claim(*, actor: User, case: StuckCase, source: str = "web") -> StuckCase:
    """Take an open case (or take over a claimed one); a resolved case cannot be claimed (422)."""
    _check(actor, case)
    case = StuckCase.objects.select_for_update(of=("self",)).select_related("account", "pool").get(pk=case.pk)
    if case.status == CaseStatus.RESOLVED:
        raise ValidationFailed({"status": ["This case is resolved; it cannot be claimed."]})
    if case.status == CaseStatus.CLAIMED and case.claimed_by_id == actor.pk:
        return case
    before = snapshot(case, CASE_FIELDS)
    now = timezone.now()
    case.status = CaseStatus.CLAIMED
    case.claimed_by = actor
    case.claimed_at = now
    case.updated_at = now
    case.save(update_fields=["status", "claimed_by", "claimed_at", "updated_at"])
    _audit(actor, case, before, source)
    _task_for(actor, case, source=source)
    return case


@transaction.atomic
def stuck_case_log_outreach(
    *,
    actor: User,
    case: StuckCase,
    kind: Any,
    title: Any = "",
    notes: Any = "",
    external_attendees: Any = "",
    source: str = "web",
) -> TimelineEntry:
    """Log an outreach (call, meeting, email or note) on the account's timeline and count it on the case. An open
    case is claimed by whoever reaches out; a resolved case takes no more outreach (422)."""
    from tamarind.timeline.services import timeline_entry_write

    _check(actor, case)
    case = StuckCase.objects.select_for_update(of=("self",)).select_related("account", "pool").get(pk=case.pk)
    if case.status == CaseStatus.RESOLVED:
        raise ValidationFailed({"status": ["This case is resolved; log further contact on the account's timeline."]})
    if kind not in OUTREACH_KINDS:
        raise ValidationFailed({"kind": [f"Choose one of: {', '.join(OUTREACH_KINDS)}."]})
    title_text = str(title or "").strip()
    entry = timeline_entry_write(
        actor=actor,
        account=case.account,
        data={
            "kind": kind,
            "title": title_text or f"Stuck-customer outreach ({EntryKind(kind).label.lower()})",
            "notes": notes or "",
            "external_attendees": external_attendees or "",
        },
        source=source,
    )
    before = snapshot(case, CASE_FIELDS)
    now = timezone.now()
    fields = ["outreach_count", "last_outreach_at", "updated_at"]
    if case.status == CaseStatus.OPEN:
        case.status = CaseStatus.CLAIMED
        case.claimed_by = actor
        case.claimed_at = now
        fields += ["status", "claimed_by", "claimed_at"]
    case.outreach_count += 1
    case.last_outreach_at = entry.occurred_at
    case.updated_at = now
    case.save(update_fields=fields)
    _audit(actor, case, before, source)
    if "claimed_by" in fields:
        _task_for(actor, case, source=source)
    return entry


@transaction.atomic
def stuck_case_resolve(
    *, actor: User, case: StuckCase, outcome: Any, notes: Any = "", source: str = "web"
) -> StuckCase:
    """Record the outcome and close the case. The sweep goes on stamping ``unstuck_at`` within its 30 days."""
    _check(actor, case)
    case = StuckCase.objects.select_for_update(of=("self",)).select_related("account", "pool").get(pk=case.pk)
    if case.status == CaseStatus.RESOLVED:
        raise ValidationFailed({"status": ["This case is already resolved."]})
    if outcome not in Outcome.values:
        raise ValidationFailed({"outcome": [f"Choose one of: {', '.join(Outcome.values)}."]})
    if notes is not None and not isinstance(notes, str):
        raise ValidationFailed({"notes": ["Give the notes as text."]})
    text = (notes or "").strip()
    if len(text) > NOTES_MAX:
        raise ValidationFailed({"notes": [f"At most {NOTES_MAX} characters."]})
    if "\x00" in text:
        raise ValidationFailed({"notes": ["Text may not contain NUL characters."]})
    before = snapshot(case, CASE_FIELDS)
    now = timezone.now()
    case.status = CaseStatus.RESOLVED
    case.outcome = outcome
    case.notes = text
    case.resolved_at = now
    case.resolved_by = actor
    if case.claimed_by_id is None:
        case.claimed_by = actor
        case.claimed_at = now
    case.updated_at = now
    case.save(
        update_fields=[
            "status",
            "outcome",
            "notes",
            "resolved_at",
            "resolved_by",
            "claimed_by",
            "claimed_at",
            "updated_at",
        ]
    )
    _audit(actor, case, before, source)
    _close_task(actor, case, source=source)
    return case


# --- Rules -----------------------------------------------------------------------------------------------------


@transaction.atomic
def stuck_rule_update(
    *, actor: User, rule: StuckRule, enabled: bool | None = None, params: Any = None, source: str = "web"
) -> StuckRule:
    """Admins switch a rule on or off and change its thresholds (validated per kind)."""
    if not policy.can_edit_rules(actor):
        raise PermissionDenied("Only admins change the stuck-customer rules.")
    before = snapshot(rule, ("enabled", "params"))
    fields = []
    if enabled is not None and enabled != rule.enabled:
        rule.enabled = bool(enabled)
        fields.append("enabled")
    if params is not None:
        cleaned = rules.clean_params(rule.kind, params)
        if cleaned != rule.params:
            rule.params = cleaned
            fields.append("params")
    if fields:
        rule.save(update_fields=fields)
        audit_record(
            actor=actor,
            obj=rule,
            action=AuditAction.UPDATE,
            before=before,
            after=snapshot(rule, ("enabled", "params")),
            source=source,
        )
    return rule
