"""Digital journey pages: the programs, a program (steps with sent/opened/clicked, pause and resume), editing a step
with a preview for a sample contact; and the public links of a send (tracking image, click redirect, unsubscribe),
which need no sign-in. Thin: parse, gate (the selectors), call a service, render."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from tamarind import policy
from tamarind.accounts.models import Account
from tamarind.contacts.models import Contact, Persona
from tamarind.core.errors import ValidationFailed
from tamarind.core.http import request_user
from tamarind.core.throttle import throttled
from tamarind.journeys import selectors, services
from tamarind.journeys.models import Program, ProgramStatus, Send, Step, StepKind
from tamarind.people.models import User

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
STEP_INPUTS = ("name", "kind", "day", "repeat_days", "repeat_months", "subject", "body")


def _errors(exc: ValidationFailed) -> str:
    return " ".join(m for msgs in exc.errors.values() for m in msgs)


@login_required
@require_http_methods(["GET"])
def programs(request: HttpRequest) -> HttpResponse:
    """Every program: status, who it is for, its steps, sends, opens and clicks."""
    user = request_user(request)
    return render(
        request,
        "journeys/programs.html",
        {"programs": selectors.programs(user), "can_edit": policy.can_edit_journeys(user)},
    )


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


def _sample_session() -> Any:
    """The session a webinar step's preview invites to: the next one, else a made-up one (nothing is saved)."""
    from tamarind.webinars.models import Round, Session, Topic

    session = Session.objects.filter(starts_at__gt=timezone.now()).select_related("topic").order_by("starts_at").first()
    if session is None:
        start = timezone.now() + dt.timedelta(days=7)
        session = Session(
            topic=Topic(name="Getting started with CI/CD"),
            round=Round.OPERATIONALIZE,
            title="Getting started with CI/CD",
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
        )
    return session


def _preview(step: Step, contact: Contact) -> dict[str, str]:
    send = Send(step=step, contact=contact, account=contact.account, token="preview")
    if step.is_webinar:
        send.webinar_session = _sample_session()
    survey_url = services.absolute("/s/preview/") if step.is_survey else ""
    subject, text, html = services.compose(send, survey_url=survey_url, track=False)
    return {"subject": subject, "text": text, "html": html}


def _program_data(request: HttpRequest) -> dict[str, Any]:
    """The program form's fields as the service takes them (unticked boxes: empty lists, tracking off)."""
    return {
        "name": request.POST.get("name", ""),
        "description": request.POST.get("description", ""),
        "status": request.POST.get("status", ProgramStatus.ACTIVE),
        "engagement_models": request.POST.getlist("engagement_models"),
        "min_arr": request.POST.get("min_arr", ""),
        "max_arr": request.POST.get("max_arr", ""),
        "personas": request.POST.getlist("personas"),
        "track": request.POST.get("track") == "on",
    }


def _program_form(
    request: HttpRequest, *, program: Program | None, data: dict[str, Any], error: str = "", status: int = 200
) -> HttpResponse:
    personas = data.get("personas")
    models = data.get("engagement_models")
    if program is not None:
        personas = personas if personas is not None else [p.key for p in program.personas.all()]
        models = models if models is not None else program.engagement_models
    return render(
        request,
        "journeys/program_form.html",
        {
            "program": program,
            "data": data,
            "chosen_personas": set(personas or []),
            "chosen_models": set(models or []),
            "persona_choices": list(Persona.objects.order_by("position", "key")),
            "model_choices": selectors.engagement_model_choices(),
            "statuses": ProgramStatus.choices,
            "error": error,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def program_new(request: HttpRequest) -> HttpResponse:
    """Create a program (admins and managers): name, key, whom it is for, personas, active or paused."""
    user = request_user(request)
    selectors.require_edit(user)
    if request.method == "GET":
        return _program_form(request, program=None, data={"status": ProgramStatus.ACTIVE, "track": True})
    data = {**_program_data(request), "key": request.POST.get("key", "")}
    try:
        item = services.program_create(actor=user, data=data)
    except ValidationFailed as exc:
        return _program_form(request, program=None, data=data, error=_errors(exc), status=400)
    messages.success(request, f"Created {item.name}: add its steps.")
    return redirect("journeys:program", program_id=item.pk)


@login_required
@require_http_methods(["GET", "POST"])
def program_edit(request: HttpRequest, program_id: int) -> HttpResponse:
    """Edit a program's name, criteria, personas, status and tracking (its key never changes)."""
    user = request_user(request)
    item = selectors.program_for_user(user, program_id, write=True)
    if request.method == "GET":
        return _program_form(request, program=item, data={})
    data = _program_data(request)
    try:
        item = services.program_update(actor=user, program=item, data=data)
    except ValidationFailed as exc:
        return _program_form(request, program=item, data=data, error=_errors(exc), status=400)
    messages.success(request, f"Saved {item.name}.")
    return redirect("journeys:program", program_id=item.pk)


def _step_page(request: HttpRequest, *, user: User, step: Step, creating: bool) -> HttpResponse:
    """The step form, shared by adding and editing. ``action=preview`` renders the step as typed for the chosen
    sample contact without saving (htmx swaps the preview in, or the refusal, with 200: htmx swaps only 2xx);
    ``action=save`` saves it through the service (an unknown merge field: the form again with the refusal, 400)."""
    samples = list(selectors.sample_contacts_for(user))
    error = ""
    preview = None
    if request.method == "POST":
        data = {k: request.POST.get(k, "") for k in STEP_INPUTS}
        action = request.POST.get("action", "save")
        try:
            services.step_validate(step=step, data=data)
            if action == "preview":
                preview = _preview(step, _sample(user, request.POST.get("contact", "")))
            elif creating:
                created = services.step_create(actor=user, program=step.program, data=data)
                messages.success(request, f"Added {created.name}.")
                return redirect("journeys:program", program_id=step.program_id)
            else:
                services.step_update(actor=user, step=step, data=data)
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
            "creating": creating,
            "can_edit": policy.can_edit_journeys(user),
            "kinds": StepKind.choices,
            "samples": samples,
            "fields": services.templating.FIELDS,
            "preview": preview,
            "error": error,
        },
        status=400 if error else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def step_new(request: HttpRequest, program_id: int) -> HttpResponse:
    """Add a step to a program, previewed before saving."""
    user = request_user(request)
    item = selectors.program_for_user(user, program_id, write=True)
    last = max((s.day for s in item.steps.all()), default=0)
    step = Step(program=item, name="", kind=StepKind.EMAIL, day=last, subject="", body="")
    return _step_page(request, user=user, step=step, creating=True)


@login_required
@require_http_methods(["GET", "POST"])
def step_edit(request: HttpRequest, step_id: int) -> HttpResponse:
    """Edit a step's timing and templates, previewed before saving."""
    user = request_user(request)
    step = selectors.step_for_user(user, step_id, write=request.method == "POST")
    return _step_page(request, user=user, step=step, creating=False)


@login_required
@require_http_methods(["POST"])
def step_delete(request: HttpRequest, step_id: int) -> HttpResponse:
    """Remove a step (and its sends); back to the program."""
    user = request_user(request)
    step = selectors.step_for_user(user, step_id, write=True)
    services.step_delete(actor=user, step=step)
    messages.success(request, f"Removed {step.name}.")
    return redirect("journeys:program", program_id=step.program_id)


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


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest, token: str) -> HttpResponse:
    """A webinar invitation's registration link: the session (title, topic, date) and a button; the POST records
    the registration. Nothing about the account or other contacts is shown; a send that is no invitation: 404."""
    send = selectors.send_by_token(token)
    session = send.webinar_session
    if session is None:
        return render(request, "journeys/register.html", {"unknown": True}, status=404)
    done = selectors.send_registered(send)
    past = session.starts_at <= timezone.now()
    if request.method == "POST" and not done and not past:
        services.send_register(send=send)
        done = True
    return render(
        request,
        "journeys/register.html",
        {
            "done": done,
            "session": session,
            "when": services.session_when(session.starts_at),
            "past": past,
            "email": _masked(send.contact.email),
        },
    )


def _masked(email: str) -> str:
    """``a***@example.com``: enough for the recipient to recognise, not to harvest."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"
