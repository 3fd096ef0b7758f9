"""Account pages: the book (filter, sort, page), one account (fields, owners, history), edit, set the TAM."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods

from tamarind import policy
from tamarind.accounts import selectors, services
from tamarind.accounts.forms import AccountForm, SetTamForm, account_initial
from tamarind.accounts.models import Account, Priority, ProductTier, Segment
from tamarind.assignment.selectors import account_standing
from tamarind.contacts.selectors import account_panel as contacts_panel
from tamarind.core.errors import ValidationFailed
from tamarind.core.forms import add_service_errors
from tamarind.core.http import request_user
from tamarind.health.panels import account_health
from tamarind.journeys.selectors import account_panel as journey_panel
from tamarind.onboarding.selectors import account_panel as onboarding_panel
from tamarind.people.models import Region, User
from tamarind.signals.panels import signals_panel
from tamarind.success.selectors import account_panel as success_panel
from tamarind.surveys.selectors import account_panel as surveys_panel
from tamarind.timeline.panels import account_timeline
from tamarind.webinars.selectors import account_panel as webinar_panel

PAGE_SIZE = 50


@login_required
@require_http_methods(["GET"])
def account_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    default_scope = policy.account_default_list(user)
    filters = selectors.AccountFilters.from_params(request.GET, default_scope=default_scope)
    accounts = selectors.account_list(user=user, filters=filters)
    page = Paginator(selectors.AccountRows(accounts), PAGE_SIZE).get_page(request.GET.get("page"))
    # Those who own accounts choose between theirs and everything they may read; they land on theirs.
    scopes = selectors.SCOPES if default_scope == "mine" else None
    context = {
        "page": page,
        "filters": filters,
        "sort": filters.sort,
        "mine": filters.scope == "mine",
        "scopes": scopes,
        "can_create": policy.can_create_account(user),
    }
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "account-table":
        # The scope tabs' links carry the filters: swapped out of band with the table.
        return render(request, "accounts/_table.html", {**context, "oob": True})
    context.update(
        # The caption: what the list counts, and what other pages leave out.
        scope=selectors.book_scope_for(user, own_only=filters.scope == "mine"),
        regions=Region.objects.order_by("name"),
        tiers=ProductTier.objects.order_by("rung", "name"),
        # Joined in Python: a template loop over an admin's thousands of TAMs costs tens of milliseconds.
        tam_options=mark_safe(  # noqa: S308 (every name is escaped)
            "".join(
                f'<option value="{pk}"{" selected" if pk in filters.tam else ""}>{escape(name)}</option>'
                for pk, name in selectors.tam_choices(user)
            )
        ),
        segments=Segment.choices,
        priorities=Priority.choices,
        health_choices=selectors.HEALTH_CHOICES,
    )
    return render(request, "accounts/list.html", context)


@login_required
@require_http_methods(["GET"])
def account_detail(request: HttpRequest, account_id: int) -> HttpResponse:
    user = request_user(request)
    account = selectors.account_for_user(user, account_id)
    context = {
        "account": account,
        "can_write": policy.can_write_account(user, account),
        **_owners(user, account, SetTamForm(initial={"tam": account.tam_id})),
        "children": selectors.account_children(user=user, account=account)[:50],
        "history": selectors.account_history(account=account),
        "tam_history": selectors.account_tam_history(account=account),
        # The onboarding and timeline panels: a fixed number of queries each, whatever the data.
        "standing": account_standing(account),
        **onboarding_panel(user=user, account=account),
        **account_timeline(user=user, account=account),
        **account_health(user=user, account=account),
        **success_panel(user=user, account=account),
        **contacts_panel(user=user, account=account),
        **surveys_panel(user=user, account=account),
        **journey_panel(user=user, account=account),
        **webinar_panel(user=user, account=account),
        **signals_panel(user=user, account=account),
    }
    return render(request, "accounts/detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def account_edit(request: HttpRequest, account_id: int) -> HttpResponse:
    user = request_user(request)
    account = selectors.account_for_user(user, account_id, write=True)
    writable = policy.account_writable_fields(user, account)
    form = AccountForm(request.POST or None, writable=writable, initial=account_initial(account))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                changed = services.account_update(actor=user, account=account, changes=form.changes(), source="web")
            except ValidationFailed as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request, f"Saved {len(changed)} change(s) to {account.name}." if changed else "Nothing changed."
                )
                return redirect("accounts:detail", account_id=account.pk)
        status = 400
    return render(request, "accounts/form.html", {"form": form, "account": account}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def account_create(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    if not policy.can_create_account(user):
        raise PermissionDenied("Only admins and TAM Managers create accounts.")
    initial = {"currency": "USD", "priority": 1, "lifecycle_stage": "onboarding"}
    managed = policy.managed_region(user)
    if managed is not None:
        initial["region"] = managed.pk
    form = AccountForm(request.POST or None, writable=policy.creatable_fields(user), initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                account = services.account_create(actor=user, data=form.changes(), source="web")
            except ValidationFailed as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Created {account.name}.")
                return redirect("accounts:detail", account_id=account.pk)
        status = 400
    return render(request, "accounts/form.html", {"form": form, "account": None}, status=status)


@login_required
@require_http_methods(["POST"])
def account_set_tam(request: HttpRequest, account_id: int) -> HttpResponse:
    """Inline TAM assignment on the account page (htmx swaps the owners panel)."""
    user = request_user(request)
    account = selectors.account_for_user(user, account_id, write=True)
    if not policy.can_set_tam(user, account):
        raise PermissionDenied("Only the region's TAM Manager or an admin sets the TAM.")
    form = SetTamForm(request.POST)
    status = 200
    if form.is_valid():
        try:
            changed = services.account_set_tam(actor=user, account=account, tam=form.cleaned_data["tam"])
        except ValidationFailed as exc:
            add_service_errors(form, exc)
            status = 400
        else:
            if not request.headers.get("HX-Request"):
                messages.success(request, "TAM updated." if changed else "TAM unchanged.")
                return redirect("accounts:detail", account_id=account.pk)
    else:
        status = 400
    context = _owners(user, account, form, saved=status == 200)
    return render(request, "accounts/_owners.html", context, status=status)


def _owners(user: User, account: Account, form: SetTamForm, *, saved: bool = False) -> dict[str, Any]:
    """The owners panel: the account, and for who sets its TAM the form and the picker's <option>s, built once in
    Python rather than by the template (a region may have hundreds of TAMs)."""
    can_set = policy.can_set_tam(user, account)
    context: dict[str, Any] = {"account": account, "can_set_tam": can_set, "tam_form": form, "saved": saved}
    if can_set:
        home = account.region.name if account.region_id else None
        context["tam_options"] = mark_safe(  # noqa: S308 (every value is escaped)
            "".join(
                f'<option value="{pk}"{" selected" if pk == account.tam_id else ""}>{escape(name)}'
                f"{escape(f' ({region})') if region and region != home else ''}</option>"
                for pk, name, region in selectors.tam_picker(account)
            )
        )
    return context
