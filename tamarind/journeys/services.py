"""Writing the digital journey: programs and steps (audited), the daily run that queues due sends, delivery by the
worker (retries, bounces), and what recipients do through their links (opens, clicks, unsubscribes: recorded as
``Event`` rows, which are data, not audit events)."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Min, Q
from django.urls import reverse
from django.utils import timezone

from tamarind.accounts.models import Account
from tamarind.audit.models import AuditAction
from tamarind.audit.services import audit_record, snapshot
from tamarind.contacts.models import Contact, Persona
from tamarind.core.bulk import chunks, insert_instances
from tamarind.core.errors import ValidationFailed
from tamarind.core.months import add_months
from tamarind.core.progress import ProgressFn
from tamarind.journeys import schedule, templating
from tamarind.journeys.models import (
    WEBINAR_INVITE_AHEAD_DAYS,
    Event,
    EventKind,
    Program,
    ProgramStatus,
    Send,
    SendStatus,
    Step,
    StepKind,
)

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 4
BACKOFF_MINUTES = 15  # before attempt n+1: 15 min x 2^(n-1)
DELIVERY_BATCH = 200
CLICK_SALT = "tamarind.journeys.click"
MAX_CLICK_EVENTS = 50  # per send: a link crawler cannot grow the table without bound

PROGRAM_FIELDS = ["key", "name", "description", "status", "engagement_models", "min_arr", "max_arr", "track"]
STEP_FIELDS = ["name", "kind", "day", "repeat_days", "repeat_months", "subject", "body", "position"]


# --- Programs and steps ----------------------------------------------------------------------------------------
def _decimal(value: Any, field: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        out = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationFailed({field: ["Enter an amount such as 20000."]}) from None
    if not out.is_finite() or out < 0 or out >= Decimal("1e12"):
        raise ValidationFailed({field: ["Enter an amount between 0 and 999,999,999,999."]})
    return out.quantize(Decimal("0.01"))


def _clean_program(data: dict[str, Any], program: Program) -> list[str] | None:
    """Apply ``data`` to ``program`` (unsaved); returns the persona keys to set (``None``: unchanged)."""
    from tamarind.accounts.models import EngagementModel

    if "key" in data:
        program.key = str(data["key"] or "").strip()[:50]
    if "name" in data:
        program.name = str(data["name"] or "").strip()[:120]
    if "description" in data:
        program.description = str(data["description"] or "")[:5000]
    if "status" in data:
        if data["status"] not in ProgramStatus.values:
            raise ValidationFailed({"status": ["Use active or paused."]})
        program.status = data["status"]
    if "engagement_models" in data:
        models = [str(m).strip() for m in (data["engagement_models"] or []) if str(m).strip()]
        program.engagement_models = sorted(set(models))
    if "min_arr" in data:
        program.min_arr = _decimal(data["min_arr"], "min_arr")
    if "max_arr" in data:
        program.max_arr = _decimal(data["max_arr"], "max_arr")
    if "track" in data:
        program.track = bool(data["track"])
    errors: dict[str, list[str]] = {}
    if not program.name:
        errors["name"] = ["Give the program a name."]
    if not program.key or not all(c.isalnum() or c in "-_" for c in program.key):
        errors["key"] = ["A key of letters, digits, - and _."]
    elif Program.objects.filter(key=program.key).exclude(pk=program.pk).exists():
        errors["key"] = [f"A program with key {program.key!r} exists."]
    if program.min_arr is not None and program.max_arr is not None and program.min_arr > program.max_arr:
        errors["max_arr"] = ["The maximum ARR must not be below the minimum."]
    if not program.engagement_models and not program.has_band():
        errors["engagement_models"] = [
            "Choose engagement models, an ARR band, or both: otherwise no account qualifies."
        ]
    unknown = [m for m in program.engagement_models if m not in EngagementModel.values]
    if unknown:
        from tamarind.engagement.models import EngagementModel as ModelDef

        known = set(ModelDef.objects.filter(key__in=unknown).values_list("key", flat=True))
        if set(unknown) - known:
            errors["engagement_models"] = [f"Unknown engagement model(s): {', '.join(sorted(set(unknown) - known))}."]
    personas: list[str] | None = None
    if "personas" in data:
        personas = sorted({str(p) for p in (data["personas"] or [])})
        found = set(Persona.objects.filter(key__in=personas).values_list("key", flat=True))
        if set(personas) - found:
            errors["personas"] = [f"Unknown persona(s): {', '.join(sorted(set(personas) - found))}."]
    if errors:
        raise ValidationFailed(errors)
    return personas


def _program_after(program: Program) -> dict[str, Any]:
    return {**snapshot(program, PROGRAM_FIELDS), "personas": sorted(p.key for p in program.personas.all())}


@transaction.atomic
def program_create(*, actor: Any, data: dict[str, Any], source: str = "web") -> Program:
    """A new program (its steps are added with ``step_create``)."""
    program = Program()
    personas = _clean_program(data, program)
    program.save()
    program.personas.set(Persona.objects.filter(key__in=personas or []))
    audit_record(actor=actor, obj=program, action=AuditAction.CREATE, after=_program_after(program), source=source)
    return program


@transaction.atomic
def program_update(*, actor: Any, program: Program, data: dict[str, Any], source: str = "web") -> Program:
    """Change a program's fields (only those in ``data``); ``personas`` replaces the set."""
    program = Program.objects.select_for_update().get(pk=program.pk)
    before = _program_after(program)
    personas = _clean_program(data, program)
    program.save()
    if personas is not None:
        program.personas.set(Persona.objects.filter(key__in=personas))
    after = _program_after(program)
    if after != before:
        audit_record(actor=actor, obj=program, action=AuditAction.UPDATE, before=before, after=after, source=source)
    return program


def program_set_status(*, actor: Any, program: Program, status: str, source: str = "web") -> Program:
    """Pause (nothing is queued or delivered while paused) or resume a program."""
    return program_update(actor=actor, program=program, data={"status": status}, source=source)


def _clean_step(data: dict[str, Any], step: Step) -> None:
    if "name" in data:
        step.name = str(data["name"] or "").strip()[:120]
    if "kind" in data:
        if data["kind"] not in StepKind.values:
            raise ValidationFailed({"kind": [f"Use one of: {', '.join(StepKind.values)}."]})
        step.kind = data["kind"]
    for field, most in (("day", 3650), ("repeat_days", 3650), ("repeat_months", 120), ("position", 1000)):
        if field in data:
            raw = data[field]
            if raw in (None, "") and field in ("repeat_days", "repeat_months"):
                setattr(step, field, None)
                continue
            try:
                value = int(raw)
            except (TypeError, ValueError):
                raise ValidationFailed({field: ["Enter a whole number."]}) from None
            low = 1 if field in ("repeat_days", "repeat_months") else 0
            if not low <= value <= most:
                raise ValidationFailed({field: [f"Enter a number from {low} to {most}."]})
            setattr(step, field, value)
    if "subject" in data:
        step.subject = str(data["subject"] or "").strip()
    if "body" in data:
        step.body = str(data["body"] or "").replace("\r\n", "\n")
    errors: dict[str, list[str]] = {}
    if not step.name:
        errors["name"] = ["Give the step a name."]
    if not step.subject:
        errors["subject"] = ["Write a subject."]
    elif len(step.subject) > 200 or "\n" in step.subject:
        errors["subject"] = ["One line of at most 200 characters."]
    if not step.body.strip():
        errors["body"] = ["Write the email."]
    elif len(step.body) > 20_000:
        errors["body"] = ["At most 20,000 characters."]
    if errors:
        raise ValidationFailed(errors)
    if step.repeat_days and step.repeat_months:
        raise ValidationFailed({"repeat_months": ["Repeat every so many days or every so many months, not both."]})
    if step.is_webinar and step.repeats:
        raise ValidationFailed(
            {"repeat_days": ["A webinar invitation goes out once per upcoming session: leave repeat empty."]}
        )
    templating.check(step.subject, field="subject", survey=step.is_survey, webinar=step.is_webinar)
    templating.check(step.body, field="body", survey=step.is_survey, webinar=step.is_webinar)


def step_validate(*, step: Step, data: dict[str, Any]) -> Step:
    """``step`` with ``data`` applied and checked, unsaved (what the preview renders)."""
    _clean_step(data, step)
    return step


@transaction.atomic
def step_create(*, actor: Any, program: Program, data: dict[str, Any], source: str = "web") -> Step:
    """Add a step; refused (``ValidationFailed`` naming the field) for an unknown merge field, before saving."""
    step = Step(program=program, kind=StepKind.EMAIL, day=0)
    _clean_step({"kind": StepKind.EMAIL, "day": 0, **data}, step)
    step.save()
    audit_record(actor=actor, obj=step, action=AuditAction.CREATE, after=snapshot(step, STEP_FIELDS), source=source)
    return step


@transaction.atomic
def step_update(*, actor: Any, step: Step, data: dict[str, Any], source: str = "web") -> Step:
    """Change a step (templates checked before saving). Sends already queued keep their step: they render the
    templates as they are when delivered."""
    step = Step.objects.select_for_update().get(pk=step.pk)
    before = snapshot(step, STEP_FIELDS)
    _clean_step(data, step)
    after = snapshot(step, STEP_FIELDS)
    if after != before:
        step.save()
        audit_record(actor=actor, obj=step, action=AuditAction.UPDATE, before=before, after=after, source=source)
    return step


@transaction.atomic
def step_delete(*, actor: Any, step: Step, source: str = "web") -> None:
    """Remove a step. Its sends go with it (cascade): queued ones are never delivered, and the program's counts no
    longer include the sent ones; the audit event keeps what the step was."""
    step = Step.objects.select_for_update().get(pk=step.pk)
    before = snapshot(step, STEP_FIELDS)
    audit_record(actor=actor, obj=step, action=AuditAction.DELETE, before=before, source=source)
    step.delete()


# --- The daily run ---------------------------------------------------------------------------------------------
def _qualifying(program: Program) -> Q:
    """The accounts ``program`` is for (see ``Program``)."""
    q = Q(pk__in=[])
    if program.engagement_models:
        q |= Q(engagement_model__in=program.engagement_models)
    if program.has_band():
        band = Q()
        if program.min_arr is not None:
            band &= Q(arr__gte=program.min_arr)
        if program.max_arr is not None:
            band &= Q(arr__lte=program.max_arr)
        q |= band
    return q


# A recurring step repeating more often than this is not narrowed to start dates (too many windows).
MIN_WINDOWED_REPEAT = 28


def _start_windows(steps: list[Step], *, day: dt.date, earliest: dt.date | None) -> Q | None:
    """The customer-since dates for which some step is due on ``day`` (with the catch-up days), as date ranges the
    database filters on, so the run reads only the accounts with something due; ``None``: no account can be."""
    if earliest is None:
        return None
    q = Q(pk__in=[])
    span = dt.timedelta(days=schedule.CATCH_UP_DAYS - 1)
    for step in steps:
        last = day - dt.timedelta(days=step.day)
        if last < earliest:
            continue
        if step.repeat_days and step.repeat_days < MIN_WINDOWED_REPEAT:
            q |= Q(customer_since__lte=last)
            continue
        if step.repeat_months:
            # Occurrence k falls on (since + day) + k*m months, clamped at month ends: for it to land in the catch-up
            # days, since + day lies between those days moved back k*m months and up to 3 days after (the most a
            # clamp takes off). A superset: the run's own date check decides.
            offset = dt.timedelta(days=step.day)
            k = 0
            while True:
                back = k * step.repeat_months
                low, high = add_months(day - span, -back) - offset, add_months(day, -back) - offset
                if high + dt.timedelta(days=3) < earliest:
                    break
                q |= Q(customer_since__range=(low, high + dt.timedelta(days=3)))
                k += 1
            continue
        k = 0
        while True:
            end = last - dt.timedelta(days=k * (step.repeat_days or 0))
            if end < earliest:
                break
            q |= Q(customer_since__range=(end - span, end))
            if not step.repeat_days:
                break
            k += 1
    return q


def due_sends(*, day: dt.date, programs: Iterable[Program]) -> Iterable[tuple[Step, int, dt.date, int, int]]:
    """Every (step, occurrence, its date, account id, contact id) due on ``day``: the active programs' steps by days since
    each qualifying account started, for its reachable contacts holding the program's personas."""
    for program in programs:
        if not program.is_active:
            continue
        steps = [s for s in program.steps.all() if not s.is_webinar]  # webinar steps: ``due_invitations``
        personas = [p.key for p in program.personas.all()]
        if not steps or not personas:
            continue
        qualifying = Account.objects.filter(_qualifying(program), customer_since__isnull=False, customer_since__lte=day)
        windows = _start_windows(steps, day=day, earliest=qualifying.aggregate(m=Min("customer_since"))["m"])
        if windows is None:
            continue
        accounts = qualifying.filter(windows).values_list("pk", "customer_since").iterator(chunk_size=20_000)
        due: dict[int, list[tuple[Step, int, dt.date]]] = defaultdict(list)
        for account_id, since in accounts:
            if since is None:  # filtered out above; for the type checker
                continue
            for step in steps:
                k = schedule.occurrence_due(
                    since=since, day=day, offset=step.day, repeat=step.repeat_days, repeat_months=step.repeat_months
                )
                if k is not None:
                    on = schedule.occurrence_date(
                        since=since,
                        offset=step.day,
                        repeat=step.repeat_days,
                        occurrence=k,
                        repeat_months=step.repeat_months,
                    )
                    due[account_id].append((step, k, on))
        if not due:
            continue
        for ids in chunks(sorted(due), 5_000):
            contacts = Contact.objects.reachable().with_persona(*personas).filter(account_id__in=ids)
            for contact_id, account_id in contacts.values_list("pk", "account_id").order_by():
                for step, k, on in due[account_id]:
                    yield step, k, on, account_id, contact_id


def upcoming_sessions(day: dt.date) -> list[Any]:
    """The webinar sessions a run on ``day`` invites to: those starting on the days after it, up to
    ``WEBINAR_INVITE_AHEAD_DAYS`` ahead (one query)."""
    from tamarind.webinars.models import Session

    def start_of(d: dt.date) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(d, dt.time.min))

    after = start_of(day + dt.timedelta(days=1))
    until = start_of(day + dt.timedelta(days=WEBINAR_INVITE_AHEAD_DAYS + 1))
    return list(Session.objects.filter(starts_at__gte=after, starts_at__lt=until).order_by("starts_at", "pk"))


def due_invitations(*, day: dt.date, programs: Iterable[Program]) -> Iterable[tuple[Step, int, dt.date, int, int, int]]:
    """Every (webinar step, occurrence = session id, ``day``, account id, contact id, session id) to queue on ``day``:
    for each active program's webinar steps and each upcoming session, the session's invitation list
    (``webinars.selectors.invitees_for``: reachable contacts of its net-new customers) narrowed to the accounts the
    program is for that started at least ``step.day`` days ago, and to the program's personas. One query per step
    and session; what was already queued is skipped by the constraints when inserting."""
    from tamarind.webinars.selectors import invitees_for

    sessions: list[Any] | None = None
    for program in programs:
        if not program.is_active:
            continue
        steps = [s for s in program.steps.all() if s.is_webinar]
        personas = [p.key for p in program.personas.all()]
        if not steps or not personas:
            continue
        if sessions is None:
            sessions = upcoming_sessions(day)
        for step in steps:
            started = day - dt.timedelta(days=step.day)
            accounts = Account.objects.filter(_qualifying(program), customer_since__lte=started)
            for session in sessions:
                invited = invitees_for(session).filter(account__in=accounts).order_by().values("pk")
                rows = Contact.objects.with_persona(*personas).filter(pk__in=invited).values_list("pk", "account_id")
                for contact_id, account_id in rows:
                    yield step, session.pk, day, account_id, contact_id, session.pk


def journey_run(*, day: dt.date | None = None, progress: ProgressFn | None = None) -> dict[str, Any]:
    """Queue every send due on ``day`` (default today): bulk inserts that skip what exists, so running twice, or
    overlapping the catch-up days, never queues a step twice for a contact. Returns the counts."""
    day = day or timezone.localdate()
    now = timezone.now()
    programs = list(Program.objects.active().prefetch_related("steps", "personas"))
    batch: list[Send] = []
    considered = queued = 0

    def flush() -> None:
        nonlocal queued
        with transaction.atomic():
            queued += insert_instances(batch, ignore_conflicts=True)
        batch.clear()
        if progress:
            progress(considered, 0)

    def due() -> Iterable[tuple[Step, int, dt.date, int, int, int | None]]:
        for step, k, due_on, account_id, contact_id in due_sends(day=day, programs=programs):
            yield step, k, due_on, account_id, contact_id, None
        yield from due_invitations(day=day, programs=programs)

    for step, k, due_on, account_id, contact_id, session_id in due():
        considered += 1
        batch.append(
            Send(
                step_id=step.pk,
                contact_id=contact_id,
                account_id=account_id,
                occurrence=k,
                due_on=due_on,
                status=SendStatus.QUEUED,
                attempts=0,
                last_error="",
                survey_invitation_id=None,
                webinar_session_id=session_id,
                created_at=now,
                next_attempt_at=now,
                sent_at=None,
                opened_at=None,
                first_clicked_at=None,
            )
        )
        if len(batch) >= 10_000:
            flush()
    flush()
    if progress:
        progress(considered, considered)
    return {"day": day.isoformat(), "programs": len(programs), "due": considered, "queued": queued}


def journey_run_job() -> dict[str, Any]:
    """The scheduler's entry point (``periodic.JOBS``): today's run, then the worker delivers."""
    result = journey_run()
    if result["queued"]:
        from tamarind.journeys.tasks import deliver_sends

        transaction.on_commit(lambda: deliver_sends.enqueue())
    return result


# --- Delivery --------------------------------------------------------------------------------------------------
def absolute(path: str) -> str:
    return str(settings.TAMARIND_BASE_URL).rstrip("/") + path


def click_url(send: Send, url: str) -> str:
    """The tracked link to ``url``: the target is signed, so the redirect cannot be pointed anywhere else."""
    signed = signing.dumps(url, salt=CLICK_SALT, compress=True)
    return absolute(reverse("journeys_public:click", args=[send.token])) + f"?u={signed}"


def session_when(starts_at: dt.datetime) -> str:
    """A session's start as an invitation says it: ``Tuesday 12 May 2026, 16:00 UTC`` (the site's time zone)."""
    local = timezone.localtime(starts_at)
    return f"{local:%A} {local.day} {local:%B %Y, %H:%M} {local.tzname() or ''}".rstrip()


def webinar_values(send: Send) -> dict[str, str]:
    """The webinar merge fields of an invitation (empty for other steps)."""
    session = send.webinar_session
    if session is None:
        return {"webinar.title": "", "webinar.date": "", "webinar.topic": "", "webinar.url": ""}
    return {
        "webinar.title": session.title or session.topic.name,
        "webinar.date": session_when(session.starts_at),
        "webinar.topic": session.topic.name,
        "webinar.url": absolute(reverse("journeys_public:register", args=[send.token])),
    }


def merge_values(send: Send, *, survey_url: str = "") -> dict[str, str]:
    """The merge fields' values for ``send`` (needs step.program, contact, account.tam, and for an invitation
    webinar_session.topic, loaded)."""
    contact, account = send.contact, send.account
    tam = account.tam
    webinar = webinar_values(send) if send.step.is_webinar else {}
    return {
        **webinar,
        "contact.name": contact.name,
        "contact.first_name": (contact.name.split() or [""])[0],
        "contact.email": contact.email,
        "account.name": account.name,
        "tam.name": (tam.full_name or tam.email) if tam else "the Tamarind team",
        "tam.email": tam.email if tam else str(settings.DEFAULT_FROM_EMAIL),
        "program.name": send.step.program.name,
        "unsubscribe_url": absolute(reverse("journeys_public:unsubscribe", args=[send.token])),
        "survey_url": survey_url,
    }


def compose(send: Send, *, survey_url: str = "", track: bool | None = None) -> tuple[str, str, str]:
    """Subject, text and HTML of ``send`` (the unsubscribe and survey links added when the template leaves them
    out; the tracking pixel and tracked links only when the program tracks)."""
    step = send.step
    values = merge_values(send, survey_url=survey_url)
    subject = " ".join(templating.render(step.subject, values).split())[:250]
    text = templating.render(step.body, values).rstrip()
    used = set(templating.fields_in(step.body))
    if step.is_survey and "survey_url" not in used and survey_url:
        text += f"\n\nAnswer the survey: {survey_url}"
    if step.is_webinar and "webinar.url" not in used and values.get("webinar.url"):
        text += f"\n\nRegister: {values['webinar.url']}"
    if "unsubscribe_url" not in used:
        text += f"\n\nTo stop these emails: {values['unsubscribe_url']}"
    track = step.program.track if track is None else track
    unsubscribe = values["unsubscribe_url"]

    def link(url: str) -> str:
        return url if (not track or url == unsubscribe) else click_url(send, url)

    html = templating.to_html(text, link=link)
    if track:
        pixel = absolute(reverse("journeys_public:open", args=[send.token]))
        html += f'<img src="{pixel}" width="1" height="1" alt="">'
    return subject, text, html


def _survey_url(send: Send) -> str:
    if not send.step.is_survey:
        return ""
    if send.survey_invitation_id is None:
        from tamarind.surveys.services import survey_invitation_create

        invitation = survey_invitation_create(contact=send.contact, kind=send.step.kind, source="journey")
        send.survey_invitation = invitation
        Send.objects.filter(pk=send.pk).update(survey_invitation=invitation)
    assert send.survey_invitation is not None
    return absolute(send.survey_invitation.path)


def _refused(exc: Exception) -> bool:
    """Whether the server refused the recipient (a bounce) rather than the connection failing."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return True
    return isinstance(exc, smtplib.SMTPResponseException) and 500 <= exc.smtp_code < 600


def send_deliver(*, send: Send, connection: Any = None) -> str:
    """Deliver one queued send; returns its new status. A recipient refused is retried with backoff and marked
    ``bounced`` after ``MAX_ATTEMPTS``; other errors likewise end ``failed``. A paused program or a contact who
    opted out since it was queued: nothing is sent (the send is marked failed with why)."""
    now = timezone.now()
    if send.status != SendStatus.QUEUED:
        return str(send.status)
    why = ""
    if not send.step.program.is_active:
        return str(send.status)  # paused: stays queued, delivered if resumed
    if send.contact.opted_out:
        why = "The contact opted out before delivery."
    elif send.step.is_webinar and (send.webinar_session is None or send.webinar_session.starts_at <= now):
        why = "The webinar session was removed or has started: no invitation sent."
    if why:
        send.status, send.last_error = SendStatus.FAILED, why
        send.save(update_fields=["status", "last_error"])
        return str(send.status)
    survey_url = _survey_url(send)
    subject, text, html = compose(send, survey_url=survey_url)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        to=[send.contact.email],
        connection=connection,
        headers={"List-Unsubscribe": f"<{merge_values(send)['unsubscribe_url']}>"},
    )
    message.attach_alternative(html, "text/html")
    send.attempts += 1
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as exc:
        send.last_error = f"{type(exc).__name__}: {exc}"[:500]
        bounce = _refused(exc)
        if send.attempts >= MAX_ATTEMPTS:
            send.status = SendStatus.BOUNCED if bounce else SendStatus.FAILED
            if bounce:
                Event.objects.create(send=send, account_id=send.account_id, kind=EventKind.BOUNCE, at=now)
        else:
            send.next_attempt_at = now + dt.timedelta(minutes=BACKOFF_MINUTES * 2 ** (send.attempts - 1))
        send.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
        log.info("journey send %s not delivered (attempt %s): %s", send.pk, send.attempts, send.last_error)
        return str(send.status)
    send.status, send.sent_at, send.last_error = SendStatus.SENT, now, ""
    send.save(update_fields=["attempts", "last_error", "status", "sent_at"])
    return str(send.status)


def sends_deliver(*, limit: int = DELIVERY_BATCH, now: dt.datetime | None = None) -> dict[str, int]:
    """Deliver up to ``limit`` queued sends whose attempt is due (active programs only), over one connection."""
    now = now or timezone.now()
    pending = list(
        Send.objects.due_for_delivery(now)
        .filter(step__program__status=ProgramStatus.ACTIVE)
        .select_related("step__program", "contact", "account__tam", "survey_invitation", "webinar_session__topic")
        .order_by("next_attempt_at", "pk")[:limit]
    )
    counts: dict[str, int] = defaultdict(int)
    if not pending:
        return {}
    connection: Any = get_connection()
    try:
        connection.open()
    except (smtplib.SMTPException, OSError):
        connection = None  # each message opens its own and records its own error
    try:
        for send in pending:
            counts[send_deliver(send=send, connection=connection)] += 1
    finally:
        if connection is not None:
            connection.close()
    return dict(counts)


# --- What recipients do (public links) -------------------------------------------------------------------------
def send_record_open(*, send: Send) -> None:
    """The tracking image was loaded: the first open is stamped and recorded."""
    if not send.step.program.track or send.opened_at is not None:
        return
    now = timezone.now()
    if Send.objects.filter(pk=send.pk, opened_at__isnull=True).update(opened_at=now):
        Event.objects.create(send=send, account_id=send.account_id, kind=EventKind.OPEN, at=now)


def click_target(signed: str) -> str | None:
    """The URL a tracked link points to, or ``None`` when the signature does not hold (never an open redirect)."""
    try:
        url = signing.loads(signed[:4000], salt=CLICK_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return None
    return url


def send_record_click(*, send: Send, url: str) -> None:
    """A tracked link was followed: recorded (a click also counts as an open)."""
    if not send.step.program.track:
        return
    now = timezone.now()
    Send.objects.filter(pk=send.pk, first_clicked_at__isnull=True).update(first_clicked_at=now)
    Send.objects.filter(pk=send.pk, opened_at__isnull=True).update(opened_at=now)
    if Event.objects.filter(send=send, kind=EventKind.CLICK).count() < MAX_CLICK_EVENTS:
        Event.objects.create(send=send, account_id=send.account_id, kind=EventKind.CLICK, at=now, url=url[:2000])


def send_register(*, send: Send) -> bool:
    """The invitee registered for the session through their link: recorded once as a ``register`` event (data,
    like clicks); returns whether this call recorded it."""
    if send.webinar_session_id is None:
        return False
    if Event.objects.filter(send=send, kind=EventKind.REGISTER).exists():
        return False
    try:
        with transaction.atomic():
            Event.objects.create(send=send, account_id=send.account_id, kind=EventKind.REGISTER, at=timezone.now())
    except IntegrityError:  # a second click at the same moment: the constraint keeps one
        return False
    return True


@transaction.atomic
def journey_contact_opt_out(*, contact: Contact, actor: Any = None, source: str = "unsubscribe") -> Contact:
    """Opt ``contact`` out of email (idempotent, audited) through the contacts app's service, and return it fresh."""
    from tamarind.contacts.services import contact_opt_out

    contact_opt_out(contact=contact, actor=actor, source=source)
    contact.refresh_from_db(fields=["opted_out", "opted_out_at"])
    return contact


@transaction.atomic
def send_unsubscribe(*, send: Send) -> None:
    """The recipient unsubscribed through their link: opted out of every email, their queued sends dropped."""
    journey_contact_opt_out(contact=send.contact, source="unsubscribe")
    if not Event.objects.filter(send=send, kind=EventKind.UNSUBSCRIBE).exists():
        Event.objects.create(send=send, account_id=send.account_id, kind=EventKind.UNSUBSCRIBE, at=timezone.now())
    Send.objects.filter(contact_id=send.contact_id, status=SendStatus.QUEUED).update(
        status=SendStatus.FAILED, last_error="The contact opted out before delivery."
    )


def sends_deliver_job() -> dict[str, int]:
    """The scheduler's entry point for retries (``periodic.JOBS``): a batch of due sends."""
    return sends_deliver()
