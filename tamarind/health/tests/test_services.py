"""Health writes: model versions, sentiment, recompute (idempotent; consequences of a color change; the lock)."""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from tamarind.actions.models import Task, TaskType
from tamarind.audit.models import AuditEvent
from tamarind.conftest import Book
from tamarind.core.errors import ValidationFailed
from tamarind.health.models import (
    HealthHistory,
    HealthLock,
    HealthModelVersion,
    HealthRun,
    HealthScore,
    RunStatus,
    Sentiment,
    breakdown_of,
)
from tamarind.health.selectors import stored_measures
from tamarind.health.services import (
    FULL_LOCK,
    health_model_save,
    health_recompute_accounts,
    health_recompute_all,
    recipients_for,
    sentiment_set,
)
from tamarind.health.spec import DEFAULT_DEFINITION
from tamarind.notifications.models import Notification
from tamarind.timeline.models import EntryKind, TimelineEntry

pytestmark = pytest.mark.django_db


def test_the_default_model_is_seeded() -> None:
    live = HealthModelVersion.objects.live()
    assert live is not None and live.version == 1
    assert live.definition == DEFAULT_DEFINITION


def test_admin_saves_a_new_version_audited(book: Book) -> None:
    definition = copy.deepcopy(DEFAULT_DEFINITION)
    definition["staleness_days"] = 60
    version = health_model_save(actor=book.admin, definition=definition, note="Quarterly reviews")
    assert version.version == 2
    assert HealthModelVersion.objects.live() == version
    assert AuditEvent.objects.filter(object_type="health.healthmodelversion", object_id=str(version.pk)).exists()
    with pytest.raises(ValidationFailed):
        health_model_save(actor=book.admin, definition=definition)  # the same again
    bad = copy.deepcopy(definition)
    bad["bands"]["green"] = 20
    with pytest.raises(ValidationFailed) as exc:
        health_model_save(actor=book.admin, definition=bad)
    assert "bands" in exc.value.errors


@pytest.mark.parametrize("who", ["director", "manager", "tam", "sal"])
def test_only_admins_save_models(book: Book, who: str) -> None:
    with pytest.raises(PermissionDenied):
        health_model_save(actor=getattr(book, who), definition=DEFAULT_DEFINITION)


def test_sentiment_set_scores_logs_and_audits(book: Book) -> None:
    sentiment = sentiment_set(actor=book.tam, account=book.account, color="yellow", reason="Champion left")
    assert Sentiment.objects.get() == sentiment
    entry = TimelineEntry.objects.get(account=book.account)
    assert entry.kind == EntryKind.NOTE and "Yellow" in entry.title and entry.notes == "Champion left"
    assert entry.author == book.tam
    assert AuditEvent.objects.filter(object_type="health.sentiment").count() == 1
    health = HealthScore.objects.get(account=book.account)
    assert (health.score, health.color) == (62, "yellow")
    assert HealthHistory.objects.get(account=book.account).score == 62


@pytest.mark.parametrize(
    ("color", "reason", "where"), [("amber", "x", "color"), ("red", "  ", "reason"), ("red", None, "reason")]
)
def test_sentiment_needs_a_color_and_a_reason(book: Book, color: str, reason: str | None, where: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        sentiment_set(actor=book.tam, account=book.account, color=color, reason=reason)
    assert where in exc.value.errors


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("tam", True),
        ("manager", True),
        ("admin", True),
        ("tam2", False),
        ("sal", False),
        ("director", False),
        ("other_manager", False),
    ],
)
def test_who_sets_sentiment(book: Book, who: str, allowed: bool) -> None:
    if allowed:
        sentiment_set(actor=getattr(book, who), account=book.account, color="green", reason="Happy")
    else:
        with pytest.raises(PermissionDenied):
            sentiment_set(actor=getattr(book, who), account=book.account, color="green", reason="Happy")


def test_no_data_means_no_score_and_no_consequence(book: Book) -> None:
    result = health_recompute_accounts(account_ids=[book.account.pk], source="test")
    health = HealthScore.objects.get(account=book.account)
    assert (health.score, health.color) == (None, "")
    assert result.changed == 1 and not result.color_changes
    assert not HealthHistory.objects.exists()


def test_recompute_is_idempotent(book: Book) -> None:
    sentiment_set(actor=book.tam, account=book.account, color="green", reason="Fine")
    sentiment_set(actor=book.other_tam, account=book.other_account, color="red", reason="Outage")
    notes, tasks, entries = Notification.objects.count(), Task.objects.count(), TimelineEntry.objects.count()
    first = health_recompute_all(source="test")
    before = list(HealthScore.objects.order_by("pk").values())
    second = health_recompute_all(source="test")
    assert first.changed == 0 and second.changed == 0  # sentiment_set already scored both
    assert second.notifications == 0 and second.tasks == 0 and not second.color_changes
    assert list(HealthScore.objects.order_by("pk").values()) == before
    assert (Notification.objects.count(), Task.objects.count(), TimelineEntry.objects.count()) == (
        notes,
        tasks,
        entries,
    )


def test_unchanged_inputs_are_not_scored_again_and_a_new_day_rewrites_only_what_it_moves(
    book: Book, monkeypatch
) -> None:
    """The day-dependent text is not stored (the breakdown keeps the call's date, the page says "4 days"), so the
    next day's full run scores no account whose inputs did not move and writes nothing; the day an engagement band
    really moves, that account alone is scored and written."""
    from tamarind.health.scoring import Scorer

    calls: list[int] = []
    real = Scorer.score

    def counting(self, inputs, *, today):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(self, inputs, today=today)

    monkeypatch.setattr(Scorer, "score", counting)
    TimelineEntry.objects.create(
        account=book.account, kind=EntryKind.CALL, title="QBR", occurred_at=timezone.now() - dt.timedelta(days=3)
    )
    today = timezone.localdate()
    first = health_recompute_all(source="test", today=today)
    scored = len(calls)
    assert first.changed >= 1 and scored >= 2
    again = health_recompute_all(source="test", today=today)
    assert again.changed == 0 and len(calls) == scored  # same inputs, day and model: nobody scored again
    stored = list(HealthScore.objects.order_by("pk").values())
    history = HealthHistory.objects.count()
    # A day later the call is a day older, but no band moves: nobody is scored again and nothing is written.
    later = health_recompute_all(source="test", today=today + dt.timedelta(days=1))
    assert later.changed == 0 and len(calls) == scored
    assert list(HealthScore.objects.order_by("pk").values()) == stored and HealthHistory.objects.count() == history
    health = HealthScore.objects.get(account=book.account)
    engagement = next(
        m for m in stored_measures(health, today=today + dt.timedelta(days=1)) if m["key"] == "engagement"
    )
    assert engagement["value"] == "4 days since the last call or meeting" and "value" not in str(breakdown_of(health))
    assert (health.engaged_on, health.engagement_color) == (today - dt.timedelta(days=3), "green")
    # Priority 1 is green up to 35 days: the day the call is 36 days old, that account alone is scored again.
    edge = health_recompute_all(source="test", today=today + dt.timedelta(days=33))
    assert edge.changed == 1 and len(calls) == scored + 1
    health = HealthScore.objects.get(account=book.account)
    assert (health.engagement_color, health.color) == ("yellow", "yellow")
    # New data for one account: only it is scored again.
    sentiment_set(actor=book.tam, account=book.account, color="yellow", reason="Slower")
    assert len(calls) == scored + 2
    assert HealthScore.objects.get(account=book.account).color == "yellow"


def test_a_color_change_writes_the_timeline_notifies_and_proposes_triage(book: Book) -> None:
    sentiment_set(actor=book.tam, account=book.account, color="green", reason="Fine")
    assert Notification.objects.count() == 0  # a first score is no change
    assert HealthScore.objects.get(account=book.account).color_changed_at is None
    sentiment_set(actor=book.tam, account=book.account, color="red", reason="Outage, exec escalation")
    health = HealthScore.objects.get(account=book.account)
    assert (health.color, health.red_override) == ("red", True)
    assert health.color_changed_at is not None
    system = TimelineEntry.objects.get(account=book.account, kind=EntryKind.SYSTEM)
    assert "Green → Red" in system.title
    recipients = set(Notification.objects.values_list("recipient_id", flat=True))
    # The TAM made the change (her sentiment): the rest of the account team hears of it, she does not.
    assert recipients == {book.sal.pk, book.sa.pk, book.manager.pk, book.director.pk}
    assert AuditEvent.objects.filter(object_type="health.healthscore").count() == 1
    run = HealthRun.objects.order_by("-id").first()
    assert run is not None and run.color_changes == 1 and run.notifications == 4
    # one history point per day: the day's last score
    assert list(HealthHistory.objects.values_list("color", flat=True)) == ["red"]
    assert Task.objects.filter(account=book.account, type="triage_review").count() == 1
    # Rewritten without a change of color (a call moves the score, red stays red): the change keeps its moment.
    TimelineEntry.objects.create(account=book.account, kind=EntryKind.CALL, title="Call", occurred_at=timezone.now())
    assert health_recompute_accounts(account_ids=[book.account.pk], source="test").changed == 1
    assert HealthScore.objects.get(account=book.account).color_changed_at == health.color_changed_at


def test_whoever_changes_the_sentiment_is_the_one_not_notified(book: Book) -> None:
    sentiment_set(actor=book.tam, account=book.account, color="green", reason="Fine")
    sentiment_set(actor=book.manager, account=book.account, color="yellow", reason="Budget review")
    told = set(Notification.objects.values_list("recipient_id", flat=True))
    assert book.tam.pk in told and book.manager.pk not in told


def test_a_call_that_turns_an_account_green_does_not_notify_who_logged_it(book: Book) -> None:
    from tamarind.timeline.services import timeline_entry_create

    TimelineEntry.objects.create(
        account=book.account, kind=EntryKind.CALL, title="QBR", occurred_at=timezone.now() - dt.timedelta(days=70)
    )
    health_recompute_accounts(account_ids=[book.account.pk], source="test")
    assert HealthScore.objects.get(account=book.account).color == "red"  # engagement only: 70 days, red
    Notification.objects.all().delete()  # the red first score's triage review task: not this test's concern
    timeline_entry_create(
        actor=book.tam, account=book.account, data={"kind": "call", "title": "Check-in", "external_attendees": "CTO"}
    )
    assert HealthScore.objects.get(account=book.account).color == "green"
    told = set(Notification.objects.values_list("recipient_id", flat=True))
    assert told == {book.sal.pk, book.sa.pk, book.manager.pk}


def test_recipients_by_color(book: Book) -> None:
    from tamarind.health.selectors import gather_inputs

    data = gather_inputs([book.account.pk])[book.account.pk]
    team = {book.tam.pk, book.sal.pk, book.sa.pk, book.manager.pk}
    assert set(recipients_for("green", data, [book.director.pk])) == team
    assert set(recipients_for("yellow", data, [book.director.pk])) == team | {book.director.pk}
    assert set(recipients_for("red", data, [book.director.pk])) == team | {book.director.pk}


def test_engagement_from_the_timeline(book: Book) -> None:
    TimelineEntry.objects.create(
        account=book.account, kind=EntryKind.CALL, title="QBR", occurred_at=timezone.now() - dt.timedelta(days=70)
    )
    health_recompute_accounts(account_ids=[book.account.pk], source="test")
    health = HealthScore.objects.get(account=book.account)
    assert health.color == "red"  # priority 1, 70 days: red; the only measure present
    engagement = next(m for m in stored_measures(health) if m["key"] == "engagement")
    assert engagement["band"] == "red" and engagement["value"] == "70 days since the last call or meeting"


def test_a_stale_sentiment_raises_one_health_review_task(book: Book) -> None:
    sentiment = sentiment_set(actor=book.tam, account=book.account, color="green", reason="Fine")
    Sentiment.objects.filter(pk=sentiment.pk).update(set_at=timezone.now() - dt.timedelta(days=91))
    health_recompute_all(source="test")
    assert HealthScore.objects.get(account=book.account).stale is True
    task = Task.objects.get(type=TaskType.HEALTH_REVIEW)
    assert task.owner == book.tam and task.account == book.account
    again = health_recompute_all(source="test")
    assert again.tasks == 0 and Task.objects.filter(type=TaskType.HEALTH_REVIEW).count() == 1
    # The TAM reviews again: the task is done and the score is fresh.
    sentiment_set(actor=book.tam, account=book.account, color="yellow", reason="Watching adoption")
    task.refresh_from_db()
    assert task.status == "done"
    assert HealthScore.objects.get(account=book.account).stale is False


def test_staleness_boundary_is_the_setting(book: Book) -> None:
    sentiment = sentiment_set(actor=book.tam, account=book.account, color="green", reason="Fine")
    Sentiment.objects.filter(pk=sentiment.pk).update(set_at=timezone.now() - dt.timedelta(days=90))
    health_recompute_all(source="test")
    assert HealthScore.objects.get(account=book.account).stale is False


def test_a_full_run_waits_for_the_lock(book: Book) -> None:
    HealthLock.objects.create(name=FULL_LOCK, holder="someone", locked_until=timezone.now() + dt.timedelta(minutes=5))
    result = health_recompute_all(source="test")
    assert result.status == RunStatus.SKIPPED
    assert HealthRun.objects.get(pk=result.run_id).status == RunStatus.SKIPPED
    assert not HealthScore.objects.exists()


def test_an_expired_lock_is_taken_over_and_released(book: Book) -> None:
    HealthLock.objects.create(name=FULL_LOCK, holder="crashed", locked_until=timezone.now() - dt.timedelta(minutes=1))
    result = health_recompute_all(source="test")
    assert result.status == RunStatus.DONE and result.accounts == 2
    lock = HealthLock.objects.get(name=FULL_LOCK)
    assert (lock.holder, lock.locked_until) == ("", None)
    run = HealthRun.objects.get(pk=result.run_id)
    assert run.accounts == 2 and run.finished_at is not None and run.seconds >= 0


def test_a_new_model_version_rescores(book: Book) -> None:
    sentiment_set(actor=book.tam, account=book.account, color="yellow", reason="Meh")
    definition = copy.deepcopy(DEFAULT_DEFINITION)
    definition["band_scores"]["yellow"] = 70
    health_model_save(actor=book.admin, definition=definition)
    result = health_recompute_all(source="test")
    assert result.changed == 2  # the other account gets its first (empty) score
    health = HealthScore.objects.get(account=book.account)
    assert (health.score, health.model_version) == (70, 2)


def test_the_periodic_job_is_declared() -> None:
    from tamarind.health.periodic import JOBS

    assert [j.key for j in JOBS] == ["health.recompute_all"]
    assert JOBS[0].every == dt.timedelta(hours=1)


def test_usage_and_tickets_feed_the_score_through_the_usage_app(book: Book) -> None:
    from tamarind.usage.rows import TicketRow, UsageRow
    from tamarind.usage.services import tickets_ingest, usage_ingest_daily

    day = timezone.localdate() - dt.timedelta(days=1)
    crm = book.account.crm_id
    rows = [
        UsageRow(crm, day, "licenses", 100),
        UsageRow(crm, day, "active_users", 90),
        UsageRow(crm, day, "scm_users", 40),
        UsageRow(crm, day, "ci_users", 10),
    ]
    usage_ingest_daily(actor=book.admin, rows=rows, source="test")
    now = timezone.now()
    tickets_ingest(
        actor=book.admin,
        rows=[TicketRow(crm, "T-1", now - dt.timedelta(days=2), None, "urgent", "open")],
        source="test",
    )
    health_recompute_accounts(account_ids=[book.account.pk], source="test")
    health = HealthScore.objects.get(account=book.account)
    measures = {m["key"]: m for m in stored_measures(health)}
    # utilization 90% green (100) x 40% + adoption 2/4 = 50% green (100) x 60%
    assert measures["product_usage"]["score"] == 100
    assert measures["product_usage"]["updated_at"] == day.isoformat()
    assert measures["support"]["band"] == "red" and "1 open urgent" in measures["support"]["value"]
    # The same, as the columns dashboards read: each measure's score and color, and the indicators' facts.
    assert (health.product_usage_score, health.product_usage_color) == (100, "green")
    assert (health.support_score, health.support_color) == (25, "red")
    assert (health.sentiment_score, health.sentiment_color, health.sentiment_on) == (None, "", None)
    assert (health.licenses, health.active_users, health.active_users_prev) == (100, 90, None)
    assert (health.tickets_30d, health.open_urgent) == (1, 1)
    # (25 x 100 + 5 x 25) / 30 = 87.5 -> 88
    assert (health.score, health.color, health.drag) == (88, "green", "support")


def test_the_scheduler_finds_and_runs_the_full_recompute(book: Book, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    from tamarind.scheduler.models import JobRun, PeriodicJob
    from tamarind.scheduler.services import periodic_job_run_now, periodic_jobs_sync

    periodic_jobs_sync()
    job = PeriodicJob.objects.get(key="health.recompute_all")
    assert job.every == dt.timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        run = periodic_job_run_now(actor=book.admin, job=job)
    run = JobRun.objects.get(pk=run.pk)
    assert run.status == "succeeded", run.error
    assert run.result["accounts"] == 2 and run.result["status"] == "done"


def test_logging_a_call_rescores_the_account(book: Book) -> None:
    from tamarind.timeline.services import timeline_entry_create

    timeline_entry_create(
        actor=book.tam,
        account=book.account,
        data={"kind": "call", "title": "Cadence", "occurred_at": timezone.now() - dt.timedelta(days=40)},
    )
    health = HealthScore.objects.get(account=book.account)
    assert health.color == "yellow"  # priority 1, 40 days
    timeline_entry_create(actor=book.tam, account=book.account, data={"kind": "note", "title": "Thought"})
    assert HealthRun.objects.count() == 1  # a note is not an engagement: no rescoring


def test_a_full_run_keeps_the_days_health_mix_per_slice(book: Book) -> None:
    """Each full run replaces its day's snapshot rows: the book, each segment, region, region's segment, TAM (per
    region; tam 0: no TAM) and TAM's segment, with accounts and ARR per color and stale reviews; accounts that will
    churn are out of health reporting. Snapshots older than the kept days go."""
    from decimal import Decimal

    from tamarind.accounts.models import LifecycleStage
    from tamarind.health.models import HealthMixSnapshot, SnapshotLevel
    from tamarind.testing.factories import AccountFactory

    east_red = AccountFactory(region=book.east, tam=book.tam2, segment="smb", arr=Decimal("1000.50"))
    AccountFactory(region=book.east, tam=None, segment="smb", arr=Decimal(300))  # no TAM, never scored
    gone = AccountFactory(region=book.east, tam=book.tam2, lifecycle_stage=LifecycleStage.WILL_CHURN, arr=Decimal(9))
    today = timezone.localdate()
    old = HealthMixSnapshot.objects.create(day=today - dt.timedelta(days=500), level=SnapshotLevel.BOOK, green=1)
    kept = HealthMixSnapshot.objects.create(day=today - dt.timedelta(days=1), level=SnapshotLevel.BOOK, green=2)
    sentiment_set(actor=book.manager, account=east_red, color="red", reason="Outage")
    sentiment_set(actor=book.tam, account=book.account, color="green", reason="Fine")
    Sentiment.objects.filter(account=book.account).update(set_at=timezone.now() - dt.timedelta(days=120))
    sentiment_set(actor=book.admin, account=gone, color="red", reason="Leaving")
    HealthMixSnapshot.objects.create(day=today, level=SnapshotLevel.BOOK, green=99)  # replaced by the run
    health_recompute_all(source="test", today=today)

    def row(level: str, region: int = 0, tam: int = 0, segment: str = "") -> HealthMixSnapshot:
        return HealthMixSnapshot.objects.get(day=today, level=level, region_id=region, tam_id=tam, segment=segment)

    book_row = row(SnapshotLevel.BOOK)
    # book.account green (stale), east_red red, book.other_account and the TAM-less account unscored; not `gone`
    assert (book_row.green, book_row.yellow, book_row.red, book_row.unscored, book_row.stale) == (1, 0, 1, 2, 1)
    assert book_row.red_arr == Decimal("1000.50")
    east = row(SnapshotLevel.REGION, book.east.pk)
    assert (east.green, east.red, east.unscored) == (1, 1, 1)
    assert row(SnapshotLevel.REGION, book.west.pk).unscored == 1
    smb = row(SnapshotLevel.REGION_SEGMENT, book.east.pk, segment="smb")
    assert (smb.red, smb.unscored, smb.unscored_arr) == (1, 1, Decimal(300))
    assert row(SnapshotLevel.SEGMENT, segment="smb").red == 1
    assert row(SnapshotLevel.TAM, book.east.pk, book.tam2.pk).red == 1
    assert row(SnapshotLevel.TAM, book.east.pk, 0).unscored == 1  # the region's accounts without a TAM
    assert row(SnapshotLevel.TAM_SEGMENT, book.east.pk, book.tam2.pk, "smb").red_arr == Decimal("1000.50")
    assert not HealthMixSnapshot.objects.filter(pk=old.pk).exists()
    assert HealthMixSnapshot.objects.filter(pk=kept.pk).exists()
    assert HealthMixSnapshot.objects.filter(day=today, level=SnapshotLevel.BOOK).count() == 1
    # An incremental run leaves the day's snapshot to the next full run.
    sentiment_set(actor=book.tam, account=book.account, color="red", reason="Worse")
    assert row(SnapshotLevel.BOOK).green == 1
