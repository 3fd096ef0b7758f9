"""The audit trail in Django's admin is read-only, even for admins."""

import pytest
from django.urls import reverse

from tamarind.audit.models import AuditAction, AuditEvent
from tamarind.audit.services import audit_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(book):
    return audit_record(actor=book.admin, obj=book.east, action=AuditAction.UPDATE, before={"a": 1}, after={"a": 2})


def test_admins_list_and_view_events(book, client_for, event):
    client = client_for(book.admin)
    assert client.get(reverse("admin:audit_auditevent_changelist")).status_code == 200
    response = client.get(reverse("admin:audit_auditevent_change", args=[event.pk]))
    assert response.status_code == 200


def test_no_add_change_or_delete(book, client_for, event):
    client = client_for(book.admin)
    assert client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    url = reverse("admin:audit_auditevent_change", args=[event.pk])
    assert client.post(url, {"object_repr": "tampered", "action": "delete"}).status_code == 403
    assert client.post(reverse("admin:audit_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.object_repr == "AMER East" and stored.action == "update"


def test_non_admins_are_kept_out(book, client_for, event):
    response = client_for(book.director).get(reverse("admin:audit_auditevent_changelist"))
    assert response.status_code == 302 and "/django-admin/login/" in response["Location"]
