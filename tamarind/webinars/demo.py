"""Demo webinars: a season of the five topics across the three rounds over the past months, hosted by demo TAMs,
with registrations and attendance imported through the service from generated attendee reports (some people leave
and come back, some rate the session, some registered but did not attend: "Attended: No", no times) drawn from the demo contacts of recently started customers (a few contacts are created in
bulk at sampled accounts when the book has none), plus attendees no contact matches."""

from __future__ import annotations

import datetime as dt
import io
import random

from django.utils import timezone

from tamarind.accounts.models import Account
from tamarind.contacts.models import Contact
from tamarind.people.models import Role, User
from tamarind.webinars import services
from tamarind.webinars.models import Round, Topic

SESSIONS = 12
PER_SESSION = 25
NO_SHOW_SHARE = 0.2  # registrants who do not come (webinars commonly see a third to a half; kept modest here)


def _contacts(rng: random.Random, today: dt.date) -> list[tuple[str, str]]:
    recent = list(
        Account.objects.filter(customer_since__gte=today - dt.timedelta(days=270))
        .order_by("pk")
        .values_list("pk", flat=True)[:400]
    )
    found = list(Contact.objects.filter(account_id__in=recent).values_list("email", "name")[:2000])
    if found or not recent:
        return found
    rows = [
        Contact(account_id=pk, name=f"Demo Attendee {pk}-{i}", email=f"attendee{i}.{pk}@customer{pk}.example")
        for pk in rng.sample(recent, k=min(60, len(recent)))
        for i in range(2)
    ]
    Contact.objects.bulk_create(rows, batch_size=500)
    return [(c.email, c.name) for c in rows]


def seed_webinars_demo(*, actor: User, seed: int = 7, today: dt.date | None = None) -> dict[str, int]:
    rng = random.Random(seed)
    today = today or timezone.localdate()
    topics = list(Topic.objects.filter(is_active=True).order_by("position"))
    hosts = list(User.objects.filter(role=Role.TAM, is_active=True).order_by("pk")[:5]) or [actor]
    people = _contacts(rng, today)
    sessions = imported = 0
    for i in range(SESSIONS):
        topic = topics[i % len(topics)]
        rnd = Round.values[min(2, i // len(topics))]
        day = today - dt.timedelta(days=200 - i * 15)
        start = timezone.make_aware(dt.datetime.combine(day, dt.time(16, 0)))
        session = services.session_create(
            actor=actor,
            data={
                "topic": topic,
                "round": rnd,
                "title": f"{topic.name} ({day:%B})",
                "starts_at": start,
                "ends_at": start + dt.timedelta(hours=1),
                "host": hosts[i % len(hosts)],
                "recording_url": f"https://videos.example/webinars/{topic.key}-{day:%Y%m}" if rnd != "1" else "",
            },
            source="demo",
        )
        sessions += 1
        if day > today:
            continue
        lines = ["Email,Name,Attended,Join Time,Leave Time,Duration (Minutes),Feedback"]
        chosen = rng.sample(people, k=min(PER_SESSION, len(people))) + [
            (f"guest{i}-{k}@personal-mail.example", f"Guest {k}") for k in range(3)
        ]
        for email, name in chosen:
            if rng.random() < NO_SHOW_SHARE:  # registered, did not attend: Zoom's "--" in the empty cells
                lines.append(f"{email},{name},No,--,--,--,")
                continue
            join = rng.randint(0, 10)
            leave = rng.choice([60, 60, 59, 45, 30])
            feedback = rng.choice(["", "", "5", "4", "3"])
            if rng.random() < 0.2:  # dropped off and came back
                lines.append(
                    f"{email},{name},Yes,{start + dt.timedelta(minutes=join):%Y-%m-%d %H:%M:%S%z},{start + dt.timedelta(minutes=join + 10):%Y-%m-%d %H:%M:%S%z},10,"
                )
                join += 15
            lines.append(
                f"{email},{name},Yes,{start + dt.timedelta(minutes=join):%Y-%m-%d %H:%M:%S%z},"
                f"{start + dt.timedelta(minutes=leave):%Y-%m-%d %H:%M:%S%z},{leave - join},{feedback}"
            )
        data = ("\n".join(lines) + "\n").encode()
        services.attendee_report_import(
            actor=actor, session=session, stream=io.BytesIO(data), filename=f"attendees-{day:%Y%m%d}.csv", source="demo"
        )
        imported += 1
    return {"sessions": sessions, "imported": imported}
