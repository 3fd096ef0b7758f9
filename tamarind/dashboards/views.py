"""Dashboard pages: the Customer Onboarding Dashboard and its inline "assign a TAM"; the Customer Health Dashboard."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_http_methods

from tamarind import policy
from tamarind.accounts.models import Account, Segment
from tamarind.assignment.selectors import staffing_outcomes
from tamarind.assignment.views import assign_from_list
from tamarind.core.http import request_user
from tamarind.dashboards import health_html, health_selectors, selectors
from tamarind.health.spec import MEASURE_LABELS
from tamarind.onboarding.selectors import account_onboarding
from tamarind.people.models import User


def _tams_by_region(tams: list[selectors.TamRow]) -> dict[int | None, list[selectors.TamRow]]:
    grouped: dict[int | None, list[selectors.TamRow]] = {}
    for tam in tams:
        if tam.is_active:
            grouped.setdefault(tam.region_id, []).append(tam)
    return grouped


def chart_data(dash: selectors.OnboardingDashboard) -> dict[str, Any]:
    """What the chart script draws: the median time to first value per month of contract start, and the target."""
    return {
        "labels": [m.month.strftime("%b %Y") for m in dash.chart],
        "medians": [m.median for m in dash.chart],
        "reached": [m.reached for m in dash.chart],
        "met": [m.met for m in dash.chart],
        "target": dash.targets.first_value,
    }


@login_required
@require_http_methods(["GET"])
def onboarding_dashboard(request: HttpRequest) -> HttpResponse:
    """The Customer Onboarding Dashboard: per region and per TAM, what is in onboarding, unassigned, over target,
    and how the time-to-value metrics compare with their targets."""
    user = request_user(request)
    if not policy.can_view_onboarding_dashboard(user):
        raise PermissionDenied("The onboarding dashboard is for TAMs, their managers, directors and admins.")
    today = timezone.localdate()
    regions = selectors.dashboard_regions(user)
    filters = selectors.DashboardFilters.from_params(request.GET, user=user, regions=regions, today=today)
    dash = selectors.onboarding_dashboard(
        user, filters, regions=regions, today=today, tam_page=selectors.page_number(request.GET.get("tam_page"))
    )
    pickers = _Pickers(_tams_by_region(dash.tam_choices))
    # What assigning would do to each account's onboarding: the same rule the assignment service applies.
    outcomes = staffing_outcomes(dash.unassigned_accounts)
    # The rows' pickers share their region's <option>s, written once in a <template> and copied into a picker when
    # it is first used (dashboards/assign-picker.js): a hundred rows times hundreds of TAMs is megabytes of page.
    unassigned = [_row(user, o.account, pickers, record=o, shared=True) for o in dash.unassigned_records] + [
        _row(user, a, pickers, outcome=outcomes[a.pk], shared=True) for a in dash.unassigned_accounts
    ]
    shared = sorted({row["account"].region_id for row in unassigned if row["can_assign"]}, key=lambda r: r or 0)
    context = {
        "dash": dash,
        "scope": selectors.onboarding_scope(user, filters, regions=regions),  # what "unassigned" is taken from
        "filters": filters,
        "unassigned": unassigned,
        "picker_options": [(region_id, pickers(region_id)) for region_id in shared],
        "tam_filter_options": _options(dash.tam_choices, selected=filters.tam),
        "chart": chart_data(dash),
        "periods": [(k, label) for k, (label, _) in selectors.PERIODS.items() if k != "custom"],
        "can_filter_region": policy.can_filter_dashboard_by_region(user),
        "can_filter_tam": policy.can_filter_dashboard_by_tam(user),
        "own_only": not policy.can_filter_dashboard_by_tam(user),
        "list_limit": selectors.LIST_LIMIT,
        "onboarding_list_url": reverse("onboarding:list"),  # once, not once per TAM row
    }
    return render(request, "dashboards/onboarding.html", context)


def _options(tams: list[selectors.TamRow], *, selected: int | None = None) -> SafeString:
    """<option>s for ``tams`` (names escaped), joined in Python: a template loop over thousands costs tens of ms."""
    return mark_safe(  # noqa: S308 (every name is escaped)
        "".join(
            f'<option value="{t.pk}"{" selected" if t.pk == selected else ""}>{escape(t.full_name)}</option>'
            for t in tams
        )
    )


class _Pickers:
    """The <option>s of the "assign a TAM" picker, built once per region (a page lists up to a hundred rows, and
    a region has hundreds of TAMs at 100,000 accounts)."""

    def __init__(self, tams: dict[int | None, list[selectors.TamRow]]) -> None:
        self.tams = tams
        self.built: dict[int | None, SafeString] = {}

    def __call__(self, region_id: int | None) -> SafeString:
        if region_id not in self.built:
            self.built[region_id] = _options(self.tams.get(region_id, []))
        return self.built[region_id]


def _row(
    user: User, account: Account, pickers: _Pickers, record: Any = None, *, shared: bool = False, **extra: Any
) -> dict[str, Any]:
    """A row of the Unassigned list; its picker carries its <option>s, or with ``shared`` names its region's."""
    return {
        "account": account,
        "record": record,
        "tam_options": None if shared else pickers(account.region_id),
        "can_assign": policy.can_set_tam(user, account),
        **extra,
    }


@login_required
@require_http_methods(["POST"])
def onboarding_assign(request: HttpRequest, account_id: int) -> HttpResponse:
    """Assign a TAM to an unassigned account from the dashboard (htmx swaps the row). The account service sets
    the TAM; its hook starts (or reassigns) the onboarding record and notifies the TAM."""
    assigned = assign_from_list(request, account_id, back="dashboards:onboarding")
    if assigned.done is not None:
        return assigned.done
    account, error = assigned.account, assigned.error
    user = request_user(request)
    record = account_onboarding(account=account)
    pickers = _Pickers(_tams_by_region(selectors.region_tams(account.region_id)))
    context = _row(user, account, pickers, record=record, assigned=not error, error=error, outcome=assigned.outcome)
    return render(request, "dashboards/_unassigned_row.html", context, status=400 if error else 200)


# --- Customer Health Dashboard: one page, a tab at a time ----------------------------------------------------------

HEALTH_TAB_URLS = {
    "overview": "dashboards:health",
    "lists": "dashboards:health_lists",
    "stale": "dashboards:health_stale",
    "measures": "dashboards:health_measures",
    "indicators": "dashboards:health_indicators",
}
MIX_TITLES = {"region": "Region", "tam": "TAM", "segment": "Segment", "priority": "Priority"}


@login_required
@require_http_methods(["GET"])
def health_dashboard(request: HttpRequest) -> HttpResponse:
    """The Customer Health Dashboard's Overview: totals, the health mix by region, TAM, segment and priority (a
    chart), and its trend (a chart, from the daily snapshots)."""
    return _health_tab(request, "overview")


@login_required
@require_http_methods(["GET"])
def health_lists(request: HttpRequest) -> HttpResponse:
    """Red and yellow accounts, lowest score first, a page of each."""
    return _health_tab(request, "lists")


@login_required
@require_http_methods(["GET"])
def health_stale(request: HttpRequest) -> HttpResponse:
    """Accounts whose TAM sentiment is stale, oldest review first, a page at a time."""
    return _health_tab(request, "stale")


@login_required
@require_http_methods(["GET"])
def health_measures(request: HttpRequest) -> HttpResponse:
    """Each measure's bands and average score across the accounts shown."""
    return _health_tab(request, "measures")


@login_required
@require_http_methods(["GET"])
def health_indicators(request: HttpRequest) -> HttpResponse:
    """The early-warning indicators: how many accounts each fires for, and a page of accounts with what fired and
    why (``indicator`` keeps the accounts one indicator fires for)."""
    return _health_tab(request, "indicators")


def _query(params: dict[str, Any]) -> str:
    """``params`` as a query string ending in ``&`` (empty when none), for links that add one more parameter."""
    text = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return f"{text}&" if text else ""


def _health_tab(request: HttpRequest, tab: str) -> HttpResponse:
    user = request_user(request)
    if not policy.can_view_health_dashboard(user):
        raise PermissionDenied("The health dashboard is for TAMs, their managers, directors and admins.")
    regions = health_selectors.health_regions(user)
    filters = health_selectors.HealthFilters.from_params(request.GET, user=user, regions=regions)
    # The caption (what the counts leave out) is read first: its will-churn count is the overview's too.
    tams = health_selectors.health_tams(user, regions)
    book_scope = health_selectors.health_scope(user, filters, regions=regions, tams=tams)
    dash = health_selectors.health_dashboard(
        user, filters, regions=regions, tab=tab, tams=tams, left_out=book_scope.will_churn
    )
    scope = filters.scope_params()
    scope_query = _query(scope)
    can_filter_tam = policy.can_filter_dashboard_by_tam(user)
    context: dict[str, Any] = {
        "dash": dash,
        "book_scope": book_scope,  # the caption (dashboards/_health_scope.html): what the counts leave out
        "filters": filters,
        "tab": tab,
        "tab_url": reverse(HEALTH_TAB_URLS[tab]),
        "tabs": [(key, label, reverse(HEALTH_TAB_URLS[key])) for key, label in health_selectors.TABS.items()],
        "scope_query": scope_query,
        "scope_qs": urlencode(scope),
        "trend_days": health_selectors.TREND_DAYS,
        "segments": Segment.choices,
        "can_filter_region": policy.can_filter_dashboard_by_region(user),
        "can_filter_tam": can_filter_tam,
        "own_only": not can_filter_tam,
    }
    if dash.overview is not None and dash.trend is not None:
        # By region for those who see several regions, by TAM for those who see several TAMs' accounts.
        shown = [
            k for k in MIX_TITLES if (k != "region" or context["can_filter_region"]) and (k != "tam" or can_filter_tam)
        ]
        context["mix_sections"] = [
            {"key": key, "title": MIX_TITLES[key], "lines": dash.overview.mix[key]} for key in shown
        ]
        context["mix_table"] = health_html.mix_table(context["mix_sections"])
        context["trend_table"] = health_html.trend_table(dash.trend)
        context["chart"] = {
            **health_selectors.overview_figures(dash.overview, dash.trend),
            "dimensions": [{"key": k, "label": MIX_TITLES[k]} for k in shown],
        }
    if dash.red is not None and dash.yellow is not None:
        context["color_lists"] = [
            ("Red accounts", "red", _health_rows(dash.red, dash), _pager(dash.red, "red_page", scope, filters)),
            (
                "Yellow accounts",
                "yellow",
                _health_rows(dash.yellow, dash),
                _pager(dash.yellow, "yellow_page", scope, filters),
            ),
        ]
    if dash.stale is not None:
        context["stale_rows"] = _health_rows(dash.stale, dash)
        context["stale_pager"] = _pager(dash.stale, "stale_page", scope, filters)
    if dash.indicator_totals is not None and dash.page is not None:
        # Trusted indicators (their back-test evidence cleared the admin's thresholds) first, the others shown as
        # "unproven" with a link to their evidence: one query for the labels, whatever the page holds.
        from tamarind.signals.selectors import trusted_keys

        trusted = trusted_keys()
        context["trusted_indicators"] = trusted
        context["signals_link"] = policy.can_view_signals(user)
        context["indicator_totals"] = _indicator_totals(dash, trusted)
        for row in dash.indicators or []:
            row.fired.sort(key=lambda f: f.key not in trusted)  # stable: each group keeps the indicators' order
        context["indicator_label"] = health_selectors.indicators.LABELS.get(filters.indicator or "")
        context["indicators_pager"] = _pager(dash.page, "page", {**scope, "indicator": filters.indicator}, filters)
    template = "dashboards/_health_body.html" if request.headers.get("HX-Request") else "dashboards/health.html"
    return render(request, template, context)


def _pager(page: Any, param: str, scope: dict[str, Any], filters: health_selectors.HealthFilters) -> dict[str, Any]:
    """What a list's pager links to: the same tab with the same filters and the other lists' pages, this one's
    page moved."""
    others = {
        key: getattr(filters, key) for key in health_selectors.PAGES if key != param and getattr(filters, key) > 1
    }
    return {"page": page, "param": param, "query": _query({**scope, **others})}


def _indicator_totals(dash: health_selectors.HealthDashboard, trusted: frozenset[str]) -> list[dict[str, Any]]:
    """The indicator totals' rows, with each one's share of the accounts they count among: the trusted indicators
    first, then the unproven ones, each group in the indicators' order, and "any indicator" last."""
    book = dash.indicator_base
    totals = dash.indicator_totals or []
    ordered = sorted(totals, key=lambda t: (t.key == "any", t.key not in trusted))
    return [
        {
            "total": t,
            "share": round(t.accounts * 100 / book) if book else 0,
            "selected": t.key == dash.filters.indicator,
            "trusted": t.key in trusted,
        }
        for t in ordered
    ]


def _health_rows(accounts: Any, dash: health_selectors.HealthDashboard) -> list[dict[str, Any]]:
    """A list's rows: the account, the measure pulling its score down most, its review's age and staleness."""
    rows = []
    for a in accounts:
        age = health_selectors.sentiment_age(a, dash.today)
        health = getattr(a, "health", None)
        rows.append(
            {
                "account": a,
                "drag": MEASURE_LABELS.get(health.drag, health.drag) if health and health.drag else None,
                "age": age,
                "stale": age is not None and age > dash.staleness_days,
            }
        )
    return rows
