"""Customer surveys (domain sections 4 and 11): NPS (0-10) and CSAT (1-5), answered by a contact through a link that
needs no login.

An invitation is one contact's chance to answer one survey: it carries the secret token of the link and the account
(kept beside the contact so that scope filters need no join). It has at most one answer, which the contact may change
for ``EDIT_DAYS`` after answering. Invitations come from the digital journey (``source="journey"``), by hand or
through the API.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.db import models
from django.db.models import Q

EDIT_DAYS = 7
MAX_EDITS = 20  # changes to one answer: a public form, so a bound on writes per link
COMMENT_MAX = 2000


class SurveyKind(models.TextChoices):
    NPS = "nps", "NPS (0-10)"
    CSAT = "csat", "CSAT (1-5)"


SCALE: dict[str, tuple[int, int]] = {SurveyKind.NPS: (0, 10), SurveyKind.CSAT: (1, 5)}


def new_token() -> str:
    """A URL-safe secret of 32 bytes: unguessable, so the link alone is the credential."""
    return secrets.token_urlsafe(32)


class SurveyInvitation(models.Model):
    """One contact invited to answer one survey."""

    token = models.CharField(max_length=64, unique=True, default=new_token)
    contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="survey_invitations")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="survey_invitations")
    kind = models.CharField(max_length=10, choices=SurveyKind.choices)
    source = models.CharField(max_length=20, default="manual")
    # The digital journey program that sent it (its key; "" by hand), so results group per program.
    program = models.CharField(max_length=50, blank=True, default="")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.CheckConstraint(condition=Q(kind__in=SurveyKind.values), name="survey_kind_valid")]
        indexes = [models.Index(fields=["account", "created_at"], name="survey_inv_account_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.contact_id}"

    def state(self, now: dt.datetime) -> str:
        """``"revoked"``, ``"expired"`` or ``"open"`` at ``now`` (an answered link keeps working while editable)."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and now >= self.expires_at:
            return "expired"
        return "open"

    @property
    def path(self) -> str:
        """The public link's path (``/s/<token>/``); senders prefix the site's base URL."""
        return f"/s/{self.token}/"


class SurveyAnswer(models.Model):
    """A contact's answer: the score on the invitation's scale and an optional comment."""

    invitation = models.OneToOneField(SurveyInvitation, on_delete=models.CASCADE, related_name="answer")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="survey_answers")
    kind = models.CharField(max_length=10, choices=SurveyKind.choices)
    score = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    answered_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    edits = models.PositiveSmallIntegerField(default=0)  # changes after the first answer (capped: MAX_EDITS)

    class Meta:
        ordering = ["-answered_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind=SurveyKind.NPS, score__lte=10))
                | (Q(kind=SurveyKind.CSAT, score__gte=1, score__lte=5)),
                name="survey_answer_score_in_scale",
            )
        ]
        indexes = [models.Index(fields=["account", "answered_at"], name="survey_ans_account_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.score}"

    def editable(self, now: dt.datetime) -> bool:
        """The contact may change the answer for ``EDIT_DAYS`` after first answering."""
        return now < self.answered_at + dt.timedelta(days=EDIT_DAYS)
