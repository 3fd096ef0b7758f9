"""What success plans and EBRs bring to the manager's reviews (``tamarind.reviews``): the checklist and 1:1 agenda
sections named in ``reviews.checklists.OPTIONAL_HOOKS``, the burn-down's two plan exceptions, and the EBRs of a
person's calendar feed. Reviews looks this module up at run time, so neither app imports the other at load."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from dateutil.relativedelta import relativedelta
from django.db.models import Exists, F, Max, OuterRef, Q
from django.urls import reverse

from tamarind.success.models import (
    CURRENT_STATUSES,
    Ebr,
    EbrStatus,
    PlanColor,
    ReviewKind,
    ReviewStatus,
    SuccessPlan,
    live_settings,
)

if TYPE_CHECKING:
    from icalendar import Event

    from tamarind.people.models import User
    from tamarind.reviews.checklists import ChecklistContext, ItemDraft


def _current_plan(**extra: Any) -> Exists:
    return Exists(SuccessPlan.objects.filter(account=OuterRef("pk"), status__in=CURRENT_STATUSES, **extra))


def _completed_ebr_since(since: dt.date) -> Exists:
    return Exists(Ebr.objects.filter(account=OuterRef("pk"), status=EbrStatus.COMPLETED, held_on__gte=since))


def p1_without_green_plan_q(today: dt.date, settings: Any) -> Q:
    """Accounts without a current green plan (no plan counts: the color rule calls it Red)."""
    return Q(~_current_plan(color=PlanColor.GREEN))


def p1_without_ebr_q(today: dt.date, settings: Any) -> Q:
    """Accounts without a completed EBR in the last 12 months."""
    return Q(~_completed_ebr_since(today - relativedelta(months=12)))


def _item(account: Any, key: str, label: str, **facts: Any) -> ItemDraft:
    from tamarind.reviews.checklists import ItemDraft

    return ItemDraft(
        key=f"{key}:{account.pk}",
        label=label,
        account_id=account.pk,
        account_name=account.name,
        link=reverse("accounts:detail", args=[account.pk]),
        facts=facts,
    )


def plans_not_green(ctx: ChecklistContext) -> list[ItemDraft]:
    """Accounts of the context whose current plan is not green, and priority 1 accounts with no plan at all."""
    from tamarind.reviews.checklists import _accounts

    plans = SuccessPlan.objects.filter(account=OuterRef("pk"), status__in=CURRENT_STATUSES)
    rows = (
        _accounts(ctx)
        .annotate(has_plan=Exists(plans), plan_color=plans.values("color")[:1])
        .filter(Q(has_plan=True, plan_color__in=[PlanColor.YELLOW, PlanColor.RED]) | Q(has_plan=False, priority=1))
        .select_related("tam")
        .order_by("-priority", "name", "pk")
    )
    return [
        _item(
            a,
            "plan_not_green",
            f"{a.name}: {'plan ' + a.plan_color if a.has_plan else 'no success plan'}",
            priority=a.priority,
            tam=a.tam.full_name if a.tam else "—",
            color=a.plan_color or PlanColor.RED,
        )
        for a in rows
    ]


def plans_to_review(ctx: ChecklistContext) -> list[ItemDraft]:
    """Two current plans per TAM (one TAM for a 1:1): never reviewed by a manager first, then the oldest review."""
    plans = (
        SuccessPlan.objects.current()
        .filter(account__region_id=ctx.region_id, account__tam__isnull=False)
        .filter(**({"account__tam": ctx.tam} if ctx.tam is not None else {}))
        .select_related("account", "account__tam")
        .annotate(
            last_review=Max(
                "reviews__completed_at",
                filter=Q(reviews__kind=ReviewKind.MANAGER, reviews__status=ReviewStatus.COMPLETED),
            )
        )
        .order_by(F("last_review").asc(nulls_first=True), "created_at", "id")
    )
    per_tam: dict[int, int] = {}
    items: list[ItemDraft] = []
    for plan in plans:
        tam_id = plan.account.tam_id or 0
        if per_tam.get(tam_id, 0) >= 2:
            continue
        per_tam[tam_id] = per_tam.get(tam_id, 0) + 1
        last = f"last reviewed {plan.last_review:%Y-%m-%d}" if plan.last_review else "never reviewed"
        item = _item(plan.account, "plan_review", f"{plan.account.name}: {last}", color=plan.color)
        items.append(replace(item, link=reverse("success:plan", args=[plan.pk])))
    return items


def ebrs_due(ctx: ChecklistContext) -> list[ItemDraft]:
    """Priority 1 accounts inside the EBR window before their renewal (``ebr_lead_months``) with no completed EBR
    in the last 12 months."""
    from tamarind.reviews.checklists import _accounts

    values = live_settings()
    horizon = ctx.today + relativedelta(months=values.ebr_lead_months)
    rows = (
        _accounts(ctx)
        .filter(priority=1, next_renewal_date__gte=ctx.today, next_renewal_date__lte=horizon)
        .filter(~_completed_ebr_since(ctx.today - relativedelta(months=12)))
        .select_related("tam")
        .order_by("next_renewal_date", "pk")
    )
    return [
        _item(
            a,
            "ebr_due",
            f"{a.name}: EBR due before the renewal on {a.next_renewal_date:%Y-%m-%d}",
            renewal=str(a.next_renewal_date),
            tam=a.tam.full_name if a.tam else "—",
        )
        for a in rows
    ]


def calendar_events(user: User) -> list[Event]:
    """Scheduled EBRs of the accounts ``user`` owns as TAM (or, for a manager, of their region)."""
    from tamarind.reviews.calendar import _absolute, _event

    ebrs = Ebr.objects.filter(status=EbrStatus.SCHEDULED, held_on__isnull=False).select_related("account")
    ebrs = ebrs.filter(Q(account__tam=user) | Q(account__region__manager=user))
    return [
        _event(
            f"ebr-{e.pk}",
            f"EBR: {e.account.name}",
            start=e.held_on,
            end=e.held_on + dt.timedelta(days=1) if e.held_on else None,
            url=_absolute(reverse("accounts:detail", args=[e.account_id])),
        )
        for e in ebrs
    ]
