"""People pages: the directory, one person (their accounts and capacity), regions, and your API tokens."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from tamarind import policy
from tamarind.accounts.models import Account
from tamarind.accounts.selectors import book_scope
from tamarind.core.errors import ValidationFailed
from tamarind.core.forms import add_service_errors
from tamarind.core.http import request_user
from tamarind.people import selectors, services
from tamarind.people.forms import PeopleFilterForm, PersonForm, RegionForm, TokenForm
from tamarind.people.models import Role

PAGE_SIZE = 50


# --- People ---------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET"])
def people_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    regions = selectors.region_choices()
    form = PeopleFilterForm(request.GET, regions=regions)
    form.is_valid()  # invalid filters are dropped and shown beside the field
    people = selectors.with_tam_book(selectors.people_list(user=user, **form.filters()))
    page = Paginator(people, PAGE_SIZE).get_page(request.GET.get("page"))
    selectors.attach_capacity(page.object_list)
    filtered = any(request.GET.get(k) for k in ("q", "role", "region", "status"))
    context = {
        "form": form,
        "page": page,
        "filtered": filtered,
        "can_manage": policy.can_manage_people(user),
    }
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "people-table":
        return render(request, "people/_people_table.html", context)
    return render(request, "people/list.html", context)


@login_required
@require_http_methods(["GET"])
def person_detail(request: HttpRequest, person_id: int) -> HttpResponse:
    user = request_user(request)
    person = selectors.person_for_user(user, person_id)
    owned = selectors.person_accounts(viewer=user, person=person)
    context = {
        "person": person,
        "owned": owned,
        "hidden_count": max(0, selectors.person_owned_count(person) - len(owned)),
        "capacity": selectors.person_capacity(person),
        "can_manage": policy.can_manage_people(user),
    }
    return render(request, "people/detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def person_create(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    if not policy.can_manage_people(user):
        raise PermissionDenied("Only admins add people.")
    # A link may carry what is known of the person (an import lists the owners it could not find that way).
    initial = {"role": request.GET.get("role") if request.GET.get("role") in Role.values else Role.TAM}
    initial.update({k: request.GET[k][:254] for k in ("email", "full_name") if request.GET.get(k)})
    form = PersonForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                person = services.user_create(
                    actor=user,
                    email=data["email"],
                    full_name=data["full_name"],
                    role=data["role"],
                    password=data.get("password") or None,
                    region=data.get("region"),
                    capacity_arr=data.get("capacity_arr"),
                    source="web",
                )
            except ValidationFailed as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Added {person.full_name}.")
                return redirect("people:detail", person_id=person.pk)
        status = 400
    return render(request, "people/person_form.html", {"form": form, "person": None}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def person_edit(request: HttpRequest, person_id: int) -> HttpResponse:
    user = request_user(request)
    person = selectors.person_for_user(user, person_id, write=True)
    form = PersonForm(request.POST or None, person=person, initial=PersonForm.initial_for(person))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            password = form.cleaned_data.get("password")
            try:
                # One transaction: a refused field change must not leave a new password behind, nor vice versa.
                with transaction.atomic():
                    changed = services.user_update(actor=user, user=person, changes=form.changes(), source="web")
                    if password:
                        services.user_set_password(actor=user, user=person, password=password, source="web")
                        changed.append("password")
            except ValidationFailed as exc:
                add_service_errors(form, exc)
                person.refresh_from_db()
            else:
                messages.success(
                    request, f"Saved {len(changed)} change(s) to {person.full_name}." if changed else "Nothing changed."
                )
                return redirect("people:detail", person_id=person.pk)
        status = 400
    return render(request, "people/person_form.html", {"form": form, "person": person}, status=status)


# --- Regions --------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET"])
def region_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    regions: list[Any] = selectors.region_list(user=user)  # annotated: tam_count, account_count, book_arr
    for region in regions:
        region.arr_per_tam = region.book_arr / region.tam_count if region.tam_count else None
    totals = {
        "tams": sum(r.tam_count or 0 for r in regions),
        "accounts": sum(r.account_count for r in regions),
        "arr": sum((Decimal(r.book_arr) for r in regions), Decimal(0)),
    }
    # Every account sits in one region, so the regions' sum is the whole book: the caption says so, with the
    # figures the other pages count (``book_scope``).
    scope = book_scope(Account.objects.all(), label="The whole book")
    context = {
        "regions": regions,
        "totals": totals,
        "can_manage": policy.can_manage_people(user),
        "caption": scope.regions_parts(len(regions)),
    }
    return render(request, "people/regions.html", context)


@login_required
@require_http_methods(["GET"])
def region_detail(request: HttpRequest, region_id: int) -> HttpResponse:
    user = request_user(request)
    region = selectors.region_for_user(user, region_id)
    context = {
        "region": region,
        "tams": selectors.region_tams(region=region),
        "members": selectors.region_members(region=region),
        "totals": selectors.region_totals(region=region),
        "can_manage": policy.can_manage_people(user),
    }
    return render(request, "people/region_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def region_create(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    if not policy.can_manage_people(user):
        raise PermissionDenied("Only admins add regions.")
    form = RegionForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                region = services.region_create(
                    actor=user, name=form.cleaned_data["name"], manager=form.cleaned_data["manager"], source="web"
                )
            except ValidationFailed as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Added region {region.name}.")
                return redirect("people:region_detail", region_id=region.pk)
        status = 400
    return render(request, "people/region_form.html", {"form": form, "region": None}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def region_edit(request: HttpRequest, region_id: int) -> HttpResponse:
    user = request_user(request)
    region = selectors.region_for_user(user, region_id, write=True)
    form = RegionForm(request.POST or None, region=region, initial={"name": region.name, "manager": region.manager_id})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                with transaction.atomic():
                    changed = services.region_update(actor=user, region=region, name=form.cleaned_data["name"])
                    if services.region_set_manager(actor=user, region=region, manager=form.cleaned_data["manager"]):
                        changed.append("manager")
            except ValidationFailed as exc:
                add_service_errors(form, exc)
                region.refresh_from_db()
            else:
                messages.success(
                    request, f"Saved {len(changed)} change(s) to {region.name}." if changed else "Nothing changed."
                )
                return redirect("people:region_detail", region_id=region.pk)
        status = 400
    return render(request, "people/region_form.html", {"form": form, "region": region}, status=status)


# --- API tokens -----------------------------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    """Your API tokens. Creating one answers with its secret on this page, once; only a hash is kept."""
    user = request_user(request)
    form = TokenForm(request.POST or None)
    created = secret = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            created, secret = services.token_create(actor=user, user=user, name=form.cleaned_data["name"])
            form = TokenForm()
        else:
            status = 400
    context = {"tokens": selectors.tokens_for(user=user), "form": form, "created": created, "secret": secret}
    return render(request, "people/tokens.html", context, status=status)


@login_required
@require_http_methods(["POST"])
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    user = request_user(request)
    token = selectors.token_for_user(user, token_id)
    if token.revoked_at is not None:
        messages.info(request, f"“{token.name}” was already revoked.")
    else:
        services.token_revoke(actor=user, token=token)
        messages.success(request, f"Revoked “{token.name}”. Requests using it are now refused.")
    return redirect("people:tokens")
