"""Demo surveys: NPS and CSAT invitations for a sample of accounts' contacts over the last four quarters, most of
them answered (some detractors, with comments), in bulk. Contacts come from the demo's contacts when there are
some; a sampled account without any gets two, inserted in bulk."""

from __future__ import annotations

import datetime as dt
import random

from django.db import transaction
from django.utils import timezone

from tamarind.accounts.models import Account
from tamarind.contacts.models import Contact
from tamarind.surveys.models import SurveyAnswer, SurveyInvitation, SurveyKind, new_token

COMMENTS = {
    "poor": ["Onboarding took far too long.", "Support answers are slow.", "The pipeline keeps failing on us.", ""],
    "ok": ["Fine so far.", "", "Documentation could be better."],
    "good": ["Our TAM is great.", "Migration went smoothly.", "", "Security scanning saved us weeks."],
}
PROGRAMS = ["", "digital-onboarding", "digital-6-months"]


@transaction.atomic
def seed_surveys_demo(*, seed: int = 7, accounts: int = 120, today: dt.date | None = None) -> dict[str, int]:
    """Invitations and answers for up to ``accounts`` accounts (bulk inserts; answers are data, not audited)."""
    rng = random.Random(seed)
    now = timezone.now()
    ids = list(Account.objects.order_by("pk").values_list("pk", flat=True))
    sample = sorted(rng.sample(ids, min(accounts, len(ids))))
    contacts: dict[int, list[int]] = {}
    for pk, account_id in Contact.objects.filter(account_id__in=sample).order_by("pk").values_list("pk", "account_id"):
        contacts.setdefault(account_id, []).append(pk)
    missing = [a for a in sample if a not in contacts]
    Contact.objects.bulk_create(
        [
            Contact(account_id=a, name=f"{first} Demo{a}", email=f"{first.lower()}.{a}@customer.example", title=title)
            for a in missing
            for first, title in (("Alex", "Platform lead"), ("Sam", "Head of engineering"))
        ]
    )
    for pk, account_id in Contact.objects.filter(account_id__in=missing).values_list("pk", "account_id"):
        contacts.setdefault(account_id, []).append(pk)
    invitations = []
    mood = {a: rng.choice(["poor", "ok", "good", "good"]) for a in sample}
    for account_id in sample:
        for contact_id in contacts.get(account_id, [])[:3]:
            for _ in range(rng.choice([1, 2])):
                created = now - dt.timedelta(days=rng.randint(1, 360), hours=rng.randint(0, 23))
                invitations.append(
                    SurveyInvitation(
                        token=new_token(),
                        contact_id=contact_id,
                        account_id=account_id,
                        kind=rng.choice([SurveyKind.NPS, SurveyKind.NPS, SurveyKind.CSAT]),
                        source="demo",
                        program=rng.choice(PROGRAMS),
                        created_at=created,
                        expires_at=created + dt.timedelta(days=30),
                    )
                )
    SurveyInvitation.objects.bulk_create(invitations, batch_size=500)
    saved = SurveyInvitation.objects.filter(source="demo", account_id__in=sample).order_by("pk")
    answers = []
    for inv in saved:
        if rng.random() < 0.25:
            continue  # not answered (yet)
        m = mood[inv.account_id]
        if inv.kind == SurveyKind.NPS:
            score = rng.choice({"poor": [2, 4, 5, 6, 7], "ok": [6, 7, 8, 9], "good": [8, 9, 10, 10]}[m])
        else:
            score = rng.choice({"poor": [1, 2, 3], "ok": [3, 4], "good": [4, 5, 5]}[m])
        at = min(inv.created_at + dt.timedelta(days=rng.randint(0, 10), hours=rng.randint(1, 12)), now)
        answers.append(
            SurveyAnswer(
                invitation_id=inv.pk,
                account_id=inv.account_id,
                kind=inv.kind,
                score=score,
                comment=rng.choice(COMMENTS[m]),
                answered_at=at,
                updated_at=at,
            )
        )
    SurveyAnswer.objects.bulk_create(answers, batch_size=500)
    return {"invitations": len(invitations), "answers": len(answers), "contacts": 2 * len(missing)}
