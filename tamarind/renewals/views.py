"""Renewal pages: the renewal review (this quarter and the next three, paged per quarter), a renewal (forecast,
next steps, close with an outcome), recording a review, retention (trend, slices, drill-down), the settings, and the
CSV exports. Views parse, gate (``selectors.*_for_user`` / ``policy``), call a service and render; bad input
answers 400 with the problem named."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from tamarind import policy
from tamarind.accounts.selectors import account_for_user
from tamarind.core.csv_safe import csv_lines
from tamarind.core.errors import ValidationFailed
from tamarind.core.http import request_user
from tamarind.people.models import Region, Role, User
from tamarind.renewals import retention, selectors, services
from tamarind.renewals.models import (
    SETTINGS_FIELDS,
    Forecast,
    OutcomeReason,
    Renewal,
    RenewalOutcome,
    RenewalSettings,
)
from tamarind.renewals.quarters import month_start


def _errors(exc: ValidationFailed) -> str:
    return " ".join(f"{k}: {m}" if k != "__all__" else m for k, msgs in exc.errors.items() for m in msgs)


def _page_numbers(params: Any) -> dict[str, int]:
    pages: dict[str, int] = {}
    for key, value in params.items():
        if key.startswith("p") and "-" in key:
            try:
                pages[key] = int(value)
            except (TypeError, ValueError):
                continue
    return pages


def health_of(renewal: Renewal) -> tuple[str, bool]:
    """The account's health color and whether its review is stale ("", False when not scored)."""
    try:
        # The reverse one-to-one raises when the account has no score yet.
        health = renewal.account.health
    except ObjectDoesNotExist:
        return "", False
    return (health.color or "", bool(health.stale)) if health is not None else ("", False)


@login_required
@require_http_methods(["GET"])
def review_page(request: HttpRequest) -> HttpResponse:
    """Renewals this quarter and the next three, grouped by quarter and forecast, with ARR totals."""
    user = request_user(request)
    filters = selectors.ReviewFilters.from_params(request.GET)
    page = selectors.review_page(user=user, filters=filters, pages=_page_numbers(request.GET))
    ids = [r.account_id for block in page.quarters for r in block.rows]
    plan_colors = selectors.success_plan_colors(ids) if page.success_plans else {}
    for block in page.quarters:
        for r in block.rows:
            r.health_color, r.health_stale = health_of(r)  # type: ignore[attr-defined]
            r.success_plan_color = plan_colors.get(r.account_id, "")  # type: ignore[attr-defined]
    context = {
        "page": page,
        "filters": filters,
        "filters_qs": filters.querystring(),
        "choices": selectors.review_choices(user),
        "can_record": policy.can_record_renewal_review(user),
        "can_edit_settings": policy.can_edit_renewal_settings(user),
        "can_view_retention": policy.can_view_retention(user),
        "show_success_plans": page.success_plans,
    }
    return render(request, "renewals/review.html", context, status=400 if filters.errors else 200)


@login_required
@require_http_methods(["GET"])
def review_export(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The review page's renewals (all four quarters, every row) as CSV, streamed."""
    user = request_user(request)
    filters = selectors.ReviewFilters.from_params(request.GET)
    if filters.errors:
        return HttpResponse("; ".join(filters.errors), status=400, content_type="text/plain")
    conf = selectors.renewal_settings()
    from tamarind.renewals.quarters import quarter_of, quarters_from

    quarters = quarters_from(timezone.localdate(), selectors.QUARTERS_SHOWN, conf.fiscal_start_month)
    qs = (
        selectors.row_queryset(
            selectors.base_queryset(user, filters).filter(
                renewal_date__gte=quarters[0].start, renewal_date__lte=quarters[-1].end
            )
        )
        .order_by("renewal_date", "id")
        .iterator(chunk_size=2000)
    )

    def rows() -> Any:
        yield [
            "Quarter", "Account", "CRM id", "Region", "Renewal date", "ARR up for renewal", "Currency", "Forecast",
            "Forecast reason", "Expected ARR", "Health", "Health stale", "TAM", "SAL/AE", "Open triage case",
            "Next step", "Next step due", "Status", "Outcome", "New ARR", "Outcome reason",
        ]  # fmt: skip
        for r in qs:
            color, stale = health_of(r)
            yield [
                quarter_of(r.renewal_date, conf.fiscal_start_month).label,
                r.account.name,
                r.account.crm_id,
                r.account.region.name,
                r.renewal_date.isoformat(),
                r.arr,
                r.currency,
                r.get_forecast_display(),
                r.forecast_reason,
                r.expected_arr,
                color,
                "yes" if stale else "",
                r.tam.full_name if r.tam else "",
                r.owner.full_name if r.owner else "",
                r.open_case_id or "",  # type: ignore[attr-defined]
                r.next_step_text or "",  # type: ignore[attr-defined]
                r.next_step_due.isoformat() if r.next_step_due else "",  # type: ignore[attr-defined]
                r.get_status_display(),
                r.get_outcome_display(),
                "" if r.new_arr is None else r.new_arr,
                r.get_outcome_reason_display(),
            ]

    response = StreamingHttpResponse(csv_lines(rows()), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="renewals.csv"'
    return response


# --- A renewal ----------------------------------------------------------------------------------------------------


def _detail_context(user: User, renewal: Renewal, **extra: Any) -> dict[str, Any]:
    color, stale = health_of(renewal)
    from tamarind.triage.models import TriageCase

    return {
        "renewal": renewal,
        "can_write": policy.can_write_renewal(user, renewal),
        "health_color": color,
        "health_stale": stale,
        "steps": list(renewal.steps.all()),
        "decisions": list(renewal.decisions.select_related("review").order_by("-review__held_on")[:20]),
        "open_case": TriageCase.objects.open().filter(account_id=renewal.account_id).first(),
        "history": selectors.renewal_history(renewal=renewal),
        "forecasts": Forecast.choices,
        "outcomes": RenewalOutcome.choices,
        "reasons": OutcomeReason.choices,
        "today": timezone.localdate(),
        **extra,
    }


@login_required
@require_http_methods(["GET", "POST"])
def renewal_detail(request: HttpRequest, renewal_id: int) -> HttpResponse:
    """A renewal: forecast and reason, ARR, notes (editable by its writers), next steps, close, history."""
    user = request_user(request)
    renewal = selectors.renewal_for_user(user, renewal_id, write=request.method == "POST")
    if request.method == "POST":
        changes = {k: request.POST[k] for k in ("forecast", "forecast_reason", "arr", "notes") if k in request.POST}
        try:
            services.renewal_update(actor=user, renewal=renewal, changes=changes, source="web")
        except ValidationFailed as exc:
            renewal = selectors.renewal_for_user(user, renewal_id)
            return render(
                request, "renewals/detail.html", _detail_context(user, renewal, error=_errors(exc)), status=400
            )
        messages.success(request, "Renewal saved.")
        return redirect("renewals:detail", renewal_id=renewal.pk)
    return render(request, "renewals/detail.html", _detail_context(user, renewal))


@login_required
@require_http_methods(["POST"])
def renewal_close(request: HttpRequest, renewal_id: int) -> HttpResponse:
    user = request_user(request)
    renewal = selectors.renewal_for_user(user, renewal_id, write=True)
    try:
        services.renewal_close(
            actor=user,
            renewal=renewal,
            outcome=request.POST.get("outcome", ""),
            new_arr=request.POST.get("new_arr", ""),
            reason=request.POST.get("outcome_reason", ""),
            notes=request.POST.get("outcome_notes", ""),
            next_renewal_date=request.POST.get("next_renewal_date", ""),
            source="web",
        )
    except ValidationFailed as exc:
        renewal = selectors.renewal_for_user(user, renewal_id)
        return render(request, "renewals/detail.html", _detail_context(user, renewal, error=_errors(exc)), status=400)
    messages.success(request, "Renewal closed; the account's next renewal is on the calendar.")
    return redirect("renewals:detail", renewal_id=renewal.pk)


@login_required
@require_http_methods(["POST"])
def step_add(request: HttpRequest, renewal_id: int) -> HttpResponse:
    user = request_user(request)
    renewal = selectors.renewal_for_user(user, renewal_id, write=True)
    try:
        services.step_add(
            actor=user, renewal=renewal, text=request.POST.get("text", ""), due_on=request.POST.get("due_on", "")
        )
    except ValidationFailed as exc:
        return render(request, "renewals/detail.html", _detail_context(user, renewal, error=_errors(exc)), status=400)
    messages.success(request, "Next step added.")
    return redirect("renewals:detail", renewal_id=renewal.pk)


@login_required
@require_http_methods(["POST"])
def step_toggle(request: HttpRequest, renewal_id: int, step_id: int) -> HttpResponse:
    user = request_user(request)
    renewal = selectors.renewal_for_user(user, renewal_id, write=True)
    step = selectors.step_for_user(user, renewal, step_id)
    services.step_complete(actor=user, step=step, done=request.POST.get("done") == "on")
    return redirect("renewals:detail", renewal_id=renewal.pk)


@login_required
@require_http_methods(["GET", "POST"])
def renewal_create(request: HttpRequest, account_id: int) -> HttpResponse:
    """Add a renewal to an account (its writers): the date (default: the account's next renewal date) and ARR."""
    user = request_user(request)
    account = account_for_user(user, account_id)
    if not policy.can_write_renewal_for(user, account):
        raise PermissionDenied("You may not write this account's renewals.")
    error = ""
    if request.method == "POST":
        data = {k: request.POST.get(k, "") for k in ("renewal_date", "arr", "forecast", "forecast_reason", "notes")}
        try:
            renewal = services.renewal_create(actor=user, account=account, data=data, source="web")
        except ValidationFailed as exc:
            error = _errors(exc)
        else:
            messages.success(request, "Renewal added.")
            return redirect("renewals:detail", renewal_id=renewal.pk)
    context = {"account": account, "forecasts": Forecast.choices, "error": error, "data": request.POST}
    return render(request, "renewals/create.html", context, status=400 if error else 200)


# --- Reviews ----------------------------------------------------------------------------------------------------


def _review_regions(user: User) -> list[Region]:
    if user.role == Role.ADMIN:
        return list(Region.objects.order_by("name"))
    region = policy.managed_region(user)
    return [region] if region is not None and policy.can_record_renewal_review(user, region) else []


@login_required
@require_http_methods(["GET", "POST"])
def reviews(request: HttpRequest) -> HttpResponse:
    """The renewal reviews held (the regions the user oversees), and recording one (the region's manager, admins):
    date, attendees, notes, a decision per renewal of the region's next two quarters."""
    user = request_user(request)
    regions = _review_regions(user)
    error = ""
    if request.method == "POST":
        if not policy.can_record_renewal_review(user):
            raise PermissionDenied("Only a region's manager or an admin records a renewal review.")
        region_id = request.POST.get("region") or (regions[0].pk if len(regions) == 1 else "")
        decisions = {
            key.removeprefix("decision-"): value
            for key, value in request.POST.items()
            if key.startswith("decision-") and str(value).strip()
        }
        try:
            review = services.review_record(
                actor=user,
                region=region_id,
                held_on=request.POST.get("held_on", ""),
                attendees=request.POST.getlist("attendees"),
                notes=request.POST.get("notes", ""),
                decisions=decisions,
            )
        except ValidationFailed as exc:
            error = _errors(exc)
        else:
            messages.success(request, "Renewal review recorded.")
            return redirect("renewals:review_detail", review_id=review.pk)
    held = list(
        selectors.RenewalReview.objects.visible_to(user)
        .select_related("region", "recorded_by")
        .prefetch_related("attendees")
        .order_by("-held_on", "-id")[:50]
    )
    conf = selectors.renewal_settings()
    today = timezone.localdate()
    cadence = selectors.review_cadence(user, selectors.last_reviews(user), conf, today)
    agenda: list[Renewal] = []
    if regions and policy.can_record_renewal_review(user):
        from tamarind.renewals.quarters import quarters_from

        qs = quarters_from(today, 2, conf.fiscal_start_month)
        agenda = list(
            Renewal.objects.visible_to(user)
            .open()
            .filter(account__region__in=regions, renewal_date__gte=qs[0].start, renewal_date__lte=qs[-1].end)
            .select_related("account", "account__region")
            .order_by("renewal_date", "id")[:100]
        )
    people = (
        list(User.objects.filter(is_active=True).filter(region__in=regions).order_by("full_name")) if regions else []
    )
    context = {
        "held": held,
        "cadence": cadence,
        "regions": regions,
        "agenda": agenda,
        "people": people,
        "error": error,
        "today": today,
        "settings_row": conf,
        "can_record": bool(regions) and policy.can_record_renewal_review(user),
    }
    return render(request, "renewals/reviews.html", context, status=400 if error else 200)


@login_required
@require_http_methods(["GET"])
def review_detail(request: HttpRequest, review_id: int) -> HttpResponse:
    user = request_user(request)
    review = selectors.review_for_user(user, review_id)
    decisions = list(review.decisions.select_related("renewal", "renewal__account"))
    return render(
        request,
        "renewals/review_detail.html",
        {"review": review, "decisions": decisions, "attendees": list(review.attendees.order_by("full_name"))},
    )


# --- Retention ---------------------------------------------------------------------------------------------------


def _window_end(request: HttpRequest) -> tuple[dt.date | None, str]:
    raw = request.GET.get("end", "").strip()
    if raw:
        try:
            day = dt.date.fromisoformat(raw + "-01" if len(raw) == 7 else raw)
        except ValueError:
            return None, f"end: {raw!r} is not a month (YYYY-MM)."
        if not 1900 <= day.year <= 2999:
            return None, "end: must be between 1900 and 2999."
        return month_start(day), ""
    latest = retention.latest_window_end()
    return latest or month_start(timezone.localdate()), ""


def _retention_context(user: User, request: HttpRequest) -> dict[str, Any]:
    if not policy.can_view_retention(user):
        raise PermissionDenied("Retention is for managers, directors and admins.")
    end, error = _window_end(request)
    dimension = request.GET.get("by", "region")
    if dimension not in retention.DIMENSIONS:
        error = error or f"by: choose one of {', '.join(retention.DIMENSIONS)}."
        dimension = "region"
    conf = selectors.renewal_settings()
    roll = request.GET.get("rollup")
    roll_up = conf.roll_up_to_parent if roll not in ("0", "1") else roll == "1"
    scope = policy.account_scope(user)
    context: dict[str, Any] = {
        "error": error,
        "dimension": dimension,
        "dimensions": retention.DIMENSIONS.items(),
        "settings_row": conf,
        "roll_up": roll_up,
        "end": end,
    }
    if end is None:
        return context
    window = retention.Window(end)
    book = retention.book_retention(account_scope=scope, window=window, roll_up=roll_up)
    slices = retention.retention_by(account_scope=scope, window=window, dimension=dimension, roll_up=roll_up)
    trend = retention.retention_trend(account_scope=scope, end=end, months=12, roll_up=roll_up)
    context.update(
        window=window,
        book=book,
        slices=slices,
        trend=trend,
        chart={
            "labels": [p.month.strftime("%b %Y") for p in trend],
            "gross": [None if p.figure.gross is None else round(float(p.figure.gross), 1) for p in trend],
            "net": [None if p.figure.net is None else round(float(p.figure.net), 1) for p in trend],
            "gross_target": float(conf.gross_target_pct),
            "net_target": float(conf.net_target_pct),
        },
    )
    return context


@login_required
@require_http_methods(["GET"])
def retention_page(request: HttpRequest) -> HttpResponse:
    """Gross and net retention over 12 months: the book against the targets, the monthly trend (chart), the
    slices (region, TAM, segment, engagement model, customer-since cohort) and the accounts behind the figure."""
    user = request_user(request)
    context = _retention_context(user, request)
    if context.get("window") is not None:
        context["drill"] = retention.drill_down(
            account_scope=policy.account_scope(user), window=context["window"], roll_up=context["roll_up"]
        )
    return render(request, "renewals/retention.html", context, status=400 if context["error"] else 200)


def _pct(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.1f}"


@login_required
@require_http_methods(["GET"])
def retention_export(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """Retention as CSV: the slices, then every account behind the figure (churned, contracted, expanded, new)."""
    user = request_user(request)
    context = _retention_context(user, request)
    if context["error"] or context.get("window") is None:
        return HttpResponse(context["error"] or "No window.", status=400, content_type="text/plain")
    drill = retention.drill_down(
        account_scope=policy.account_scope(user), window=context["window"], roll_up=context["roll_up"]
    )

    def rows() -> Any:
        yield [
            "Slice",
            "Value",
            "Accounts",
            "ARR 12 months ago",
            "ARR kept",
            "ARR now",
            "Gross %",
            "Net %",
            "New accounts",
        ]
        for r in [context["book"], *context["slices"]]:
            yield [
                "book" if r is context["book"] else context["dimension"],
                r.label,
                r.accounts,
                r.start_arr,
                r.kept_arr,
                r.end_arr,
                _pct(r.gross),
                _pct(r.net),
                r.new_accounts,
            ]
        yield []
        yield ["Change", "Account", "CRM id", "Region", "ARR 12 months ago", "ARR now", "Reason", "Notes"]
        for name in ("churned", "contracted", "expanded", "new"):
            for d in getattr(drill, name):
                yield [
                    name,
                    d.account.name,
                    d.account.crm_id,
                    d.account.region.name,
                    d.start_arr,
                    d.end_arr,
                    d.reason,
                    d.notes,
                ]

    response = StreamingHttpResponse(csv_lines(rows()), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="retention.csv"'
    return response


# --- Settings ------------------------------------------------------------------------------------------------------


def _parse_settings(post: Any) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    problems: dict[str, list[str]] = {}
    for name in SETTINGS_FIELDS:
        if name == "roll_up_to_parent":
            changes[name] = post.get(name) in ("on", "true", "1")
            continue
        raw = str(post.get(name, "")).strip()
        try:
            changes[name] = Decimal(raw) if name.endswith("_pct") else int(raw)
        except (ValueError, ArithmeticError):
            problems[name] = [f"{raw!r} is not a number."]
    if problems:
        raise ValidationFailed(problems)
    return changes


@login_required
@require_http_methods(["GET", "POST"])
def settings_edit(request: HttpRequest) -> HttpResponse:
    """The renewal settings: everyone reads them (they explain the pages); admins change them (audited)."""
    user = request_user(request)
    can_edit = policy.can_edit_renewal_settings(user)
    error = ""
    row: RenewalSettings = selectors.renewal_settings()
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("Only admins change the renewal settings.")
        try:
            row = services.renewal_settings_update(actor=user, changes=_parse_settings(request.POST))
        except ValidationFailed as exc:
            error = _errors(exc)
        else:
            messages.success(request, "Renewal settings saved.")
            return redirect("renewals:settings")
    months = [(i, dt.date(2000, i, 1).strftime("%B")) for i in range(1, 13)]
    context = {"row": row, "can_edit": can_edit, "error": error, "months": months, "data": request.POST or None}
    return render(request, "renewals/settings.html", context, status=400 if error else 200)
