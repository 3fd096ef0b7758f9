"""Reads of the success app: the gated fetches, the account panel, the plan page, the *Success plans* list with
its coverage figures (one grouped query, rolled up per region, TAM, segment and engagement model), and the
manager's review picks."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    FilteredRelation,
    Max,
    OuterRef,
    Prefetch,
    Q,
)
from django.http import Http404
from django.utils import timezone

from tamarind import policy
from tamarind.accounts.models import Account, EngagementModel, Segment
from tamarind.people.models import Region, User
from tamarind.success.models import (
    CURRENT_STATUSES,
    Ebr,
    EbrStatus,
    Objective,
    PlanColor,
    PlanReview,
    PlanTask,
    ReviewKind,
    ReviewStatus,
    SuccessPlan,
    live_settings,
)
from tamarind.success.rules import SettingsValues

PAGE_SIZE = 50


def _int(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None


# --- Gated fetches ------------------------------------------------------------------------------------------------


def plan_for_user(user: User, plan_id: int, *, write: bool = False) -> SuccessPlan:
    """The plan if ``user`` may read it (404 otherwise); with ``write``, 403 when they may only read it."""
    plan = (
        SuccessPlan.objects.visible_to(user)
        .select_related("account", "account__region", "account__tam", "template")
        .filter(pk=plan_id)
        .first()
        if abs(plan_id) < 2**63
        else None
    )
    if plan is None:
        raise Http404("No such success plan.")
    if write and not policy.can_write_success_plan(user, plan.account):
        raise PermissionDenied("You may read this success plan but not change it.")
    return plan


def objective_for_user(user: User, objective_id: int, *, write: bool = False) -> Objective:
    scope = policy.success_plan_scope(user)
    qs = Objective.objects.select_related("plan", "plan__account", "plan__account__region", "owner")
    if scope is not None:
        qs = qs.filter(policy._under("plan__", scope))
    objective = qs.filter(pk=objective_id).first() if abs(objective_id) < 2**63 else None
    if objective is None:
        raise Http404("No such objective.")
    if write and not policy.can_write_success_plan(user, objective.plan.account):
        raise PermissionDenied("You may read this objective but not change it.")
    return objective


def plan_task_for_user(user: User, task_id: int, *, write: bool = False) -> PlanTask:
    scope = policy.success_plan_scope(user)
    qs = PlanTask.objects.select_related(
        "objective", "objective__plan", "objective__plan__account", "objective__plan__account__region", "owner"
    )
    if scope is not None:
        qs = qs.filter(policy._under("objective__plan__", scope))
    task = qs.filter(pk=task_id).first() if abs(task_id) < 2**63 else None
    if task is None:
        raise Http404("No such task.")
    if write and not policy.can_write_success_plan(user, task.objective.plan.account):
        raise PermissionDenied("You may read this task but not change it.")
    return task


def review_for_user(user: User, review_id: int) -> PlanReview:
    review = (
        PlanReview.objects.visible_to(user)
        .select_related("plan", "plan__account", "plan__account__region", "plan__account__tam", "reviewer")
        .select_related("requested_by")
        .filter(pk=review_id)
        .first()
        if abs(review_id) < 2**63
        else None
    )
    if review is None:
        raise Http404("No such review.")
    return review


def ebr_for_user(user: User, ebr_id: int, *, write: bool = False) -> Ebr:
    ebr = (
        Ebr.objects.visible_to(user).select_related("account", "account__region").filter(pk=ebr_id).first()
        if abs(ebr_id) < 2**63
        else None
    )
    if ebr is None:
        raise Http404("No such EBR.")
    if write and not policy.can_write_success_plan(user, ebr.account):
        raise PermissionDenied("You may read this EBR but not change it.")
    return ebr


# --- Account panel and plan page ------------------------------------------------------------------------------------


def account_panel(*, user: User, account: Account) -> dict[str, Any]:
    """The Success plan tab of the account page: the current plan, earlier ones, the EBRs (two queries)."""
    plans = list(account.success_plans.order_by("-created_at", "-id")[:20])
    current = next((p for p in plans if p.is_current), None)
    return {
        "success_plan": current,
        "success_earlier": [p for p in plans if not p.is_current],
        "success_ebrs": list(account.ebrs.order_by("-held_on", "-id")[:5]),
        "success_can_write": policy.can_write_success_plan(user, account),
    }


def plan_page(*, user: User, plan: SuccessPlan) -> dict[str, Any]:
    """The plan with its objectives and their tasks, reviews (manager and peer) and the account's EBRs; a fixed
    number of queries whatever their number."""
    objectives = list(
        plan.objectives.select_related("owner").prefetch_related(
            Prefetch("tasks", queryset=PlanTask.objects.select_related("owner").order_by("due_on", "id"))
        )
    )
    for objective in objectives:
        tasks = list(objective.tasks.all())
        objective.progress_pct = round(sum(t.progress for t in tasks) / len(tasks)) if tasks else 0  # type: ignore[attr-defined]
    reviews = list(plan.reviews.select_related("reviewer", "requested_by").order_by("-requested_at", "-id"))
    can_write = policy.can_write_success_plan(user, plan.account) and plan.is_current
    return {
        "plan": plan,
        "objectives": objectives,
        "manager_reviews": [r for r in reviews if r.kind == ReviewKind.MANAGER],
        "peer_reviews": [r for r in reviews if r.kind == ReviewKind.PEER],
        "ebrs": list(plan.account.ebrs.order_by("-held_on", "-id")[:10]),
        "can_write": can_write,
        "can_review": policy.can_manager_review_plan(user, plan) and plan.is_current,
        "today": timezone.localdate(),
    }


def peer_candidates(*, plan: SuccessPlan) -> list[User]:
    """TAMs who could peer review the plan (read its account, not its TAM)."""
    from tamarind.people.models import Role

    people = User.objects.with_region().filter(role=Role.TAM, is_active=True)
    if plan.account.tam_id:
        people = people.exclude(pk=plan.account.tam_id)
    return [p for p in people.order_by("full_name")[:500] if policy.can_be_peer_reviewer(p, plan)]


def owner_choices(*, account: Account) -> list[User]:
    """People who may own an objective or task of this account's plan (those who read the account)."""
    return [
        p
        for p in User.objects.with_region().filter(is_active=True).order_by("full_name")[:500]
        if policy.can_read_account(p, account)
    ]


# --- The Success plans list and its coverage ------------------------------------------------------------------------


COLORS = ("green", "yellow", "red", "none")
COHORTS = ("new", "new_planned", "new_unplanned")


@dataclass
class PlanFilters:
    region: int | None = None
    tam: int | None = None
    color: str = ""
    segment: str = ""
    priority: int | None = None
    needs_review: bool = False
    cohort: str = ""
    ebr: str = ""  # "yes" / "no": a completed EBR in the last 12 months
    page: int = 1

    @classmethod
    def from_params(cls, params: Any) -> PlanFilters:
        priority = _int(params.get("priority"))
        return cls(
            region=_int(params.get("region")),
            tam=_int(params.get("tam")),
            color=params.get("color") if params.get("color") in COLORS else "",
            segment=params.get("segment") if params.get("segment") in (*Segment.values, "commercial") else "",
            priority=priority if priority in (1, 2, 3, 4) else None,
            needs_review=params.get("needs_review") in ("1", "on", "true"),
            cohort=params.get("cohort") if params.get("cohort") in COHORTS else "",
            ebr=params.get("ebr") if params.get("ebr") in ("yes", "no") else "",
            page=min(_int(params.get("page")) or 1, 100_000),
        )

    def query(self, **overrides: Any) -> str:
        values = {
            "region": self.region,
            "tam": self.tam,
            "color": self.color,
            "segment": self.segment,
            "priority": self.priority,
            "needs_review": "1" if self.needs_review else "",
            "cohort": self.cohort,
            "ebr": self.ebr,
        }
        values.update(overrides)
        return urlencode({k: v for k, v in values.items() if v not in (None, "", False)})


def _segment_q(segment: str) -> Q:
    if segment == "commercial":
        return Q(segment__in=[Segment.SMB, Segment.MID_MARKET])
    return Q(segment=segment)


def _annotated(user: User, today: dt.date, values: SettingsValues, *, plan: bool = True) -> Any:
    """Accounts in ``user``'s scope with their current plan joined (``cp``: one row at most, by the constraint),
    whether they are new customers past the window, planned within it, and have an EBR in 12 months. Without
    ``plan``, the same accounts without the join (for a count whose filters do not read the plan)."""
    ebr_since = today - dt.timedelta(days=365)
    window_start = today - dt.timedelta(days=values.new_customer_lookback_days)
    window_end = today - dt.timedelta(days=values.new_customer_days + 1)
    planned_in_time = Exists(
        SuccessPlan.objects.filter(
            account_id=OuterRef("pk"),
            created_at__date__lte=OuterRef("customer_since") + dt.timedelta(days=values.new_customer_days),
        )
    )
    accounts = Account.objects.visible_to(user)
    if plan:
        accounts = accounts.annotate(
            cp=FilteredRelation("success_plans", condition=Q(success_plans__status__in=CURRENT_STATUSES))
        ).annotate(plan_id=F("cp__id"), plan_color=F("cp__color"))
    return accounts.annotate(
        is_new=ExpressionWrapper(
            Q(customer_since__gte=window_start, customer_since__lte=window_end), output_field=BooleanField()
        ),
        planned_in_time=planned_in_time,
        ebr_12m=Exists(
            Ebr.objects.filter(account_id=OuterRef("pk"), status=EbrStatus.COMPLETED, held_on__gte=ebr_since)
        ),
    )


def _review_q(today: dt.date, review_due_days: int) -> Any:
    """Current plans with no completed manager review in the last ``review_due_days`` days (a setting)."""
    recent = PlanReview.objects.filter(
        plan__account_id=OuterRef("pk"),
        plan__status__in=CURRENT_STATUSES,
        kind=ReviewKind.MANAGER,
        status=ReviewStatus.COMPLETED,
        completed_at__gte=timezone.now() - dt.timedelta(days=review_due_days),
    )
    return Q(cp__id__isnull=False) & ~Exists(recent)


def _filtered(qs: Any, f: PlanFilters, *, today: dt.date, review_due_days: int, coverage: bool = False) -> Any:
    """The list's filters; ``coverage``: only those the coverage figures follow (region, TAM, segment)."""
    if f.region:
        qs = qs.filter(region_id=f.region)
    if f.tam:
        qs = qs.filter(tam_id=f.tam)
    if f.segment:
        qs = qs.filter(_segment_q(f.segment))
    if coverage:
        return qs
    if f.priority:
        qs = qs.filter(priority=f.priority)
    if f.color == "none":
        qs = qs.filter(cp__id__isnull=True)
    elif f.color == "red":
        qs = qs.filter(Q(cp__id__isnull=True) | Q(cp__color="red"))
    elif f.color:
        qs = qs.filter(cp__color=f.color)
    if f.needs_review:
        qs = qs.filter(_review_q(today, review_due_days))
    if f.cohort:
        qs = qs.filter(is_new=True)
        if f.cohort == "new_planned":
            qs = qs.filter(planned_in_time=True)
        elif f.cohort == "new_unplanned":
            qs = qs.filter(planned_in_time=False)
    if f.ebr == "yes":
        qs = qs.filter(ebr_12m=True)
    elif f.ebr == "no":
        qs = qs.filter(ebr_12m=False)
    return qs


@dataclass
class Figure:
    """One line of the coverage: P1 with a green plan, new customers planned in time, P1 with an EBR in 12 months;
    ``query`` is the list filter of the group, each number links to its list."""

    label: str
    query: dict[str, Any]
    p1: int = 0
    p1_green: int = 0
    new: int = 0
    new_planned: int = 0
    p1_ebr: int = 0

    @property
    def qs(self) -> str:
        """The group's list filter as a query string (``region=3``), for the links of its numbers."""
        return urlencode(self.query)

    @staticmethod
    def pct(part: int, whole: int) -> int | None:
        return round(100 * part / whole) if whole else None

    @property
    def green_pct(self) -> int | None:
        return self.pct(self.p1_green, self.p1)

    @property
    def new_pct(self) -> int | None:
        return self.pct(self.new_planned, self.new)

    @property
    def ebr_pct(self) -> int | None:
        return self.pct(self.p1_ebr, self.p1)

    def add(self, row: dict[str, Any]) -> None:
        for key in ("p1", "p1_green", "new", "new_planned", "p1_ebr"):
            setattr(self, key, getattr(self, key) + row[key])


@dataclass
class Coverage:
    total: Figure
    groups: dict[str, list[Figure]] = field(default_factory=dict)
    ebr_target: int = 75


def coverage(*, user: User, filters: PlanFilters, today: dt.date | None = None, groups: bool = True) -> Coverage:
    """The coverage figures of ``user``'s scope (and the list's region, TAM and segment filters): one grouped query
    by (region, TAM, segment, engagement model), summed per dimension here."""
    today = today or timezone.localdate()
    values = live_settings()
    qs = _filtered(
        _annotated(user, today, values), filters, today=today, review_due_days=values.review_due_days, coverage=True
    )
    p1 = Q(priority=1)
    counts = {
        "p1": Count("pk", filter=p1),
        "p1_green": Count("pk", filter=p1 & Q(cp__color="green")),
        "new": Count("pk", filter=Q(is_new=True)),
        "new_planned": Count("pk", filter=Q(is_new=True, planned_in_time=True)),
        "p1_ebr": Count("pk", filter=p1 & Q(ebr_12m=True)),
    }
    if not groups:
        # The totals alone (the page's head): one row, nothing to roll up.
        total = Figure("All", {})
        total.add(qs.order_by().aggregate(**counts))
        return Coverage(total=total, ebr_target=values.ebr_target_pct)
    rows: list[dict[str, Any]] = list(
        qs.order_by().values("region_id", "tam_id", "segment", "engagement_model").annotate(**counts)
    )
    region_names = dict(Region.objects.filter(pk__in={r["region_id"] for r in rows}).values_list("pk", "name"))
    tam_names = dict(
        User.objects.filter(pk__in={r["tam_id"] for r in rows if r["tam_id"]}).values_list("pk", "full_name")
    )
    total = Figure("All", {})
    dims: dict[str, dict[Any, Figure]] = defaultdict(dict)
    segment_labels = dict(Segment.choices)
    model_labels = dict(EngagementModel.choices)
    for row in rows:
        total.add(row)
        keys = {
            "Region": (row["region_id"], region_names.get(row["region_id"], "?"), {"region": row["region_id"]}),
            "TAM": (
                row["tam_id"] or 0,
                tam_names.get(row["tam_id"], "No TAM") if row["tam_id"] else "No TAM",
                {"tam": row["tam_id"]} if row["tam_id"] else None,
            ),
            "Segment": (
                row["segment"],
                segment_labels.get(row["segment"], row["segment"]),
                {"segment": row["segment"]},
            ),
            "Engagement model": (
                row["engagement_model"],
                model_labels.get(row["engagement_model"], "Not set"),
                None,
            ),
        }
        for dim, (key, label, query) in keys.items():
            figure = dims[dim].get(key)
            if figure is None:
                figure = dims[dim][key] = Figure(label, query if query is not None else {})
                figure.linkable = query is not None  # type: ignore[attr-defined]
            figure.add(row)
    by_dim = {dim: sorted(figs.values(), key=lambda f: f.label) for dim, figs in dims.items()}
    return Coverage(total=total, groups=by_dim, ebr_target=values.ebr_target_pct)


@dataclass
class PlanPage:
    rows: list[Any]
    count: int
    page: int
    pages: int


def plan_rows(*, user: User, filters: PlanFilters, today: dt.date | None = None) -> PlanPage:
    """One page of the list: accounts with their current plan's status, color and reasons, and last review."""
    today = today or timezone.localdate()
    conf = live_settings()
    qs = _filtered(_annotated(user, today, conf), filters, today=today, review_due_days=conf.review_due_days)
    if filters.color or filters.needs_review:
        count = qs.count()
    else:
        # The current plan is one row at most per account, so its LEFT JOIN cannot change the count: without it
        # the count is an index-only scan of the accounts (PostgreSQL does not drop the join itself, and at
        # 100,000 accounts it was most of the gap between the page and the hand-written SQL).
        count = _filtered(
            _annotated(user, today, conf, plan=False), filters, today=today, review_due_days=conf.review_due_days
        ).count()
    pages = max(1, -(-count // PAGE_SIZE))
    page = min(filters.page, pages)
    start = (page - 1) * PAGE_SIZE
    rows = list(
        qs.select_related("region", "tam")
        .annotate(plan_status=F("cp__status"), plan_reasons=F("cp__color_reasons"))
        .order_by("name", "id")[start : start + PAGE_SIZE]
    )
    plan_ids = [r.plan_id for r in rows if r.plan_id]
    last = dict(
        PlanReview.objects.filter(plan_id__in=plan_ids, kind=ReviewKind.MANAGER, status=ReviewStatus.COMPLETED)
        .order_by()
        .values("plan_id")
        .annotate(last=Max("completed_at"))
        .values_list("plan_id", "last")
    )
    for row in rows:
        row.last_review = last.get(row.plan_id)
    return PlanPage(rows=rows, count=count, page=page, pages=pages)


def list_choices(*, user: User) -> dict[str, Any]:
    """The filters' choices: regions and TAMs of the user's scope."""
    region_scope = policy.account_scope(user)
    accounts = Account.objects.all() if region_scope is None else Account.objects.filter(region_scope)
    from tamarind.people.models import Role

    regions = Region.objects.order_by("name")
    if region_scope is not None:
        regions = regions.filter(pk__in=accounts.values("region_id"))
    region_rows = list(regions.values_list("pk", "name"))
    # The TAMs of the regions in scope (a cheap filter on people, not a scan of the book for its owners).
    tams = User.objects.filter(role=Role.TAM)
    if region_scope is not None:
        tams = tams.filter(region_id__in=[pk for pk, _ in region_rows])
    return {
        "regions": region_rows,
        "tams": list(tams.order_by("full_name").values_list("pk", "full_name")),
        "segments": [*Segment.choices, ("commercial", "Commercial (SMB + Mid-Market)")],
    }


# --- Review picks -----------------------------------------------------------------------------------------------------


@dataclass
class Pick:
    plan: SuccessPlan
    last_review: dt.datetime | None


def review_picks(*, user: User, per_tam: int = 2) -> list[tuple[User, list[Pick]]]:
    """The plans a manager might review at each TAM's next 1:1: ``per_tam`` per TAM, never-reviewed first, then the
    oldest manager review first (then the oldest plan)."""
    plans = (
        SuccessPlan.objects.visible_to(user)
        .current()
        .filter(account__tam__isnull=False)
        .select_related("account", "account__tam")
        .annotate(
            last_review=Max(
                "reviews__completed_at",
                filter=Q(reviews__kind=ReviewKind.MANAGER, reviews__status=ReviewStatus.COMPLETED),
            )
        )
        .order_by(F("last_review").asc(nulls_first=True), "created_at", "id")
    )
    by_tam: dict[int, list[Pick]] = defaultdict(list)
    tams: dict[int, User] = {}
    for plan in plans.iterator(chunk_size=2000):
        tam = plan.account.tam
        assert tam is not None
        if len(by_tam[tam.pk]) < per_tam:
            by_tam[tam.pk].append(Pick(plan=plan, last_review=plan.last_review))
            tams[tam.pk] = tam
    return sorted(((tams[k], v) for k, v in by_tam.items()), key=lambda item: item[0].full_name)


def plan_colors(account_ids: list[int]) -> dict[int, str]:
    """Account id -> its current success plan's color, for the accounts given (one query; the renewal review's
    success plan column). An account with no current plan is Red, as the color rule says of "no plan"."""
    found = dict(
        SuccessPlan.objects.current().filter(account_id__in=account_ids).values_list("account_id", "color").order_by()
    )
    return {pk: (found.get(pk) or PlanColor.RED) for pk in account_ids}


def success_signals(account_ids: list[int]) -> tuple[dict[int, str], dict[int, dt.date]]:
    """For the health dashboard's indicators: each account's current plan color, and its newest completed EBR's
    day (two queries)."""
    colors = dict(SuccessPlan.objects.current().filter(account_id__in=account_ids).values_list("account_id", "color"))
    ebrs = dict(
        Ebr.objects.filter(account_id__in=account_ids, status=EbrStatus.COMPLETED, held_on__isnull=False)
        .order_by()
        .values("account_id")
        .annotate(last=Max("held_on"))
        .values_list("account_id", "last")
    )
    return {k: v or "none" for k, v in colors.items()}, ebrs
