"""Demo digital journey: the active programs as if they had been running for the last nine months over the demo's
small, pooled and digital customers: each due step sent to the addressed contacts on its day, about half opened,
some clicked (with their events), a few bounced; then today's run queues what is due today. Written in bulk
(demo data, not audited), deterministic for a seed."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from typing import Any

from django.db import transaction
from django.utils import timezone

from tamarind.accounts.models import Account
from tamarind.contacts.models import Contact, Persona
from tamarind.journeys import schedule, services
from tamarind.journeys.models import Event, EventKind, Program, Send, SendStatus, Step, StepKind, new_token
from tamarind.journeys.selectors import qualifies

RUNNING_DAYS = 270
LINK = "https://docs.example.com/getting-started"


def _ensure_contacts(accounts: list[Account], rng: random.Random) -> None:
    """Accounts without contacts (the contacts demo gives most accounts theirs) get an admin and, often, a
    development lead, so the journey has someone to write to."""
    have = set(Contact.objects.filter(account__in=accounts).values_list("account_id", flat=True).distinct())
    personas = {p.key: p for p in Persona.objects.filter(key__in=["admin", "development-lead"])}
    new: list[tuple[Contact, str]] = []
    for account in accounts:
        if account.pk in have:
            continue
        domain = f"customer{account.pk}.example"
        new.append((Contact(account=account, name=f"Admin of {account.name}"[:200], email=f"admin@{domain}"), "admin"))
        if rng.random() < 0.6:
            contact = Contact(account=account, name=f"Dev lead of {account.name}"[:200], email=f"dev@{domain}")
            new.append((contact, "development-lead"))
    made = Contact.objects.bulk_create([c for c, _ in new], batch_size=2000)
    through = Contact.personas.through
    links = [
        through(contact_id=c.pk, persona_id=personas[key].pk)
        for c, (_, key) in zip(made, new, strict=True)
        if key in personas
    ]
    through.objects.bulk_create(links, batch_size=5000, ignore_conflicts=True)


WEBINAR_STEP = {
    "name": "Webinar invitation",
    "kind": StepKind.WEBINAR,
    "day": 14,
    "subject": "Join us live: {{ webinar.title }}",
    "body": "Hello {{ contact.first_name }},\n\nOur enablement webinar on {{ webinar.topic }} is on {{ webinar.date }}: "
    "an hour with the team, questions welcome.\n\nSave your seat: {{ webinar.url }}\n\n{{ tam.name }}",
}


def ensure_webinar_step() -> Step | None:
    """The default program invites its contacts to the enablement webinars when there are webinars (active topics
    or sessions): a webinar step from day 14, added once (through the service, audited as the demo)."""
    from tamarind.webinars.models import Session, Topic

    program = Program.objects.filter(key="digital-onboarding").first()
    if program is None or not (Topic.objects.filter(is_active=True).exists() or Session.objects.exists()):
        return None
    existing = program.steps.filter(kind=StepKind.WEBINAR).first()
    if existing is not None:
        return existing
    return services.step_create(actor=None, program=program, data=WEBINAR_STEP, source="demo")


def seed_journeys_demo(*, seed: int, today: dt.date | None = None) -> dict[str, Any]:
    """Months of sends, opens and clicks for the accounts the active programs are for; returns counts. Webinar
    invitations are not back-filled (today's run queues those for the coming sessions)."""
    today = today or timezone.localdate()
    rng = random.Random(seed + 14)
    ensure_webinar_step()
    programs = list(Program.objects.active().prefetch_related("steps", "personas"))
    if not programs:
        return {}
    candidates = list(Account.objects.filter(customer_since__isnull=False).order_by("pk"))
    members = {p.pk: [a for a in candidates if qualifies(p, a)] for p in programs}
    accounts = list({a.pk: a for group in members.values() for a in group}.values())
    with transaction.atomic():
        _ensure_contacts(accounts, rng)
        by_account: dict[tuple[int, int], list[int]] = defaultdict(list)
        for program in programs:
            keys = [p.key for p in program.personas.all()]
            rows = Contact.objects.reachable().with_persona(*keys).filter(account__in=members[program.pk])
            for contact_id, account_id in rows.values_list("pk", "account_id").order_by("pk"):
                by_account[(program.pk, account_id)].append(contact_id)
        start = today - dt.timedelta(days=RUNNING_DAYS)
        sends: list[Send] = []
        for program in programs:
            for account in members[program.pk]:
                since = account.customer_since
                assert since is not None
                contacts = by_account.get((program.pk, account.pk), [])
                for step in program.steps.all():
                    if step.is_webinar:
                        continue
                    for k in range(0, 40):
                        on = schedule.occurrence_date(
                            since=since,
                            offset=step.day,
                            repeat=step.repeat_days,
                            occurrence=k,
                            repeat_months=step.repeat_months,
                        )
                        if on >= today:
                            break
                        if on >= start:
                            for contact_id in contacts:
                                sends.append(_sent(rng, step.pk, contact_id, account.pk, k, on, program.track))
                        if not step.repeats:
                            break
        made = Send.objects.bulk_create(sends, batch_size=2000)
        events = []
        for send in made:
            if send.status == SendStatus.BOUNCED:
                events.append(
                    Event(send=send, account_id=send.account_id, kind=EventKind.BOUNCE, at=send.next_attempt_at)
                )
            if send.opened_at:
                events.append(Event(send=send, account_id=send.account_id, kind=EventKind.OPEN, at=send.opened_at))
            if send.first_clicked_at:
                events.append(
                    Event(
                        send=send, account_id=send.account_id, kind=EventKind.CLICK, at=send.first_clicked_at, url=LINK
                    )
                )
        Event.objects.bulk_create(events, batch_size=5000)
    queued = services.journey_run(day=today)
    return {"accounts": len(accounts), "sends": len(made), "events": len(events), "queued_today": queued["queued"]}


def _sent(rng: random.Random, step_id: int, contact_id: int, account_id: int, k: int, on: dt.date, track: bool) -> Send:
    at = timezone.make_aware(dt.datetime.combine(on, dt.time(9, rng.randint(0, 59))))
    bounced = rng.random() < 0.02
    opened = None if bounced or not track or rng.random() > 0.55 else at + dt.timedelta(hours=rng.randint(1, 72))
    clicked = opened + dt.timedelta(minutes=rng.randint(1, 30)) if opened and rng.random() < 0.35 else None
    return Send(
        step_id=step_id,
        contact_id=contact_id,
        account_id=account_id,
        occurrence=k,
        due_on=on,
        status=SendStatus.BOUNCED if bounced else SendStatus.SENT,
        attempts=services.MAX_ATTEMPTS if bounced else 1,
        last_error="SMTPRecipientsRefused: 550 No such user" if bounced else "",
        token=new_token(),
        created_at=at,
        next_attempt_at=at,
        sent_at=None if bounced else at,
        opened_at=opened,
        first_clicked_at=clicked,
    )
