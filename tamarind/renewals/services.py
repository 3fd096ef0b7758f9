"""Writes to renewals: creating renewals from accounts' next renewal dates (never duplicated), changing one
(forecast, owners, notes, next steps), closing one with its outcome (which moves the account's next renewal date on
by the term), recording a renewal review, the settings, the periodic jobs (renewal tasks, the month-end ARR
snapshot) and the ARR history backfill. Every write is atomic, policy-checked where a person acts, and audited;
actor ``None`` is the system.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from tamarind import policy
from tamarind.accounts.models import Account
from tamarind.actions.models import TaskType
from tamarind.actions.services import TaskDraft, task_raise_many
from tamarind.audit.models import AuditAction, AuditEvent
from tamarind.audit.services import audit_record, audit_record_many, build_event, snapshot
from tamarind.core.bulk import chunks, insert_instances
from tamarind.core.errors import ValidationFailed
from tamarind.core.values import clean_date, clean_text
from tamarind.notifications.models import NotificationKind
from tamarind.notifications.services import notify
from tamarind.people.models import Role, User
from tamarind.renewals import rules
from tamarind.renewals.models import (
    RENEWAL_FIELDS,
    RISK_FORECASTS,
    SETTINGS_FIELDS,
    ArrSnapshot,
    Renewal,
    RenewalReview,
    RenewalSettings,
    RenewalStatus,
    RenewalStep,
    ReviewDecision,
    SnapshotSource,
    month_index,
)
from tamarind.renewals.quarters import add_months, month_end, month_start
from tamarind.renewals.selectors import renewal_settings
from tamarind.triage.models import TriageCase
from tamarind.triage.services import TRIAGE_REASON

BATCH = 500
TEXT_MAX = 500
UPDATE_KEYS = frozenset({"arr", "owner", "owner_id", "tam", "tam_id", "forecast", "forecast_reason", "notes"})


def _person(value: Any, label: str, roles: Sequence[str]) -> User | None:
    """An active person of one of ``roles`` by id (or a User); empty is nobody."""
    if value in (None, ""):
        return None
    if isinstance(value, User):
        person: User | None = value
    else:
        try:
            pk = int(value)
        except (TypeError, ValueError):
            raise ValidationFailed({label: [f"{label} must be a person's id, got {value!r}."]}) from None
        person = User.objects.filter(pk=pk).first() if 0 < pk < 2**63 else None
    if person is None or not person.is_active or person.role not in roles:
        raise ValidationFailed({label: ["No such active person in that role."]})
    return person


def _audit(actor: User | None, obj: Any, action: AuditAction, before: Any, after: Any, source: str) -> None:
    audit_record(actor=actor, obj=obj, action=action, before=before, after=after, source=source)


# --- Creating renewals from accounts ------------------------------------------------------------------------


def _new_renewal(account: Account, day: dt.date, now: dt.datetime) -> Renewal:
    return Renewal(
        account_id=account.pk,
        renewal_date=day,
        arr=account.arr,
        currency=account.currency,
        owner_id=account.sal_id,
        tam_id=account.tam_id,
        created_at=now,
        updated_at=now,
    )


def _move_renewals(
    accounts: list[Account],
    have: set[tuple[int, dt.date]],
    moved_from: Mapping[int, Any],
    now: dt.datetime,
    source: str,
) -> set[int]:
    """The accounts whose next renewal date moved from an earlier one (``moved_from``: account id -> old date) and
    whose open renewal of the old date follows to the new date, as ``renewal_follow_account_date`` does for one
    account; returns their ids (they need no new renewal). Two queries and one audit batch."""
    olds: dict[int, dt.date] = {}
    for a in accounts:
        raw = moved_from.get(a.pk)
        old = clean_date(raw, "next_renewal_date") if raw else None
        if old is not None and old != a.next_renewal_date and (a.pk, a.next_renewal_date) not in have:
            olds[a.pk] = old
    if not olds:
        return set()
    candidates = Renewal.objects.open().filter(account_id__in=list(olds), renewal_date__in=set(olds.values()))
    moving = [r for r in candidates if olds.get(r.account_id) == r.renewal_date]
    if not moving:
        return set()
    new_date = {a.pk: a.next_renewal_date for a in accounts}
    events = []
    for r in moving:
        before = snapshot(r, ("renewal_date",))
        r.renewal_date = new_date[r.account_id]  # type: ignore[assignment]
        r.task_raised_on = None
        r.review_task_raised_on = None
        r.updated_at = now
        events.append(
            build_event(
                actor=None,
                obj=r,
                action=AuditAction.UPDATE,
                before=before,
                after=snapshot(r, ("renewal_date",)),
                source=source,
                at=now,
            )
        )
    Renewal.objects.bulk_update(moving, ["renewal_date", "task_raised_on", "review_task_raised_on", "updated_at"])
    audit_record_many(events)
    return {r.account_id for r in moving}


@transaction.atomic
def renewals_ensure_for_accounts(
    account_ids: Iterable[int], *, moved_from: Mapping[int, Any] | None = None, source: str = "system"
) -> int:
    """Make sure each account with a next renewal date has a renewal on that date; returns how many were created.

    The account services and the importer call this after they write accounts. Never duplicates: existing
    (account, date) pairs are skipped, and the unique constraint backs that up (insert-or-ignore). ``moved_from``
    (account id -> its previous next renewal date, from the importer): the open renewal of the old date moves to
    the new one instead of a second renewal being created beside it. A few queries per 500 accounts."""
    created = 0
    now = timezone.now()
    for chunk in chunks(sorted(set(account_ids)), BATCH):
        accounts = list(Account.objects.filter(pk__in=chunk, next_renewal_date__isnull=False))
        if not accounts:
            continue
        have = set(
            Renewal.objects.filter(account_id__in=[a.pk for a in accounts]).values_list("account_id", "renewal_date")
        )
        moved = _move_renewals(accounts, have, moved_from or {}, now, source)
        rows = [
            _new_renewal(a, a.next_renewal_date, now)  # type: ignore[arg-type]
            for a in accounts
            if (a.pk, a.next_renewal_date) not in have and a.pk not in moved
        ]
        if not rows:
            continue
        insert_instances(rows, ignore_conflicts=True)
        fresh = Renewal.objects.filter(account_id__in=[r.account_id for r in rows], created_at=now).select_related(
            "account"
        )
        events = [
            build_event(
                actor=None,
                obj=r,
                action=AuditAction.CREATE,
                before=None,
                after=snapshot(r, RENEWAL_FIELDS),
                source=source,
                at=now,
            )
            for r in fresh
        ]
        audit_record_many(events)
        created += len(events)
    return created


@transaction.atomic
def renewal_follow_account_date(*, account: Account, old_date: Any, source: str = "system") -> Renewal | None:
    """The account's next renewal date was set or changed (web, API, CRM import): the open renewal of the old date
    moves to the new one (the CRM moved the date), else the new date gets its renewal; never a second renewal on
    a date. Returns the renewal moved or created (``None``: nothing to do)."""
    new = account.next_renewal_date
    if new is None:
        return None
    if Renewal.objects.filter(account_id=account.pk, renewal_date=new).exists():
        return None
    old = clean_date(old_date, "next_renewal_date") if old_date else None
    moving = Renewal.objects.open().filter(account_id=account.pk, renewal_date=old).first() if old is not None else None
    if moving is None:
        renewals_ensure_for_accounts([account.pk], source=source)
        return Renewal.objects.filter(account_id=account.pk, renewal_date=new).first()
    before = snapshot(moving, ("renewal_date",))
    moving.renewal_date = new
    moving.task_raised_on = None
    moving.review_task_raised_on = None
    moving.updated_at = timezone.now()
    moving.save(update_fields=["renewal_date", "task_raised_on", "review_task_raised_on", "updated_at"])
    _audit(None, moving, AuditAction.UPDATE, before, snapshot(moving, ("renewal_date",)), source)
    return moving


@transaction.atomic
def renewal_create(
    *, actor: User, account: Account, data: dict[str, Any] | None = None, source: str = "web"
) -> Renewal:
    """Create a renewal for ``account`` (default date: its next renewal date; default ARR: its ARR). Refused when
    the actor may not write the account's renewals, or when the account already has one on that date."""
    data = dict(data or {})
    if not policy.can_write_renewal_for(actor, account):
        if not policy.can_read_account(actor, account):
            raise PermissionDenied("No such account.")
        raise PermissionDenied("You may not write this account's renewals.")
    day = clean_date(data.get("renewal_date"), "renewal_date") or account.next_renewal_date
    if day is None:
        raise ValidationFailed({"renewal_date": ["The account has no next renewal date: give one."]})
    now = timezone.now()
    renewal = _new_renewal(account, day, now)
    if data.get("arr") not in (None, ""):
        renewal.arr = rules.parse_money(data["arr"], "arr")  # type: ignore[assignment]
    if "forecast" in data and data["forecast"] not in (None, ""):
        renewal.forecast = rules.parse_forecast(data["forecast"])
    renewal.forecast_reason = clean_text(data.get("forecast_reason"), "forecast_reason", max_length=TEXT_MAX)
    renewal.notes = clean_text(data.get("notes"), "notes", max_length=10_000)
    if Renewal.objects.filter(account=account, renewal_date=day).exists():
        raise ValidationFailed({"renewal_date": ["This account already has a renewal on that date."]})
    try:
        with transaction.atomic():
            renewal.save()
    except IntegrityError:
        raise ValidationFailed({"renewal_date": ["This account already has a renewal on that date."]}) from None
    renewal.account = account
    _audit(actor, renewal, AuditAction.CREATE, None, snapshot(renewal, RENEWAL_FIELDS), source)
    if renewal.forecast in RISK_FORECASTS:
        _forecast_alert(actor, renewal)
    return renewal


# --- Changing and closing ------------------------------------------------------------------------------------


def _forecast_alert(actor: User | None, renewal: Renewal) -> None:
    """A renewal moved to at risk or will churn: notify the region's manager and propose a triage case (the same
    "triage review" task health proposes, deduplicated on (account, type, reason), and none when a case is open)."""
    account = renewal.account
    region = account.region
    manager = region.manager if region.manager_id else None
    label = renewal.get_forecast_display()
    url = reverse("renewals:detail", args=[renewal.pk])
    if manager is not None and manager.is_active:
        notify(
            recipients=[manager],
            kind=NotificationKind.GENERAL,
            title=f"Renewal {label.lower()}: {account.name} ({renewal.renewal_date.isoformat()})",
            body=renewal.forecast_reason,
            url=url,
            account=account,
            dedupe_key=f"renewals:forecast:{renewal.pk}:{renewal.forecast}:{timezone.localdate().isoformat()}",
            actor=actor,
        )
    if TriageCase.objects.open().filter(account_id=account.pk).exists():
        return
    owner = account.tam if account.tam_id and account.tam.is_active else manager  # type: ignore[union-attr]
    if owner is None or not owner.is_active:
        return
    task_raise_many(
        [
            TaskDraft(
                type=TaskType.TRIAGE_REVIEW,
                account_id=account.pk,
                owner_id=owner.pk,
                reason=TRIAGE_REASON,
                why={"renewal": renewal.pk, "forecast": renewal.forecast, "data": {"forecast": renewal.forecast}},
                title=f"Triage review: {account.name} renewal is {label.lower()}",
            )
        ],
        source="renewals",
        actor=actor,
    )


def _check_open(renewal: Renewal) -> None:
    if not renewal.is_open:
        raise ValidationFailed({"__all__": ["This renewal is closed."]})


@transaction.atomic
def renewal_update(*, actor: User, renewal: Renewal, changes: dict[str, Any], source: str = "web") -> list[str]:
    """Change a renewal's ARR, owners, forecast (with its reason) or notes; returns the fields that changed. A
    forecast moved to at risk or will churn notifies the manager and proposes a triage case."""
    if not policy.can_write_renewal(actor, renewal):
        raise PermissionDenied("You may not change this renewal.")
    unknown = set(changes) - UPDATE_KEYS
    if unknown:
        raise ValidationFailed({"__all__": [f"Unknown renewal field(s): {', '.join(sorted(unknown))}."]})
    _check_open(renewal)
    before = snapshot(renewal, RENEWAL_FIELDS)
    old_forecast = renewal.forecast
    for key, value in changes.items():
        if key == "arr":
            renewal.arr = rules.parse_money(value, "arr")  # type: ignore[assignment]
        elif key in ("owner", "owner_id"):
            renewal.owner = _person(value, "owner", [Role.SAL])
        elif key in ("tam", "tam_id"):
            renewal.tam = _person(value, "tam", [Role.TAM])
        elif key == "forecast":
            renewal.forecast = rules.parse_forecast(value)
        elif key == "forecast_reason":
            renewal.forecast_reason = clean_text(value, "forecast_reason", max_length=TEXT_MAX)
        elif key == "notes":
            renewal.notes = clean_text(value, "notes", max_length=10_000)
    after = snapshot(renewal, RENEWAL_FIELDS)
    changed = [f for f in RENEWAL_FIELDS if before[f] != after[f]]
    if not changed:
        return []
    fields = [f + "_id" if f in ("owner", "tam") else f for f in changed]
    now = timezone.now()
    if "forecast" in changed:
        renewal.previous_forecast = old_forecast
        renewal.forecast_changed_at = now
        fields += ["previous_forecast", "forecast_changed_at"]
    renewal.updated_at = now
    renewal.save(update_fields=[*fields, "updated_at"])
    _audit(actor, renewal, AuditAction.UPDATE, {f: before[f] for f in changed}, {f: after[f] for f in changed}, source)
    if "forecast" in changed and renewal.forecast in RISK_FORECASTS:
        _forecast_alert(actor, renewal)
    return changed


@transaction.atomic
def renewal_close(
    *,
    actor: User,
    renewal: Renewal,
    outcome: str,
    new_arr: Any,
    reason: str = "",
    notes: str = "",
    next_renewal_date: Any = None,
    source: str = "web",
) -> Renewal:
    """Close a renewal with its outcome, the new ARR and a reason. The account's next renewal date moves on by the
    term (12 months by default) unless ``next_renewal_date`` (the CRM's date) says otherwise or the account already
    renews later; the account's ARR becomes the new ARR; the next renewal is created."""
    if not policy.can_write_renewal(actor, renewal):
        raise PermissionDenied("You may not close this renewal.")
    _check_open(renewal)
    amount = rules.parse_money(new_arr, "new_arr", required=False)
    reason = reason or ""
    rules.check_outcome(outcome=outcome, arr=renewal.arr, new_arr=amount, reason=reason)
    crm_next = clean_date(next_renewal_date, "next_renewal_date")
    if crm_next is not None and crm_next <= renewal.renewal_date:
        raise ValidationFailed({"next_renewal_date": ["Must be after the renewal date."]})
    before = snapshot(renewal, RENEWAL_FIELDS)
    now = timezone.now()
    renewal.status = RenewalStatus.CLOSED
    renewal.outcome = outcome
    renewal.new_arr = amount
    renewal.outcome_reason = reason
    renewal.outcome_notes = clean_text(notes, "notes", max_length=TEXT_MAX)
    renewal.closed_at = now
    renewal.updated_at = now
    renewal.save(
        update_fields=["status", "outcome", "new_arr", "outcome_reason", "outcome_notes", "closed_at", "updated_at"]
    )
    after = snapshot(renewal, RENEWAL_FIELDS)
    changed = [f for f in RENEWAL_FIELDS if before[f] != after[f]]
    _audit(actor, renewal, AuditAction.UPDATE, {f: before[f] for f in changed}, {f: after[f] for f in changed}, source)
    _account_roll_on(actor, renewal, crm_next, source)
    return renewal


def _account_roll_on(actor: User | None, renewal: Renewal, crm_next: dt.date | None, source: str) -> None:
    """The closing's consequence on the account (a system write, audited under the closer's name): the next renewal
    date on by the term unless the CRM's date is given or the account already renews later; the ARR now the new
    ARR. Then the next renewal exists."""
    account = Account.objects.select_for_update().get(pk=renewal.account_id)
    term = renewal_settings().term_months
    before = snapshot(account, ("next_renewal_date", "arr"))
    if crm_next is not None:
        account.next_renewal_date = crm_next
    elif account.next_renewal_date is None or account.next_renewal_date <= renewal.renewal_date:
        account.next_renewal_date = add_months(renewal.renewal_date, term)
    if renewal.new_arr is not None:
        account.arr = renewal.new_arr
    after = snapshot(account, ("next_renewal_date", "arr"))
    changed = [f for f in after if before[f] != after[f]]
    if changed:
        account.updated_at = timezone.now()
        account.save(update_fields=[*changed, "updated_at"])
        _audit(
            actor, account, AuditAction.UPDATE, {f: before[f] for f in changed}, {f: after[f] for f in changed}, source
        )
    if account.next_renewal_date is not None and account.arr > 0:
        renewals_ensure_for_accounts([account.pk], source=source)


@transaction.atomic
def step_add(*, actor: User, renewal: Renewal, text: Any, due_on: Any = None, source: str = "web") -> RenewalStep:
    if not policy.can_write_renewal(actor, renewal):
        raise PermissionDenied("You may not change this renewal.")
    _check_open(renewal)
    step = RenewalStep.objects.create(
        renewal=renewal,
        text=clean_text(text, "text", required=True, max_length=TEXT_MAX),
        due_on=clean_date(due_on, "due_on"),
        created_by=actor,
    )
    _audit(actor, step, AuditAction.CREATE, None, snapshot(step, ("renewal", "text", "due_on", "done")), source)
    return step


@transaction.atomic
def step_complete(*, actor: User, step: RenewalStep, done: bool = True, source: str = "web") -> RenewalStep:
    if not policy.can_write_renewal(actor, step.renewal):
        raise PermissionDenied("You may not change this renewal.")
    if step.done == done:
        return step
    before = snapshot(step, ("done", "done_at"))
    step.done = done
    step.done_at = timezone.now() if done else None
    step.save(update_fields=["done", "done_at"])
    _audit(actor, step, AuditAction.UPDATE, before, snapshot(step, ("done", "done_at")), source)
    return step


# --- The renewal review ---------------------------------------------------------------------------------------


@transaction.atomic
def review_record(
    *,
    actor: User,
    region: Any,
    held_on: Any,
    attendees: Iterable[Any] = (),
    notes: Any = "",
    decisions: dict[Any, Any] | None = None,
    source: str = "web",
) -> RenewalReview:
    """Record that a region's renewal review was held: the date, who attended, notes, and a decision per renewal
    (renewal id -> text; each renewal must be of the region and readable by the actor)."""
    from tamarind.people.models import Region

    if not isinstance(region, Region):
        region = Region.objects.filter(pk=region).first() if str(region).isdigit() else None
    if region is None:
        raise ValidationFailed({"region": ["No such region."]})
    if not policy.can_record_renewal_review(actor, region):
        raise PermissionDenied("Only the region's manager or an admin records its renewal review.")
    day = clean_date(held_on, "held_on")
    if day is None:
        raise ValidationFailed({"held_on": ["This field is required."]})
    if day > timezone.localdate():
        raise ValidationFailed({"held_on": ["A review is recorded once held: not a date in the future."]})
    people: list[User] = []
    for value in attendees:
        person = _person(value, "attendees", [Role.ADMIN, Role.DIRECTOR, Role.MANAGER, Role.TAM, Role.SAL, Role.SA])
        if person is not None:
            people.append(person)
    cleaned: dict[int, str] = {}
    for key, text in (decisions or {}).items():
        try:
            pk = int(key)
        except (TypeError, ValueError):
            raise ValidationFailed({"decisions": [f"{key!r} is not a renewal id."]}) from None
        words = clean_text(text, "decisions", max_length=TEXT_MAX)
        if words:
            cleaned[pk] = words
    renewals = (
        {r.pk: r for r in Renewal.objects.select_related("account").filter(pk__in=list(cleaned)) if cleaned}
        if cleaned
        else {}
    )
    for pk in cleaned:
        r = renewals.get(pk)
        if r is None or r.account.region_id != region.pk or not policy.can_read_renewal(actor, r):
            raise ValidationFailed({"decisions": [f"Renewal {pk} is not one of {region.name}'s renewals."]})
    review = RenewalReview.objects.create(
        region=region,
        held_on=day,
        notes=clean_text(notes, "notes", max_length=10_000),
        recorded_by=actor,
    )
    review.attendees.set(people)
    ReviewDecision.objects.bulk_create(
        [ReviewDecision(review=review, renewal_id=pk, decision=text) for pk, text in cleaned.items()]
    )
    _audit(
        actor,
        review,
        AuditAction.CREATE,
        None,
        {
            "region": region.pk,
            "held_on": day.isoformat(),
            "attendees": sorted(p.pk for p in people),
            "notes": review.notes,
            "decisions": {str(k): v for k, v in cleaned.items()},
        },
        source,
    )
    return review


# --- Settings ---------------------------------------------------------------------------------------------------


@transaction.atomic
def renewal_settings_update(*, actor: User, changes: dict[str, Any], source: str = "web") -> RenewalSettings:
    if not policy.can_edit_renewal_settings(actor):
        raise PermissionDenied("Only admins change the renewal settings.")
    unknown = set(changes) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValidationFailed({"__all__": [f"Unknown setting(s): {', '.join(sorted(unknown))}."]})
    row = renewal_settings()
    before = snapshot(row, SETTINGS_FIELDS)
    for key, value in changes.items():
        setattr(row, key, value)
    problems = rules.check_settings(row)
    if problems:
        raise ValidationFailed(problems)
    after = snapshot(row, SETTINGS_FIELDS)
    changed = [f for f in SETTINGS_FIELDS if before[f] != after[f]]
    if not changed and row.pk and RenewalSettings.objects.filter(pk=row.pk).exists():
        return row
    row.updated_at = timezone.now()
    row.updated_by = actor
    row.save()
    _audit(actor, row, AuditAction.UPDATE, {f: before[f] for f in changed}, {f: after[f] for f in changed}, source)
    return row


# --- Periodic work ---------------------------------------------------------------------------------------------


def _task_owner(renewal: Renewal) -> int | None:
    for person in (renewal.tam, renewal.account.tam, renewal.account.region.manager):
        if person is not None and person.is_active:
            return person.pk
    return None


@transaction.atomic
def renewal_tasks_raise(*, today: dt.date | None = None) -> dict[str, int]:
    """The scheduler's daily job: for each open renewal whose task window has opened (``task_lead_months`` before
    its date, up to the date), raise the renewal task (due on the renewal date) and the internal renewal review
    task (due ``review_due_days`` after the window opened), once each: a renewal remembers that its tasks were
    raised, so a task done early is not raised again, and the tasks table deduplicates open ones."""
    today = today or timezone.localdate()
    conf = renewal_settings()
    latest_open = add_months(today, conf.task_lead_months)  # a renewal on or before this date has its window open
    qs = (
        Renewal.objects.open()
        .filter(renewal_date__gte=today, renewal_date__lte=latest_open)
        .filter(task_raised_on__isnull=True)
        .select_related("account", "account__tam", "account__region__manager", "tam")
        .order_by("id")
    )
    raised = 0
    seen = 0
    for chunk in chunks(list(qs), BATCH):
        drafts: list[TaskDraft] = []
        done_ids: list[int] = []
        for renewal in chunk:
            if not rules.task_due(renewal.renewal_date, today, conf.task_lead_months):
                continue
            seen += 1
            owner = _task_owner(renewal)
            done_ids.append(renewal.pk)
            if owner is None:
                continue
            name = renewal.account.name
            day = renewal.renewal_date.isoformat()
            drafts.append(
                TaskDraft(
                    type=TaskType.RENEWAL,
                    account_id=renewal.account_id,
                    owner_id=owner,
                    reason=f"renewal:{renewal.pk}",
                    why={"renewal": renewal.pk, "data": {"renewal_date": day}},
                    title=f"Renewal: {name} renews {day}",
                    due_on=renewal.renewal_date,
                )
            )
            drafts.append(
                TaskDraft(
                    type=TaskType.RENEWAL_REVIEW,
                    account_id=renewal.account_id,
                    owner_id=owner,
                    reason=f"renewal_review:{renewal.pk}",
                    why={"renewal": renewal.pk, "data": {"renewal_date": day}},
                    title=f"Internal renewal review: {name} ({day})",
                    due_on=rules.review_due_on(renewal.renewal_date, conf.task_lead_months, conf.review_due_days),
                )
            )
        raised += len(task_raise_many(drafts, source="renewals"))
        Renewal.objects.filter(pk__in=done_ids).update(task_raised_on=today, review_task_raised_on=today)
    return {"renewals": seen, "tasks_raised": raised}


def _snapshot_month(today: dt.date) -> dt.date:
    """The month the month-end job records: this month on its last day, else the month that just ended."""
    return month_start(today) if today == month_end(today) else month_start(add_months(month_start(today), -1))


@transaction.atomic
def arr_snapshot_take(*, today: dt.date | None = None) -> dict[str, Any]:
    """The scheduler's month-end job: each account's ARR for the month (see ``_snapshot_month``), for accounts
    that have none for that month. A second run changes nothing (insert-or-ignore on (month, account))."""
    today = today or timezone.localdate()
    first = _snapshot_month(today)
    index = month_index(first.year, first.month)
    have = set(ArrSnapshot.objects.filter(month_index=index).values_list("account_id", flat=True))
    now = timezone.now()
    rows = [
        ArrSnapshot(account_id=pk, month=first, month_index=index, arr=arr, source=SnapshotSource.JOB, taken_at=now)
        for pk, arr in Account.objects.filter(created_at__date__lte=month_end(first))
        .order_by("pk")
        .values_list("pk", "arr")
        .iterator(chunk_size=5000)
        if pk not in have
    ]
    written = insert_instances(rows, ignore_conflicts=True) if rows else 0
    return {"month": first.isoformat(), "written": written, "already": len(have)}


@dataclass
class BackfillResult:
    accounts: int = 0
    written: int = 0


@transaction.atomic
def arr_history_backfill(*, months: int = 24, today: dt.date | None = None, source: str = "cli") -> BackfillResult:
    """Rebuild each account's month-end ARR for the last ``months`` months from the audit trail of its ARR
    changes, writing only the months that have no snapshot (the job's and imported rows win). The ARR at a month's
    end is the ``after`` of the last change before it; before the first change, that change's ``before``; with no
    change at all, the account's ARR now. Months before the account existed are skipped."""
    today = today or timezone.localdate()
    last = _snapshot_month(today)
    firsts = [add_months(last, -i) for i in range(months - 1, -1, -1)]
    indexes = {month_index(m.year, m.month): m for m in firsts}
    out = BackfillResult()
    accounts = list(Account.objects.order_by("pk").values_list("pk", "arr", "created_at"))
    now = timezone.now()
    for chunk in chunks(accounts, BATCH):
        ids = [str(pk) for pk, _, _ in chunk]
        changes: dict[str, list[tuple[dt.datetime, Any, Any]]] = {}
        events = (
            AuditEvent.objects.filter(object_type="accounts.account", object_id__in=ids)
            .order_by("at", "id")
            .values_list("object_id", "at", "before", "after")
        )
        for object_id, at, before, after in events:
            if isinstance(after, dict) and "arr" in after:
                old = before.get("arr") if isinstance(before, dict) else None
                changes.setdefault(object_id, []).append((at, old, after["arr"]))
        have = set(
            ArrSnapshot.objects.filter(
                account_id__in=[pk for pk, _, _ in chunk], month_index__in=list(indexes)
            ).values_list("account_id", "month_index")
        )
        rows: list[ArrSnapshot] = []
        for pk, arr_now, created_at in chunk:
            history = changes.get(str(pk), [])
            out.accounts += 1
            for index, first in indexes.items():
                end = month_end(first)
                if (pk, index) in have or created_at.date() > end:
                    continue
                value = _arr_at(history, end, arr_now)
                if value is None:
                    continue
                rows.append(
                    ArrSnapshot(
                        account_id=pk,
                        month=first,
                        month_index=index,
                        arr=value,
                        source=SnapshotSource.BACKFILL,
                        taken_at=now,
                    )
                )
        out.written += insert_instances(rows, ignore_conflicts=True) if rows else 0
    return out


def _arr_at(history: list[tuple[dt.datetime, Any, Any]], end: dt.date, arr_now: Decimal) -> Decimal | None:
    """The ARR at the end of day ``end`` from ordered (at, before, after) ARR changes (pure)."""
    value: Any = None
    for at, before, after in history:
        if timezone.localdate(at) <= end:
            value = after
        else:
            if value is None:
                value = before
            break
    if value is None:
        value = arr_now if not history else history[-1][2]
    if value in (None, ""):
        return None
    amount = Decimal(str(value))
    return amount if amount >= 0 else None


@transaction.atomic
def arr_history_write(rows: Sequence[tuple[int, dt.date, Decimal]], *, source: str = "import") -> dict[str, int]:
    """Write imported ARR history rows ``(account_id, month, arr)``: new months inserted, changed values updated,
    equal ones left alone (a second import of the same file changes nothing). Audited in bulk."""
    out = {"created": 0, "updated": 0, "unchanged": 0}
    now = timezone.now()
    for chunk in chunks(list(rows), 2000):
        keys = {(pk, month_index(m.year, m.month)) for pk, m, _ in chunk}
        existing = {
            (s.account_id, s.month_index): s
            for s in ArrSnapshot.objects.filter(
                account_id__in={pk for pk, _ in keys}, month_index__in={i for _, i in keys}
            )
        }
        new: list[ArrSnapshot] = []
        changed: list[ArrSnapshot] = []
        events = []
        for pk, month, arr in chunk:
            index = month_index(month.year, month.month)
            snap = existing.get((pk, index))
            if snap is None:
                snap = ArrSnapshot(
                    account_id=pk,
                    month=month.replace(day=1),
                    month_index=index,
                    arr=arr,
                    source=SnapshotSource.IMPORT,
                    taken_at=now,
                )
                existing[(pk, index)] = snap
                new.append(snap)
            elif snap.arr != arr:
                before = str(snap.arr)
                snap.arr = arr
                snap.source = SnapshotSource.IMPORT
                snap.taken_at = now
                changed.append(snap)
                events.append(
                    build_event(
                        actor=None,
                        obj=snap,
                        action=AuditAction.UPDATE,
                        before={"arr": before},
                        after={"arr": str(arr)},
                        source=source,
                        at=now,
                    )
                )
            else:
                out["unchanged"] += 1
        if new:
            ArrSnapshot.objects.bulk_create(new)
            events.extend(
                build_event(
                    actor=None,
                    obj=s,
                    action=AuditAction.CREATE,
                    before=None,
                    after={"account": s.account_id, "month": s.month.isoformat(), "arr": str(s.arr)},
                    source=source,
                    at=now,
                )
                for s in new
            )
        if changed:
            ArrSnapshot.objects.bulk_update(changed, ["arr", "source", "taken_at"])
        audit_record_many(events)
        out["created"] += len(new)
        out["updated"] += len(changed)
    return out
