"""Task pages: my tasks, the team's tasks (filterable), one task (status buttons, snooze, edit), a new task."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from tamarind import policy
from tamarind.actions import selectors, services
from tamarind.actions.forms import TaskCreateForm, TaskEditForm, TaskStatusForm
from tamarind.actions.models import Task, TaskStatus, TaskType, today
from tamarind.core.errors import ValidationFailed
from tamarind.core.forms import add_service_errors
from tamarind.core.http import request_user
from tamarind.people.models import User

PAGE_SIZE = 50
STATUS_TABS = [
    ("", "To do"),
    (TaskStatus.IN_PROGRESS.value, "In progress"),
    (TaskStatus.SNOOZED.value, "Snoozed"),
    (TaskStatus.DONE.value, "Done"),
    (selectors.STATUS_ALL, "All"),
]


def _list_context(request: HttpRequest, user: User, tasks: Any, filters: selectors.TaskFilters) -> dict[str, Any]:
    page = Paginator(tasks, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    for task in page.object_list:
        task.can_change = policy.can_change_task(user, task)
    return {
        "page": page,
        "filters": filters,
        "today": today(),
        "status_tabs": STATUS_TABS,
        "types": TaskType.choices,
    }


@login_required
@require_http_methods(["GET"])
def task_mine(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    filters = selectors.TaskFilters.from_params(request.GET)
    context = _list_context(request, user, selectors.task_list_mine(user=user, filters=filters), filters)
    context.update(team=False, list_url="actions:mine")
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "task-table":
        return render(request, "actions/_table.html", context)
    context["counts"] = selectors.task_counts_mine(user=user)
    return render(request, "actions/list.html", context)


@login_required
@require_http_methods(["GET"])
def task_team(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    filters = selectors.TaskFilters.from_params(request.GET)
    tasks = selectors.task_list_team(user=user, filters=filters)  # 403 for those without a team
    context = _list_context(request, user, tasks, filters)
    context.update(team=True, list_url="actions:team")
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "task-table":
        return render(request, "actions/_table.html", context)
    context.update(
        counts=selectors.task_counts_team(user=user),
        owners=selectors.task_team_owner_choices(user=user),
    )
    return render(request, "actions/list.html", context)


def _detail_context(user: User, task: Task, **extra: Any) -> dict[str, Any]:
    return {
        "task": task,
        "today": today(),
        "can_change": policy.can_change_task(user, task),
        "can_read_account": task.account is not None and policy.can_read_account(user, task.account),
        "history": selectors.task_history(task=task),
        **extra,
    }


@login_required
@require_http_methods(["GET"])
def task_detail(request: HttpRequest, task_id: int) -> HttpResponse:
    user = request_user(request)
    task = selectors.task_for_user(user, task_id)
    return render(request, "actions/detail.html", _detail_context(user, task))


@login_required
@require_http_methods(["POST"])
def task_set_status(request: HttpRequest, task_id: int) -> HttpResponse:
    """A status button or the snooze form. htmx swaps the row of a list (target ``task-row-<id>``) or the
    status panel of the task page; without htmx it redirects back to the task."""
    user = request_user(request)
    task = selectors.task_for_user(user, task_id, write=True)
    form = TaskStatusForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            services.task_update(actor=user, task=task, changes=form.changes(), source="web")
        except ValidationFailed as exc:
            error = " ".join(m for msgs in exc.errors.values() for m in msgs)
    else:
        error = " ".join(str(m) for msgs in form.errors.values() for m in msgs)
    status = 400 if error else 200
    target = request.headers.get("HX-Target") or ""
    if not request.headers.get("HX-Request"):
        if error:
            messages.error(request, error)
        else:
            messages.success(request, f"Task is now {task.effective_status_label().lower()}.")
        return redirect("actions:detail", task_id=task.pk)
    task.can_change = True  # type: ignore[attr-defined]
    context = {"task": task, "today": today(), "can_change": True, "error": error, "saved": not error}
    if target.startswith("task-row-"):
        return render(request, "actions/_row.html", {**context, "team": request.POST.get("team") == "1"}, status=status)
    return render(request, "actions/_status.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def task_edit(request: HttpRequest, task_id: int) -> HttpResponse:
    user = request_user(request)
    task = selectors.task_for_user(user, task_id, write=True)
    initial = {"title": task.title, "owner": task.owner_id, "due_on": task.due_on, "notes": task.notes}
    form = TaskEditForm(request.POST or None, user=user, current_owner=task.owner, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.task_update(actor=user, task=task, changes=dict(form.cleaned_data), source="web")
            except ValidationFailed as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "Task saved.")
                return redirect("actions:detail", task_id=task.pk)
        status = 400
    return render(request, "actions/form.html", {"form": form, "task": task}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def task_create(request: HttpRequest) -> HttpResponse:
    """A task by hand, for yourself or (managers, admins) someone you direct. ``?account=<id>`` pre-fills it."""
    user = request_user(request)
    initial: dict[str, Any] = {}
    account_id = request.GET.get("account", "")
    if account_id.isdigit():
        found = selectors.task_account_lookup_by_id(user=user, account_id=int(account_id))
        if found is not None:
            initial["account"] = found.crm_id
    form = TaskCreateForm(request.POST or None, user=user, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                task = services.task_create(actor=user, data=form.data_for_service(), source="web")
            except ValidationFailed as exc:
                add_service_errors(form, exc)
            except PermissionDenied as exc:
                form.add_error("owner", str(exc))
            else:
                messages.success(request, f"Created the task “{task.title}”.")
                return redirect("actions:detail", task_id=task.pk)
        status = 400
    return render(request, "actions/form.html", {"form": form, "task": None}, status=status)
