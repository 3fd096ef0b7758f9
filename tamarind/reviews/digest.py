"""The weekly digest email for TAM Managers, sent by the worker (the ``reviews.weekly_digest`` scheduler job):
their overdue reviews, the burn-down's movement since last week, and the new risks (accounts of their region that
turned red or yellow in the last seven days)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.urls import reverse
from django.utils import timezone

from tamarind.people.models import Role, User
from tamarind.reviews import cockpit
from tamarind.reviews.selectors import due_reviews

logger = logging.getLogger(__name__)


def _absolute(path: str) -> str:
    return settings.TAMARIND_BASE_URL.rstrip("/") + path


def digest_for(manager: User, *, today: dt.date) -> dict[str, Any]:
    from tamarind.accounts.models import Account

    overdue = [r for r in due_reviews(manager, today=today, days=0) if r.due_on < today]
    lines = cockpit.burndown_page(manager, {}, today=today, weeks=2)["lines"]
    since = timezone.now() - dt.timedelta(days=7)
    region = getattr(manager, "managed_region", None)
    risks = list(
        Account.objects.filter(region=region, health__color__in=["red", "yellow"], health__color_changed_at__gte=since)
        .values_list("pk", "name", "health__color")
        .order_by("name")[:50]
        if region is not None
        else []
    )
    return {"overdue": overdue, "lines": lines, "risks": risks}


def digest_message(manager: User, data: dict[str, Any], *, today: dt.date) -> EmailMessage:
    out = [f"Your week in Tamarind ({today:%A %d %B %Y})", ""]
    out.append(f"Overdue reviews: {len(data['overdue'])}")
    for r in data["overdue"]:
        out.append(f"  - {r} (due {r.due_on:%Y-%m-%d}): {_absolute(reverse('reviews:detail', args=[r.pk]))}")
    out += ["", "Burn-down (now / a week ago):"]
    for line in data["lines"]:
        if not line["available"]:
            out.append(f"  - {line['label']}: {line['notice']}")
            continue
        delta = line["delta"]
        move = (
            "no history yet"
            if delta is None
            else ("up " if delta > 0 else "down " if delta < 0 else "flat ") + str(abs(delta))
        )
        out.append(
            f"  - {line['label']}: {line['total']} / {line['last_week'] if line['last_week'] is not None else '—'} ({move})"
        )
    out += ["", f"New risks this week: {len(data['risks'])}"]
    for pk, name, color in data["risks"]:
        out.append(f"  - {name} turned {color}: {_absolute(reverse('accounts:detail', args=[pk]))}")
    out += ["", f"My week: {_absolute(reverse('reviews:my_week'))}"]
    return EmailMessage(
        subject=f"Tamarind weekly: {len(data['overdue'])} overdue reviews, {len(data['risks'])} new risks",
        body="\n".join(out),
        to=[manager.email],
    )


def weekly_digest_send(*, today: dt.date | None = None) -> dict[str, int]:
    """Send every active TAM Manager who leads a region their weekly digest. Returns how many were sent."""
    today = today or timezone.localdate()
    managers = User.objects.with_region().filter(role=Role.MANAGER, is_active=True, managed_region__isnull=False)
    sent = failed = 0
    with get_connection() as connection:
        for manager in managers:
            message = digest_message(manager, digest_for(manager, today=today), today=today)
            message.connection = connection
            try:
                message.send()
            except OSError:
                logger.exception("weekly digest to %s failed", manager.email)
                failed += 1
            else:
                sent += 1
    return {"sent": sent, "failed": failed}
