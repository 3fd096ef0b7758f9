"""Reads behind the manager's cockpit: My week, the TAM Regional Dashboard and the burn-down page.

Each figure comes with the address of the accounts behind it: the account list's own filters where they express
the figure (region, TAM or ``none``, priority, ARR, health, renewal dates), else the burn-down's list of the rows
behind a figure (``reviews:figure``). A constant number of queries whatever the size of the book.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.apps import apps
from django.db.models import Count, F, Q, Sum
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from tamarind import policy
from tamarind.accounts.models import Account, LifecycleStage
from tamarind.people.models import Region, Role, User
from tamarind.reviews import burndown
from tamarind.reviews.checklists import add_quarters, quarter_start
from tamarind.reviews.models import BurndownCount, ReviewKind
from tamarind.reviews.selectors import due_reviews, review_settings

if TYPE_CHECKING:
    from tamarind.reviews.models import ReviewSettings


@functools.cache
def _path(name: str) -> str:
    """``reverse`` once per URL name: it costs milliseconds a call, and the dashboard links hundreds of figures."""
    return reverse(name)


def accounts_url(**params: Any) -> str:
    clean = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{_path('accounts:list')}?{urlencode({'scope': 'all', **clean}, doseq=True)}"


def figure_url(figure: str, **params: Any) -> str:
    clean = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{_path('reviews:figure')}?{urlencode({'figure': figure, **clean})}"


# A stand-in for an id in a link built once and filled in per row (``str.replace``): urlencode leaves it as it is.
_ID = "__ID__"
_ID_NUMBER = 987654321987


@functools.cache
def _id_path(name: str) -> str:
    """``reverse(name, args=[pk])`` with ``_ID`` for the id, built once: a page of a hundred rows fills it in per
    row (``str.replace``) instead of reversing each."""
    return reverse(name, args=[_ID_NUMBER]).replace(str(_ID_NUMBER), _ID)


@dataclass
class Scope:
    """The regions a person's cockpit covers, the region filter applied, and (a TAM) the one TAM."""

    regions: list[Region]
    region_ids: list[int] | None  # None: every region
    tam_id: int | None = None
    arr_min: Decimal | None = None
    arr_max: Decimal | None = None
    errors: dict[str, str] = field(default_factory=dict)

    def accounts(self) -> Any:
        """The accounts counted: the same set the account list shows for the same filters (so every figure's
        link lists exactly the accounts behind it)."""
        return Account.objects.filter(self._filters())

    def of_accounts(self, qs: Any) -> Any:
        """``qs`` (rows with an ``account``) restricted to the accounts counted: the same filters on the joined
        account (not "account in (a subquery)", which PostgreSQL estimates worse); unfiltered when every account
        counts."""
        return qs.filter(self._filters("account__"))

    def _filters(self, prefix: str = "") -> Q:
        q = Q()
        if self.region_ids is not None:
            q &= Q(**{f"{prefix}region_id__in": self.region_ids})
        if self.tam_id is not None:
            q &= Q(**{f"{prefix}tam_id": self.tam_id})
        if self.arr_min is not None:
            q &= Q(**{f"{prefix}arr__gte": self.arr_min})
        if self.arr_max is not None:
            q &= Q(**{f"{prefix}arr__lte": self.arr_max})
        return q

    def link_params(self) -> dict[str, Any]:
        return {"arr_min": self.arr_min, "arr_max": self.arr_max}


def _decimal(raw: Any, name: str, errors: dict[str, str]) -> Decimal | None:
    if raw in (None, ""):
        return None
    try:
        value = Decimal(str(raw).replace(",", ""))
    except ArithmeticError:
        errors[name] = f"{name} must be a number, got {raw!r}."
        return None
    if not value.is_finite() or value < 0 or value > Decimal("1e13"):
        errors[name] = f"{name} must be a number between 0 and 10,000,000,000,000."
        return None
    return value


def scope_for(user: User, params: Any) -> Scope:
    """Parse ``region``, ``arr_min``, ``arr_max``; bad values are dropped and reported (never a 500)."""
    rscope = policy.cockpit_region_scope(user)
    regions = list(Region.objects.filter(rscope) if rscope is not None else Region.objects.all())
    allowed = {r.pk for r in regions}
    errors: dict[str, str] = {}
    region_ids: list[int] | None = None if rscope is None else sorted(allowed)
    raw = params.get("region") if params is not None else None
    if raw not in (None, ""):
        try:
            rid = int(raw)
        except (TypeError, ValueError):
            rid = -1
        if rid in allowed:
            region_ids = [rid]
        else:
            errors["region"] = f"No region {raw!r} you may see."
    scope = Scope(regions=regions, region_ids=region_ids, tam_id=user.pk if policy.cockpit_tam_only(user) else None)
    scope.arr_min = _decimal(params.get("arr_min") if params is not None else None, "arr_min", errors)
    scope.arr_max = _decimal(params.get("arr_max") if params is not None else None, "arr_max", errors)
    scope.errors = errors
    return scope


# --- TAM Regional Dashboard ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkTemplates:
    """A TAM's links with ``_ID`` in place of the TAM's id, as built and as escaped for HTML: made once per page
    and filled in per TAM (``str.replace``; escaping leaves ``_ID`` and digits as they are)."""

    raw: dict[str, str]
    escaped: dict[str, str]

    @classmethod
    def of(cls, raw: dict[str, str]) -> LinkTemplates:
        return cls(raw=raw, escaped={key: escape(link) for key, link in raw.items()})

    def filled(self, tam_id: int, *, escaped: bool = False) -> dict[str, str]:
        sid = str(tam_id)
        return {key: link.replace(_ID, sid) for key, link in (self.escaped if escaped else self.raw).items()}


_NO_LINKS = LinkTemplates(raw={}, escaped={})


# Slots: a director's page holds one per TAM of the book; without a __dict__ each is one object for the
# collector to track, not two.
@dataclass(slots=True)
class TamFigures:
    tam_id: int
    name: str
    region_id: int
    capacity: Decimal
    accounts: int = 0
    arr: Decimal = Decimal(0)
    p1: int = 0
    green: int = 0
    yellow: int = 0
    red: int = 0
    unscored: int = 0
    stale: int = 0
    renew90: int = 0
    onboarding_open: int = 0
    # Priority 1 accounts without a green success plan / without an EBR in 12 months (None: success plans absent).
    p1_no_green_plan: int | None = None
    p1_no_ebr: int | None = None
    templates: LinkTemplates = _NO_LINKS

    @property
    def links(self) -> dict[str, str]:
        """Each figure's address (the account list or the figure's rows) for this TAM."""
        return self.templates.filled(self.tam_id)

    @links.setter
    def links(self, links: dict[str, str]) -> None:
        self.templates = LinkTemplates.of(links)

    @property
    def capacity_pct(self) -> int:
        return int(self.arr * 100 / self.capacity) if self.capacity else 0

    @property
    def p1_share_pct(self) -> int:
        return round(self.p1 * 100 / self.accounts) if self.accounts else 0

    @property
    def plan_coverage_pct(self) -> int | None:
        """Priority 1 accounts with a green plan, in percent (None: no priority 1 account or no success plans)."""
        return _coverage_pct(self.p1, self.p1_no_green_plan)

    @property
    def ebr_coverage_pct(self) -> int | None:
        """Priority 1 accounts with an EBR in the last 12 months, in percent."""
        return _coverage_pct(self.p1, self.p1_no_ebr)


def grouped_int(value: Decimal | int) -> str:
    """What ``floatformat:"0g"`` shows (rounded half up, thousands grouped), without the template filter's cost."""
    return f"{int(Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP)):,}"


# One row of the dashboard's per-TAM table. A director's page has a row for every TAM of every region; written
# with the template language, the rows cost most of the page, so they are formatted here and the template writes
# them out. The markup is the template's; text is escaped as the template does (``html.escape``, which Django's
# ``escape`` calls).
_TAM_ROW = (
    '<tr id="tam-{}">\n<td>{}</td>\n<td><a class="fig-accounts" href="{}">{}</a></td>\n'
    '<td>{} / {} <span class="badge {}">{}%</span></td>\n'
    '<td><a href="{}">{}</a> ({}%)</td>\n'
    '<td><a href="{}">{}</a> / <a href="{}">{}</a> / <a href="{}">{}</a> / <a href="{}">{}</a></td>\n'
    '<td><a href="{}">{}</a></td>\n<td><a href="{}">{}</a></td>\n<td class="coverage">{}</td>\n'
    '<td><a href="{}">{}</a></td>\n</tr>'
)
_COVERAGE = (
    '<span class="muted small">without: <a href="{}" title="Priority 1 accounts without a green success plan">{} plan'
    '</a> · <a href="{}" title="Priority 1 accounts without an EBR in 12 months">{} EBR</a></span>'
)


def tam_row_html(t: TamFigures, *, success_installed: bool) -> SafeString:
    """The per-TAM table's row for ``t`` (the dashboard page): names and links escaped as the template does."""
    links = t.templates.filled(t.tam_id, escaped=True)
    pct = t.capacity_pct
    if links.get("p1_no_green_plan"):
        coverage = _COVERAGE.format(links["p1_no_green_plan"], t.p1_no_green_plan, links["p1_no_ebr"], t.p1_no_ebr)
        if t.p1:
            coverage = f"green plan {t.plan_coverage_pct}% · EBR {t.ebr_coverage_pct}%<br>{coverage}"
    elif success_installed:
        coverage = '<span class="muted">—</span>'
    else:
        coverage = '<span class="muted">available once success plans are installed</span>'
    return mark_safe(  # noqa: S308 - every value is escaped above or is a number
        _TAM_ROW.format(
            t.tam_id,
            escape(t.name),
            links["accounts"],
            t.accounts,
            grouped_int(t.arr),
            grouped_int(t.capacity),
            "red" if pct > 100 else "green" if pct >= 80 else "yellow",
            pct,
            links["p1"],
            t.p1,
            t.p1_share_pct,
            links["green"],
            t.green,
            links["yellow"],
            t.yellow,
            links["red"],
            t.red,
            links["unscored"],
            t.unscored,
            links["stale"],
            t.stale,
            links["onboarding_open"],
            t.onboarding_open,
            coverage,
            links["renew90"],
            t.renew90,
        )
    )


def tam_rows_html(tams: list[TamFigures], *, success_installed: bool) -> SafeString:
    """The per-TAM table's rows as one string (empty: no TAM): a template loop over a director's thousands of
    rows would cost more than formatting them."""
    return mark_safe(  # noqa: S308 - joins rows tam_row_html escaped
        "".join(tam_row_html(t, success_installed=success_installed) for t in tams)
    )


def _coverage_pct(p1: int, missing: int | None) -> int | None:
    return round((p1 - missing) * 100 / p1) if missing is not None and p1 else None


# The success plan coverage figures, counted by the burn-down's own filters (so the figure and its list agree).
COVERAGE_EXCEPTIONS = ("p1_no_green_plan", "p1_no_ebr")


def _coverage_filters(today: dt.date, settings: ReviewSettings) -> dict[str, Q]:
    """The success plan coverage exceptions available (none until success plans are installed), as filters."""
    out = {}
    for key in COVERAGE_EXCEPTIONS:
        q = burndown.success_q(burndown.SUCCESS_HOOKS[key], today, settings)
        if q is not None:
            # The burn-down leaves out accounts that will churn; so does its figure here.
            out[key] = q & ~Q(lifecycle_stage=LifecycleStage.WILL_CHURN)
    return out


def _book_counts(
    scope: Scope, today: dt.date, settings: ReviewSettings, coverage: dict[str, Q] | None = None
) -> list[dict[str, Any]]:
    end90 = today + dt.timedelta(days=settings.renewal_window_days)
    return list(
        scope.accounts()
        .order_by()
        .values("region_id", "tam_id")
        .annotate(
            n=Count("pk"),
            arr=Sum("arr"),
            p1=Count("pk", filter=Q(priority=1)),
            green=Count("pk", filter=Q(health__color="green")),
            yellow=Count("pk", filter=Q(health__color="yellow")),
            red=Count("pk", filter=Q(health__color="red")),
            stale=Count("pk", filter=Q(health__stale=True)),
            renew90=Count("pk", filter=Q(next_renewal_date__gte=today, next_renewal_date__lte=end90)),
            **{key: Count("pk", filter=q) for key, q in (coverage or {}).items()},
        )
    )


def regional_dashboard(user: User, params: Any, *, today: dt.date) -> dict[str, Any]:
    settings = review_settings()
    scope = scope_for(user, params)
    end90 = today + dt.timedelta(days=settings.renewal_window_days)
    lp = scope.link_params()
    coverage = _coverage_filters(today, settings)
    rows = _book_counts(scope, today, settings, coverage)
    from tamarind.onboarding.models import Onboarding

    ob = scope.of_accounts(Onboarding.objects.open())
    onboarding_open = dict(
        ob.order_by().values_list("account__tam_id").annotate(n=Count("pk")).values_list("account__tam_id", "n")
    )
    tam_filter = Q(role=Role.TAM, is_active=True)
    if scope.region_ids is not None:
        tam_filter &= Q(region_id__in=scope.region_ids)
    if scope.tam_id is not None:
        tam_filter &= Q(pk=scope.tam_id)
    # Tuples, not users: a director's page reads every TAM of the book.
    columns = ("pk", "full_name", "region_id", "capacity_arr")
    tams = {t[0]: t for t in User.objects.filter(tam_filter).order_by("full_name").values_list(*columns)}
    owner_ids = {r["tam_id"] for r in rows if r["tam_id"] and r["tam_id"] not in tams}
    if owner_ids:
        tams.update({t[0]: t for t in User.objects.filter(pk__in=owner_ids).values_list(*columns)})
    per_tam: dict[int, TamFigures] = {
        pk: TamFigures(
            tam_id=pk,
            name=name,
            region_id=region_id or 0,
            capacity=capacity if capacity is not None else settings.capacity_arr,
        )
        for pk, name, region_id, capacity in tams.values()
    }
    regions: dict[int, dict[str, Any]] = {
        r.pk: {"region": r, "accounts": 0, "arr": Decimal(0), "p1": 0, "red": 0, "yellow": 0, "stale": 0, "tams": 0}
        for r in scope.regions
        if scope.region_ids is None or r.pk in scope.region_ids
    }
    for row in rows:
        reg = regions.get(row["region_id"])
        if reg is not None:
            reg["accounts"] += row["n"]
            reg["arr"] += row["arr"] or 0
            for k in ("p1", "red", "yellow", "stale"):
                reg[k] += row[k]
        if row["tam_id"] is None:
            continue
        fig = per_tam.get(row["tam_id"])
        if fig is None:
            continue
        fig.accounts += row["n"]
        fig.arr += row["arr"] or 0
        fig.p1 += row["p1"]
        fig.green += row["green"]
        fig.yellow += row["yellow"]
        fig.red += row["red"]
        fig.stale += row["stale"]
        fig.unscored += row["n"] - row["green"] - row["yellow"] - row["red"]
        fig.renew90 += row["renew90"]
        for key in coverage:
            setattr(fig, key, (getattr(fig, key) or 0) + row[key])
    # Each TAM's links differ only by the TAM's id: built once with a placeholder, then filled in per TAM.
    base = {"tam": _ID, **lp}
    link_templates = LinkTemplates.of(
        {
            "accounts": accounts_url(**base),
            "p1": accounts_url(priority=1, **base),
            "green": accounts_url(health="green", **base),
            "yellow": accounts_url(health="yellow", **base),
            "red": accounts_url(health="red", **base),
            "unscored": accounts_url(health="none", **base),
            "renew90": accounts_url(renewal_from=today.isoformat(), renewal_to=end90.isoformat(), **base),
            "stale": figure_url("stale", tam=_ID, **lp),
            "onboarding_open": figure_url("onboarding_open", tam=_ID, **lp),
            **{key: figure_url(key, tam=_ID, **lp) for key in coverage},
        }
    )
    for pk, fig in per_tam.items():
        fig.onboarding_open = onboarding_open.get(pk, 0)
        fig.templates = link_templates
        for key in coverage:
            if getattr(fig, key) is None:
                setattr(fig, key, 0)  # a TAM with no accounts in scope: none missing
        reg = regions.get(fig.region_id)
        if reg is not None:
            reg["tams"] += 1
    for rid, reg in regions.items():
        reg["links"] = {
            "accounts": accounts_url(region=rid, **lp),
            "red": accounts_url(region=rid, health="red", **lp),
            "yellow": accounts_url(region=rid, health="yellow", **lp),
            "p1": accounts_url(region=rid, priority=1, **lp),
            "stale": figure_url("stale", region=rid, **lp),
        }
        reg["p1_share_pct"] = round(reg["p1"] * 100 / reg["accounts"]) if reg["accounts"] else 0
    accounts = scope.accounts()
    # The two lists are rows of the few columns their lines show (values, not accounts with their TAM and
    # region), each linked from a path reversed once.
    detail = _id_path("accounts:detail")
    red_yellow = list(
        accounts.filter(health__color__in=["red", "yellow"])
        .order_by("-arr", "id")
        .values("pk", "name", "arr", health_color=F("health__color"), tam_name=F("tam__full_name"))[:25]
    )
    red_yellow_total = sum(r["red"] + r["yellow"] for r in rows)
    unassigned_qs = accounts.filter(tam__isnull=True, next_renewal_date__gte=today, next_renewal_date__lte=end90)
    unassigned = list(
        unassigned_qs.order_by("next_renewal_date", "id").values("pk", "name", "arr", "next_renewal_date")[:25]
    )
    for row in (*red_yellow, *unassigned):
        row["link"] = detail.replace(_ID, str(row["pk"]))
    unassigned_total = sum(r["renew90"] for r in rows if r["tam_id"] is None)
    region_param = scope.region_ids[0] if scope.region_ids is not None and len(scope.region_ids) == 1 else None
    quarters = renewal_quarters(scope, today, lp)
    return {
        "scope": scope,
        "settings": settings,
        "tams": sorted(per_tam.values(), key=lambda f: (f.region_id, f.name)),
        "regions": list(regions.values()),
        "side_by_side": policy.can_filter_dashboard_by_region(user) and scope.region_ids is None,
        "can_filter_region": len(scope.regions) > 1,
        "red_yellow": red_yellow,
        "red_yellow_total": red_yellow_total,
        "red_yellow_link": accounts_url(region=region_param, health=["red", "yellow"], tam=scope.tam_id, **lp),
        "unassigned": unassigned,
        "unassigned_total": unassigned_total,
        "unassigned_link": accounts_url(
            region=region_param, tam="none", renewal_from=today.isoformat(), renewal_to=end90.isoformat(), **lp
        ),
        "quarters": quarters,
        "success_installed": apps.is_installed("tamarind.success"),
        "renewals_installed": apps.is_installed("tamarind.renewals"),
        "today": today,
        "end90": end90,
    }


# --- figures behind a link that the account list cannot express --------------------------------------------------

FIGURES: dict[str, str] = {
    "stale": "Accounts whose TAM sentiment is stale",
    "onboarding_open": "Open onboardings",
    **{e.key: e.label for e in burndown.EXCEPTIONS},
}


def figure_rows(user: User, params: Any, *, today: dt.date, limit: int = 500) -> dict[str, Any]:
    """The rows behind one figure (``figure``), in the person's scope and the page's filters (``region``,
    ``tam``, ``arr_min``, ``arr_max``). The count is the figure's; the list shows the first ``limit``."""
    from django.http import Http404

    from tamarind.onboarding.models import Onboarding

    figure = params.get("figure", "")
    if figure not in FIGURES:
        raise Http404("No such figure.")
    scope = scope_for(user, params)
    tam_raw = params.get("tam")
    tam_id: int | None = scope.tam_id
    if tam_raw not in (None, "") and scope.tam_id is None:
        try:
            tam_id = int(tam_raw)
        except (TypeError, ValueError):
            scope.errors["tam"] = f"tam must be an id, got {tam_raw!r}."
    accounts = scope.accounts()
    kind = "account"
    if figure == "stale":
        qs: Any = accounts.filter(health__stale=True)
    elif figure == "onboarding_open":
        qs = Onboarding.objects.open().filter(account__in=accounts)
        kind = "onboarding"
    else:
        exc = burndown.BY_KEY[figure]
        found = burndown.rows(exc, burndown.inputs(today))
        if found is None:
            return {"figure": figure, "title": FIGURES[figure], "rows": [], "count": None, "scope": scope, "kind": kind}
        kind = exc.model
        qs = (
            found.filter(pk__in=accounts.values("pk")) if exc.model == "account" else found.filter(account__in=accounts)
        )
    if tam_id is not None and figure in ("stale",):
        qs = qs.filter(**({"tam__isnull": True} if tam_id == 0 else {"tam_id": tam_id}))
    elif tam_id is not None:
        p = "" if kind == "account" else "account__"
        qs = qs.filter(**({f"{p}tam__isnull": True} if tam_id == 0 else {f"{p}tam_id": tam_id}))
    count = qs.count()
    related = ("tam", "region") if kind == "account" else ("account", "account__tam", "account__region")
    rows = list(qs.select_related(*related).order_by("pk")[:limit])
    return {"figure": figure, "title": FIGURES[figure], "rows": rows, "count": count, "scope": scope, "kind": kind}


# --- the burn-down page --------------------------------------------------------------------------------------------


def _history(scope: Scope, *, today: dt.date, weeks: int) -> dict[str, list[tuple[dt.date, int]]]:
    start = today - dt.timedelta(weeks=weeks)
    qs = BurndownCount.objects.filter(day__gte=start, day__lte=today)
    if scope.region_ids is not None:
        qs = qs.filter(region_id__in=scope.region_ids)
    if scope.tam_id is not None:
        qs = qs.filter(tam_id=scope.tam_id)
    out: dict[str, list[tuple[dt.date, int]]] = {}
    for key, day, n in qs.order_by("exception", "day").values_list("exception", "day").annotate(n=Sum("count")):
        out.setdefault(key, []).append((day, n))
    return out


def burndown_lines(
    scope: Scope, *, today: dt.date, weeks: int
) -> tuple[list[dict[str, Any]], dict[str, dict[tuple[int, int], int] | None]]:
    """Each exception now (linked to its rows), a week ago and its daily counts over ``weeks``; and the live
    counts per (region, TAM) they add up."""
    i = burndown.inputs(today)
    live = burndown.counts(i, region_ids=scope.region_ids, tam_id=scope.tam_id)
    now = {key: None if cells is None else sum(cells.values()) for key, cells in live.items()}
    return _lines(scope, now, today=today, weeks=weeks), live


def burndown_headline(scope: Scope, *, today: dt.date) -> list[dict[str, Any]]:
    """``burndown_lines`` over the last two weeks for a page that shows only the totals (My week): each exception
    counted over the whole scope, not per (region, TAM)."""
    i = burndown.inputs(today)
    now = burndown.totals(i, region_ids=scope.region_ids, tam_id=scope.tam_id)
    return _lines(scope, now, today=today, weeks=2)


def _lines(scope: Scope, now: dict[str, int | None], *, today: dt.date, weeks: int) -> list[dict[str, Any]]:
    history = _history(scope, today=today, weeks=weeks)
    week_ago = today - dt.timedelta(days=7)
    lines = []
    for exc in burndown.EXCEPTIONS:
        total = now[exc.key]
        series = history.get(exc.key, [])
        last_week = next((n for d, n in reversed(series) if d <= week_ago), None)
        lines.append(
            {
                "key": exc.key,
                "label": exc.label,
                "total": total,
                "last_week": last_week,
                "delta": None if total is None or last_week is None else total - last_week,
                "available": total is not None,
                "notice": "" if total is not None else "Available once success plans are installed.",
                "link": figure_url(exc.key, region=_region_param(scope), **scope.link_params()),
                "series": [{"x": d.isoformat(), "y": n} for d, n in series],
            }
        )
    return lines


def burndown_page(user: User, params: Any, *, today: dt.date, weeks: int = 12) -> dict[str, Any]:
    scope = scope_for(user, params)
    lines, live = burndown_lines(scope, today=today, weeks=weeks)
    tams = {
        u.pk: u
        for u in User.objects.filter(
            Q(role=Role.TAM) & (Q(region_id__in=scope.region_ids) if scope.region_ids is not None else Q())
        ).only("pk", "full_name")
    }
    per_tam: dict[int, dict[str, int]] = {}
    for exc in burndown.EXCEPTIONS:
        cells = live[exc.key]
        if cells is not None:
            for (_, tid), n in cells.items():
                per_tam.setdefault(tid, {})[exc.key] = per_tam.setdefault(tid, {}).get(exc.key, 0) + n
    # Each TAM's cell links differ only by the TAM's id: built once, filled in per TAM.
    link_templates = [(e.key, figure_url(e.key, tam=_ID, region=_region_param(scope))) for e in burndown.EXCEPTIONS]
    tam_rows = [
        {
            "tam_id": tid,
            "name": tams[tid].full_name if tid in tams else ("No TAM" if tid == 0 else f"#{tid}"),
            "cells": [
                {"n": per_tam[tid].get(key, 0), "link": link.replace(_ID, str(tid))} for key, link in link_templates
            ],
        }
        for tid in sorted(per_tam, key=lambda t: (t == 0, tams[t].full_name if t in tams else ""))
    ]
    return {"scope": scope, "lines": lines, "tam_rows": tam_rows, "exceptions": burndown.EXCEPTIONS, "today": today}


def _region_param(scope: Scope) -> int | None:
    return scope.region_ids[0] if scope.region_ids is not None and len(scope.region_ids) == 1 else None


# --- My week ------------------------------------------------------------------------------------------------------


def my_week(user: User, *, today: dt.date) -> dict[str, Any]:
    from tamarind.assignment.selectors import staffing_preview

    reviews = due_reviews(user, today=today)
    detail = _id_path("reviews:detail")
    for r in reviews:
        r.link = detail.replace(_ID, str(r.pk))  # type: ignore[attr-defined]
    overdue = [r for r in reviews if r.due_on < today]
    todays_one_on_ones = [r for r in reviews if r.kind == ReviewKind.ONE_ON_ONE and r.due_on == today]
    upcoming = [r for r in reviews if r.due_on >= today and r not in todays_one_on_ones]
    headline = burndown_headline(scope_for(user, {}), today=today)
    to_staff, to_staff_count = staffing_preview(user, limit=10) if policy.can_view_staffing(user) else ([], 0)
    account = _id_path("accounts:detail")
    for q in to_staff:
        q.link = account.replace(_ID, str(q.account_id))  # type: ignore[attr-defined]
    return {
        "today": today,
        "overdue": overdue,
        "todays_one_on_ones": todays_one_on_ones,
        "upcoming": upcoming,
        "to_staff": to_staff,
        "to_staff_count": to_staff_count,
        "lines": headline,
    }


def _fiscal_start_month() -> int | None:
    """The renewals setting's first month of the fiscal year; None while renewals are not installed."""
    if not apps.is_installed("tamarind.renewals"):
        return None
    from tamarind.renewals.selectors import renewal_settings

    return renewal_settings().fiscal_start_month


def _quarter_bounds(today: dt.date, start_month: int | None = -1) -> list[tuple[str, str, dt.date, dt.date]]:
    """This quarter and the next three as (label, key, first day, last day): fiscal quarters that follow the
    renewals setting (``start_month``, read when not given) once renewals are installed, calendar quarters before."""
    if start_month == -1:
        start_month = _fiscal_start_month()
    if start_month is not None:
        from tamarind.renewals.quarters import quarters_from

        fiscal = quarters_from(today, 4, start_month)
        return [(q.label, q.key, q.start, q.end) for q in fiscal]
    q0 = quarter_start(today)
    out = []
    for n in range(4):
        a = add_quarters(q0, n)
        out.append((f"Q{(a.month - 1) // 3 + 1} {a.year}", "", a, add_quarters(q0, n + 1) - dt.timedelta(days=1)))
    return out


def renewal_quarters(scope: Scope, today: dt.date, lp: dict[str, Any]) -> list[dict[str, Any]]:
    """Renewals by quarter for the dashboard: the accounts whose next renewal falls in each quarter (count and
    ARR, linked to that account list) and, once renewals are installed, the quarter's renewals by forecast (ARR at
    risk, expected), linked to the quarter on the renewal review page. Two aggregate queries whatever the book."""
    start_month = _fiscal_start_month()
    bounds = _quarter_bounds(today, start_month)
    accounts = scope.accounts()
    by_q = accounts.filter(next_renewal_date__gte=bounds[0][2], next_renewal_date__lte=bounds[-1][3])
    agg = by_q.aggregate(
        **{
            f"n{n}": Count("pk", filter=Q(next_renewal_date__gte=a, next_renewal_date__lte=b))
            for n, (_, _, a, b) in enumerate(bounds)
        },
        **{
            f"arr{n}": Sum("arr", filter=Q(next_renewal_date__gte=a, next_renewal_date__lte=b))
            for n, (_, _, a, b) in enumerate(bounds)
        },
    )
    region_param = scope.region_ids[0] if scope.region_ids is not None and len(scope.region_ids) == 1 else None
    quarters: list[dict[str, Any]] = [
        {
            "label": label,
            "count": agg[f"n{n}"],
            "arr": agg[f"arr{n}"] or Decimal(0),
            "link": accounts_url(
                region=region_param, renewal_from=a.isoformat(), renewal_to=b.isoformat(), tam=scope.tam_id, **lp
            ),
            "at_risk": None,
            "expected": None,
            "review_link": "",
        }
        for n, (label, _, a, b) in enumerate(bounds)
    ]
    if start_month is not None:
        from tamarind.renewals.models import Renewal
        from tamarind.renewals.quarters import parse_quarter_key
        from tamarind.renewals.selectors import quarter_totals

        fiscal = [q for q in (parse_quarter_key(key, start_month) for _, key, _, _ in bounds) if q is not None]
        blocks = quarter_totals(scope.of_accounts(Renewal.objects.all()), fiscal)
        params = urlencode({k: v for k, v in (("region", region_param), ("tam", scope.tam_id)) if v})
        base = _path("renewals:review") + (f"?{params}" if params else "")
        for row, block in zip(quarters, blocks, strict=True):
            row["at_risk"] = block.at_risk
            row["expected"] = block.expected
            row["renewals"] = block.count
            row["review_link"] = f"{base}#quarter-{block.quarter.key}"
    return quarters
