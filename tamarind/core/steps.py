"""The abstract shape of a "next step with its date" (a triage case's, a renewal's): the same fields, order and
invariants wherever a piece of work carries next steps. Abstract, so core keeps no tables of its own; each app's
concrete step adds the foreign key to what it is a step of."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class NextStep(models.Model):
    """A next step: what to do, by when, and whether (and when) it was done. Open steps first, soonest first."""

    text = models.CharField(max_length=500)
    due_on = models.DateField(null=True, blank=True)
    done = models.BooleanField(default=False)
    done_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        abstract = True
        ordering = ["done", models.F("due_on").asc(nulls_last=True), "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(done=True) & Q(done_at__isnull=False)) | (Q(done=False) & Q(done_at__isnull=True)),
                name="%(app_label)s_step_done_at_iff_done",
            ),
            models.CheckConstraint(condition=~Q(text=""), name="%(app_label)s_step_text_not_blank"),
        ]

    def __str__(self) -> str:
        return self.text[:80]
