"""Pages of the scheduler (admins only): the periodic jobs, one job with its edit form and runs, all runs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from tamarind.core.errors import ValidationFailed
from tamarind.core.forms import add_service_errors
from tamarind.scheduler import selectors, services
from tamarind.scheduler.forms import PeriodicJobForm
from tamarind.scheduler.models import JobRunStatus, PeriodicJob

RUNS_PAGE_SIZE = 50
JOB_RUNS_SHOWN = 20


def _minute(value: dt.datetime) -> dt.datetime:
    return timezone.localtime(value).replace(second=0, microsecond=0)


@login_required
def job_list(request: HttpRequest) -> HttpResponse:
    jobs = selectors.periodic_job_list(user=request.user)  # type: ignore[arg-type]
    return render(request, "scheduler/jobs.html", {"jobs": jobs, "now": timezone.now()})


def _job_context(job: PeriodicJob, form: PeriodicJobForm, user: Any) -> dict[str, Any]:
    runs = selectors.job_run_list(user=user, job=job)[:JOB_RUNS_SHOWN]
    return {"job": job, "form": form, "runs": runs, "now": timezone.now(), "tz": timezone.get_current_timezone_name()}


@login_required
@require_http_methods(["GET", "POST"])
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    """A job: its schedule (editable), its last runs, and Run now."""
    user = request.user
    job = selectors.periodic_job_for_user(user, job_id)  # type: ignore[arg-type]
    if request.method != "POST":
        return render(request, "scheduler/job.html", _job_context(job, PeriodicJobForm.for_job(job), user))
    form = PeriodicJobForm.for_job(job, request.POST)
    if form.is_valid():
        next_due = form.cleaned_data["next_due_at"]
        moved = next_due is not None and next_due != _minute(job.next_due_at)
        try:
            changed = services.periodic_job_update(
                actor=user,  # type: ignore[arg-type]
                job=job,
                every=form.every(),
                enabled=form.cleaned_data["enabled"],
                next_due_at=next_due if moved else None,
            )
        except ValidationFailed as exc:
            add_service_errors(form, _on_form_fields(exc))
        else:
            if changed:
                messages.success(request, f"{job.key} saved.")
            else:
                messages.info(request, "Nothing changed.")
            return redirect("scheduler:job", job_id=job.pk)
    return render(request, "scheduler/job.html", _job_context(job, form, user), status=400)


def _on_form_fields(exc: ValidationFailed) -> ValidationFailed:
    """The service names the interval ``every``; the form shows it on its number field."""
    return ValidationFailed({("every_value" if k == "every" else k): v for k, v in exc.errors.items()})


@login_required
@require_POST
def job_run_now(request: HttpRequest, job_id: int) -> HttpResponse:
    """Queue a run at once, then go back where the button was (the jobs list or the job's page)."""
    job = selectors.periodic_job_for_user(request.user, job_id)  # type: ignore[arg-type]
    try:
        run = services.periodic_job_run_now(actor=request.user, job=job)  # type: ignore[arg-type]
    except ValidationFailed as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{job.key}: run {run.pk} queued.")
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("scheduler:job", args=[job.pk])
    return redirect(back or reverse("scheduler:job", args=[job.pk]))


@login_required
def run_list(request: HttpRequest) -> HttpResponse:
    """Recent runs of every job, newest first; filter by job (key) and status."""
    user = request.user
    jobs = selectors.periodic_job_list(user=user)  # type: ignore[arg-type]
    key = request.GET.get("job", "")
    status = request.GET.get("status", "")
    problems = []
    job = next((j for j in jobs if j.key == key), None)
    if key and job is None:
        problems.append(f"There is no periodic job {key!r}; showing every job.")
    if status and status not in JobRunStatus.values:
        problems.append(f"{status!r} is not a run status; showing every status.")
        status = ""
    runs = selectors.job_run_list(user=user, job=job, status=status)  # type: ignore[arg-type]
    page = Paginator(runs, RUNS_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "runs": page.object_list,
        "jobs": jobs,
        "job": job,
        "status": status,
        "statuses": JobRunStatus.choices,
        "problems": problems,
    }
    return render(request, "scheduler/runs.html", context)
