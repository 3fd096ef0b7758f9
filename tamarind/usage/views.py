"""Pages of usage data: an account's usage and tickets, and the metric definitions (admins add use cases)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from tamarind import policy
from tamarind.accounts.selectors import account_for_user
from tamarind.core.errors import ValidationFailed
from tamarind.core.forms import add_service_errors
from tamarind.core.http import request_user
from tamarind.usage import selectors, services
from tamarind.usage.forms import MetricForm
from tamarind.usage.models import IngestBatch, MetricKind


@login_required
@require_http_methods(["GET", "POST"])
def usage_metrics(request: HttpRequest) -> HttpResponse:
    """The metrics usage data is reported in: everyone reads them; admins add use-case metrics (audited)."""
    user = request_user(request)
    can_edit = policy.can_manage_usage_metrics(user)
    if request.method == "POST" and not can_edit:
        raise PermissionDenied("Only admins add usage metrics.")
    form = MetricForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                metric = services.usage_metric_create(actor=user, **form.cleaned_data, source="web")
            except ValidationFailed as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Metric “{metric.label}” added.")
                return redirect("usage:metrics")
        status = 400
    context: dict[str, Any] = {
        "metrics": selectors.usage_metrics(),
        "form": form,
        "can_edit": can_edit,
        "batches": list(IngestBatch.objects.select_related("actor")[:10]) if can_edit else [],
    }
    return render(request, "usage/metrics.html", context, status=status)


@login_required
def usage_account(request: HttpRequest, account_id: int) -> HttpResponse:
    """An account's usage: the facts the health score reads, monthly rollups as a chart and a table, its tickets."""
    account = account_for_user(request_user(request), account_id)
    facts = selectors.usage_facts([account.pk])[account.pk]
    months = selectors.account_usage_months(account=account)
    metrics = selectors.usage_metrics()
    shown = sorted({m.month for m in months}, reverse=True)
    cells = {(m.month, m.metric_id): m.last_value for m in months}
    table = [(month, [cells.get((month, metric.pk)) for metric in metrics]) for month in shown]
    kinds = {metric.pk: metric.kind for metric in metrics}
    chronological = sorted(shown)
    chart = {
        "labels": [f"{m:%Y-%m}" for m in chronological],
        "active": [
            next((v for (mm, mid), v in cells.items() if mm == m and kinds[mid] == MetricKind.ACTIVE), None)
            for m in chronological
        ],
        "licenses": [
            next((v for (mm, mid), v in cells.items() if mm == m and kinds[mid] == MetricKind.LICENSES), None)
            for m in chronological
        ],
    }
    context = {
        "account": account,
        "facts": facts,
        "utilization": None if facts.utilization is None else round(facts.utilization * 100),
        "metrics": metrics,
        "table": table,
        "chart": chart,
        "tickets": selectors.account_tickets(account=account, limit=20),
    }
    return render(request, "usage/account.html", context)
