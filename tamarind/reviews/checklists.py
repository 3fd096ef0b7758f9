"""Where a review's checklist and a 1:1's agenda come from: a plain registry of sections per review kind, each a
small provider function over live data.

``REGISTRY[kind]`` lists the ``Section``s of a kind in order. A provider takes a ``ChecklistContext`` (the
region, the TAM of a 1:1, today, the settings) and returns a ``SectionResult``: the items that need a decision
(``ItemDraft``) and the total before the cap. Opening a review (``services.review_open``) calls every provider of
its kind once and stores what they returned as rows, so a completed review keeps the items as they stood.

Success plans (issue 10) and renewals (issue 11) are apps of their own, built apart from this one. Their sections
are registered here already (so cadences and occurrences exist), and their providers look the app up at run time:

- not installed (``django.apps.apps.is_installed``): the section shows "available once ... are installed";
- installed: the provider calls ``tamarind.<app>.review_hooks.<name>(ctx) -> list[ItemDraft]`` (the names are in
  ``OPTIONAL_HOOKS``). Until that module exists the section says the app is installed but not wired yet.

So wiring a landed app is: add ``tamarind/<app>/review_hooks.py`` with the functions named in ``OPTIONAL_HOOKS``.
Renewals have a fallback that needs no app: accounts whose ``next_renewal_date`` falls in the window.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.db.models import QuerySet
from django.urls import reverse

from tamarind.reviews.models import ReviewKind

if TYPE_CHECKING:
    from tamarind.accounts.models import Account
    from tamarind.people.models import User
    from tamarind.reviews.models import ReviewSettings

# The most items one section stores; the rest are counted (``SectionResult.total``) and named in the notice.
SECTION_CAP = 100


@dataclass(frozen=True)
class ItemDraft:
    """One item a provider proposes: what it is about (``key``), how it reads, the account, and its figures."""

    key: str
    label: str
    account_id: int | None = None
    account_name: str = ""
    link: str = ""
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass
class SectionResult:
    items: list[ItemDraft]
    total: int | None = None  # before the cap; None: len(items)
    notice: str = ""


@dataclass(frozen=True)
class ChecklistContext:
    region_id: int
    today: dt.date
    settings: ReviewSettings
    tam: User | None = None  # the TAM of a 1:1: sections read their book only


Provider = Callable[[ChecklistContext], SectionResult]


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    provider: Provider


REGISTRY: dict[str, list[Section]] = {kind: [] for kind in ReviewKind.values}


def register(kind: str, key: str, title: str) -> Callable[[Provider], Provider]:
    """Register ``provider`` as section ``key`` of review kind ``kind`` (in the order of registration)."""

    def wrap(provider: Provider) -> Provider:
        if kind not in REGISTRY:
            raise ValueError(f"Unknown review kind {kind!r}")
        REGISTRY[kind] = [s for s in REGISTRY[kind] if s.key != key] + [Section(key, title, provider)]
        return provider

    return wrap


# --- helpers ------------------------------------------------------------------------------------------------------


def _accounts(ctx: ChecklistContext) -> QuerySet[Account]:
    from tamarind.accounts.models import Account, LifecycleStage

    qs = Account.objects.filter(region_id=ctx.region_id).exclude(lifecycle_stage=LifecycleStage.WILL_CHURN)
    return qs.filter(tam=ctx.tam) if ctx.tam is not None else qs


def _capped(rows: list[ItemDraft], total: int) -> SectionResult:
    notice = f"Showing {len(rows)} of {total}; the list behind the figure has them all." if total > len(rows) else ""
    return SectionResult(items=rows, total=total, notice=notice)


@functools.cache
def _url_pattern(name: str) -> str:
    """``reverse`` once per URL name (it costs milliseconds a call, and a checklist has hundreds of links)."""
    return reverse(name, args=[987654321])


def _url(name: str, pk: int) -> str:
    return _url_pattern(name).replace("987654321", str(pk))


def _account_link(account_id: int) -> str:
    return _url("accounts:detail", account_id)


def _money(value: Any) -> str:
    return f"{value:,.0f}" if value is not None else ""


def health_rows(ctx: ChecklistContext, colors: list[str]) -> QuerySet[Account]:
    """Accounts of the context whose current health color is one of ``colors`` (the same filter the account
    list's ``health=`` applies)."""
    return _accounts(ctx).filter(health__color__in=colors)


def stale_rows(ctx: ChecklistContext) -> QuerySet[Account]:
    """Accounts whose TAM sentiment is stale (``HealthScore.stale``, the health model's staleness setting)."""
    return _accounts(ctx).filter(health__stale=True)


def _account_items(qs: QuerySet[Account], key: str, what: str) -> SectionResult:
    total = qs.count()
    rows = list(
        qs.select_related("tam")
        .order_by("-arr", "id")
        .values(
            "pk", "name", "arr", "priority", "tam__full_name", "health__color", "health__score", "health__sentiment_on"
        )[:SECTION_CAP]
    )
    items = [
        ItemDraft(
            key=f"{key}:{r['pk']}",
            label=f"{r['name']}: {what}",
            account_id=r["pk"],
            account_name=r["name"],
            link=_account_link(r["pk"]),
            facts={
                "arr": _money(r["arr"]),
                "priority": r["priority"],
                "tam": r["tam__full_name"] or "—",
                "health": r["health__color"] or "not scored",
                "score": r["health__score"],
                "sentiment_on": r["health__sentiment_on"].isoformat() if r["health__sentiment_on"] else None,
            },
        )
        for r in rows
    ]
    return _capped(items, total)


# --- new account assignment ---------------------------------------------------------------------------------------


def staffing_rows(ctx: ChecklistContext) -> QuerySet[Any]:
    """Qualifying accounts of the region with no TAM: ``assignment``'s "New accounts to staff"."""
    from tamarind.assignment.models import Qualification

    return Qualification.objects.to_staff().filter(account__region_id=ctx.region_id)


@register(ReviewKind.NEW_ACCOUNTS, "to_staff", "New accounts to staff")
def new_accounts_to_staff(ctx: ChecklistContext) -> SectionResult:
    qs = staffing_rows(ctx)
    total = qs.count()
    rows = qs.order_by("-qualified_at", "account__name").values(
        "account_id", "account__name", "account__arr", "account__segment", "qualified_at"
    )[:SECTION_CAP]
    items = [
        ItemDraft(
            key=f"to_staff:{r['account_id']}",
            label=f"{r['account__name']}: qualifies, no TAM yet",
            account_id=r["account_id"],
            account_name=r["account__name"],
            link=_account_link(r["account_id"]),
            facts={
                "arr": _money(r["account__arr"]),
                "segment": r["account__segment"],
                "qualified_on": r["qualified_at"].date().isoformat() if r["qualified_at"] else None,
            },
        )
        for r in rows
    ]
    return _capped(items, total)


# --- onboarding ---------------------------------------------------------------------------------------------------


def onboarding_over_target_rows(ctx: ChecklistContext) -> QuerySet[Any]:
    """Open onboardings of the context past a time-to-value target without its milestone."""
    from tamarind.onboarding.models import Onboarding
    from tamarind.onboarding.selectors import any_overdue_q, onboarding_targets

    qs = Onboarding.objects.open().filter(account__region_id=ctx.region_id)
    qs = qs.filter(any_overdue_q(onboarding_targets().as_days(), ctx.today))
    return qs.filter(tam=ctx.tam) if ctx.tam is not None else qs


def onboarding_unassigned_rows(ctx: ChecklistContext) -> QuerySet[Any]:
    from tamarind.onboarding.models import Onboarding

    return Onboarding.objects.open().filter(account__region_id=ctx.region_id, tam__isnull=True)


def _onboarding_items(qs: QuerySet[Any], key: str, what: str) -> SectionResult:
    total = qs.count()
    rows = qs.order_by("onboarding_start", "id").values(
        "pk", "account_id", "account__name", "tam__full_name", "status", "onboarding_start", "contract_start"
    )[:SECTION_CAP]
    items = [
        ItemDraft(
            key=f"{key}:{r['pk']}",
            label=f"{r['account__name']}: {what}",
            account_id=r["account_id"],
            account_name=r["account__name"],
            link=_url("onboarding:detail", r["pk"]),
            facts={
                "status": r["status"],
                "tam": r["tam__full_name"] or "unassigned",
                "onboarding_start": r["onboarding_start"].isoformat() if r["onboarding_start"] else None,
                "contract_start": r["contract_start"].isoformat() if r["contract_start"] else None,
            },
        )
        for r in rows
    ]
    return _capped(items, total)


@register(ReviewKind.ONBOARDING, "over_target", "Onboardings over target")
def onboarding_over_target(ctx: ChecklistContext) -> SectionResult:
    return _onboarding_items(onboarding_over_target_rows(ctx), "onboarding_over", "onboarding over target")


@register(ReviewKind.ONBOARDING, "unassigned", "Unassigned onboardings")
def onboarding_unassigned(ctx: ChecklistContext) -> SectionResult:
    return _onboarding_items(onboarding_unassigned_rows(ctx), "onboarding_unassigned", "onboarding without a TAM")


# --- triage and health --------------------------------------------------------------------------------------------


def triage_due_rows(ctx: ChecklistContext) -> QuerySet[Any]:
    """Open triage cases of the context not updated within their color's cadence (``TriageCase.overdue``)."""
    from tamarind.triage.models import TriageCase
    from tamarind.triage.selectors import triage_settings

    qs = TriageCase.objects.overdue(triage_settings()).filter(account__region_id=ctx.region_id)
    return qs.filter(account__tam=ctx.tam) if ctx.tam is not None else qs


@register(ReviewKind.TRIAGE_HEALTH, "red", "Red accounts")
def triage_red(ctx: ChecklistContext) -> SectionResult:
    return _account_items(health_rows(ctx, ["red"]), "red", "health red")


@register(ReviewKind.TRIAGE_HEALTH, "yellow", "Yellow accounts")
def triage_yellow(ctx: ChecklistContext) -> SectionResult:
    return _account_items(health_rows(ctx, ["yellow"]), "yellow", "health yellow")


@register(ReviewKind.TRIAGE_HEALTH, "stale", "Stale health reviews")
def triage_stale(ctx: ChecklistContext) -> SectionResult:
    return _account_items(stale_rows(ctx), "stale", "TAM sentiment out of date")


def _triage_items(ctx: ChecklistContext) -> SectionResult:
    qs = triage_due_rows(ctx)
    total = qs.count()
    rows = qs.order_by("last_update_at", "id").values(
        "pk", "account_id", "account__name", "status", "health_color", "last_update_at", "owner__full_name"
    )[:SECTION_CAP]
    items = [
        ItemDraft(
            key=f"triage_due:{r['pk']}",
            label=f"{r['account__name']}: triage case due an update",
            account_id=r["account_id"],
            account_name=r["account__name"],
            link=_url("triage:detail", r["pk"]),
            facts={
                "status": r["status"],
                "health_at_open": r["health_color"],
                "last_update": r["last_update_at"].date().isoformat(),
                "owner": r["owner__full_name"] or "—",
            },
        )
        for r in rows
    ]
    return _capped(items, total)


register(ReviewKind.TRIAGE_HEALTH, "triage_due", "Triage cases due an update")(_triage_items)


# --- renewals (fallback from the account book; the renewals app adds forecasts) -------------------------------------


def quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def add_quarters(day: dt.date, n: int) -> dt.date:
    month0 = day.month - 1 + 3 * n
    return dt.date(day.year + month0 // 12, month0 % 12 + 1, 1)


def renewal_rows(ctx: ChecklistContext, quarters: int) -> QuerySet[Account]:
    """Accounts of the context whose next renewal falls in this quarter or the ``quarters - 1`` after it."""
    start = quarter_start(ctx.today)
    end = add_quarters(start, quarters) - dt.timedelta(days=1)
    return _accounts(ctx).filter(next_renewal_date__gte=ctx.today, next_renewal_date__lte=end)


def _renewal_items(ctx: ChecklistContext, quarters: int) -> SectionResult:
    qs = renewal_rows(ctx, quarters)
    total = qs.count()
    rows = qs.order_by("next_renewal_date", "id").values(
        "pk", "name", "arr", "next_renewal_date", "tam__full_name", "health__color", "health__stale"
    )[:SECTION_CAP]
    items = [
        ItemDraft(
            key=f"renewal:{r['pk']}:{r['next_renewal_date']}",
            label=f"{r['name']}: renews {r['next_renewal_date']:%Y-%m-%d}",
            account_id=r["pk"],
            account_name=r["name"],
            link=_account_link(r["pk"]),
            facts={
                "arr": _money(r["arr"]),
                "renewal": str(r["next_renewal_date"]),
                "tam": r["tam__full_name"] or "—",
                "health": r["health__color"] or "not scored",
                "health_up_to_date": not r["health__stale"],
            },
        )
        for r in rows
    ]
    result = _capped(items, total)
    if not apps.is_installed("tamarind.renewals"):
        result.notice = " ".join(
            filter(None, [result.notice, "Forecasts available once renewals are installed; dates from the account."])
        )
    return result


@register(ReviewKind.RENEWAL, "renewals", "Renewals this quarter and the next two")
def renewal_upcoming(ctx: ChecklistContext) -> SectionResult:
    return _renewal_items(ctx, 3)


# --- the optional apps -------------------------------------------------------------------------------------------

APP_LABELS = {"tamarind.success": "success plans", "tamarind.renewals": "renewals"}
# (kind, section key) -> (app, hook function in tamarind.<app>.review_hooks, section title)
OPTIONAL_HOOKS: dict[tuple[str, str], tuple[str, str, str]] = {
    (ReviewKind.SUCCESS_PLAN, "plans_not_green"): ("tamarind.success", "plans_not_green", "Success plans not green"),
    (ReviewKind.SUCCESS_PLAN, "plans_to_review"): ("tamarind.success", "plans_to_review", "Plans picked for review"),
    (ReviewKind.SUCCESS_PLAN, "ebrs_due"): ("tamarind.success", "ebrs_due", "EBRs due"),
    (ReviewKind.RENEWAL, "forecast"): ("tamarind.renewals", "renewal_forecast", "Renewal forecasts and next steps"),
    (ReviewKind.ONE_ON_ONE, "plans_not_green"): ("tamarind.success", "plans_not_green", "Success plans not green"),
    (ReviewKind.ONE_ON_ONE, "plans_to_review"): (
        "tamarind.success",
        "plans_to_review",
        "The two plans picked for review",
    ),
    (ReviewKind.ONE_ON_ONE, "ebrs_due"): ("tamarind.success", "ebrs_due", "EBRs due"),
}


def optional_provider(app: str, hook: str) -> Provider:
    """A provider that asks ``tamarind.<app>.review_hooks.<hook>(ctx)`` for its items, if the app is installed."""

    def provide(ctx: ChecklistContext) -> SectionResult:
        label = APP_LABELS.get(app, app)
        if not apps.is_installed(app):
            return SectionResult(items=[], notice=f"Available once {label} are installed.")
        try:
            module = importlib.import_module(f"{app}.review_hooks")
        except ModuleNotFoundError:
            return SectionResult(items=[], notice=f"{label.capitalize()} are installed but not wired to reviews yet.")
        func = getattr(module, hook, None)
        if func is None:
            return SectionResult(items=[], notice=f"{label.capitalize()} are installed but not wired to reviews yet.")
        items = list(func(ctx))
        return _capped(items[:SECTION_CAP], len(items))

    return provide


# --- the 1:1 agenda ----------------------------------------------------------------------------------------------


@register(ReviewKind.ONE_ON_ONE, "onboarding_over", "Onboardings over target")
def agenda_onboarding(ctx: ChecklistContext) -> SectionResult:
    return _onboarding_items(onboarding_over_target_rows(ctx), "onboarding_over", "onboarding over target")


@register(ReviewKind.ONE_ON_ONE, "red", "Red accounts")
def agenda_red(ctx: ChecklistContext) -> SectionResult:
    return triage_red(ctx)


@register(ReviewKind.ONE_ON_ONE, "yellow", "Yellow accounts")
def agenda_yellow(ctx: ChecklistContext) -> SectionResult:
    return triage_yellow(ctx)


@register(ReviewKind.ONE_ON_ONE, "stale", "Stale health")
def agenda_stale(ctx: ChecklistContext) -> SectionResult:
    return triage_stale(ctx)


register(ReviewKind.ONE_ON_ONE, "triage_due", "Triage cases due an update")(_triage_items)


for (_kind, _key), (_app, _hook, _title) in OPTIONAL_HOOKS.items():
    if _kind != ReviewKind.RENEWAL:
        register(_kind, _key, _title)(optional_provider(_app, _hook))


@register(ReviewKind.ONE_ON_ONE, "renewals", "Renewals in the next two quarters")
def agenda_renewals(ctx: ChecklistContext) -> SectionResult:
    return _renewal_items(ctx, 2)


register(ReviewKind.RENEWAL, "forecast", OPTIONAL_HOOKS[(ReviewKind.RENEWAL, "forecast")][2])(
    optional_provider(*OPTIONAL_HOOKS[(ReviewKind.RENEWAL, "forecast")][:2])
)


@dataclass
class BuiltSection:
    key: str
    title: str
    total: int
    notice: str
    items: list[ItemDraft]


def build(kind: str, ctx: ChecklistContext) -> list[BuiltSection]:
    """Every section of ``kind`` over live data, in registry order."""
    out = []
    for section in REGISTRY[kind]:
        result = section.provider(ctx)
        total = result.total if result.total is not None else len(result.items)
        out.append(BuiltSection(section.key, section.title, total, result.notice, result.items))
    return out
