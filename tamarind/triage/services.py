"""Writes to triage: cases (open, update and move, close with an outcome), their steps and notes,
escalations, the settings, and ``triage_propose`` (health calls it when an account turns red, or yellow with
"requires triage"). Every write is atomic, policy-checked and audited; actor ``None`` is the system.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldError, PermissionDenied
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from tamarind import policy
from tamarind.accounts.models import Account
from tamarind.actions.models import Task, TaskType
from tamarind.actions.services import TaskDraft, task_raise_many, task_resolve
from tamarind.audit.models import AuditAction
from tamarind.audit.services import audit_record, snapshot
from tamarind.core.bulk import chunks
from tamarind.core.errors import ValidationFailed
from tamarind.core.values import clean_date, clean_text
from tamarind.notifications.models import NotificationKind
from tamarind.notifications.services import Handover, notify_handed_over
from tamarind.people.models import Role, User
from tamarind.timeline.models import EntryKind, TimelineEntry
from tamarind.triage.models import (
    CASE_FIELDS,
    ESCALATION_FIELDS,
    SETTINGS_FIELDS,
    STEP_FIELDS,
    CaseStatus,
    Classification,
    Escalation,
    EscalationStatus,
    HealthColor,
    Outcome,
    RiskReason,
    RiskType,
    Severity,
    TriageCase,
    TriageNote,
    TriageSettings,
    TriageStep,
)

HEALTH_SCORE_MODEL = "health.HealthScore"
BATCH = 500
TRIAGE_REASON = "at_risk"  # the reason of the one "triage review" task an account can have open
TEXT_MAX = 500
TITLE_MAX = 200

CASE_OPEN_KEYS = frozenset(
    {"health_color", "risk_type", "risk_reason", "classification", "renewal_date", "owner", "owner_id", "summary"}
)
CASE_UPDATE_KEYS = (CASE_OPEN_KEYS - {"health_color"}) | {"status", "outcome", "note"}


# --- Checks ----------------------------------------------------------------------------------------------------


def _choice(value: Any, label: str, choices: type[Any], *, blank: bool = True) -> str:
    value = "" if value is None else value
    if value == "" and blank:
        return ""
    if value not in choices.values:
        raise ValidationFailed({label: [f"Choose one of: {', '.join(choices.values)}."]})
    return str(value)


def _owner(value: Any, account: Account) -> User | None:
    """A case or escalation owner: an active TAM, manager or admin who reads the account."""
    if value in (None, ""):
        return None
    if isinstance(value, User):
        owner: User | None = value
    else:
        try:
            pk = int(value)
        except (TypeError, ValueError):
            raise ValidationFailed({"owner": [f"owner must be a person's id, got {value!r}."]}) from None
        owner = User.objects.with_region().filter(pk=pk).first() if abs(pk) < 2**63 else None
    if owner is None or not owner.is_active:
        raise ValidationFailed({"owner": ["No such active person."]})
    if owner.role not in (Role.TAM, Role.MANAGER, Role.ADMIN) or not policy.can_read_account(owner, account):
        raise ValidationFailed({"owner": [f"{owner} cannot own this account's triage."]})
    return owner


def _current_color(account: Account) -> str:
    """The account's health color now, when the health app has scored it (else blank). Looked up by name: the
    health app depends on triage (``triage_propose``), not the other way round."""
    if not apps.is_installed("tamarind.health"):
        return ""
    try:
        model = apps.get_model(HEALTH_SCORE_MODEL)
        color = model._default_manager.filter(account_id=account.pk).values_list("color", flat=True).first()
    except (LookupError, FieldError):
        return ""
    return color if color in HealthColor.values else ""


def _timeline(actor: User | None, case: TriageCase, title: str, notes: str = "") -> None:
    """A system entry on the account's timeline: the triage case opened, closed or reopened."""
    now = timezone.now()
    TimelineEntry.objects.create(
        account_id=case.account_id,
        kind=EntryKind.SYSTEM,
        occurred_at=now,
        title=title[:200],
        notes=notes,
        author=actor,
        created_at=now,
    )


def _audit(actor: User | None, obj: Any, action: AuditAction, before: Any, after: Any, source: str) -> None:
    audit_record(actor=actor, obj=obj, action=action, before=before, after=after, source=source)


def _notify_owner(actor: User | None, obj: TriageCase | Escalation) -> None:
    """Tell the new owner of a case or escalation it is theirs (not when they gave it to themselves). The key
    carries the change's time, so handing it back later notifies again, and a retried change does not."""
    if obj.owner_id is None or (actor is not None and obj.owner_id == actor.pk):
        return
    if isinstance(obj, TriageCase):
        noun, url, title = "triage case", reverse("triage:detail", args=[obj.pk]), f"Triage case: {obj.account}"
    else:
        noun, url = "escalation", reverse("triage:escalation_change", args=[obj.pk])
        title = f"Escalation ({obj.get_severity_display()}): {obj.title}"
    notify_handed_over(
        [
            Handover(
                recipient_id=obj.owner_id,
                noun=noun,
                title=title,
                url=url,
                about=str(obj.account),
                account_id=obj.account_id,
                dedupe_key=f"triage:{noun}:{obj.pk}:owner:{obj.last_update_at.isoformat()}",
            )
        ],
        actor=actor,
        kind=NotificationKind.GENERAL,
    )


# --- Cases -----------------------------------------------------------------------------------------------------


@transaction.atomic
def case_open(*, actor: User, account: Account, data: dict[str, Any] | None = None, source: str = "web") -> TriageCase:
    """Open a triage case for ``account`` (its TAM, the region's manager, admins). At most one case per account
    is open; the open "triage review" task of the account is resolved. Defaults: the account's renewal date,
    its TAM as owner (else the actor), its current health color."""
    data = dict(data or {})
    if not policy.can_open_triage_case(actor, account):
        raise PermissionDenied("Only the account's TAM, its region's manager and admins open triage cases.")
    unknown = set(data) - CASE_OPEN_KEYS
    if unknown:
        raise ValidationFailed({"__all__": [f"Unknown triage field(s): {', '.join(sorted(unknown))}."]})
    if TriageCase.objects.open().filter(account=account).exists():
        raise ValidationFailed({"__all__": ["This account already has an open triage case."]})
    owner_value = data.get("owner", data.get("owner_id"))
    owner = _owner(owner_value, account) if owner_value not in (None, "") else None
    if owner is None:
        owner = account.tam if account.tam_id and account.tam and account.tam.is_active else actor
    now = timezone.now()
    renewal = clean_date(data.get("renewal_date"), "renewal_date") if "renewal_date" in data else None
    case = TriageCase(
        account=account,
        health_color=_choice(data.get("health_color"), "health_color", HealthColor) or _current_color(account),
        risk_type=_choice(data.get("risk_type"), "risk_type", RiskType),
        risk_reason=_choice(data.get("risk_reason"), "risk_reason", RiskReason),
        classification=_choice(data.get("classification"), "classification", Classification),
        renewal_date=renewal or account.next_renewal_date,
        owner=owner,
        summary=clean_text(data.get("summary"), "summary"),
        status=CaseStatus.NEW,
        opened_by=actor,
        opened_at=now,
        last_update_at=now,
    )
    try:
        with transaction.atomic():
            case.save()
    except IntegrityError as exc:  # a concurrent open won the race
        raise ValidationFailed({"__all__": ["This account already has an open triage case."]}) from exc
    _audit(actor, case, AuditAction.CREATE, None, snapshot(case, CASE_FIELDS), source)
    reason = f": {case.get_risk_reason_display()}" if case.risk_reason else ""
    _timeline(actor, case, f"Triage case opened{reason}", case.summary)
    task_resolve(account=account, type=TaskType.TRIAGE_REVIEW, reason=TRIAGE_REASON, actor=actor, source=source)
    return case


def case_update(*, actor: User, case: TriageCase, changes: dict[str, Any], source: str = "web") -> TriageCase:
    """Change a case (see ``_case_update``); on refusal ``case`` keeps the values it had, so a caller holding
    it (a view re-rendering the card) shows what is stored."""
    saved = {f.attname: getattr(case, f.attname) for f in TriageCase._meta.concrete_fields}
    cached = {name: getattr(case, name) for name in ("owner",) if TriageCase.owner.is_cached(case)}
    try:
        return _case_update(actor=actor, case=case, changes=changes, source=source)
    except (ValidationFailed, PermissionDenied):
        for attname, value in saved.items():
            setattr(case, attname, value)
        for name, value in cached.items():
            setattr(case, name, value)
        raise


@transaction.atomic
def _case_update(*, actor: User, case: TriageCase, changes: dict[str, Any], source: str = "web") -> TriageCase:
    """Change a case: move it between columns (``status``), its risk, classification, renewal date, owner or
    summary; ``note`` adds an update. Moving to closed needs an ``outcome``; moving out of closed reopens it
    (when the account has no other open case). Any change counts as an update of the case."""
    if not policy.can_write_triage_case(actor, case):
        raise PermissionDenied("You may read this triage case but not change it.")
    unknown = set(changes) - CASE_UPDATE_KEYS
    if unknown:
        raise ValidationFailed({"__all__": [f"Unknown triage field(s): {', '.join(sorted(unknown))}."]})
    before = snapshot(case, CASE_FIELDS)
    if "status" in changes:
        status = _choice(changes["status"], "status", CaseStatus, blank=False)
        if status == CaseStatus.CLOSED:
            outcome = _choice(changes.get("outcome"), "outcome", Outcome)
            if not outcome:
                raise ValidationFailed({"outcome": ["Closing a case needs an outcome: won back or lost."]})
            if case.status != CaseStatus.CLOSED:
                case.closed_at = timezone.now()
            case.outcome = outcome
        else:
            if changes.get("outcome"):
                raise ValidationFailed({"outcome": ["Only a closed case has an outcome."]})
            case.outcome = ""
            case.closed_at = None
        case.status = status
    elif changes.get("outcome"):
        if case.status != CaseStatus.CLOSED:
            raise ValidationFailed({"outcome": ["Only a closed case has an outcome; move it to Closed."]})
        case.outcome = _choice(changes["outcome"], "outcome", Outcome, blank=False)
    for key, choices in (("risk_type", RiskType), ("risk_reason", RiskReason), ("classification", Classification)):
        if key in changes:
            setattr(case, key, _choice(changes[key], key, choices))
    if "renewal_date" in changes:
        case.renewal_date = clean_date(changes["renewal_date"], "renewal_date")
    if "summary" in changes:
        case.summary = clean_text(changes["summary"], "summary")
    if "owner" in changes or "owner_id" in changes:
        owner = _owner(changes.get("owner", changes.get("owner_id")), case.account)
        if owner is None:
            raise ValidationFailed({"owner": ["A case needs an owner."]})
        case.owner = owner
    note_text = clean_text(changes.get("note"), "note") if "note" in changes else ""
    after = snapshot(case, CASE_FIELDS)
    changed = [f for f in CASE_FIELDS if before[f] != after[f]]
    if not changed and not note_text:
        return case
    case.last_update_at = timezone.now()
    fields = [f"{f}_id" if f in ("account", "owner") else f for f in changed]
    try:
        with transaction.atomic():
            case.save(update_fields=[*fields, "last_update_at"])
    except IntegrityError as exc:
        raise ValidationFailed(
            {"status": ["This account has another open triage case; this one stays closed."]}
        ) from exc
    if "status" in changed and (CaseStatus.CLOSED in (before["status"], after["status"])):
        if case.status == CaseStatus.CLOSED:
            _timeline(actor, case, f"Triage case closed: {case.get_outcome_display()}", note_text)
        else:
            _timeline(actor, case, f"Triage case reopened ({case.get_status_display()})", note_text)
    if changed:
        _audit(
            actor,
            case,
            AuditAction.UPDATE,
            {f: before[f] for f in changed},
            {f: after[f] for f in changed},
            source,
        )
    if "owner" in changed:
        _notify_owner(actor, case)
    if note_text:
        _note_add(actor=actor, case=case, text=note_text, source=source)
    return case


def case_reassign(*, actor: User, case: TriageCase, owner: User | int | str, source: str = "web") -> TriageCase:
    """Give a case to another owner (an active TAM, manager or admin who reads the account): audited, counts
    as an update of the case, and the new owner is notified (unless they took it themselves)."""
    return case_update(actor=actor, case=case, changes={"owner": owner}, source=source)


def case_close(*, actor: User, case: TriageCase, outcome: str, note: str = "", source: str = "web") -> TriageCase:
    """Close a case with its outcome (won back, lost by churn, lost by contraction)."""
    changes: dict[str, Any] = {"status": CaseStatus.CLOSED, "outcome": outcome}
    if note:
        changes["note"] = note
    return case_update(actor=actor, case=case, changes=changes, source=source)


def _note_add(*, actor: User | None, case: TriageCase, text: str, source: str) -> TriageNote:
    note = TriageNote.objects.create(case=case, author=actor, text=text, created_at=timezone.now())
    _audit(actor, note, AuditAction.CREATE, None, {"case": case.pk, "text": text}, source)
    return note


@transaction.atomic
def case_note_add(*, actor: User, case: TriageCase, text: str, source: str = "web") -> TriageNote:
    """Post an update on a case (counts as updating it: the overdue clock restarts)."""
    if not policy.can_write_triage_case(actor, case):
        raise PermissionDenied("You may read this triage case but not change it.")
    text = clean_text(text, "text", required=True)
    case.last_update_at = timezone.now()
    case.save(update_fields=["last_update_at"])
    return _note_add(actor=actor, case=case, text=text, source=source)


# --- Steps -----------------------------------------------------------------------------------------------------


@transaction.atomic
def step_add(*, actor: User, case: TriageCase, text: str, due_on: Any = None, source: str = "web") -> TriageStep:
    """Add a next step with an optional date to an open case."""
    if not policy.can_write_triage_case(actor, case):
        raise PermissionDenied("You may read this triage case but not change it.")
    if not case.is_open:
        raise ValidationFailed({"__all__": ["The case is closed."]})
    step = TriageStep(
        case=case,
        text=clean_text(text, "text", required=True, max_length=TEXT_MAX),
        due_on=clean_date(due_on, "due_on"),
        created_by=actor,
        created_at=timezone.now(),
    )
    step.save()
    case.last_update_at = timezone.now()
    case.save(update_fields=["last_update_at"])
    _audit(actor, step, AuditAction.CREATE, None, {"case": case.pk, **snapshot(step, STEP_FIELDS)}, source)
    return step


@transaction.atomic
def step_complete(*, actor: User, step: TriageStep, done: bool = True, source: str = "web") -> TriageStep:
    """Mark a step done (or not done again)."""
    case = step.case
    if not policy.can_write_triage_case(actor, case):
        raise PermissionDenied("You may read this triage case but not change it.")
    if step.done == done:
        return step
    before = snapshot(step, ("done", "done_at"))
    step.done = done
    step.done_at = timezone.now() if done else None
    step.save(update_fields=["done", "done_at"])
    case.last_update_at = timezone.now()
    case.save(update_fields=["last_update_at"])
    _audit(actor, step, AuditAction.UPDATE, before, snapshot(step, ("done", "done_at")), source)
    return step


# --- Proposal --------------------------------------------------------------------------------------------------


def _due(color: str, requires_triage: bool) -> bool:
    return color == HealthColor.RED or (color == HealthColor.YELLOW and requires_triage)


def triage_propose_many(
    items: Iterable[tuple[int, str, bool]], *, source: str = "health", actor: User | int | None = None
) -> list[Task]:
    """The bulk form of ``triage_propose`` for a recompute over many accounts: ``items`` are
    ``(account_id, color, requires_triage)``; returns the tasks created. A few queries per 500 accounts
    (accounts with their TAM and region manager, open cases, then ``task_raise_many``), whatever the count."""
    due = {account_id: (color, req) for account_id, color, req in items if _due(color, req)}
    drafts: list[TaskDraft] = []
    for chunk in chunks(sorted(due), BATCH):
        open_cases = set(TriageCase.objects.open().filter(account_id__in=chunk).values_list("account_id", flat=True))
        accounts = Account.objects.filter(pk__in=chunk).select_related("tam", "region__manager").order_by("pk")
        for account in accounts:
            if account.pk in open_cases:
                continue
            owner = account.tam if account.tam is not None and account.tam.is_active else None
            if owner is None:
                manager = account.region.manager
                owner = manager if manager is not None and manager.is_active else None
            if owner is None:
                continue
            color, requires_triage = due[account.pk]
            drafts.append(
                TaskDraft(
                    type=TaskType.TRIAGE_REVIEW,
                    account_id=account.pk,
                    owner_id=owner.pk,
                    reason=TRIAGE_REASON,
                    why={"color": color, "requires_triage": requires_triage, "data": {"health": color}},
                    title=f"Triage review: {account.name} is {color}",
                )
            )
    # ``actor`` caused the color (a red sentiment of their own): the review task is theirs, without a notification.
    return task_raise_many(drafts, source=source, actor=actor) if drafts else []


def triage_propose(*, account_id: int, color: str, requires_triage: bool) -> Task | None:
    """Propose a triage case for an account whose health turned red, or yellow with "requires triage": a
    "triage review" task for its TAM (the region's manager when it has no active TAM). ``None`` when nothing
    is due: the color does not call for triage, a case is already open, nobody can own it, or the task is
    already open (``task_raise_many`` deduplicates on (account, type, reason) in the database)."""
    if not _due(color, requires_triage):
        return None
    created = triage_propose_many([(account_id, color, requires_triage)])
    return created[0] if created else None


# --- Escalations -----------------------------------------------------------------------------------------------

ESCALATION_KEYS = frozenset({"title", "severity", "description", "owner", "owner_id", "case", "case_id"})
ESCALATION_UPDATE_KEYS = frozenset({"title", "severity", "description", "owner", "owner_id", "status", "note"})


@transaction.atomic
def escalation_open(*, actor: User, account: Account, data: dict[str, Any], source: str = "web") -> Escalation:
    """Open an escalation on an account (its TAM, the region's manager, admins); tied to the open case if any."""
    if not policy.can_open_triage_case(actor, account):
        raise PermissionDenied("Only the account's TAM, its region's manager and admins open escalations.")
    unknown = set(data) - ESCALATION_KEYS
    if unknown:
        raise ValidationFailed({"__all__": [f"Unknown escalation field(s): {', '.join(sorted(unknown))}."]})
    owner_value = data.get("owner", data.get("owner_id"))
    owner = _owner(owner_value, account) if owner_value not in (None, "") else actor
    now = timezone.now()
    esc = Escalation(
        account=account,
        case=TriageCase.objects.open().filter(account=account).first(),
        title=clean_text(data.get("title"), "title", required=True, max_length=TITLE_MAX),
        severity=_choice(data.get("severity") or Severity.MEDIUM, "severity", Severity, blank=False),
        description=clean_text(data.get("description"), "description"),
        owner=owner,
        opened_by=actor,
        opened_at=now,
        last_update_at=now,
    )
    esc.save()
    _audit(actor, esc, AuditAction.CREATE, None, snapshot(esc, ESCALATION_FIELDS), source)
    _notify_owner(actor, esc)
    return esc


@transaction.atomic
def escalation_update(
    *, actor: User, escalation: Escalation, changes: dict[str, Any], source: str = "web"
) -> Escalation:
    """Change an escalation (severity, title, description, owner, resolve/reopen); ``note`` records an update
    without other change (the cadence clock restarts either way)."""
    if not policy.can_write_escalation(actor, escalation):
        raise PermissionDenied("You may read this escalation but not change it.")
    unknown = set(changes) - ESCALATION_UPDATE_KEYS
    if unknown:
        raise ValidationFailed({"__all__": [f"Unknown escalation field(s): {', '.join(sorted(unknown))}."]})
    before = snapshot(escalation, ESCALATION_FIELDS)
    if "title" in changes:
        escalation.title = clean_text(changes["title"], "title", required=True, max_length=TITLE_MAX)
    if "severity" in changes:
        escalation.severity = _choice(changes["severity"], "severity", Severity, blank=False)
    if "description" in changes:
        escalation.description = clean_text(changes["description"], "description")
    if "owner" in changes or "owner_id" in changes:
        owner = _owner(changes.get("owner", changes.get("owner_id")), escalation.account)
        if owner is None:
            raise ValidationFailed({"owner": ["An escalation needs an owner."]})
        escalation.owner = owner
    if "status" in changes:
        escalation.status = _choice(changes["status"], "status", EscalationStatus, blank=False)
        if escalation.status == EscalationStatus.RESOLVED:
            escalation.resolved_at = escalation.resolved_at or timezone.now()
        else:
            escalation.resolved_at = None
    note = clean_text(changes.get("note"), "note") if "note" in changes else ""
    after = snapshot(escalation, ESCALATION_FIELDS)
    changed = [f for f in ESCALATION_FIELDS if before[f] != after[f]]
    if not changed and not note:
        return escalation
    escalation.last_update_at = timezone.now()
    fields = [f"{f}_id" if f in ("account", "case", "owner") else f for f in changed]
    escalation.save(update_fields=[*fields, "resolved_at", "last_update_at"])
    after_log = {f: after[f] for f in changed}
    if note:
        after_log["note"] = note
    _audit(actor, escalation, AuditAction.UPDATE, {f: before[f] for f in changed}, after_log, source)
    if "owner" in changed:
        _notify_owner(actor, escalation)
    return escalation


def escalation_note_add(*, actor: User, escalation: Escalation, text: str, source: str = "web") -> Escalation:
    """Post an update on an escalation (restarts its cadence clock); audited with the text."""
    text = clean_text(text, "note", required=True)
    return escalation_update(actor=actor, escalation=escalation, changes={"note": text}, source=source)


def escalation_resolve(*, actor: User, escalation: Escalation, note: str = "", source: str = "web") -> Escalation:
    """Close (resolve) an escalation, optionally with a last update."""
    changes: dict[str, Any] = {"status": EscalationStatus.RESOLVED}
    if note:
        changes["note"] = note
    return escalation_update(actor=actor, escalation=escalation, changes=changes, source=source)


# --- Settings --------------------------------------------------------------------------------------------------


@transaction.atomic
def triage_settings_update(*, actor: User, changes: dict[str, Any], source: str = "web") -> TriageSettings:
    """Admins change how often cases and escalations must be updated (whole days, at least 1)."""
    if not policy.can_edit_triage_settings(actor):
        raise PermissionDenied("Only admins change the triage settings.")
    unknown = set(changes) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValidationFailed({"__all__": [f"Unknown setting(s): {', '.join(sorted(unknown))}."]})
    row = TriageSettings.objects.select_for_update().filter(pk=TriageSettings.SINGLETON_PK).first()
    created = row is None
    row = row or TriageSettings()
    before = snapshot(row, SETTINGS_FIELDS)
    errors: dict[str, list[str]] = {}
    for key, value in changes.items():
        if isinstance(value, bool) or not isinstance(value, int | str):
            errors[key] = ["Must be a whole number of days."]
            continue
        try:
            days = int(value)
        except ValueError:
            errors[key] = ["Must be a whole number of days."]
            continue
        if not 1 <= days <= 3650:
            errors[key] = ["Between 1 and 3650 days."]
            continue
        setattr(row, key, days)
    if errors:
        raise ValidationFailed(errors)
    after = snapshot(row, SETTINGS_FIELDS)
    changed = [f for f in SETTINGS_FIELDS if before[f] != after[f]]
    if not changed and not created:
        return row
    row.updated_at = timezone.now()
    row.updated_by = actor
    if created:
        row.save(force_insert=True)
    else:
        row.save(update_fields=[*changed, "updated_at", "updated_by"])
    _audit(
        actor,
        row,
        AuditAction.CREATE if created else AuditAction.UPDATE,
        None if created else {f: before[f] for f in changed},
        after if created else {f: after[f] for f in changed},
        source,
    )
    return row
