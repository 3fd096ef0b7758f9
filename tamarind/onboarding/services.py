"""Writes to onboarding records. Each service is atomic, checks the access policy and records audit events.

An onboarding starts when an account gets its TAM (``onboarding_start``, called from the account-change hook;
``onboarding_start_many`` for imports), follows the TAM when it changes, and becomes unassigned when the TAM is
cleared (``onboarding_unassign``). The TAM records dates, steps and notes (``onboarding_update``); completing
moves the account to Adoption. Actor ``None`` is the system (rules, imports run by the worker, the scheduler).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from tamarind import policy
from tamarind.accounts.models import Account, LifecycleStage
from tamarind.actions.models import TaskType
from tamarind.actions.services import TaskDraft, task_raise_many, task_resolve_many
from tamarind.audit.models import AuditAction, AuditEvent
from tamarind.audit.services import audit_record, audit_record_many, build_event, snapshot
from tamarind.core.bulk import chunks
from tamarind.core.errors import ValidationFailed
from tamarind.core.values import DATE_RANGE_MESSAGE, NUL_MESSAGE, date_out_of_range
from tamarind.notifications.models import NotificationKind
from tamarind.notifications.services import NotificationDraft, notify, notify_many
from tamarind.onboarding.metrics import METRICS, data_errors
from tamarind.onboarding.models import (
    DATE_FIELDS,
    ONBOARDING_FIELDS,
    REQUIRED_TO_COMPLETE,
    STEPS,
    TARGET_FIELDS,
    Onboarding,
    OnboardingStatus,
    OnboardingTargets,
)
from tamarind.people.models import Role, User

BATCH = 500


def onboarding_url(onboarding: Onboarding) -> str:
    return reverse("onboarding:detail", args=[onboarding.pk])


def _today() -> dt.date:
    return timezone.localdate()


def _check_tam(tam: User) -> None:
    if tam.role != Role.TAM or not tam.is_active:
        raise ValidationFailed({"tam": [f"{tam} is not an active TAM."]})


def _assigned_title(account_name: str) -> str:
    return f"You are onboarding {account_name}"


def _assigned_body(account_name: str) -> str:
    return (
        f"{account_name} has you as its TAM. Start with the internal handoff with the SAL/AE and SA, "
        "send the welcome email and hold the kickoff call."
    )


def _dedupe_key(onboarding_id: int, tam_id: int) -> str:
    return f"onboarding:{onboarding_id}:{tam_id}"


def _notify_assigned(onboarding: Onboarding, tam: User, account: Account) -> None:
    notify(
        recipients=[tam],
        kind=NotificationKind.TAM_ASSIGNED,
        title=_assigned_title(account.name),
        body=_assigned_body(account.name),
        url=onboarding_url(onboarding),
        account=account,
        dedupe_key=_dedupe_key(onboarding.pk, tam.pk),
    )


def _resolve_overdue(account_ids: Sequence[int], *, actor: User | None, source: str, reason: str | None = None) -> int:
    """Close the open "onboarding overdue" tasks of these accounts (all, or one metric's).

    Called when the milestone is recorded, when the onboarding completes, and when it changes hands: the
    periodic check raises the task again for the new TAM while the milestone is still missing.
    """
    return task_resolve_many(
        account_ids=account_ids, type=TaskType.ONBOARDING_OVERDUE, reason=reason, actor=actor, source=source
    )


def _new_record(*, account: Account, tam_id: int | None, today: dt.date, now: dt.datetime) -> Onboarding:
    return Onboarding(
        account=account,
        tam_id=tam_id,
        status=OnboardingStatus.NOT_STARTED,
        contract_start=account.customer_since or today,
        onboarding_start=today,
        created_at=now,
        updated_at=now,
    )


def _engagement_window(onboarding: Onboarding) -> dt.date | None:
    """The first day a call or meeting counts as this onboarding's first engagement: the purchase (contract start),
    or the onboarding start when the purchase date is unknown. A call between the purchase and the onboarding start
    is an engagement on day 0 (``metrics.ENGAGE``)."""
    return onboarding.contract_start or onboarding.onboarding_start


def _engaged_already(records: Sequence[Onboarding]) -> None:
    """Give new records without a first engagement the customer's earliest call or meeting since the purchase:
    an onboarding started after the kickoff (the SAL's, or before the TAM was set) is engaged from day 0. A record
    not started moves to in progress, as a call logged after the start would move it. Before the records are
    saved, so their creation's audit event carries it. One query per 5,000 records."""
    from tamarind.timeline.selectors import first_engagements

    since = {o.account_id: w for o in records if o.first_engagement is None and (w := _engagement_window(o))}
    if not since:
        return
    found = first_engagements(since)
    for o in records:
        day = found.get(o.account_id)
        if day is not None and o.first_engagement is None:
            o.first_engagement = day
            if o.status in (OnboardingStatus.NOT_STARTED, OnboardingStatus.SCHEDULED):
                o.status = OnboardingStatus.IN_PROGRESS


@transaction.atomic
def onboarding_start(*, actor: User | None, account: Account, tam: User, source: str = "web") -> Onboarding | None:
    """Start the account's onboarding with ``tam``, or hand the open one to ``tam``. Idempotent.

    - no onboarding yet: creates one (not started; contract start = the account's customer-since date or today;
      onboarding start = today) and notifies the TAM;
    - an onboarding not completed: reassigns it to ``tam`` when it has another TAM (or none), notifying ``tam``;
      with the same TAM nothing changes;
    - only completed onboardings: the account is onboarded already; nothing is created and ``None`` is returned.

    The actor must be allowed to set the account's TAM (its region's manager, an admin); ``None`` is the system.
    """
    if actor is not None and not policy.can_start_onboarding(actor, account):
        raise PermissionDenied("Only the region's TAM Manager or an admin starts an onboarding.")
    _check_tam(tam)
    records = list(Onboarding.objects.select_for_update().filter(account=account).order_by("-id"))
    current = next((o for o in records if o.is_open), None)
    if current is None and records:
        return None
    now = timezone.now()
    if current is None:
        onboarding = _new_record(account=account, tam_id=tam.pk, today=_today(), now=now)
        _engaged_already([onboarding])
        try:
            with transaction.atomic():
                onboarding.save()
        except IntegrityError:
            # Another transaction started it between our read and this insert: treat that one as current.
            current = Onboarding.objects.select_for_update().filter(account=account).open().first()
            if current is None:
                raise
        else:
            audit_record(
                actor=actor,
                obj=onboarding,
                action=AuditAction.CREATE,
                before=None,
                after=snapshot(onboarding, ONBOARDING_FIELDS),
                source=source,
            )
            _notify_assigned(onboarding, tam, account)
            return onboarding
    if current.tam_id == tam.pk:
        return current
    before = current.tam_id
    current.tam = tam
    current.updated_at = now
    current.save(update_fields=["tam", "updated_at"])
    audit_record(
        actor=actor,
        obj=current,
        action=AuditAction.UPDATE,
        before={"tam": before},
        after={"tam": tam.pk},
        source=source,
    )
    _resolve_overdue([account.pk], actor=actor, source=source)
    _notify_assigned(current, tam, account)
    return current


@transaction.atomic
def onboarding_start_many(*, actor: User | None, pairs: Iterable[tuple[int, int]], source: str = "import") -> int:
    """``onboarding_start`` for many (account id, TAM id) pairs at once (imports); returns records created or
    reassigned. A constant number of queries per batch of 500 accounts; audit events and notifications in bulk.

    A pair repeated for one account counts once (the last TAM wins). The TAMs must be active TAMs; the actor,
    when there is one, must be allowed to set each account's TAM.
    """
    return len(onboarding_staff_many(actor=actor, pairs=pairs, source=source))


@transaction.atomic
def onboarding_staff_many(*, actor: User | None, pairs: Iterable[tuple[int, int]], source: str = "import") -> set[int]:
    """``onboarding_start_many``, returning the accounts whose record was created or handed to the TAM: their TAM
    was told by the onboarding's own notification ("You are onboarding ..."), so the caller tells the others."""
    wanted: dict[int, int] = {}
    for account_id, tam_id in pairs:
        wanted[int(account_id)] = int(tam_id)
    if not wanted:
        return set()
    tams = {u.pk: u for u in User.objects.filter(pk__in=set(wanted.values()))}
    for tam_id in set(wanted.values()):
        tam = tams.get(tam_id)
        if tam is None:
            raise ValidationFailed({"tam": [f"No person with id {tam_id}."]})
        _check_tam(tam)
    today, now = _today(), timezone.now()
    events: list[AuditEvent] = []
    drafts: list[NotificationDraft] = []
    changed: set[int] = set()
    for chunk in chunks(sorted(wanted), BATCH):
        accounts = {a.pk: a for a in Account.objects.filter(pk__in=chunk).select_related("region")}
        missing = set(chunk) - set(accounts)
        if missing:
            raise ValidationFailed({"account": [f"No account with id {min(missing)}."]})
        if actor is not None:
            denied = [a for a in accounts.values() if not policy.can_start_onboarding(actor, a)]
            if denied:
                raise PermissionDenied(f"You may not start the onboarding of {denied[0]}.")
        records: dict[int, list[Onboarding]] = {}
        for record in Onboarding.objects.select_for_update().filter(account_id__in=chunk).order_by("-id"):
            records.setdefault(record.account_id, []).append(record)
        created: list[Onboarding] = []
        moved: list[tuple[Onboarding, int | None]] = []
        for account_id in chunk:
            tam_id = wanted[account_id]
            existing = records.get(account_id, [])
            current = next((o for o in existing if o.is_open), None)
            if current is None and not existing:
                created.append(_new_record(account=accounts[account_id], tam_id=tam_id, today=today, now=now))
            elif current is not None and current.tam_id != tam_id:
                moved.append((current, current.tam_id))
                current.tam_id = tam_id
                current.updated_at = now
        _engaged_already(created)
        Onboarding.objects.bulk_create(created, batch_size=BATCH)
        if moved:
            Onboarding.objects.bulk_update([o for o, _ in moved], ["tam", "updated_at"], batch_size=BATCH)
            _resolve_overdue([o.account_id for o, _ in moved], actor=actor, source=source)
        for o in created:
            events.append(
                build_event(
                    actor=actor,
                    obj=o,
                    action=AuditAction.CREATE,
                    before=None,
                    after=snapshot(o, ONBOARDING_FIELDS),
                    source=source,
                    at=now,
                )
            )
        for o, before in moved:
            events.append(
                build_event(
                    actor=actor,
                    obj=o,
                    action=AuditAction.UPDATE,
                    before={"tam": before},
                    after={"tam": o.tam_id},
                    source=source,
                    at=now,
                )
            )
        for o in [*created, *(o for o, _ in moved)]:
            assert o.tam_id is not None
            name = accounts[o.account_id].name
            drafts.append(
                NotificationDraft(
                    recipient_id=o.tam_id,
                    kind=NotificationKind.TAM_ASSIGNED,
                    title=_assigned_title(name),
                    body=_assigned_body(name),
                    url=onboarding_url(o),
                    account_id=o.account_id,
                    dedupe_key=_dedupe_key(o.pk, o.tam_id),
                )
            )
        changed.update(o.account_id for o in [*created, *(o for o, _ in moved)])
    audit_record_many(events)
    notify_many(drafts, actor=actor)
    return changed


@transaction.atomic
def onboarding_unassign(*, actor: User | None, account: Account, source: str = "web") -> int:
    """The account's TAM was cleared: its open onboarding keeps going without a TAM ("unassigned").

    Returns 1 when a record lost its TAM, else 0. The actor must be allowed to set the account's TAM.
    """
    if actor is not None and not policy.can_start_onboarding(actor, account):
        raise PermissionDenied("Only the region's TAM Manager or an admin changes who onboards an account.")
    records = list(Onboarding.objects.select_for_update().filter(account=account, tam__isnull=False).open())
    now = timezone.now()
    for record in records:
        before = record.tam_id
        record.tam = None
        record.updated_at = now
        record.save(update_fields=["tam", "updated_at"])
        audit_record(
            actor=actor,
            obj=record,
            action=AuditAction.UPDATE,
            before={"tam": before},
            after={"tam": None},
            source=source,
        )
    if records:
        _resolve_overdue([account.pk], actor=actor, source=source)
    return len(records)


# --- Recording the onboarding ---------------------------------------------------------------------------------

EDITABLE_FIELDS: tuple[str, ...] = tuple(f for f in ONBOARDING_FIELDS if f != "tam")
STEP_FIELDS: frozenset[str] = frozenset(s.field for s in STEPS)
TEXT_FIELDS: dict[str, int | None] = {"notes": None, "challenges": None, "highlights": None, "delay_reason": 500}
# A step that stands for a milestone fills that milestone's date when it is still empty.
STEP_MILESTONES: dict[str, str] = {
    "kickoff_call_done_on": "first_engagement",
    "cadence_call_done_on": "onboarding_finish",
}
FIELD_LABELS: dict[str, str] = {f.name: str(f.verbose_name) for f in Onboarding._meta.fields}


def _label(name: str) -> str:
    return FIELD_LABELS.get(name, name.replace("_", " "))


def _clean_date(value: Any, name: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        raise ValidationFailed({name: ["Enter a date, not a date and time."]})
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = dt.date.fromisoformat(value.strip())
    if isinstance(value, dt.date):
        if date_out_of_range(value):
            raise ValidationFailed({name: [DATE_RANGE_MESSAGE]})
        return value
    raise ValidationFailed({name: [f"Enter a date (YYYY-MM-DD), not {str(value)[:40]!r}."]})


def _clean_text(value: Any, name: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationFailed({name: ["Enter text."]})
    # NUL cannot be stored by PostgreSQL (refused, not dropped); trailing space is noise.
    if "\x00" in value:
        raise ValidationFailed({name: [NUL_MESSAGE]})
    value = value.strip()
    limit = TEXT_FIELDS[name]
    if limit is not None and len(value) > limit:
        raise ValidationFailed({name: [f"At most {limit} characters."]})
    return value


def _clean_score(value: Any) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise ValidationFailed({"experience_score": ["Give a score from 1 to 5."]})
    try:
        score = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed({"experience_score": ["Give a score from 1 to 5."]}) from None
    if score != value and str(score) != str(value).strip():
        raise ValidationFailed({"experience_score": ["Give a whole score from 1 to 5."]})
    if not 1 <= score <= 5:
        raise ValidationFailed({"experience_score": ["Give a score from 1 to 5."]})
    return score


def _clean(changes: dict[str, Any]) -> dict[str, Any]:
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed({"__all__": [f"Unknown onboarding field(s): {', '.join(sorted(unknown))}."]})
    out: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "status":
            if value not in OnboardingStatus.values:
                raise ValidationFailed({"status": [f"Unknown status {str(value)[:40]!r}."]})
            out[name] = str(value)
        elif name in DATE_FIELDS or name in STEP_FIELDS:
            out[name] = _clean_date(value, name)
        elif name in TEXT_FIELDS:
            out[name] = _clean_text(value, name)
        elif name == "experience_score":
            out[name] = _clean_score(value)
    return out


def completion_problems(onboarding: Onboarding) -> dict[str, list[str]]:
    """What stops ``onboarding`` from being completed: missing dates, notes or score, and dates out of order."""
    problems: dict[str, list[str]] = {}
    for name in REQUIRED_TO_COMPLETE:
        if getattr(onboarding, name) is None:
            problems[name] = [f"Set the {_label(name)} date to complete the onboarding."]
    if not onboarding.notes.strip():
        problems["notes"] = ["Write the onboarding notes to complete it."]
    if onboarding.experience_score is None:
        problems["experience_score"] = ["Give the onboarding experience score (1-5) to complete it."]
    for name, message in data_errors(onboarding.dates()).items():
        problems.setdefault(name, []).append(message)
    return problems


@transaction.atomic
def onboarding_update(
    *, actor: User, onboarding: Onboarding, changes: dict[str, Any], source: str = "web"
) -> Onboarding:
    """Record dates, steps, status, notes, challenges, highlights, delay reason and the experience score.

    - Completing needs every milestone date (in order), the notes and the score; it closes the onboarding's
      overdue tasks and moves the account from Onboarding to Adoption (through ``account_update``).
    - On hold needs the reason for the delay.
    - Ticking the kickoff call fills an empty first engagement with its date, the first cadence call an empty
      onboarding finish (the domain's definitions of those milestones).
    - Recording a milestone closes its open "overdue" task.
    The TAM is not changed here: it follows the account's TAM (``onboarding_start``/``onboarding_unassign``).
    """
    if not policy.can_write_onboarding(actor, onboarding):
        raise PermissionDenied("You may read this onboarding record but not change it.")
    values = _clean(changes)
    before = snapshot(onboarding, ONBOARDING_FIELDS)
    was_open = onboarding.is_open
    for name, value in values.items():
        setattr(onboarding, name, value)
    for step_field, milestone in STEP_MILESTONES.items():
        if values.get(step_field) and milestone not in values and getattr(onboarding, milestone) is None:
            setattr(onboarding, milestone, values[step_field])
    if (
        onboarding.first_engagement is None
        and "first_engagement" not in values
        and {"contract_start", "onboarding_start"} & set(values)
        and (window := _engagement_window(onboarding)) is not None
    ):
        # The window moved (a purchase date corrected, say): a call already logged may now be the first engagement.
        from tamarind.timeline.selectors import first_engagements

        onboarding.first_engagement = first_engagements({onboarding.account_id: window}).get(onboarding.account_id)
    after = snapshot(onboarding, ONBOARDING_FIELDS)
    changed = [f for f in ONBOARDING_FIELDS if before[f] != after[f]]
    if not changed:
        return onboarding
    problems: dict[str, list[str]] = {}
    if onboarding.status == OnboardingStatus.ON_HOLD and not onboarding.delay_reason:
        problems["delay_reason"] = ["Say why the onboarding is on hold."]
    if onboarding.status == OnboardingStatus.COMPLETED:
        problems.update(completion_problems(onboarding))
    elif not was_open and (
        Onboarding.objects.filter(account_id=onboarding.account_id).open().exclude(pk=onboarding.pk).exists()
    ):
        problems["status"] = ["The account has another open onboarding; this one stays completed."]
    if problems:
        # Put the object back as stored, so a caller that re-renders it shows what is saved.
        onboarding.refresh_from_db(fields=[f for f in ONBOARDING_FIELDS if f != "tam"])
        raise ValidationFailed(problems)
    onboarding.updated_at = timezone.now()
    onboarding.save(update_fields=[*changed, "updated_at"])
    audit_record(
        actor=actor,
        obj=onboarding,
        action=AuditAction.UPDATE,
        before={f: before[f] for f in changed},
        after={f: after[f] for f in changed},
        source=source,
    )
    account = onboarding.account
    if onboarding.status == OnboardingStatus.COMPLETED and was_open:
        _resolve_overdue([account.pk], actor=actor, source=source)
        if account.lifecycle_stage == LifecycleStage.ONBOARDING:
            from tamarind.accounts.services import account_update

            account_update(
                actor=actor, account=account, changes={"lifecycle_stage": LifecycleStage.ADOPTION}, source=source
            )
    else:
        for metric in METRICS:
            if before[metric.end_field] is None and after[metric.end_field] is not None:
                _resolve_overdue([account.pk], actor=actor, source=source, reason=metric.key)
    return onboarding


@transaction.atomic
def onboarding_record_engagement(
    *, actor: User | None, account: Account, on: dt.date, source: str = "web"
) -> Onboarding | None:
    """A call or meeting with the customer happened ``on`` a day: it is the first engagement of the account's
    open onboarding when it falls on or after the purchase (contract start; the onboarding start when that is
    unknown) and before any first engagement recorded. A call before the onboarding start is an engagement on
    day 0 (``metrics.ENGAGE``), so the onboarding is not overdue for it.

    Returns the record it set, else ``None``. A record not started or scheduled moves to in progress. This
    follows from logging a timeline entry the actor was allowed to log, so the actor is recorded, not checked.
    """
    onboarding = Onboarding.objects.select_for_update().filter(account=account).open().first()
    window = _engagement_window(onboarding) if onboarding is not None else None
    if onboarding is None or onboarding.onboarding_start is None or window is None or on < window:
        return None
    if onboarding.first_engagement is not None and onboarding.first_engagement <= on:
        return None
    fields = ["first_engagement"]
    before = snapshot(onboarding, ["first_engagement", "status"])
    onboarding.first_engagement = on
    if onboarding.status in (OnboardingStatus.NOT_STARTED, OnboardingStatus.SCHEDULED):
        onboarding.status = OnboardingStatus.IN_PROGRESS
        fields.append("status")
    onboarding.updated_at = timezone.now()
    onboarding.save(update_fields=[*fields, "updated_at"])
    after = snapshot(onboarding, ["first_engagement", "status"])
    audit_record(
        actor=actor,
        obj=onboarding,
        action=AuditAction.UPDATE,
        before={f: before[f] for f in fields},
        after={f: after[f] for f in fields},
        source=source,
    )
    _resolve_overdue([account.pk], actor=actor, source=source, reason="time_to_engage")
    return onboarding


# --- Targets and the overdue check ----------------------------------------------------------------------------

MAX_TARGET_DAYS = 3650


@transaction.atomic
def onboarding_targets_update(*, actor: User, changes: dict[str, Any], source: str = "web") -> OnboardingTargets:
    """Change the time-to-value targets (admins). The first save creates the row; every change is audited."""
    if not policy.can_edit_onboarding_targets(actor):
        raise PermissionDenied("Only admins change the onboarding targets.")
    unknown = set(changes) - set(TARGET_FIELDS)
    if unknown:
        raise ValidationFailed({"__all__": [f"Unknown target(s): {', '.join(sorted(unknown))}."]})
    errors: dict[str, list[str]] = {}
    values: dict[str, int] = {}
    for name, value in changes.items():
        try:
            days = int(value)
        except (TypeError, ValueError):
            days = 0
        if isinstance(value, bool) or str(days) != str(value).strip() or not 1 <= days <= MAX_TARGET_DAYS:
            errors[name] = [f"Enter a whole number of days from 1 to {MAX_TARGET_DAYS}."]
        values[name] = days
    if errors:
        raise ValidationFailed(errors)
    row = OnboardingTargets.objects.select_for_update().filter(pk=OnboardingTargets.SINGLETON_PK).first()
    creating = row is None
    targets = row or OnboardingTargets()
    before = snapshot(targets, TARGET_FIELDS)
    for name, days in values.items():
        setattr(targets, name, days)
    after = snapshot(targets, TARGET_FIELDS)
    changed = [f for f in TARGET_FIELDS if before[f] != after[f]]
    if not changed and not creating:
        return targets
    targets.updated_at = timezone.now()
    targets.updated_by = actor
    if creating:
        targets.save()
    else:
        targets.save(update_fields=[*changed, "updated_at", "updated_by"])
    audit_record(
        actor=actor,
        obj=targets,
        action=AuditAction.UPDATE,
        # The defaults were in force before the first save: the trail shows the change from them.
        before={f: before[f] for f in changed} or None,
        after={f: after[f] for f in changed} or after,
        source=source,
    )
    return targets


def onboarding_raise_overdue(*, today: dt.date | None = None) -> dict[str, int]:
    """For each open onboarding past a target without its milestone, raise an "onboarding overdue" task for
    its TAM (one per metric). Idempotent: a task still open for the account and metric is not raised again.

    On-hold records are skipped (their delay is recorded with a reason), and so are unassigned ones (the
    manager's "assign a TAM" task covers them). Run hourly by the scheduler (``onboarding/periodic.py``).
    """
    from tamarind.onboarding.selectors import onboarding_targets, overdue_q

    today = today or _today()
    targets = onboarding_targets().as_days()
    drafts: list[TaskDraft] = []
    for metric in METRICS:
        target = getattr(targets, metric.target)
        rows = (
            Onboarding.objects.open()
            .exclude(status=OnboardingStatus.ON_HOLD)
            .filter(overdue_q(metric, target, today), tam__isnull=False, tam__is_active=True)
            .order_by("id")
            .values_list("pk", "account_id", "account__name", "tam_id", metric.start_field)
        )
        for pk, account_id, name, tam_id, start in rows:
            elapsed = (today - start).days
            drafts.append(
                TaskDraft(
                    type=TaskType.ONBOARDING_OVERDUE,
                    account_id=account_id,
                    owner_id=tam_id,
                    reason=metric.key,
                    title=f"{name}: {metric.label.lower()} over {target} days (no {metric.end_label} yet)",
                    due_on=today,
                    why={
                        "rule_set": None,
                        "rule_version": None,
                        "rule": f"Onboarding target: {metric.label.lower()} within {target} days",
                        "data": {
                            "onboarding": pk,
                            metric.start_field: start.isoformat(),
                            metric.end_field: None,
                            "days": elapsed,
                            "target_days": target,
                            "days_over": elapsed - target,
                        },
                    },
                )
            )
    created = task_raise_many(drafts, source="system") if drafts else []
    return {"overdue": len(drafts), "raised": len(created)}


@transaction.atomic
def onboarding_first_value_from_usage(*, pairs: Iterable[tuple[int, dt.date]], source: str = "usage") -> int:
    """Usage data showed 10% of licenses in use: set ``first_value`` to that day on each account's open onboarding
    that has none yet. ``pairs`` are (account id, day). A system change (actor ``None``), audited per record; it
    closes the onboarding's "first value overdue" task. Returns how many records it set."""
    days = dict(pairs)
    if not days:
        return 0
    now = timezone.now()
    records = list(
        Onboarding.objects.select_for_update(of=("self",))
        .open()
        .filter(account_id__in=list(days), first_value__isnull=True)
        .select_related("account")
    )
    events = []
    for record in records:
        record.first_value = days[record.account_id]
        record.updated_at = now
        events.append(
            build_event(
                actor=None,
                obj=record,
                action=AuditAction.UPDATE,
                before={"first_value": None},
                after={"first_value": record.first_value.isoformat()},
                source=source,
            )
        )
    if not records:
        return 0
    Onboarding.objects.bulk_update(records, ["first_value", "updated_at"], batch_size=BATCH)
    audit_record_many(events)
    _resolve_overdue([r.account_id for r in records], actor=None, source=source, reason="time_to_first_value")
    return len(records)
