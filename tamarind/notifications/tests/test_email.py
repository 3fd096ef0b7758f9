"""The email path end to end: notify -> commit -> task (run inline by the test settings' ImmediateBackend) ->
Django's SMTP backend -> a real SMTP server on loopback, whose received messages the tests read."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.module_loading import import_string

from tamarind.notifications import services
from tamarind.notifications.models import Notification
from tamarind.notifications.periodic import JOBS
from tamarind.notifications.services import NotificationDraft, _EmailSweep, notify, notify_many
from tamarind.notifications.tests.conftest import free_port
from tamarind.people.models import User

pytestmark = pytest.mark.django_db


def prefer(user: User, choice: str) -> User:
    User.objects.filter(pk=user.pk).update(email_notifications=choice)
    user.email_notifications = choice
    return user


def sweeps(callbacks: list) -> int:
    return sum(isinstance(cb, _EmailSweep) for cb in callbacks)


# --- immediate -----------------------------------------------------------------------------------------------


def test_immediate_email_arrives_after_commit(book, mail_server, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        (n,) = notify(
            recipients=[book.tam],
            kind="tam_assigned",
            title="You are the TAM of Acme Corp",
            body="Onboarding starts today.",
            url=f"/accounts/{book.account.pk}/",
            account=book.account,
        )
        assert mail_server.received == []  # nothing leaves before the transaction commits
    assert sweeps(callbacks) == 1
    (msg,) = mail_server.received
    assert msg.rcpt_tos == ["tam@example.com"]
    assert msg.to == "tam@example.com"
    assert msg.subject == "[Tamarind] You are the TAM of Acme Corp"
    assert str(msg.message["From"]) == "tamarind@example.com"
    assert "Hello Tara," in msg.body
    assert "Onboarding starts today." in msg.body
    assert f"https://tamarind.example.com/accounts/{book.account.pk}/" in msg.body
    assert "https://tamarind.example.com/notifications/settings/" in msg.body
    n.refresh_from_db()
    assert n.emailed_at is not None and n.email_batch


def test_one_task_per_transaction_however_many_notifications(book, mail_server, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notify(recipients=[book.tam, book.tam2], kind="general", title="First")
        notify(recipients=[book.tam], kind="general", title="Second")
        notify_many(
            NotificationDraft(recipient_id=book.manager.pk, kind="account_qualified", title=f"Account {i} qualifies")
            for i in range(3)
        )
    assert sweeps(callbacks) == 1
    assert sorted(r.subject for r in mail_server.to("tam@example.com")) == ["[Tamarind] First", "[Tamarind] Second"]
    assert len(mail_server.to("tam2@example.com")) == 1
    assert len(mail_server.to("manager@example.com")) == 3
    assert len(mail_server.received) == 6


def test_a_rolled_back_notification_sends_nothing(book, mail_server, django_capture_on_commit_callbacks):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                notify(recipients=[book.tam], kind="general", title="Never happened")
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
    assert sweeps(callbacks) == 0 and mail_server.received == []
    assert not Notification.objects.exists()


def test_sending_again_sends_nothing_new(book, mail_server):
    notify(recipients=[book.tam], kind="general", title="Once")
    assert services.notification_emails_send_pending() == {"sent": 1, "failed": 0}
    assert services.notification_emails_send_pending() == {"sent": 0, "failed": 0}
    assert len(mail_server.received) == 1


def test_inactive_people_and_read_or_old_notifications_get_no_email(book, mail_server):
    User.objects.filter(pk=book.tam2.pk).update(is_active=False)
    notify(recipients=[book.tam2], kind="general", title="Inactive")
    (read,) = notify(recipients=[book.tam], kind="general", title="Already read")
    services.notification_mark_read(actor=book.tam, notification=read)
    (old,) = notify(recipients=[book.tam], kind="general", title="Old news")
    Notification.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))
    assert services.notification_emails_send_pending() == {"sent": 0, "failed": 0}
    assert mail_server.received == []


def test_a_refused_recipient_stays_pending_and_is_retried(book, mail_server):
    mail_server.refuse.add("tam@example.com")
    (n,) = notify(recipients=[book.tam], kind="general", title="Try again")
    assert services.notification_emails_send_pending() == {"sent": 0, "failed": 1}
    n.refresh_from_db()
    assert (n.emailed_at, n.email_batch) == (None, "")
    mail_server.refuse.clear()
    # The periodic catch-up sweep sends it.
    job = next(j for j in JOBS if j.key == "notifications.send_pending")
    assert import_string(job.func)() == {"sent": 1, "failed": 0}
    assert [r.subject for r in mail_server.received] == ["[Tamarind] Try again"]


def test_an_unreachable_mail_server_fails_the_task_and_keeps_the_email(
    book, settings, django_capture_on_commit_callbacks
):
    from tamarind.notifications.tasks import send_notification_emails

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    (n,) = notify(recipients=[book.tam], kind="general", title="Nobody listening")
    result = send_notification_emails.enqueue()
    assert result.status == "FAILED"
    n.refresh_from_db()
    assert n.emailed_at is None


def test_two_sweeps_claim_each_notification_once(book, mail_server):
    """The claim is a compare-and-swap: what one sweep claimed, another cannot claim again."""
    rows = notify(recipients=[book.tam, book.tam2], kind="general", title="Claim me")
    ids = [n.pk for n in rows]
    token_a, won_a = services._claim(ids)
    token_b, won_b = services._claim(ids)
    assert len(won_a) == 2 and won_b == [] and token_a != token_b


# --- digest and none -------------------------------------------------------------------------------------------


def test_digest_people_get_one_daily_email_listing_their_unread(book, mail_server, django_capture_on_commit_callbacks):
    prefer(book.tam, "digest")
    with django_capture_on_commit_callbacks(execute=True):
        notify(
            recipients=[book.tam],
            kind="tam_assigned",
            title="You are the TAM of Acme Corp",
            url=f"/accounts/{book.account.pk}/",
        )
        notify(recipients=[book.tam], kind="task_assigned", title="Assign a TAM", body="Globex qualified.")
        (read,) = notify(recipients=[book.tam], kind="general", title="Seen it already")
    assert mail_server.received == []  # no immediate email for a digest person
    services.notification_mark_read(actor=book.tam, notification=read)

    job = next(j for j in JOBS if j.key == "notifications.daily_digest")
    assert job.every == timedelta(days=1)
    assert import_string(job.func)() == {"emails": 1, "notifications": 2, "failed": 0}
    (msg,) = mail_server.received
    assert msg.rcpt_tos == ["tam@example.com"]
    assert msg.subject == "[Tamarind] Your daily digest: 2 unread notifications"
    assert "You have 2 unread notifications" in msg.body
    assert "* You are the TAM of Acme Corp" in msg.body and "* Assign a TAM" in msg.body
    assert "Globex qualified." in msg.body
    assert f"https://tamarind.example.com/accounts/{book.account.pk}/" in msg.body
    assert "Seen it already" not in msg.body
    # The next day's digest does not repeat them.
    assert services.notification_digest_send() == {"emails": 0, "notifications": 0, "failed": 0}
    assert len(mail_server.received) == 1


def test_digest_lists_at_most_fifty_and_counts_the_rest(book, mail_server):
    prefer(book.tam, "digest")
    notify_many(NotificationDraft(recipient_id=book.tam.pk, kind="general", title=f"Item {i}") for i in range(53))
    assert services.notification_digest_send()["notifications"] == 53
    (msg,) = mail_server.received
    assert msg.body.count("\n* Item") == 50
    assert "...and 3 more: https://tamarind.example.com/notifications/" in msg.body
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 0


def test_digest_failures_stay_pending(book, mail_server):
    prefer(book.tam, "digest")
    prefer(book.tam2, "digest")
    notify(recipients=[book.tam, book.tam2], kind="general", title="Hello")
    mail_server.refuse.add("tam@example.com")
    assert services.notification_digest_send() == {"emails": 1, "notifications": 1, "failed": 1}
    assert [r.rcpt_tos for r in mail_server.received] == [["tam2@example.com"]]
    assert Notification.objects.get(recipient=book.tam).emailed_at is None


def test_none_means_no_email_at_all(book, mail_server, django_capture_on_commit_callbacks):
    prefer(book.tam, "none")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notify(recipients=[book.tam], kind="general", title="In the app only")
    assert sweeps(callbacks) == 0  # nobody to email: no task at all
    assert services.notification_emails_send_pending()["sent"] == 0
    assert services.notification_digest_send()["emails"] == 0
    assert mail_server.received == []
    assert Notification.objects.get(recipient=book.tam).emailed_at is None


def test_immediate_people_are_not_in_the_digest_and_vice_versa(book, mail_server):
    prefer(book.tam2, "digest")
    notify(recipients=[book.tam, book.tam2], kind="general", title="Both")
    assert services.notification_digest_send()["emails"] == 1
    assert services.notification_emails_send_pending()["sent"] == 1
    assert sorted(r.rcpt_tos[0] for r in mail_server.received) == ["tam2@example.com", "tam@example.com"]
    assert mail_server.to("tam2@example.com")[0].subject.startswith("[Tamarind] Your daily digest")
    assert mail_server.to("tam@example.com")[0].subject == "[Tamarind] Both"


# --- through the scheduler -------------------------------------------------------------------------------------


def test_the_scheduler_runs_the_daily_digest(book, mail_server, django_capture_on_commit_callbacks):
    """The job the scheduler registers from ``periodic.py``, run by "Run now" through the task backend."""
    from tamarind.scheduler.models import PeriodicJob
    from tamarind.scheduler.services import periodic_job_run_now, periodic_jobs_sync

    periodic_jobs_sync()
    job = PeriodicJob.objects.get(key="notifications.daily_digest")
    assert job.every == timedelta(days=1) and job.func == "tamarind.notifications.services.notification_digest_send"
    assert PeriodicJob.objects.filter(key="notifications.send_pending").exists()
    prefer(book.tam, "digest")
    notify(recipients=[book.tam], kind="general", title="For the digest")
    with django_capture_on_commit_callbacks(execute=True):
        run = periodic_job_run_now(actor=book.admin, job=job)
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    assert run.result == {"emails": 1, "notifications": 1, "failed": 0}
    (msg,) = mail_server.received
    assert msg.rcpt_tos == ["tam@example.com"] and "* For the digest" in msg.body
