"""Reads of onboarding records. Every fetch goes through the access policy."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.http import Http404
from django.utils import timezone

from tamarind import policy
from tamarind.accounts.models import Account
from tamarind.audit.models import AuditEvent
from tamarind.core.params import getlist
from tamarind.onboarding.metrics import METRICS, Measure, MetricDef, TargetDays, measure_all
from tamarind.onboarding.models import Onboarding, OnboardingQuerySet, OnboardingStatus, OnboardingTargets
from tamarind.people.models import User

MAX_ID = 2**63 - 1


def onboarding_targets() -> OnboardingTargets:
    """The targets row; until an admin has saved one, an unsaved row holding the defaults (14/30/45 days)."""
    return OnboardingTargets.objects.filter(pk=OnboardingTargets.SINGLETON_PK).first() or OnboardingTargets()


def onboarding_metrics(onboarding: Onboarding, targets: TargetDays, today: dt.date | None = None) -> list[Measure]:
    """The three time-to-value metrics of one record on ``today``."""
    return measure_all(
        onboarding.dates(), targets=targets, today=today or timezone.localdate(), is_open=onboarding.is_open
    )


def overdue_q(metric: MetricDef, target_days: int, today: dt.date) -> Q:
    """Records whose ``metric`` milestone is missing and whose start is more than its target days ago."""
    return Q(
        **{f"{metric.end_field}__isnull": True, f"{metric.start_field}__lt": today - dt.timedelta(days=target_days)}
    )


def any_overdue_q(targets: TargetDays, today: dt.date) -> Q:
    q = Q(pk__in=[])
    for metric in METRICS:
        q |= overdue_q(metric, getattr(targets, metric.target), today)
    return q


def onboarding_for_user(user: User, onboarding_id: int | str, *, write: bool = False) -> Onboarding:
    """The one permission-gated fetch: 404 when out of scope, 403 when ``write`` and the user may only read."""
    try:
        pk = int(onboarding_id)
    except (TypeError, ValueError):
        raise Http404("No such onboarding record.") from None
    if abs(pk) > MAX_ID:
        raise Http404("No such onboarding record.")
    onboarding = Onboarding.objects.with_people().filter(pk=pk).first()
    if onboarding is None or not policy.can_read_onboarding(user, onboarding):
        raise Http404("No such onboarding record.")
    if write and not policy.can_write_onboarding(user, onboarding):
        raise PermissionDenied("You may read this onboarding record but not change it.")
    return onboarding


def account_onboarding(*, account: Account) -> Onboarding | None:
    """The account's open onboarding, else its most recent one, else ``None``."""
    return (
        Onboarding.objects.filter(account=account)
        .select_related("tam")
        .order_by(
            # Open records first (completed sorts after every open status), newest first within each.
            ExpressionWrapper(Q(status=OnboardingStatus.COMPLETED), output_field=BooleanField()).asc(),
            "-id",
        )
        .first()
    )


def onboarding_history(*, onboarding: Onboarding, limit: int = 100) -> list[AuditEvent]:
    """The record's audit events, newest first, each with ``changes``: (label, before, after) for people to read.

    TAMs are stored as ids in the trail and shown by name, looked up in one query.
    """
    events = list(AuditEvent.objects.for_object("onboarding.onboarding", onboarding.pk)[:limit])
    tam_ids = {
        value
        for event in events
        for name, before, after in event.changed_fields()
        if name == "tam"
        for value in (before, after)
        if value is not None
    }
    names = dict(User.objects.filter(pk__in=tam_ids).values_list("pk", "full_name")) if tam_ids else {}
    labels = {f.name: str(f.verbose_name) for f in Onboarding._meta.fields}
    for event in events:
        changes = []
        for name, before, after in event.changed_fields():
            if name == "tam":
                before = names.get(before, f"#{before}") if before is not None else None
                after = names.get(after, f"#{after}") if after is not None else None
            changes.append((labels.get(name, name), before, after))
        event.changes = changes  # type: ignore[attr-defined]
    return events


@dataclass
class OnboardingFilters:
    """Filters of the onboarding list, shared by the web page and the API."""

    scope: str = "mine"  # mine | all (within what the user may read)
    state: str = "open"  # open | completed | overdue | any
    status: list[str] = field(default_factory=list)
    tam: list[int] = field(default_factory=list)
    unassigned: bool = False
    q: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    SCOPES = ("mine", "all")
    STATES = ("open", "overdue", "completed", "any")

    @classmethod
    def from_params(cls, params: Any, *, user: User) -> OnboardingFilters:
        f = cls()
        default_scope = policy.onboarding_default_list(user)
        scope = params.get("scope") or default_scope
        if scope in cls.SCOPES:
            f.scope = scope
        else:
            f.scope = default_scope
            f.errors["scope"] = f"Unknown list {scope!r}."
        state = params.get("state") or "open"
        if state in cls.STATES:
            f.state = state
        else:
            f.errors["state"] = f"Unknown state {state!r}."
        for value in getlist(params, "status"):
            if value in OnboardingStatus.values:
                f.status.append(value)
            else:
                f.errors["status"] = f"Unknown status {value!r}."
        for value in getlist(params, "tam"):
            if value == "none":
                f.unassigned = True
                continue
            try:
                pk = int(value)
            except ValueError:
                f.errors["tam"] = f"tam must be a number, got {value!r}."
                continue
            if abs(pk) > MAX_ID:
                f.errors["tam"] = f"tam is out of range, got {value!r}."
            else:
                f.tam.append(pk)
        f.q = (params.get("q") or "").replace("\x00", "").strip()[:200]
        return f

    def apply(self, qs: OnboardingQuerySet, *, user: User, targets: TargetDays, today: dt.date) -> OnboardingQuerySet:
        if self.scope == "mine":
            qs = qs.filter(tam=user)
        if self.state == "open":
            qs = qs.open()
        elif self.state == "completed":
            qs = qs.filter(status=OnboardingStatus.COMPLETED)
        elif self.state == "overdue":
            qs = qs.open().filter(any_overdue_q(targets, today))
        if self.status:
            qs = qs.filter(status__in=self.status)
        if self.tam or self.unassigned:
            cond = Q(tam_id__in=self.tam) if self.tam else Q(pk__in=[])
            if self.unassigned:
                cond |= Q(tam__isnull=True)
            qs = qs.filter(cond)
        if self.q:
            qs = qs.filter(Q(account__name__icontains=self.q) | Q(account__crm_id__iexact=self.q))
        return qs


def onboarding_list(*, user: User, filters: OnboardingFilters, targets: TargetDays) -> OnboardingQuerySet:
    """The records ``user`` may read, filtered; account, region and TAM loaded in the same query."""
    qs = Onboarding.objects.visible_to(user).with_people()
    return filters.apply(qs, user=user, targets=targets, today=timezone.localdate()).order_by(
        "onboarding_start", "account__name", "id"
    )


def account_panel(*, user: User, account: Account) -> dict[str, Any]:
    """What the account page's onboarding panel shows: the record, its metrics and whether the user may edit.

    Two queries whatever the data: the record (with its TAM) and the targets row.
    """
    onboarding = account_onboarding(account=account)
    if onboarding is None:
        return {"onboarding": None}
    onboarding.account = account  # already loaded by the page; the policy reads its owners
    targets = onboarding_targets()
    return {
        "onboarding": onboarding,
        "onboarding_metrics": onboarding_metrics(onboarding, targets.as_days()),
        "onboarding_can_write": policy.can_write_onboarding(user, onboarding),
    }
