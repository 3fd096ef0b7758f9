"""Service Desk pages: the queue (overdue highlighted) with the metrics, a request (thread, reply, status,
reassignment), entering a request for a pooled account, the account's request link, kept-aside email, pools and
availability, and the customer's request link page (no sign-in; it shows only its own account's name and
thread)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from tamarind import policy
from tamarind.accounts.selectors import account_for_user
from tamarind.assignment.forms import initial_rows
from tamarind.assignment.selectors import vocabulary
from tamarind.core.errors import ValidationFailed
from tamarind.core.http import request_user
from tamarind.core.throttle import throttled
from tamarind.core.values import clean_date
from tamarind.people.models import User
from tamarind.servicedesk import selectors, services
from tamarind.servicedesk.forms import PoolConditionFormSet, PoolForm, criteria_definition, place_pool_errors
from tamarind.servicedesk.models import Channel, InboundEmail, InboundStatus, Pool, RequestStatus


def _post_id(request: HttpRequest, name: str) -> int:
    value = request.POST.get(name, "")
    return int(value) if value.isdigit() and len(value) < 19 else 0


def _errors(exc: ValidationFailed) -> str:
    return " ".join(m for msgs in exc.errors.values() for m in msgs)


def _desk_user(request: HttpRequest) -> User:
    user = request_user(request)
    if not policy.can_view_servicedesk(user):
        raise PermissionDenied("The Service Desk is for TAMs, managers, directors and admins.")
    return user


@login_required
@require_http_methods(["GET"])
def queue(request: HttpRequest) -> HttpResponse:
    """The queue: open requests by due time (overdue ones highlighted), then closed; with the desk's metrics."""
    user = _desk_user(request)
    status = request.GET.get("status", "")
    if status and status not in RequestStatus.values:
        status = ""
    overdue_only = request.GET.get("overdue") == "1"
    now = timezone.now()
    return render(
        request,
        "servicedesk/queue.html",
        {
            "requests": selectors.queue(user=user, status=status, overdue_only=overdue_only, now=now),
            "metrics": selectors.metrics(user=user),
            "statuses": RequestStatus.choices,
            "status": status,
            "overdue_only": overdue_only,
            "unmatched": len(selectors.unmatched_email()) if policy.can_manage_pools(user) else None,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def detail(request: HttpRequest, request_id: int) -> HttpResponse:
    """One request: its thread; pool TAMs reply (emailed to the requester), change the status or reassign."""
    user = _desk_user(request)
    req = selectors.request_for_user(user, request_id, write=request.method == "POST")
    error = ""
    if request.method == "POST":
        try:
            if "body" in request.POST:
                services.request_reply(actor=user, request=req, body=request.POST["body"])
            else:
                changes: dict[str, Any] = {}
                if request.POST.get("status"):
                    changes["status"] = request.POST["status"]
                if request.POST.get("assignee"):
                    if not request.POST["assignee"].isdigit():
                        raise ValidationFailed({"assignee_id": ["Choose a TAM of the pool."]})
                    changes["assignee_id"] = int(request.POST["assignee"])
                services.request_update(actor=user, request=req, changes=changes)
        except ValidationFailed as exc:
            error = _errors(exc)
        else:
            messages.success(request, "Saved.")
            return redirect("servicedesk:detail", request_id=req.pk)
    return render(
        request,
        "servicedesk/detail.html",
        {
            "req": req,
            "thread": selectors.thread(req),
            "members": selectors.pool_members(req.pool_id),
            "can_work": policy.can_work_request(user, req),
            "overdue": req.is_overdue(timezone.now()),
            "statuses": RequestStatus.choices,
            "error": error,
        },
        status=400 if error else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def account_desk(request: HttpRequest, account_id: int) -> HttpResponse:
    """A pooled account's desk: enter a request for it, create or revoke its request link."""
    user = _desk_user(request)
    account = account_for_user(user, account_id)
    if not policy.can_enter_request(user, account):
        raise PermissionDenied("Only the TAMs and manager of this account's pool work its requests.")
    error = ""
    new_link = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "link":
                _, raw = services.request_link_create(actor=user, account=account)
                new_link = request.build_absolute_uri(reverse("desk:link", args=[raw]))
            elif action == "revoke":
                services.request_link_revoke(actor=user, account=account)
                messages.success(request, "The request link is revoked.")
                return redirect("servicedesk:account", account_id=account.pk)
            else:
                req = services.request_create(
                    actor=user,
                    account=account,
                    subject=request.POST.get("subject", ""),
                    body=request.POST.get("body", ""),
                    channel=Channel.TAM,
                    requester_email=request.POST.get("requester_email", ""),
                    requester_name=request.POST.get("requester_name", ""),
                )
                messages.success(request, f"Entered {req.reference}.")
                return redirect("servicedesk:detail", request_id=req.pk)
        except ValidationFailed as exc:
            error = _errors(exc)
    live = account.request_links.filter(revoked_at__isnull=True).first()
    return render(
        request,
        "servicedesk/account.html",
        {
            "account": account,
            "live_link": live,
            "new_link": new_link,
            "error": error,
            "pool": services.pool_for_account(account),
        },
        status=400 if error else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def pools(request: HttpRequest) -> HttpResponse:
    """Pools and their TAMs' availability; a TAM switches their own availability, the pool's manager or an admin
    anyone's."""
    user = _desk_user(request)
    error = ""
    if request.method == "POST":
        pool = Pool.objects.filter(pk=_post_id(request, "pool")).first()
        tam = User.objects.filter(pk=_post_id(request, "tam")).first()
        if pool is None or tam is None:
            raise Http404("No such pool or person.")
        try:
            services.pool_member_set(
                actor=user,
                pool=pool,
                tam=tam,
                available=request.POST.get("available") == "on",
                away_until=clean_date(request.POST.get("away_until", ""), "away_until"),
            )
        except ValidationFailed as exc:
            error = _errors(exc)
        else:
            messages.success(request, "Availability saved.")
            return redirect("servicedesk:pools")
    rows = list(selectors.pools())
    for p in rows:
        p.editable = policy.can_edit_pool(user, p)  # type: ignore[attr-defined]
    return render(
        request,
        "servicedesk/pools.html",
        {
            "pools": rows,
            "today": timezone.localdate(),
            "error": error,
            "user_id": user.pk,
            "can_create": policy.can_manage_pools(user),
        },
        status=400 if error else 200,
    )


def _pool_form(request: HttpRequest, user: User, pool: Pool | None, *, bound: bool) -> PoolForm:
    admin = policy.can_manage_pools(user)
    models = selectors.pool_model_choices()
    managers = selectors.pool_manager_choices() if admin else []
    if bound:
        return PoolForm(request.POST, models=models, managers=managers, admin=admin)
    initial: dict[str, Any] = {"engagement_model": "pooled", "first_response_hours": 48, "is_active": True}
    if pool is not None:
        initial = {
            "name": pool.name,
            "engagement_model": pool.engagement_model,
            "precedence": pool.precedence,
            "first_response_hours": pool.first_response_hours,
            "email_address": pool.email_address,
            "manager_id": pool.manager_id,
            "is_active": pool.is_active,
        }
    return PoolForm(initial=initial, models=models, managers=managers, admin=admin)


@login_required
@require_http_methods(["GET", "POST"])
def pool_edit(request: HttpRequest, pool_id: int | None = None) -> HttpResponse:
    """Create a pool (admins; no id) or change one (admins, its manager): its settings, its qualification criteria
    as the rules editor's rows, and (on an existing pool) its TAMs. Other desk users see it read-only (403 on a
    save); ``action`` ``deactivate``/``activate`` switches it off or on (admins)."""
    user = _desk_user(request)
    pool = selectors.pool_for_user(user, pool_id) if pool_id is not None else None
    can_edit = policy.can_edit_pool(user, pool) if pool is not None else policy.can_manage_pools(user)
    if (request.method == "POST" or pool is None) and not can_edit:
        raise PermissionDenied("Only admins and the pool's manager change a pool.")
    vocab = vocabulary()
    switch = request.method == "POST" and pool is not None and request.POST.get("action") in ("deactivate", "activate")
    form = _pool_form(request, user, pool, bound=request.method == "POST" and not switch)
    status = 200
    if switch:
        assert pool is not None
        try:
            services.pool_update(actor=user, pool=pool, changes={"is_active": request.POST["action"] == "activate"})
        except ValidationFailed as exc:
            form.add_error(None, _errors(exc))
            status = 400
        else:
            messages.success(request, f"{pool.name} is {'active' if request.POST['action'] == 'activate' else 'off'}.")
            return redirect("servicedesk:pool", pool_id=pool.pk)
        rows = PoolConditionFormSet(initial=initial_rows(vocab, pool.criteria or {}), prefix="c")
    elif request.method == "POST":
        rows = PoolConditionFormSet(request.POST, prefix="c")
        if form.is_valid() and rows.is_valid():
            rules, definition, origin = criteria_definition(vocab, rows)
            try:
                if pool is None:
                    saved = services.pool_create(actor=user, data=form.changes(definition))
                else:
                    saved = services.pool_update(actor=user, pool=pool, changes=form.changes(definition))
            except ValidationFailed as exc:
                place_pool_errors(exc, form, rules, rows, origin)
            else:
                messages.success(request, f"Saved {saved.name}.")
                return redirect("servicedesk:pool", pool_id=saved.pk)
        status = 400
    else:
        rows = PoolConditionFormSet(initial=initial_rows(vocab, (pool.criteria if pool else None) or {}), prefix="c")
    context: dict[str, Any] = {
        "pool": pool,
        "form": form,
        "rows": rows,
        "vocab": vocab,
        "can_edit": can_edit,
        "admin": policy.can_manage_pools(user),
    }
    if pool is not None:
        context |= _members_context(user, pool)
    return render(request, "servicedesk/pool_edit.html", context, status=status)


def _members_context(user: User, pool: Pool, error: str = "") -> dict[str, Any]:
    return {
        "pool": pool,
        "members": list(pool.members.all()),
        "candidates": selectors.pool_candidates(pool) if policy.can_edit_pool(user, pool) else [],
        "can_edit": policy.can_edit_pool(user, pool),
        "member_error": error,
        "today": timezone.localdate(),
    }


@login_required
@require_http_methods(["POST"])
def pool_members(request: HttpRequest, pool_id: int) -> HttpResponse:
    """Add (``action`` ``add``, ``tam``) or remove (``action`` ``remove``, ``tam``) a pool's TAM: admins and the
    pool's manager. From htmx: the members panel again (a refused change answers 200 with the error in it)."""
    user = _desk_user(request)
    pool = selectors.pool_for_user(user, pool_id, write=True)
    error = done = ""
    try:
        tam = selectors.pool_member_candidate(request.POST.get("tam", ""))
        action = request.POST.get("action", "")
        if action == "add":
            member = services.pool_member_add(actor=user, pool=pool, tam=tam)
            done = f"Added {member.tam.full_name}."
        elif action == "remove":
            services.pool_member_remove(actor=user, pool=pool, tam=tam)
            done = f"Removed {tam.full_name}."
        else:
            raise ValidationFailed({"action": ["Add or remove."]})
    except ValidationFailed as exc:
        error = _errors(exc)
    htmx = request.headers.get("HX-Request") == "true"
    if not error and not htmx:
        messages.success(request, done)
        return redirect("servicedesk:pool", pool_id=pool.pk)
    pool = selectors.pool_for_user(user, pool_id)  # the members as they are now
    context = {**_members_context(user, pool, error), "done": "" if error else done}
    if htmx:
        return render(request, "servicedesk/_pool_members.html", context)
    vocab = vocabulary()
    context |= {
        "form": _pool_form(request, user, pool, bound=False),
        "rows": PoolConditionFormSet(initial=initial_rows(vocab, pool.criteria or {}), prefix="c"),
        "vocab": vocab,
        "admin": policy.can_manage_pools(user),
    }
    return render(request, "servicedesk/pool_edit.html", context, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def unmatched(request: HttpRequest) -> HttpResponse:
    """Email from unknown senders, kept aside: an admin matches each to a pooled account (or dismisses it)."""
    user = request_user(request)
    if not policy.can_manage_pools(user):
        raise PermissionDenied("Admins match kept-aside email.")
    error = ""
    if request.method == "POST":
        inbound = InboundEmail.objects.filter(
            pk=_post_id(request, "inbound"),
            status=InboundStatus.UNMATCHED,
        ).first()
        if inbound is None:
            raise Http404("No such email.")
        try:
            account = account_for_user(user, request.POST.get("account", ""))
            req = services.inbound_email_match(actor=user, inbound=inbound, account=account)
        except ValidationFailed as exc:
            error = _errors(exc)
        else:
            messages.success(request, f"Matched: {req.reference}.")
            return redirect("servicedesk:unmatched")
    return render(
        request,
        "servicedesk/unmatched.html",
        {"emails": selectors.unmatched_email(), "error": error},
        status=400 if error else 200,
    )


# --- The customer's page (no sign-in) ------------------------------------------------------------------------
@throttled("request_link")
@csrf_protect
@require_http_methods(["GET", "POST"])
def link(request: HttpRequest, token: str) -> HttpResponse:
    """The request link: the account's name and its requests' threads, a form for a new request, a reply, and the
    rating of a closed request. A revoked or unknown token answers 404 with a page of its own that says the link no
    longer works (and nothing about whose it was), not the product's page for signed-in people."""
    try:
        grant = selectors.link_account(token)
    except Http404:
        return render(request, "servicedesk/link_refused.html", status=404)
    error = ""
    if request.method == "POST":
        action = request.POST.get("action", "new")
        try:
            if action == "new":
                services.request_create(
                    actor=None,
                    account=grant.account,
                    subject=request.POST.get("subject", ""),
                    body=request.POST.get("body", ""),
                    channel=Channel.LINK,
                    requester_email=request.POST.get("email", ""),
                    requester_name=request.POST.get("name", ""),
                    source="link",
                )
            else:
                mine = {r.pk: r for r in selectors.link_requests(grant)}
                rid = request.POST.get("request", "")
                req = mine.get(int(rid)) if rid.isdigit() else None
                if req is None:
                    raise Http404("No such request.")
                if action == "reply":
                    services.customer_message_add(
                        request=req, body=request.POST.get("body", ""), from_email=req.requester_email
                    )
                elif action == "rate":
                    services.request_rate(
                        request=req, rating=request.POST.get("rating", ""), comment=request.POST.get("comment", "")
                    )
                else:
                    raise ValidationFailed({"action": ["Unknown action."]})
        except ValidationFailed as exc:
            error = _errors(exc)
        else:
            # 303 See Other: the customer's browser shows the thread again with a GET.
            return HttpResponse(status=303, headers={"Location": reverse("desk:link", args=[token])})
    return render(
        request,
        "servicedesk/link.html",
        {
            "account_name": grant.account.name,
            "requests": selectors.link_requests(grant),
            "error": error,
            "token": token,
            "ratings": range(1, 6),
        },
        status=400 if error else 200,
    )
