"""Digital journey pages: the programs, a program (steps with sent/opened/clicked, pause and resume), editing a step
with a preview for a sample contact; and the public links of a send (tracking image, click redirect, unsubscribe),
which need no sign-in. Thin: parse, gate (the selectors), call a service, render."""

from __future__ import annotations

import base64

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from tamarind.accounts.models import Account
from tamarind.contacts.models import Contact
from tamarind.core.errors import ValidationFailed
from tamarind.core.http import request_user
from tamarind.core.throttle import throttled
from tamarind.journeys import selectors, services
from tamarind.journeys.models import ProgramStatus, Send, Step, StepKind
from tamarind.people.models import User

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
STEP_INPUTS = ("name", "kind", "day", "repeat_days", "subject", "body")


def _errors(exc: ValidationFailed) -> str:
    return " ".join(m for msgs in exc.errors.values() for m in msgs)


@login_required
@require_http_methods(["GET"])
def programs(request: HttpRequest) -> HttpResponse:
    """Every program: status, who it is for, its steps, sends, opens and clicks."""
    user = request_user(request)
    return render(request, "journeys/programs.html", {"programs": selectors.programs(user)})


@login_required
@require_http_methods(["GET"])
def program(request: HttpRequest, program_id: int) -> HttpResponse:
    user = request_user(request)
    item = selectors.program_for_user(user, program_id)
    return render(request, "journeys/program.html", selectors.program_page(user=user, program=item))


@login_required
@require_http_methods(["POST"])
def program_status(request: HttpRequest, program_id: int) -> HttpResponse:
    """Pause or resume (``status=paused|active``); htmx gets the status block back."""
    user = request_user(request)
    item = selectors.program_for_user(user, program_id, write=True)
    status = request.POST.get("status", "")
    try:
        item = services.program_set_status(actor=user, program=item, status=status)
    except ValidationFailed as exc:
        return HttpResponse(_errors(exc), status=400)
    if request.headers.get("HX-Request"):
        return render(request, "journeys/_status.html", {"program": item, "can_edit": True})
    messages.success(request, "Paused: nothing is sent." if item.status == ProgramStatus.PAUSED else "Resumed.")
    return redirect("journeys:program", program_id=item.pk)


def _sample(user: User, contact_id: str) -> Contact:
    """The contact a preview renders for: one the user may read, else a made-up one (nothing is saved)."""
    contact = None
    if contact_id.isdigit() and len(contact_id) < 19:
        contact = (
            Contact.objects.select_related("account__tam")
            .filter(pk=int(contact_id), account__in=Account.objects.visible_to(user))
            .first()
        )
    if contact is None:
        contact = Contact(name="Alex Example", email="alex@example.com", account=Account(name="Example Corp"))
    return contact


def _preview(step: Step, contact: Contact) -> dict[str, str]:
    send = Send(step=step, contact=contact, account=contact.account, token="preview")
    survey_url = services.absolute("/s/preview/") if step.is_survey else ""
    subject, text, html = services.compose(send, survey_url=survey_url, track=False)
    return {"subject": subject, "text": text, "html": html}


@login_required
@require_http_methods(["GET", "POST"])
def step_edit(request: HttpRequest, step_id: int) -> HttpResponse:
    """Edit a step's timing and templates. ``action=preview`` renders it for the chosen sample contact without
    saving (htmx swaps the preview in, or the refusal); ``action=save`` saves it (an unknown merge field: 400)."""
    user = request_user(request)
    step = selectors.step_for_user(user, step_id, write=request.method == "POST")
    samples = list(selectors.sample_contacts_for(user))
    error = ""
    preview = None
    data = {k: request.POST.get(k, "") for k in STEP_INPUTS} if request.method == "POST" else {}
    if request.method == "POST":
        action = request.POST.get("action", "save")
        try:
            services.step_validate(step=step, data=data)
            if action == "preview":
                preview = _preview(step, _sample(user, request.POST.get("contact", "")))
            else:
                services.step_update(actor=user, step=selectors.step_for_user(user, step_id, write=True), data=data)
                messages.success(request, f"Saved {step.name}.")
                return redirect("journeys:program", program_id=step.program_id)
        except ValidationFailed as exc:
            error = _errors(exc)
        if request.headers.get("HX-Request"):
            # 200 even with an error: the preview's answer is the refusal, and htmx swaps in only 2xx answers.
            return render(request, "journeys/_preview.html", {"preview": preview, "error": error})
    return render(
        request,
        "journeys/step_edit.html",
        {
            "step": step,
            "program": step.program,
            "kinds": StepKind.choices,
            "samples": samples,
            "fields": services.templating.FIELDS,
            "preview": preview,
            "error": error,
        },
        status=400 if error else 200,
    )


# --- Public links (no sign-in: the send's token is the credential) ---------------------------------------------
@never_cache
@require_http_methods(["GET"])
def open_pixel(request: HttpRequest, token: str) -> HttpResponse:
    """The tracking image: a 1x1 GIF whatever the token (an unknown one records nothing and says nothing)."""
    send = Send.objects.select_related("step__program").filter(token=token[:40]).first()
    if send is not None:
        services.send_record_open(send=send)
    return HttpResponse(PIXEL, content_type="image/gif")


@never_cache
@require_http_methods(["GET"])
def click(request: HttpRequest, token: str) -> HttpResponse:
    """A tracked link: records the click, then redirects to the signed target (a forged target: 404)."""
    send = selectors.send_by_token(token)
    url = services.click_target(request.GET.get("u", ""))
    if url is None:
        raise Http404("No such link.")
    services.send_record_click(send=send, url=url)
    return HttpResponseRedirect(url)


@throttled("unsubscribe")
@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """The unsubscribe link: a confirmation (nothing about the account or other contacts), then the opt-out."""
    try:
        send = selectors.send_by_token(token)
    except Http404:
        return render(request, "journeys/unsubscribe.html", {"unknown": True}, status=404)
    done = send.contact.opted_out
    if request.method == "POST" and not done:
        services.send_unsubscribe(send=send)
        done = True
    return render(request, "journeys/unsubscribe.html", {"done": done, "email": _masked(send.contact.email)})


def _masked(email: str) -> str:
    """``a***@example.com``: enough for the recipient to recognise, not to harvest."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"
