"""Contact pages: add, edit and delete a contact from the account page's Contacts panel (htmx swaps the panel;
a plain form post goes back to the account page), and the accounts with no Admin contact."""

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
from tamarind.accounts.models import Account
from tamarind.accounts.selectors import account_for_user
from tamarind.contacts import selectors, services
from tamarind.contacts.forms import ContactForm
from tamarind.contacts.models import Contact
from tamarind.core.errors import ValidationFailed
from tamarind.core.forms import add_service_errors
from tamarind.core.http import request_user
from tamarind.people.models import User

PAGE_SIZE = 50


def _htmx(request: HttpRequest) -> bool:
    return bool(request.headers.get("HX-Request"))


def _panel(request: HttpRequest, user: User, account: Account, *, status: int = 200) -> HttpResponse:
    context = {"account": account, **selectors.account_panel(user=user, account=account)}
    return render(request, "contacts/_account_panel.html", context, status=status)


def _form(
    request: HttpRequest, account: Account, form: ContactForm, contact: Contact | None, *, status: int
) -> HttpResponse:
    context = {"account": account, "form": form, "contact": contact}
    template = "contacts/_form.html" if _htmx(request) else "contacts/form.html"
    return render(request, template, context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def contact_new(request: HttpRequest, account_id: int) -> HttpResponse:
    """Add a contact to the account (its writers)."""
    user = request_user(request)
    account = account_for_user(user, account_id)
    if not policy.can_write_contacts(user, account):
        raise PermissionDenied("You may read this account's contacts but not change them.")
    personas = selectors.personas()
    if request.method == "GET":
        return _form(request, account, ContactForm(personas=personas), None, status=200)
    form = ContactForm(request.POST, personas=personas)
    if form.is_valid():
        try:
            contact = services.contact_create(actor=user, account=account, **form.service_data(), source="web")
        except ValidationFailed as exc:
            add_service_errors(form, exc)
        else:
            if not _htmx(request):
                messages.success(request, f"Added {contact.name}.")
                return redirect("accounts:detail", account_id=account.pk)
            return _panel(request, user, account)
    return _form(request, account, form, None, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def contact_edit(request: HttpRequest, contact_id: int) -> HttpResponse:
    """Edit a contact (its account's writers)."""
    user = request_user(request)
    contact = selectors.contact_for_user(user, contact_id, write=True)
    account = contact.account
    personas = selectors.personas()
    if request.method == "GET":
        form = ContactForm(initial=ContactForm.initial_for(contact), personas=personas)
        return _form(request, account, form, contact, status=200)
    form = ContactForm(request.POST, personas=personas)
    if form.is_valid():
        try:
            changed = services.contact_update(actor=user, contact=contact, changes=form.service_data(), source="web")
        except ValidationFailed as exc:
            add_service_errors(form, exc)
        else:
            if not _htmx(request):
                messages.success(request, f"Saved {contact.name}." if changed else "Nothing changed.")
                return redirect("accounts:detail", account_id=account.pk)
            return _panel(request, user, account)
    return _form(request, account, form, contact, status=400)


@login_required
@require_http_methods(["POST"])
def contact_delete(request: HttpRequest, contact_id: int) -> HttpResponse:
    """Delete a contact (its account's writers)."""
    user = request_user(request)
    contact = selectors.contact_for_user(user, contact_id, write=True)
    account = contact.account
    name = contact.name
    services.contact_delete(actor=user, contact=contact, source="web")
    if not _htmx(request):
        messages.success(request, f"Deleted {name}.")
        return redirect("accounts:detail", account_id=account.pk)
    return _panel(request, user, account)


@login_required
@require_http_methods(["GET"])
def missing_admin(request: HttpRequest) -> HttpResponse:
    """The accounts the user reads that have no Admin contact."""
    user = request_user(request)
    page = Paginator(selectors.missing_admin(user), PAGE_SIZE).get_page(request.GET.get("page"))
    context: dict[str, Any] = {"page": page, "scope": policy.account_scope_label(user)}
    return render(request, "contacts/missing_admin.html", context)
