"""Writing surveys: invitations (the journey's survey steps, staff by hand and the API create them; staff revoke
them: both audited) and answers (the contact's, through the link: data, not audit events). A poor answer raises one
*Survey follow-up* task for the account's TAM."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from tamarind.audit.models import AuditAction
from tamarind.audit.services import audit_record
from tamarind.contacts.models import Contact
from tamarind.core.errors import ValidationFailed
from tamarind.surveys import scoring
from tamarind.surveys.models import (
    COMMENT_MAX,
    EDIT_DAYS,
    MAX_EDITS,
    SCALE,
    SurveyAnswer,
    SurveyInvitation,
    SurveyKind,
)

INVITATION_DAYS = 30
MAX_VALID_DAYS = 365
TASK_DUE_DAYS = 7


@transaction.atomic
def survey_invitation_create(
    *,
    contact: Contact,
    kind: str,
    source: str = "manual",
    actor: Any = None,
    valid_days: int = INVITATION_DAYS,
    program: str = "",
) -> SurveyInvitation:
    """Invite ``contact`` to answer a ``kind`` survey; the link works for ``valid_days`` (then it says so).
    ``program``: the key of the journey program that sends it (results group by it)."""
    if kind not in SurveyKind.values:
        raise ValidationFailed({"kind": [f"Unknown survey kind {kind!r}; use one of: {', '.join(SurveyKind.values)}."]})
    if isinstance(valid_days, bool) or not isinstance(valid_days, int) or not 1 <= valid_days <= MAX_VALID_DAYS:
        raise ValidationFailed({"valid_days": [f"A whole number of days from 1 to {MAX_VALID_DAYS}."]})
    now = timezone.now()
    invitation = SurveyInvitation.objects.create(
        contact=contact,
        account_id=contact.account_id,
        kind=kind,
        source=source[:20],
        program=(program or "")[:50],
        created_at=now,
        expires_at=now + dt.timedelta(days=valid_days),
    )
    audit_record(
        actor=actor,
        obj=invitation,
        action=AuditAction.CREATE,
        after={
            "contact": contact.pk,
            "account": contact.account_id,
            "kind": kind,
            "source": invitation.source,
            "program": invitation.program,
        },
        source=source,
    )
    return invitation


@transaction.atomic
def survey_invitation_revoke(*, actor: Any, invitation: SurveyInvitation, source: str = "web") -> SurveyInvitation:
    """Withdraw the link: it answers 410 from now on (an answer already given stays). Revoking twice is a no-op."""
    if invitation.revoked_at is not None:
        return invitation
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit_record(
        actor=actor,
        obj=invitation,
        action=AuditAction.UPDATE,
        before={"revoked_at": None},
        after={"revoked_at": invitation.revoked_at.isoformat()},
        source=source,
    )
    return invitation


def clean_score(kind: str, raw: Any) -> int:
    """The score as a whole number on the kind's scale; ``ValidationFailed`` saying the scale otherwise."""
    low, high = SCALE[kind]
    message = f"Choose a score from {low} to {high}."
    if isinstance(raw, bool):
        raise ValidationFailed({"score": [message]})
    if isinstance(raw, str):
        raw = raw.strip()
        if not raw.isdigit() or len(raw) > 3:
            raise ValidationFailed({"score": [message]})
        raw = int(raw)
    if not isinstance(raw, int) or not low <= raw <= high:
        raise ValidationFailed({"score": [message]})
    return raw


def clean_comment(raw: Any) -> str:
    comment = (raw or "").strip() if isinstance(raw, str) or raw is None else None
    if comment is None:
        raise ValidationFailed({"comment": ["Give the comment as text."]})
    if len(comment) > COMMENT_MAX:
        raise ValidationFailed({"comment": [f"At most {COMMENT_MAX} characters."]})
    return comment.replace("\x00", "")


@transaction.atomic
def survey_answer_submit(
    *, invitation: SurveyInvitation, score: Any, comment: Any = "", now: dt.datetime | None = None
) -> SurveyAnswer:
    """The contact's answer: the first one, or a change within ``EDIT_DAYS`` of it (at most ``MAX_EDITS``).
    Refused (``ValidationFailed``) on a revoked or expired link, after the week, or off the scale. A poor answer
    raises one follow-up task for the account's TAM (``survey_poor_task``). Answers are data: not audited."""
    now = now or timezone.now()
    # Lock the invitation: two submissions at once give one answer, the second an edit.
    invitation = (
        SurveyInvitation.objects.select_for_update(of=("self",)).select_related("account__tam").get(pk=invitation.pk)
    )
    existing = SurveyAnswer.objects.filter(invitation=invitation).first()
    state = invitation.state(now)
    if existing is None and state != "open":
        raise ValidationFailed({"__all__": [f"This survey link is {state}: it takes no answer."]})
    if existing is not None and invitation.revoked_at is not None:
        raise ValidationFailed({"__all__": ["This survey link is revoked: the answer can no longer change."]})
    if existing is not None and not existing.editable(now):
        raise ValidationFailed(
            {"__all__": [f"The answer can be changed for {EDIT_DAYS} days after answering; that time is over."]}
        )
    if existing is not None and existing.edits >= MAX_EDITS:
        raise ValidationFailed({"__all__": [f"The answer was changed {MAX_EDITS} times already: it stays as it is."]})
    value = clean_score(invitation.kind, score)
    text = clean_comment(comment)
    if existing is None:
        answer = SurveyAnswer.objects.create(
            invitation=invitation,
            account_id=invitation.account_id,
            kind=invitation.kind,
            score=value,
            comment=text,
            answered_at=now,
            updated_at=now,
        )
    else:
        answer = existing
        answer.score, answer.comment, answer.updated_at = value, text, now
        answer.edits += 1
        answer.save(update_fields=["score", "comment", "updated_at", "edits"])
    if scoring.is_poor(answer.kind, answer.score, scoring.poor_limits()):
        survey_poor_task(invitation=invitation, answer=answer)
    return answer


def survey_poor_task(*, invitation: SurveyInvitation, answer: SurveyAnswer) -> Any:
    """One *Survey follow-up* task per invitation for the account's TAM, with why (the score and comment); none
    when the account has no TAM or the task is already open (``task_raise`` deduplicates on the reason)."""
    from tamarind.actions.models import TaskType
    from tamarind.actions.services import task_raise

    account = invitation.account
    if account.tam is None:
        return None
    low, high = SCALE[answer.kind]
    label = "NPS" if answer.kind == SurveyKind.NPS else "CSAT"
    return task_raise(
        type=TaskType.SURVEY_FOLLOW_UP,
        account=account,
        owner=account.tam,
        reason=f"survey-{invitation.pk}",
        title=f"Follow up a poor {label} answer ({answer.score}/{high}): {account.name}"[:200],
        why={
            "survey": invitation.pk,
            "kind": answer.kind,
            "score": answer.score,
            "scale": [low, high],
            "comment": answer.comment[:500],
            "why": f"{label} {answer.score} on {low}-{high} (poor: {scoring.poor_limits()[answer.kind]} or less)",
        },
        due_on=timezone.localdate() + dt.timedelta(days=TASK_DUE_DAYS),
        source="survey",
    )
