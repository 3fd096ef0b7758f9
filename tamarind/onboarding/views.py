"""Onboarding pages: the record (dates, checklist, notes, score, time-to-value metrics) and the lists."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from tamarind import policy
from tamarind.core.http import request_user
from tamarind.onboarding import selectors
from tamarind.onboarding.models import STEPS


@login_required
@require_http_methods(["GET"])
def onboarding_detail(request: HttpRequest, onboarding_id: int) -> HttpResponse:
    user = request_user(request)
    onboarding = selectors.onboarding_for_user(user, onboarding_id)
    targets = selectors.onboarding_targets()
    context = {
        "onboarding": onboarding,
        "account": onboarding.account,
        "metrics": selectors.onboarding_metrics(onboarding, targets.as_days()),
        "steps": [(step, getattr(onboarding, step.field)) for step in STEPS],
        "can_write": policy.can_write_onboarding(user, onboarding),
        "history": selectors.onboarding_history(onboarding=onboarding),
    }
    return render(request, "onboarding/detail.html", context)
