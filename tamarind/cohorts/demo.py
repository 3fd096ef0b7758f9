"""Demo customer cohorts: two running pilots (the Commercial direction's "run 2 pilots"), each with member
accounts of one segment, a contact or two per member taking part, TAM owners, and three months of activity
(posts, answers, sessions): a few entries by hand and the rest from a CSV file through the import, as a cohort
owner would load their collaboration platform's export. Everything through the services (audited)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random

from django.db.models import Exists, OuterRef
from django.utils import timezone

from tamarind.accounts.models import Account, Segment
from tamarind.cohorts import csv_import, services
from tamarind.cohorts.models import Cohort, CohortMember, CohortStatus
from tamarind.contacts.models import Contact
from tamarind.onboarding.models import Onboarding
from tamarind.people.models import Role, User

PILOTS = (
    (
        "Pilot A: SMB DevOps circle",
        Segment.SMB,
        "Members answer each other's questions first; TAMs step in after 48 hours. One live session a month.",
        "SMB customers in their first year: CI/CD set-up and first pipelines.",
    ),
    (
        "Pilot B: Mid-Market security guild",
        Segment.MID_MARKET,
        "A weekly thread per topic; members present their set-up in a session each quarter.",
        "Mid-Market customers adopting security scanning and compliance workflows.",
    ),
)
MEMBERS = 10
DAYS = 90


def seed_cohorts_demo(*, actor: User, seed: int, today: dt.date | None = None) -> list[Cohort]:
    """Two running cohorts (skipped when they exist: the demo can run again)."""
    today = today or timezone.localdate()
    rng = random.Random(seed + 14)
    tams = list(User.objects.filter(role=Role.TAM, is_active=True).order_by("pk")[:4])
    starts = today - dt.timedelta(days=DAYS)
    out: list[Cohort] = []
    taken: set[int] = set()
    for i, (name, segment, rules, scope) in enumerate(PILOTS):
        if Cohort.objects.filter(name=name).exists():
            continue
        cohort = services.cohort_create(
            actor=actor,
            name=name,
            starts_on=starts,
            ends_on=starts + dt.timedelta(days=180),
            space_url=f"https://community.example.com/cohorts/pilot-{'ab'[i]}",
            namespace_url=f"https://gitlab.example.com/cohorts/pilot-{'ab'[i]}",
            target_size=MEMBERS + 2,
            engagement_rules=rules,
            scope=scope,
            status=CohortStatus.RUNNING,
            owner_ids=[t.pk for t in tams[2 * i : 2 * i + 2]],
            source="demo",
        )
        accounts = list(
            Account.objects.filter(segment=segment, customer_since__lte=today)
            .exclude(pk__in=taken)
            # Customers with a first value recorded first, so the report's time to first value has figures.
            .annotate(valued=Exists(Onboarding.objects.filter(account=OuterRef("pk"), first_value__isnull=False)))
            .order_by("-valued", "-customer_since", "pk")[: MEMBERS * 2]
        )
        rng.shuffle(accounts)
        chosen = sorted(accounts[:MEMBERS], key=lambda a: a.pk)
        taken.update(a.pk for a in chosen)
        members: list[CohortMember] = []
        for a in chosen:
            joined = starts + dt.timedelta(days=rng.randint(0, 20))
            members.append(services.member_add(actor=actor, cohort=cohort, account=a, joined_on=joined, source="demo"))
        rows = []
        for m in members:
            contact = Contact.objects.filter(account=m.account).order_by("pk").first()
            if contact is None:  # the demo's contacts may come later; a cohort needs one person per member
                contact = Contact.objects.create(
                    account=m.account,
                    name=f"{m.account.name} admin",
                    email=f"cohort-admin@{m.account.crm_id.lower()}.example.com",
                )
            services.contact_add(actor=actor, member=m, contact=contact, source="demo")
            for _ in range(rng.randint(2, 9)):
                day = m.joined_on + dt.timedelta(days=rng.randint(0, max(0, (today - m.joined_on).days)))
                kind = rng.choice(["post", "post", "answer", "session"])
                rows.append((m.account.crm_id, contact.email if rng.random() < 0.6 else "", kind, day.isoformat()))
        counts: dict[tuple[str, str, str, str], int] = {}
        for row in rows:
            counts[row] = counts.get(row, 0) + 1
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["Account ID", "Contact Email", "Kind", "Date", "Count"])
        for (crm, email, kind, iso), n in sorted(counts.items()):
            writer.writerow([crm, email, kind, iso, n])
        csv_import.activity_import(
            actor=actor, cohort=cohort, stream=io.BytesIO(buffer.getvalue().encode()), source="demo"
        )
        if members:
            services.activity_record(
                actor=actor,
                member=members[0],
                kind="session",
                day=today - dt.timedelta(days=3),
                count=1,
                notes="Live session: members demoed their first pipelines.",
            )
        out.append(cohort)
    return out
