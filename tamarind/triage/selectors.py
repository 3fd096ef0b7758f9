"""Reads of triage cases and escalations, through the access policy: ``visible_to`` for lists and one gated
fetch per model (``case_for_user``, ``escalation_for_user``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, Case, Count, Prefetch, Q, Value, When
from django.http import Http404
from django.utils import timezone

from tamarind import policy
from tamarind.accounts.models import Account
from tamarind.audit.models import AuditAction, AuditEvent
from tamarind.core.params import getlist
from tamarind.people.models import Region, Role, User
from tamarind.triage.models import (
    CaseStatus,
    Escalation,
    EscalationQuerySet,
    EscalationStatus,
    RiskReason,
    Severity,
    TriageCase,
    TriageCaseQuerySet,
    TriageSettings,
    overdue_q,
)

MAX_ID = 2**63 - 1
# The board shows closed cases of the last this many days only (the column would grow forever).
CLOSED_RECENT_DAYS = 30


def triage_settings() -> TriageSettings:
    """The settings row; until an admin has saved one, an unsaved row holding the defaults."""
    return TriageSettings.objects.filter(pk=TriageSettings.SINGLETON_PK).first() or TriageSettings()


def _pk(raw: Any) -> int | None:
    try:
        pk = int(raw)
    except (TypeError, ValueError):
        return None
    return pk if 0 < pk <= MAX_ID else None


def case_for_user(user: User, case_id: int | str, *, write: bool = False) -> TriageCase:
    """The one permission-gated fetch: 404 when out of scope, 403 when ``write`` and the user may only read."""
    pk = _pk(case_id)
    case = TriageCase.objects.with_related().filter(pk=pk).first() if pk is not None else None
    if case is None or not policy.can_read_triage_case(user, case):
        raise Http404("No such triage case.")
    if write and not policy.can_write_triage_case(user, case):
        raise PermissionDenied("You may read this triage case but not change it.")
    return case


def escalation_for_user(user: User, escalation_id: int | str, *, write: bool = False) -> Escalation:
    pk = _pk(escalation_id)
    esc = Escalation.objects.with_related().filter(pk=pk).first() if pk is not None else None
    if esc is None or not policy.can_read_escalation(user, esc):
        raise Http404("No such escalation.")
    if write and not policy.can_write_escalation(user, esc):
        raise PermissionDenied("You may read this escalation but not change it.")
    return esc


def open_case_for_account(*, account: Account) -> TriageCase | None:
    return TriageCase.objects.open().filter(account=account).select_related("owner").first()


@dataclass
class CaseFilters:
    """Filters of the board and the case list (web and API). Bad values are dropped and reported."""

    region: list[int] = field(default_factory=list)
    tam: list[int] = field(default_factory=list)
    risk_reason: list[str] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    account: int | None = None
    overdue: bool = False
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_params(cls, params: Any) -> CaseFilters:
        f = cls()
        for key in ("region", "tam"):
            for raw in getlist(params, key):
                value = _pk(raw)
                if value is None:
                    f.errors[key] = f"{key} must be an id, got {raw!r}."
                else:
                    getattr(f, key).append(value)
        for raw in getlist(params, "risk_reason"):
            if raw in RiskReason.values:
                f.risk_reason.append(raw)
            else:
                f.errors["risk_reason"] = f"Unknown risk reason {raw!r}."
        for raw in getlist(params, "status"):
            if raw in CaseStatus.values:
                f.status.append(raw)
            else:
                f.errors["status"] = f"Unknown status {raw!r}."
        raw_account = (params.get("account") or "").strip()
        if raw_account:
            f.account = _pk(raw_account)
            if f.account is None:
                f.errors["account"] = f"account must be an id, got {raw_account!r}."
        overdue = (params.get("overdue") or "").strip().lower()
        if overdue in ("1", "true", "yes", "on"):
            f.overdue = True
        elif overdue not in ("", "0", "false", "no", "off"):
            f.errors["overdue"] = f"overdue must be true or false, got {overdue!r}."
        return f

    @property
    def active(self) -> bool:
        return bool(self.region or self.tam or self.risk_reason or self.status or self.account or self.overdue)

    def apply(self, qs: TriageCaseQuerySet, settings_row: TriageSettings, now: dt.datetime) -> TriageCaseQuerySet:
        if self.region:
            qs = qs.filter(account__region_id__in=self.region)
        if self.tam:
            qs = qs.filter(account__tam_id__in=self.tam)
        if self.risk_reason:
            qs = qs.filter(risk_reason__in=self.risk_reason)
        if self.status:
            qs = qs.filter(status__in=self.status)
        if self.account is not None:
            qs = qs.filter(account_id=self.account)
        if self.overdue:
            qs = qs.open().filter(overdue_q(settings_row, now))
        return qs


def with_overdue(qs: TriageCaseQuerySet, settings_row: TriageSettings, now: dt.datetime) -> TriageCaseQuerySet:
    """Annotate ``overdue``: open and not updated within its color's days."""
    return qs.annotate(
        overdue=Case(
            When(Q(overdue_q(settings_row, now)) & ~Q(status=CaseStatus.CLOSED), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    )


def case_list(
    *, user: User, filters: CaseFilters, now: dt.datetime | None = None, settings_row: TriageSettings | None = None
) -> TriageCaseQuerySet:
    """The cases ``user`` may read, filtered, each annotated with ``overdue``."""
    now = now or timezone.now()
    settings_row = settings_row or triage_settings()
    qs = filters.apply(TriageCase.objects.visible_to(user).with_related(), settings_row, now)
    return with_overdue(qs, settings_row, now).order_by("-last_update_at", "-id")


@dataclass
class Column:
    status: str
    label: str
    cases: list[TriageCase]


def board(*, user: User, filters: CaseFilters, now: dt.datetime | None = None) -> list[Column]:
    """The five columns of the board, in one query: open cases and those closed in the last 30 days."""
    now = now or timezone.now()
    settings_row = triage_settings()
    qs = case_list(user=user, filters=filters, now=now, settings_row=settings_row).filter(
        ~Q(status=CaseStatus.CLOSED) | Q(closed_at__gte=now - dt.timedelta(days=CLOSED_RECENT_DAYS))
    )
    # Each card shows its open escalations (the most severe, and whether one is late): one more query.
    open_escalations = Escalation.objects.filter(status=EscalationStatus.OPEN).order_by("pk")
    qs = qs.prefetch_related(Prefetch("escalations", queryset=open_escalations, to_attr="open_escalations"))
    rank = {value: i for i, value in enumerate(Severity.values)}
    columns = {value: Column(value, str(label), []) for value, label in CaseStatus.choices}
    for case in qs:
        found: list[Escalation] = getattr(case, "open_escalations", [])
        escalations = sorted(found, key=lambda e: rank.get(e.severity, len(rank)))
        case.top_escalation = escalations[0] if escalations else None  # type: ignore[attr-defined]
        case.escalation_overdue = any(e.is_overdue(settings_row, now) for e in escalations)  # type: ignore[attr-defined]
        columns[case.status].cases.append(case)
    return list(columns.values())


def board_choices(*, user: User) -> dict[str, Any]:
    """What the board's filters offer: regions and TAMs of the accounts the user reads."""
    scope = policy.account_scope(user)
    regions = Region.objects.order_by("name")
    tams = User.objects.filter(role=Role.TAM, is_active=True).order_by("full_name")
    if scope is not None:
        visible = Account.objects.filter(scope)
        regions = regions.filter(pk__in=visible.values("region_id"))
        tams = tams.filter(pk__in=visible.values("tam_id"))
    return {"regions": list(regions), "tams": list(tams), "risk_reasons": RiskReason.choices}


def case_counts(*, user: User) -> dict[str, int]:
    qs = TriageCase.objects.visible_to(user).open()
    return dict(qs.values_list("status").annotate(n=Count("id")).values_list("status", "n"))


def case_history(*, case: TriageCase, limit: int = 100) -> list[AuditEvent]:
    """The case's audit events, newest first, each with ``changes``: (label, before, after); owners by name."""
    events = list(AuditEvent.objects.for_object("triage.triagecase", case.pk).order_by("-at", "-id")[:limit])
    ids = {v for e in events for n, b, a in e.changed_fields() if n == "owner" for v in (b, a) if v is not None}
    names = dict(User.objects.filter(pk__in=ids).values_list("pk", "full_name")) if ids else {}
    labels = {f.name: str(f.verbose_name) for f in TriageCase._meta.fields}
    for event in events:
        changes = []
        for name, before, after in event.changed_fields():
            if name == "owner":
                before = names.get(before, before)
                after = names.get(after, after)
            changes.append((labels.get(name, name), before, after))
        event.changes = changes  # type: ignore[attr-defined]
    return events


def escalation_list(*, user: User, account: Account | None = None, open_only: bool = False) -> EscalationQuerySet:
    qs = Escalation.objects.visible_to(user).with_related()
    if account is not None:
        qs = qs.filter(account=account)
    if open_only:
        qs = qs.filter(status="open")
    return qs.order_by("status", "-last_update_at", "-id")


OWNER_ROLES = (Role.TAM, Role.MANAGER, Role.ADMIN)


def owner_choices(*, accounts: list[Account]) -> dict[int, list[User]]:
    """Who may own each account's triage case or escalation, by account id: the active TAMs, managers and admins
    who read it (``policy.can_read_account``, the rule the services check). One query, however many accounts."""
    if not accounts:
        return {}
    regions = {a.region_id for a in accounts}
    tams = {a.tam_id for a in accounts if a.tam_id}
    people = list(
        User.objects.with_region()
        .filter(is_active=True, role__in=OWNER_ROLES)
        .filter(
            Q(role=Role.ADMIN)
            | Q(role=Role.MANAGER, managed_region__in=regions)
            | Q(role=Role.TAM, region_id__in=regions)
            | Q(role=Role.TAM, pk__in=tams)
        )
        .order_by("full_name", "pk")
    )
    return {a.pk: [p for p in people if policy.can_read_account(p, a)] for a in accounts}


@dataclass
class EscalationUpdate:
    """One entry of an escalation's history: who, when, the update's text and the fields it changed."""

    at: dt.datetime
    actor_name: str
    note: str
    changes: list[tuple[str, Any, Any]]
    opened: bool = False


def escalation_history(*, escalation: Escalation, limit: int = 200) -> list[EscalationUpdate]:
    """The escalation's updates and changes, newest first, from its audit trail (owners by name). Two queries."""
    events = list(AuditEvent.objects.for_object("triage.escalation", escalation.pk).order_by("-at", "-id")[:limit])
    ids = {v for e in events for n, b, a in e.changed_fields() if n == "owner" for v in (b, a) if v is not None}
    names = dict(User.objects.filter(pk__in=ids).values_list("pk", "full_name")) if ids else {}
    labels = {f.name: str(f.verbose_name) for f in Escalation._meta.fields}
    rows = []
    for event in events:
        note = ""
        changes = []
        for name, before, after in event.changed_fields():
            if name == "note":
                note = str(after or "")
                continue
            if event.action == AuditAction.CREATE and name not in ("title", "severity", "owner"):
                continue
            if name == "owner":
                before, after = names.get(before, before), names.get(after, after)
            changes.append((labels.get(name, name), before, after))
        rows.append(
            EscalationUpdate(
                at=event.at,
                actor_name=event.actor_name or "system",
                note=note,
                changes=changes,
                opened=event.action == AuditAction.CREATE,
            )
        )
    return rows


def escalation_overdue_q(settings_row: TriageSettings, now: dt.datetime) -> Q:
    """Open escalations not updated within their severity's cadence."""
    late = Q(pk__in=[])
    for severity in Severity.values:
        cutoff = now - dt.timedelta(days=settings_row.escalation_days(severity))
        late |= Q(severity=severity, last_update_at__lt=cutoff)
    return Q(status=EscalationStatus.OPEN) & late


def escalation_filter(
    qs: EscalationQuerySet, params: Any, settings_row: TriageSettings, now: dt.datetime
) -> tuple[EscalationQuerySet, dict[str, Any], dict[str, str]]:
    """The escalations page's filters (severity, overdue only): the filtered rows, the values kept, and a message
    for each bad value (dropped, never a 500)."""
    errors: dict[str, str] = {}
    severities = []
    for raw in getlist(params, "severity"):
        if raw in Severity.values:
            severities.append(raw)
        else:
            errors["severity"] = f"Unknown severity {raw!r}."
    if severities:
        qs = qs.filter(severity__in=severities)
    overdue = (params.get("overdue") or "").strip().lower()
    if overdue not in ("", "0", "1", "true", "false"):
        errors["overdue"] = f"overdue must be 1 or 0, got {overdue!r}."
    late_only = overdue in ("1", "true")
    if late_only:
        qs = qs.filter(escalation_overdue_q(settings_row, now))
    return qs, {"severity": severities, "overdue": late_only}, errors
