"""The notifications API: your own notifications only, JSON errors, constant query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tamarind.audit.models import AuditEvent
from tamarind.notifications.models import Notification
from tamarind.notifications.services import NotificationDraft, notify, notify_many

pytestmark = pytest.mark.django_db

BASE = "/api/v1/notifications"


def warm(client):
    """The first request with a token stamps its last use; measure the requests after it."""
    client.get(f"{BASE}/settings")
    return client


def make(user, title="Hello", **kwargs):
    (n,) = notify(recipients=[user], kind=kwargs.pop("kind", "general"), title=title, **kwargs)
    return n


def bulk(user, count):
    notify_many(NotificationDraft(recipient_id=user.pk, kind="general", title=f"Item {i}") for i in range(count))


# --- list ------------------------------------------------------------------------------------------------------


def test_list_mine_unread_first(book, api_for):
    read = make(book.tam, "Read", account=book.account, url="/accounts/")
    make(book.tam, "Unread", kind="task_assigned")
    make(book.tam2, "Someone else's")
    read.read_at = read.created_at
    read.save(update_fields=["read_at"])
    data = api_for(book.tam).get(f"{BASE}/").json()
    assert data["count"] == 2 and data["unread_count"] == 1
    assert [n["title"] for n in data["results"]] == ["Unread", "Read"]
    first, second = data["results"]
    assert first["kind"] == "task_assigned" and first["read_at"] is None and first["account"] is None
    assert second["account"] == {"id": book.account.pk, "name": "Acme Corp"} and second["url"] == "/accounts/"


def test_list_unread_filter_and_pagination(book, api_for):
    bulk(book.tam, 7)
    read = make(book.tam, "Read")
    read.read_at = read.created_at
    read.save(update_fields=["read_at"])
    c = api_for(book.tam)
    data = c.get(f"{BASE}/", {"unread": "true", "page_size": 5}).json()
    assert data["count"] == 7 and len(data["results"]) == 5 and data["unread_count"] == 7
    assert all(n["read_at"] is None for n in data["results"])
    assert c.get(f"{BASE}/", {"unread": "true", "page": 2, "page_size": 5}).json()["results"][-1]["title"] == "Item 0"


def test_list_bad_query_is_422(book, api_for):
    response = api_for(book.tam).get(f"{BASE}/", {"page_size": 0, "unread": "maybe"})
    assert response.status_code == 422 and "detail" in response.json()


def test_list_needs_a_token(client):
    assert client.get(f"{BASE}/").status_code == 401


def test_list_query_count_is_constant(book, api_for):
    c = warm(api_for(book.tam))
    bulk(book.tam, 2)
    make(book.tam, "With account", account=book.account)
    with CaptureQueriesContext(connection) as small:
        assert c.get(f"{BASE}/").status_code == 200
    bulk(book.tam, 150)
    for _ in range(5):
        make(book.tam, "With account", account=book.other_account)
    with CaptureQueriesContext(connection) as large:
        assert c.get(f"{BASE}/").status_code == 200
    assert len(large) == len(small)


# --- one, mark read --------------------------------------------------------------------------------------------


def test_detail_and_mark_read_for_the_recipient(book, api_for):
    n = make(book.tam, "Mine")
    c = api_for(book.tam)
    assert c.get(f"{BASE}/{n.pk}").json()["title"] == "Mine"
    response = c.post(f"{BASE}/{n.pk}/read")
    assert response.status_code == 200 and response.json()["read_at"] is not None
    again = c.post(f"{BASE}/{n.pk}/read")
    assert again.status_code == 200 and again.json()["read_at"] == response.json()["read_at"]
    assert not AuditEvent.objects.filter(object_type="notifications.notification").exists()


@pytest.mark.parametrize("who", ["admin", "director", "manager", "tam2", "other_tam", "sal"])
def test_someone_elses_notification_is_404(book, api_for, who):
    n = make(book.tam, "Private")
    c = api_for(getattr(book, who))
    assert c.get(f"{BASE}/{n.pk}").status_code == 404
    response = c.post(f"{BASE}/{n.pk}/read")
    assert response.status_code == 404 and response.json()["detail"] == "No such notification."
    n.refresh_from_db()
    assert n.read_at is None


@pytest.mark.parametrize("bad", ["abc", "0", "-1", str(2**64)])
def test_bad_ids_are_4xx_not_500(book, api_for, bad):
    response = api_for(book.tam).post(f"{BASE}/{bad}/read")
    assert response.status_code in (404, 422)


def test_mark_read_query_count_is_constant(book, api_for):
    c = warm(api_for(book.tam))
    a = make(book.tam, "A", account=book.account)
    with CaptureQueriesContext(connection) as small:
        c.post(f"{BASE}/{a.pk}/read")
    bulk(book.tam, 100)
    b = make(book.tam, "B", account=book.account)
    with CaptureQueriesContext(connection) as large:
        c.post(f"{BASE}/{b.pk}/read")
    assert len(large) == len(small)


# --- mark all read -----------------------------------------------------------------------------------------------


def test_read_all_marks_only_mine(book, api_for):
    bulk(book.tam, 4)
    bulk(book.tam2, 2)
    c = api_for(book.tam)
    assert c.post(f"{BASE}/read-all").json() == {"marked": 4}
    assert c.post(f"{BASE}/read-all").json() == {"marked": 0}
    assert Notification.objects.filter(recipient=book.tam2, read_at__isnull=True).count() == 2


def test_read_all_query_count_is_constant(book, api_for):
    c = warm(api_for(book.tam))
    bulk(book.tam, 2)
    with CaptureQueriesContext(connection) as small:
        c.post(f"{BASE}/read-all")
    bulk(book.tam, 200)
    with CaptureQueriesContext(connection) as large:
        c.post(f"{BASE}/read-all")
    assert len(large) == len(small)


# --- settings --------------------------------------------------------------------------------------------------


def test_settings_read_and_change_my_own(book, api_for):
    c = api_for(book.tam)
    assert c.get(f"{BASE}/settings").json() == {"email_notifications": "immediate"}
    response = c.put(f"{BASE}/settings", {"email_notifications": "none"}, content_type="application/json")
    assert response.status_code == 200 and response.json() == {"email_notifications": "none"}
    book.tam.refresh_from_db()
    assert book.tam.email_notifications == "none"
    event = AuditEvent.objects.get(object_type="people.user", object_id=str(book.tam.pk))
    assert event.source == "api" and event.after == {"email_notifications": "none"}


@pytest.mark.parametrize(
    "payload", [{"email_notifications": "hourly"}, {}, {"email_notifications": "none", "user_id": 1}]
)
def test_settings_bad_input_is_422(book, api_for, payload):
    response = api_for(book.tam).put(f"{BASE}/settings", payload, content_type="application/json")
    assert response.status_code == 422
    book.tam.refresh_from_db()
    assert book.tam.email_notifications == "immediate"


def test_the_schema_documents_the_routes(book, api_for):
    paths = api_for(book.tam).get("/api/v1/openapi.json").json()["paths"]
    assert {f"{BASE}/", f"{BASE}/read-all", f"{BASE}/settings", f"{BASE}/{{notification_id}}/read"} <= set(paths)
