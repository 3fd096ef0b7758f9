"""Notification services: creation and its idempotency, the constraint behind it, reading state, preferences."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from tamarind.audit.models import AuditEvent
from tamarind.core.errors import ValidationFailed
from tamarind.notifications import services
from tamarind.notifications.models import Notification, NotificationKind
from tamarind.notifications.services import NotificationDraft, notify, notify_many
from tamarind.people.models import EmailNotifications

pytestmark = pytest.mark.django_db


def test_notify_creates_one_per_recipient(book):
    created = notify(
        recipients=[book.tam, book.manager],
        kind=NotificationKind.TAM_ASSIGNED,
        title="You are the TAM of Acme Corp",
        body="Say hello.",
        url=f"/accounts/{book.account.pk}/",
        account=book.account,
    )
    assert len(created) == 2 and all(n.pk for n in created)
    n = Notification.objects.get(recipient=book.tam)
    assert (n.kind, n.title, n.body, n.account_id, n.read_at, n.emailed_at) == (
        "tam_assigned",
        "You are the TAM of Acme Corp",
        "Say hello.",
        book.account.pk,
        None,
        None,
    )


def test_notify_with_the_same_key_twice_notifies_once(book):
    first = notify(recipients=[book.tam], kind="general", title="Hello", dedupe_key="hello:1")
    again = notify(recipients=[book.tam, book.tam2], kind="general", title="Hello", dedupe_key="hello:1")
    assert len(first) == 1
    assert [n.recipient_id for n in again] == [book.tam2.pk]  # only the one who had not been told
    assert Notification.objects.filter(dedupe_key="hello:1").count() == 2


def test_a_read_notification_still_counts_for_dedupe(book):
    (n,) = notify(recipients=[book.tam], kind="general", title="Hello", dedupe_key="k")
    services.notification_mark_read(actor=book.tam, notification=n)
    assert notify(recipients=[book.tam], kind="general", title="Hello", dedupe_key="k") == []


def test_notify_without_a_key_always_creates(book):
    notify(recipients=[book.tam], kind="general", title="Ping")
    notify(recipients=[book.tam], kind="general", title="Ping")
    assert Notification.objects.filter(recipient=book.tam).count() == 2


def test_notify_nobody_is_a_no_op(book):
    assert notify(recipients=[], kind="general", title="Nobody") == []


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("kind", {"kind": "nope", "title": "x"}),
        ("title", {"kind": "general", "title": "   "}),
        ("url", {"kind": "general", "title": "x", "url": "https://evil.example.com/"}),
        ("url", {"kind": "general", "title": "x", "url": "//evil.example.com/"}),
    ],
)
def test_notify_refuses_bad_input(book, field, kwargs):
    with pytest.raises(ValidationFailed) as exc:
        notify(recipients=[book.tam], **kwargs)
    assert field in exc.value.errors
    assert not Notification.objects.exists()


def test_long_titles_are_cut_to_fit(book):
    (n,) = notify(recipients=[book.tam], kind="general", title="x" * 500)
    assert len(n.title) == 200


def drafts(book, key_prefix="qualified"):
    return [
        NotificationDraft(
            recipient_id=book.manager.pk,
            kind="account_qualified",
            title=f"Account {i} qualifies",
            account_id=book.account.pk,
            dedupe_key=f"{key_prefix}:{i}",
        )
        for i in range(5)
    ]


def test_notify_many_twice_creates_no_duplicates(book):
    assert notify_many(drafts(book)) == 5
    assert notify_many(drafts(book)) == 0
    assert Notification.objects.filter(recipient=book.manager).count() == 5


def test_notify_many_drops_duplicates_within_one_call(book):
    assert notify_many(drafts(book) + drafts(book)) == 5
    assert Notification.objects.count() == 5


def test_notify_many_accepts_an_account_object_and_keyless_drafts(book):
    items = [
        NotificationDraft(recipient_id=book.tam.pk, kind="general", title="A", account=book.account),
        NotificationDraft(recipient_id=book.tam.pk, kind="general", title="A", account=book.account),
    ]
    assert notify_many(items) == 2
    assert set(Notification.objects.values_list("account_id", flat=True)) == {book.account.pk}


def test_notify_many_looks_up_once_per_batch_not_once_per_row(book):
    many = [
        NotificationDraft(recipient_id=book.tam.pk, kind="general", title=f"N {i}", dedupe_key=f"n:{i}")
        for i in range(900)
    ]
    with CaptureQueriesContext(connection) as queries:
        assert notify_many(many) == 900
    sql = [q["sql"].lstrip().upper() for q in queries.captured_queries]
    assert sum(s.startswith("SELECT") for s in sql) == 1  # the dedupe lookup
    # INSERTs come in the database's batches (SQLite caps parameters per statement), never one per row.
    assert sum(s.startswith("INSERT") for s in sql) <= 15


def test_the_database_refuses_a_second_notification_with_the_same_key(book):
    Notification.objects.create(recipient=book.tam, title="One", dedupe_key="k")
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(recipient=book.tam, title="Two", dedupe_key="k")
    # Empty keys are exempt; another recipient may hold the same key.
    Notification.objects.create(recipient=book.tam, title="Three")
    Notification.objects.create(recipient=book.tam, title="Four")
    Notification.objects.create(recipient=book.tam2, title="Five", dedupe_key="k")


def test_the_database_refuses_an_unknown_kind(book):
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(recipient=book.tam, title="x", kind="bogus")


# --- reading state -----------------------------------------------------------------------------------------


def test_mark_read_and_mark_all_read(book):
    a, _b, _c = (notify(recipients=[book.tam], kind="general", title=t)[0] for t in "abc")
    notify(recipients=[book.tam2], kind="general", title="not yours")
    assert services.notification_mark_read(actor=book.tam, notification=a) is True
    assert services.notification_mark_read(actor=book.tam, notification=a) is False
    assert services.notification_mark_all_read(actor=book.tam) == 2
    assert Notification.objects.filter(recipient=book.tam, read_at__isnull=True).count() == 0
    assert Notification.objects.filter(recipient=book.tam2, read_at__isnull=True).count() == 1


def test_nobody_marks_someone_elses_notification(book):
    (n,) = notify(recipients=[book.tam], kind="general", title="Mine")
    with pytest.raises(PermissionDenied):
        services.notification_mark_read(actor=book.admin, notification=n)
    n.refresh_from_db()
    assert n.read_at is None


def test_unread_first_then_newest(book):
    _old, _mid, new = (notify(recipients=[book.tam], kind="general", title=t)[0] for t in ("old", "mid", "new"))
    services.notification_mark_read(actor=book.tam, notification=new)
    titles = [n.title for n in Notification.objects.visible_to(book.tam).unread_first()]
    assert titles == ["mid", "old", "new"]


# --- email preference ----------------------------------------------------------------------------------------


def test_a_person_sets_their_email_preference_and_it_is_audited(book):
    assert book.tam.email_notifications == EmailNotifications.IMMEDIATE  # the default
    assert services.user_set_email_notifications(actor=book.tam, user=book.tam, choice="digest") is True
    assert services.user_set_email_notifications(actor=book.tam, user=book.tam, choice="digest") is False
    book.tam.refresh_from_db()
    assert book.tam.email_notifications == "digest"
    event = AuditEvent.objects.get(object_type="people.user", object_id=str(book.tam.pk))
    assert (event.before, event.after, event.actor_id) == (
        {"email_notifications": "immediate"},
        {"email_notifications": "digest"},
        book.tam.pk,
    )


def test_only_the_person_or_an_admin_sets_it(book):
    with pytest.raises(PermissionDenied):
        services.user_set_email_notifications(actor=book.manager, user=book.tam, choice="none")
    assert services.user_set_email_notifications(actor=book.admin, user=book.tam, choice="none") is True


def test_an_unknown_preference_is_refused(book):
    with pytest.raises(ValidationFailed):
        services.user_set_email_notifications(actor=book.tam, user=book.tam, choice="hourly")
