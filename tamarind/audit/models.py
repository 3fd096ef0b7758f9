"""The audit trail: one append-only row per change to business data."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditAction(models.TextChoices):
    CREATE = "create", "Created"
    UPDATE = "update", "Updated"
    DELETE = "delete", "Deleted"


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def for_object(self, object_type: str, object_id: int | str) -> AuditEventQuerySet:
        return self.filter(object_type=object_type, object_id=str(object_id))


class AuditEvent(models.Model):
    """Who changed what, when, from which request, with the values before and after.

    Rows are written by ``audit.services.audit_record`` only and never updated: ``save`` refuses to
    overwrite an existing row and the admin is read-only, so the trail cannot be edited through the app.
    """

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=200, help_text="The actor's name when the change was made.")
    request_id = models.CharField(max_length=64, blank=True, db_index=True)
    source = models.CharField(max_length=20, blank=True, help_text="web, api, import, cli, demo, system")
    object_type = models.CharField(max_length=50, help_text="app_label.model of the changed object")
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200)
    action = models.CharField(max_length=10, choices=AuditAction.choices)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id", "-at"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.object_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Integrity guard, not business logic: the trail is append-only.
        if self.pk is not None and not self._state.adding:
            raise ValueError("Audit events are append-only and cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ValueError("Audit events are append-only and cannot be deleted.")

    def changed_fields(self) -> list[tuple[str, Any, Any]]:
        """(field, before, after) for each field whose value differs, in a stable order."""
        before = self.before or {}
        after = self.after or {}
        keys = sorted(set(before) | set(after))
        return [(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]
