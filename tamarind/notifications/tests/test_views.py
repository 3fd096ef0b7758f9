"""Notification pages: the permission trio per route, behaviour, htmx fragments, and constant query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tamarind.audit.models import AuditEvent
from tamarind.notifications.models import Notification
from tamarind.notifications.services import NotificationDraft, notify, notify_many

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


def make(user, title="Hello", **kwargs):
    (n,) = notify(recipients=[user], kind=kwargs.pop("kind", "general"), title=title, **kwargs)
    return n


def bulk(user, count, prefix="Item"):
    notify_many(
        NotificationDraft(recipient_id=user.pk, kind="task_assigned", title=f"{prefix} {i}") for i in range(count)
    )


# --- list ------------------------------------------------------------------------------------------------------


def test_list_shows_only_my_notifications_unread_first(book, client_for):
    first = make(book.tam, "First one", body="Details here.", account=book.account, url="/accounts/")
    make(book.tam, "Second one")
    make(book.tam2, "Not for Tara")
    first.read_at = first.created_at
    first.save(update_fields=["read_at"])
    body = client_for(book.tam).get(reverse("notifications:list")).content.decode()
    assert "Second one" in body and "First one" in body and "Not for Tara" not in body
    assert body.index("Second one") < body.index("First one")  # unread first
    assert "Details here." in body and "Acme Corp" in body
    assert "<strong>1</strong> unread" in body


def test_list_unread_filter(book, client_for):
    read = make(book.tam, "Old news")
    make(book.tam, "Fresh news")
    read.read_at = read.created_at
    read.save(update_fields=["read_at"])
    body = client_for(book.tam).get(reverse("notifications:list"), {"show": "unread"}).content.decode()
    assert "Fresh news" in body and "Old news" not in body


def test_list_ignores_an_unknown_filter(book, client_for):
    make(book.tam, "Visible")
    response = client_for(book.tam).get(reverse("notifications:list"), {"show": "bogus", "page": "x"})
    assert response.status_code == 200 and "Visible" in response.content.decode()


def test_list_empty_state(book, client_for):
    body = client_for(book.tam).get(reverse("notifications:list")).content.decode()
    assert "No notifications yet." in body and "All caught up" in body


def test_list_htmx_returns_the_list_fragment(book, client_for):
    make(book.tam, "In the fragment")
    response = client_for(book.tam).get(
        reverse("notifications:list"), {"show": "unread"}, headers={**HX, "HX-Target": "notification-list"}
    )
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body and 'id="notification-list"' in body
    assert "In the fragment" in body


def test_list_requires_login(client):
    response = client.get(reverse("notifications:list"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_list_query_count_is_constant(book, client_for):
    c = client_for(book.tam)
    url = reverse("notifications:list")
    bulk(book.tam, 3)
    make(book.tam, "With account", account=book.account)
    with CaptureQueriesContext(connection) as small:
        assert c.get(url).status_code == 200
    bulk(book.tam, 120, prefix="More")
    for _ in range(5):
        make(book.tam, "With account", account=book.other_account)
    with CaptureQueriesContext(connection) as large:
        assert c.get(url).status_code == 200
    assert len(large) == len(small)


# --- bell --------------------------------------------------------------------------------------------------------


def test_bell_shows_my_unread_count(book, client_for):
    bulk(book.tam, 3)
    bulk(book.tam2, 5)
    body = client_for(book.tam).get(reverse("notifications:bell"), headers=HX).content.decode()
    assert 'class="bell-count" data-count="3"' in body and "<html" not in body


def test_bell_without_unread_shows_no_count(book, client_for):
    body = client_for(book.tam).get(reverse("notifications:bell")).content.decode()
    assert "bell-count" not in body and "0 unread" in body


def test_bell_caps_the_number(book, client_for):
    bulk(book.tam, 120)
    assert ">99+<" in client_for(book.tam).get(reverse("notifications:bell")).content.decode()


def test_bell_when_signed_out_stops_polling_or_redirects(client):
    assert client.get(reverse("notifications:bell"), headers=HX).status_code == 286
    response = client.get(reverse("notifications:bell"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_bell_query_count_is_constant(book, client_for):
    c = client_for(book.tam)
    url = reverse("notifications:bell")
    bulk(book.tam, 2)
    with CaptureQueriesContext(connection) as small:
        c.get(url)
    bulk(book.tam, 200, prefix="More")
    with CaptureQueriesContext(connection) as large:
        c.get(url)
    assert len(large) == len(small)


def test_every_page_carries_the_bell(book, client_for):
    body = client_for(book.manager).get(reverse("accounts:list")).content.decode()
    assert 'id="notification-bell"' in body
    assert 'hx-get="/notifications/bell/"' in body and 'hx-trigger="load, every 30s"' in body


# --- mark read -----------------------------------------------------------------------------------------------------


def test_mark_read_allowed_for_the_recipient(book, client_for):
    n = make(book.tam)
    response = client_for(book.tam).post(reverse("notifications:mark_read", args=[n.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("notifications:list")
    n.refresh_from_db()
    assert n.read_at is not None


@pytest.mark.parametrize("who", ["admin", "director", "manager", "tam2", "other_tam"])
def test_mark_read_of_someone_elses_is_404(book, client_for, who):
    n = make(book.tam)
    assert client_for(getattr(book, who)).post(reverse("notifications:mark_read", args=[n.pk])).status_code == 404
    n.refresh_from_db()
    assert n.read_at is None


def test_mark_read_is_post_only_and_unknown_ids_are_404(book, client_for):
    n = make(book.tam)
    c = client_for(book.tam)
    assert c.get(reverse("notifications:mark_read", args=[n.pk])).status_code == 405
    assert c.post("/notifications/999999/read/").status_code == 404
    assert c.post(f"/notifications/{2**64}/read/").status_code == 404


def test_mark_read_htmx_returns_the_row_and_the_new_counts(book, client_for):
    n = make(book.tam, "Read me")
    make(book.tam, "Still unread")
    response = client_for(book.tam).post(reverse("notifications:mark_read", args=[n.pk]), headers=HX)
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert f'id="notification-{n.pk}"' in body and "Mark read" not in body
    assert 'hx-swap-oob="innerHTML:#notification-bell"' in body and 'data-count="1"' in body
    assert '<span id="unread-summary" hx-swap-oob="true"><strong>1</strong> unread' in body


def test_marking_read_is_not_audited(book, client_for):
    n = make(book.tam)
    before = AuditEvent.objects.count()
    client_for(book.tam).post(reverse("notifications:mark_read", args=[n.pk]))
    assert AuditEvent.objects.count() == before


def test_mark_read_query_count_is_constant(book, client_for):
    c = client_for(book.tam)
    a = make(book.tam, "A")
    with CaptureQueriesContext(connection) as small:
        c.post(reverse("notifications:mark_read", args=[a.pk]), headers=HX)
    bulk(book.tam, 100)
    b = make(book.tam, "B")
    with CaptureQueriesContext(connection) as large:
        c.post(reverse("notifications:mark_read", args=[b.pk]), headers=HX)
    assert len(large) == len(small)


# --- open ------------------------------------------------------------------------------------------------------


def test_open_marks_read_and_follows_the_link(book, client_for):
    n = make(book.tam, url=f"/accounts/{book.account.pk}/")
    response = client_for(book.tam).post(reverse("notifications:open", args=[n.pk]))
    assert response.status_code == 302 and response["Location"] == f"/accounts/{book.account.pk}/"
    n.refresh_from_db()
    assert n.read_at is not None


def test_open_without_a_link_goes_to_the_list(book, client_for):
    n = make(book.tam)
    response = client_for(book.tam).post(reverse("notifications:open", args=[n.pk]))
    assert response["Location"] == reverse("notifications:list")


def test_open_never_leaves_the_site(book, client_for):
    n = make(book.tam)
    Notification.objects.filter(pk=n.pk).update(url="https://evil.example.com/")  # written around the service
    response = client_for(book.tam).post(reverse("notifications:open", args=[n.pk]))
    assert response["Location"] == reverse("notifications:list")


@pytest.mark.parametrize("who", ["admin", "tam2", "other_manager"])
def test_open_someone_elses_is_404(book, client_for, who):
    n = make(book.tam, url="/accounts/")
    assert client_for(getattr(book, who)).post(reverse("notifications:open", args=[n.pk])).status_code == 404


# --- mark all read ---------------------------------------------------------------------------------------------


def test_mark_all_read_marks_only_mine(book, client_for):
    bulk(book.tam, 3)
    bulk(book.tam2, 2)
    response = client_for(book.tam).post(reverse("notifications:mark_all_read"), {"show": "unread"})
    assert response.status_code == 302 and response["Location"] == "/notifications/?show=unread"
    assert Notification.objects.filter(recipient=book.tam, read_at__isnull=True).count() == 0
    assert Notification.objects.filter(recipient=book.tam2, read_at__isnull=True).count() == 2


def test_mark_all_read_htmx_returns_the_list_and_zero_counts(book, client_for):
    bulk(book.tam, 3)
    response = client_for(book.tam).post(reverse("notifications:mark_all_read"), {"show": "unread"}, headers=HX)
    body = response.content.decode()
    assert response.status_code == 200 and 'id="notification-list"' in body and "Nothing unread." in body
    assert "bell-count" not in body and "All caught up" in body


def test_mark_all_read_query_count_is_constant(book, client_for):
    c = client_for(book.tam)
    bulk(book.tam, 2)
    with CaptureQueriesContext(connection) as small:
        c.post(reverse("notifications:mark_all_read"), headers=HX)
    bulk(book.tam, 150)
    with CaptureQueriesContext(connection) as large:
        c.post(reverse("notifications:mark_all_read"), headers=HX)
    assert len(large) == len(small)


# --- settings --------------------------------------------------------------------------------------------------


def test_settings_page_shows_my_choice(book, client_for):
    book.tam.email_notifications = "digest"
    book.tam.save(update_fields=["email_notifications"])
    body = client_for(book.tam).get(reverse("notifications:settings")).content.decode()
    assert 'value="digest" id="id_email_notifications_1" required checked' in body
    assert 'value="immediate" id="id_email_notifications_0" required>' in body
    assert "tam@example.com" in body


def test_settings_saves_and_audits(book, client_for):
    c = client_for(book.tam)
    response = c.post(reverse("notifications:settings"), {"email_notifications": "digest"})
    assert response.status_code == 302
    book.tam.refresh_from_db()
    assert book.tam.email_notifications == "digest"
    event = AuditEvent.objects.get(object_type="people.user", object_id=str(book.tam.pk))
    assert event.after == {"email_notifications": "digest"} and event.source == "web"
    assert "Notification emails: Once a day, in a digest." in c.get(reverse("notifications:settings")).content.decode()


def test_settings_refuses_a_bad_choice(book, client_for):
    response = client_for(book.tam).post(reverse("notifications:settings"), {"email_notifications": "hourly"})
    assert response.status_code == 400
    book.tam.refresh_from_db()
    assert book.tam.email_notifications == "immediate"
    assert not AuditEvent.objects.exists()


def test_settings_change_only_your_own(book, client_for):
    """There is no way to name another person: the page always changes the signed-in user's choice."""
    client_for(book.admin).post(reverse("notifications:settings"), {"email_notifications": "none"})
    book.tam.refresh_from_db()
    book.admin.refresh_from_db()
    assert (book.tam.email_notifications, book.admin.email_notifications) == ("immediate", "none")


def test_settings_query_count_is_constant(book, client_for):
    c = client_for(book.tam)
    with CaptureQueriesContext(connection) as small:
        c.get(reverse("notifications:settings"))
    bulk(book.tam, 50)
    with CaptureQueriesContext(connection) as large:
        c.get(reverse("notifications:settings"))
    assert len(large) == len(small)
