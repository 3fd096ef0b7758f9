"""Demo Service Desk: a pool of three TAMs serving the pooled accounts, requests in every state (new, one of
them overdue; in progress; waiting on the customer; closed and rated), an email kept aside from an unknown
sender. Requests go through the services; their clocks are then moved back to when the story says they
happened (a demo-only timestamp adjustment, not audited), as the triage demo does."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from tamarind.accounts.models import Account
from tamarind.people.models import User
from tamarind.servicedesk import services
from tamarind.servicedesk.models import Channel, Pool, PoolMember, RequestMessage, ServiceRequest

STORIES = [
    # (subject, hours ago, channel, state, rating)
    ("Runner registration fails behind our proxy", 70, Channel.LINK, "new", None),
    ("How do we set up merge request approvals?", 5, Channel.EMAIL, "new", None),
    ("Pipeline minutes used up sooner than expected", 30, Channel.LINK, "in_progress", None),
    ("SAML group sync does not add new hires", 52, Channel.API, "waiting", None),
    ("Container scanning results missing", 120, Channel.TAM, "closed", 5),
    ("Upgrade path from 15.x", 200, Channel.EMAIL, "closed", 3),
]


def seed_servicedesk_demo(*, manager: User, tams: list[User]) -> Pool | None:
    accounts = list(Account.objects.filter(engagement_model="pooled").order_by("pk")[: len(STORIES)])
    if not accounts or not tams:
        return None
    pool = Pool.objects.create(name="Commercial pool", manager=manager, email_address="help@tamarind.example")
    for tam in tams[:3]:
        PoolMember.objects.create(pool=pool, tam=tam)
    now = timezone.now()
    for i, (subject, hours, channel, state, rating) in enumerate(STORIES):
        account = accounts[i % len(accounts)]
        at = now - dt.timedelta(hours=hours)
        req = services.request_create(
            actor=None,
            account=account,
            subject=subject,
            body=f"{subject}. Can someone help?",
            channel=channel,
            requester_email=f"it-{account.pk}@customer.example",
            requester_name="Customer admin",
            now=at,
            source="demo",
        )
        if state in ("waiting", "closed", "in_progress") and req.assignee is not None:
            services.request_reply(
                actor=req.assignee,
                request=req,
                body="Thanks, looking into it: could you send the job log?",
                source="demo",
            )
            answered = at + dt.timedelta(hours=6 if i % 2 else 60)
            ServiceRequest.objects.filter(pk=req.pk).update(first_responded_at=answered)
            RequestMessage.objects.filter(request=req, author__isnull=False).update(created_at=answered)
            if state == "in_progress":
                services.customer_message_add(request=req, body="Log attached.", from_email=req.requester_email)
            if state == "closed":
                services.request_update(actor=req.assignee, request=req, changes={"status": "closed"}, source="demo")
                services.request_rate(request=req, rating=rating, comment="")
    services.inbound_email_receive(
        b"From: someone@unknown.example\r\nSubject: Do you offer training?\r\n\r\nWe bought a few seats last week.\r\n"
    )
    return pool
