"""Writing surveys: invitations (the journey's survey steps and the API create them) and, in later work, answers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from tamarind.audit.models import AuditAction
from tamarind.audit.services import audit_record
from tamarind.contacts.models import Contact
from tamarind.core.errors import ValidationFailed
from tamarind.surveys.models import SurveyInvitation, SurveyKind

INVITATION_DAYS = 30


@transaction.atomic
def survey_invitation_create(
    *,
    contact: Contact,
    kind: str,
    source: str = "manual",
    actor: Any = None,
    valid_days: int = INVITATION_DAYS,
) -> SurveyInvitation:
    """Invite ``contact`` to answer a ``kind`` survey; the link works for ``valid_days`` (then it says so)."""
    if kind not in SurveyKind.values:
        raise ValidationFailed({"kind": [f"Unknown survey kind {kind!r}; use one of: {', '.join(SurveyKind.values)}."]})
    now = timezone.now()
    invitation = SurveyInvitation.objects.create(
        contact=contact,
        account_id=contact.account_id,
        kind=kind,
        source=source[:20],
        created_at=now,
        expires_at=now + dt.timedelta(days=valid_days),
    )
    audit_record(
        actor=actor,
        obj=invitation,
        action=AuditAction.CREATE,
        after={"contact": contact.pk, "account": contact.account_id, "kind": kind, "source": invitation.source},
        source=source,
    )
    return invitation
