"""Writes of the health app: model versions, the TAM's sentiment, and recomputing scores with their consequences.

Recompute (``health_recompute_accounts`` for the accounts a change touched, ``health_recompute_all`` for the whole
book, hourly) scores each account with the live model and compares the result with its stored ``HealthScore``.
Nothing equal is written, so a second run over unchanged data writes nothing and notifies no one. A change rewrites
the score and today's history point; a change of color also has consequences (domain section 6):

- a system entry on the account's timeline and an audit event;
- notifications, by this mapping of the domain's audiences onto Tamarind's roles:
  Yellow -> the account team (TAM, SAL/AE, SA), the region's TAM Manager and the directors;
  Red    -> the same people: the director role is "Director / VP of CS", and sales leadership has no role in
            Tamarind (the account's SAL/AE is its sales side);
  Green  (a recovery) -> the account team and the region's TAM Manager;
  the first score an account ever gets is not a change and notifies no one;
- red, or yellow with "requires triage": ``triage.services.triage_propose`` (a triage review task, never a
  duplicate), also when an account's first score is already red.

A sentiment that turns stale raises a "health review" task for the TAM (deduplicated by the task constraint).

What a score says is written with it as columns dashboards read in SQL (each measure's score and color, the facts
the early-warning indicators compare: ``HealthScore``), and nothing in it moves with the day alone: an account
whose inputs did not move is not scored again before its ``rescore_on`` (``scoring.rescore_on``), so the next day's
full run rewrites only the scores whose content changed. Every full run also replaces its day's health mix
snapshots (``health_mix_snapshot_take``), which the dashboard's trend chart reads.

One full run at a time: a lease on the ``HealthLock`` row named ``full``, taken by a single conditional UPDATE
(free, or its lease expired) so it works alike on PostgreSQL and SQLite without holding a transaction open for the
whole run; a run that finds it taken records itself as skipped. The run's heartbeat (``core.heartbeat``) renews the
lease; a run whose worker died stops renewing it, so within ``TAMARIND_JOB_LEASE_SECONDS`` the scheduler tick (or
the next full run) fails that run as lost and the lock is free again. Between two chunks a run leaves SQLite's write
lock free for a moment (``core.resilience.pause_for_writers``), so requests waiting to write get their turn.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any, NamedTuple

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from tamarind import policy
from tamarind.accounts.models import Account, LifecycleStage
from tamarind.actions.models import TaskType
from tamarind.actions.services import TaskDraft, task_raise_many, task_resolve
from tamarind.audit.models import AuditAction
from tamarind.audit.services import audit_record, audit_record_many, build_event
from tamarind.core.bulk import (
    IdRange,
    bulk_update_rows,
    bulk_upsert,
    chunks,
    date_reader,
    id_filter,
    insert_instances,
)
from tamarind.core.errors import ValidationFailed
from tamarind.core.heartbeat import Pulse, lease, lost_reason
from tamarind.core.resilience import pause_for_writers
from tamarind.core.values import NUL_MESSAGE
from tamarind.health.models import (
    SNAPSHOT_SLOTS,
    HealthColor,
    HealthExplanation,
    HealthHistory,
    HealthLock,
    HealthMixSnapshot,
    HealthModelDraft,
    HealthModelVersion,
    HealthRun,
    HealthScore,
    RunKind,
    RunStatus,
    Sentiment,
    SnapshotLevel,
    inputs_digest,
    score_digest,
)
from tamarind.health.scoring import HealthResult, Scorer, astuple_fast
from tamarind.health.selectors import AccountHealthInputs, gather_inputs, live_version
from tamarind.health.spec import COLOR_LABELS, MEASURE_LABELS, MEASURES, SpecError, parse_spec
from tamarind.notifications.models import NotificationKind
from tamarind.notifications.services import NotificationDraft, notify_many
from tamarind.people.models import Role, User
from tamarind.timeline.models import EntryKind, TimelineEntry
from tamarind.triage.services import triage_propose_many

CHUNK = 1000
# A full run reads ranges of the book: bigger chunks, fewer round trips (each chunk is its own transaction).
FULL_CHUNK = 5000
FULL_LOCK = "full"
REASON_MAX = 2000
STALE_REASON = "stale_sentiment"


# --- Model versions ------------------------------------------------------------------------------------------


@transaction.atomic
def health_model_save(*, actor: User, definition: Any, note: str = "", source: str = "web") -> HealthModelVersion:
    """Validate ``definition`` and save it as the next version (live from now). Admins only.

    Scores move to the new model at the next full recompute (hourly, or run it from the scheduler page).
    """
    if not policy.can_edit_health_model(actor):
        raise PermissionDenied("Only admins change the health model.")
    try:
        canonical = parse_spec(definition).to_json()
    except SpecError as exc:
        raise ValidationFailed(exc.errors) from exc
    live = HealthModelVersion.objects.select_for_update().order_by("-version").first()
    if live is not None and live.definition == canonical:
        raise ValidationFailed({"__all__": [f"This model is the same as version {live.version}; nothing to save."]})
    version = HealthModelVersion.objects.create(
        version=(live.version + 1) if live else 1, definition=canonical, note=note[:500], created_by=actor
    )
    audit_record(
        actor=actor,
        obj=version,
        action=AuditAction.CREATE,
        before={"version": live.version, "definition": live.definition} if live else None,
        after={"version": version.version, "definition": canonical, "note": version.note},
        source=source,
    )
    return version


# --- Sentiment -------------------------------------------------------------------------------------------------


@transaction.atomic
def sentiment_set(
    *,
    actor: User,
    account: Account,
    color: Any,
    reason: Any,
    requires_triage: Any = False,
    source: str = "web",
) -> Sentiment:
    """The TAM's health review: a color with a reason, logged on the timeline; the account is rescored at once.

    ``requires_triage`` only means something with Yellow (Red always goes to triage); it is stored as given.
    """
    if not policy.can_set_sentiment(actor, account):
        raise PermissionDenied("Only the account's TAM, its region's manager and admins set its sentiment.")
    errors: dict[str, list[str]] = {}
    if color not in HealthColor.values:
        errors["color"] = [f"Choose one of: {', '.join(HealthColor.values)}."]
    text = reason.strip() if isinstance(reason, str) else ""
    if "\x00" in text:
        errors["reason"] = [NUL_MESSAGE]
    elif not text:
        errors["reason"] = ["Say why: a sentiment needs a reason."]
    elif len(text) > REASON_MAX:
        errors["reason"] = [f"At most {REASON_MAX} characters."]
    if not isinstance(requires_triage, bool):
        errors["requires_triage"] = ["Expected true or false."]
    if errors:
        raise ValidationFailed(errors)
    now = timezone.now()
    sentiment = Sentiment.objects.create(
        account=account, color=color, reason=text, requires_triage=requires_triage, set_by=actor, set_at=now
    )
    after = {"account": account.pk, "color": color, "reason": text, "requires_triage": requires_triage}
    audit_record(actor=actor, obj=sentiment, action=AuditAction.CREATE, before=None, after=after, source=source)
    triage = " (requires triage)" if requires_triage and color == HealthColor.YELLOW else ""
    TimelineEntry.objects.create(
        account=account,
        kind=EntryKind.NOTE,
        occurred_at=now,
        title=f"Health review: sentiment {COLOR_LABELS[color]}{triage}",
        notes=text,
        author=actor,
        created_at=now,
    )
    # A fresh review answers the stale-review task, if one is open.
    task_resolve(account=account, type=TaskType.HEALTH_REVIEW, reason=STALE_REASON, actor=actor, source=source)
    health_recompute_accounts(account_ids=[account.pk], source=source, actor=actor)
    return sentiment


# --- Recompute -------------------------------------------------------------------------------------------------


@dataclass
class RecomputeResult:
    """What one recompute did."""

    run_id: int | None = None
    status: str = RunStatus.DONE
    accounts: int = 0
    changed: int = 0
    color_changes: list[tuple[int, str, str]] = field(default_factory=list)  # (account, before, after)
    notifications: int = 0
    tasks: int = 0
    triage_proposals: int = 0
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "run": self.run_id,
            "status": self.status,
            "accounts": self.accounts,
            "changed": self.changed,
            "color_changes": len(self.color_changes),
            "notifications": self.notifications,
            "tasks": self.tasks,
            "triage_proposals": self.triage_proposals,
            "seconds": round(self.seconds, 3),
        }


def _directors() -> list[int]:
    return list(User.objects.filter(role=Role.DIRECTOR, is_active=True).order_by("pk").values_list("pk", flat=True))


def recipients_for(color: str, data: AccountHealthInputs, directors: Iterable[int]) -> list[int]:
    """Who hears of a change to ``color`` (see the module docstring for the mapping)."""
    people = [data.tam_id, data.sal_id, data.sa_id, data.manager_id]
    if color in (HealthColor.YELLOW, HealthColor.RED):
        people.extend(directors)
    seen: dict[int, None] = {}
    for pk in people:
        if pk is not None:
            seen.setdefault(pk, None)
    return list(seen)


class Current(NamedTuple):
    """What a recompute reads back of an account's stored score: enough to compare (``digest``, ``inputs``, the
    days it holds for) and to see a change of color, staleness or triage standing, without decoding every stored
    breakdown."""

    digest: str
    inputs: str
    score: int | None
    color: str
    stale: bool
    requires_triage: bool
    scored_on: dt.date | None
    rescore_on: dt.date | None

    def holds_on(self, today: dt.date, inputs: str) -> bool:
        """Whether this score is what the same ``inputs`` give on ``today``: worked out from those inputs on a day
        not after today, and today comes before the day alone may change it (``scoring.rescore_on``)."""
        return (
            self.inputs == inputs
            and self.scored_on is not None
            and self.scored_on <= today
            and (self.rescore_on is None or today < self.rescore_on)
        )


MEASURE_COLUMNS = [f"{key}_{part}" for key in MEASURES for part in ("score", "color")]
FACT_COLUMNS = [
    "sentiment_on",
    "engaged_on",
    "licenses",
    "active_users",
    "active_users_prev",
    "tickets_30d",
    "open_urgent",
]
SCORE_COLUMNS = [
    "account_id",
    "score",
    "color",
    "red_override",
    "drag",
    "stale",
    "requires_triage",
    *MEASURE_COLUMNS,
    *FACT_COLUMNS,
    "model_version",
    "computed_at",
    "color_changed_at",
    "scored_on",
    "rescore_on",
    "digest",
    "inputs_digest",
]

# Part of every inputs digest: bump it when the scorer's code changes what it writes for the same inputs, so the
# next run rescores every account instead of skipping those whose inputs did not move.
SCORER_REVISION = 2


def _current_scores(scope: Sequence[int] | IdRange) -> dict[int, Current]:
    q = connection.ops.quote_name
    where, params = id_filter("account_id", scope)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT account_id, digest, inputs_digest, score, color, stale, requires_triage, "  # noqa: S608
            f"scored_on, rescore_on FROM {q(HealthScore._meta.db_table)} WHERE {where}",
            params,
        )
        day = date_reader()
        return {
            row[0]: Current(row[1], row[2], row[3], row[4], bool(row[5]), bool(row[6]), day(row[7]), day(row[8]))
            for row in cursor.fetchall()
        }


def _change_title(before: str, after: str, result: HealthResult) -> str:
    return f"Health {COLOR_LABELS[before]} → {COLOR_LABELS[after]} (score {result.score})"


def _change_notes(result: HealthResult, today: dt.date) -> str:
    lines = [f"{m.label}: {m.text(today)} ({m.band or 'missing'})" for m in result.measures]
    if result.drag:
        lines.append(f"Pulling the score down most: {MEASURE_LABELS[result.drag]}.")
    if result.red_override:
        lines.append("Red because the TAM's sentiment is Red.")
    return "\n".join(lines)


Change = tuple[int, HealthResult, AccountHealthInputs, Current | None]


def _recompute_chunk(
    scope: Sequence[int] | IdRange,
    *,
    version: HealthModelVersion,
    today: dt.date,
    source: str,
    out: RecomputeResult,
    ctx: dict[str, Any],
) -> None:
    """Score one chunk of accounts (a list of ids, or a range of them) and write what changed, with its
    consequences: a fixed number of queries per chunk whatever its size."""
    scorer = ctx["scorer"]
    gathered = gather_inputs(scope)
    current = _current_scores(scope)
    now = timezone.now()
    at = connection.ops.adapt_datetimefield_value
    day = connection.ops.adapt_datefield_value
    today_value = day(today)
    rows: list[tuple[Any, ...]] = []
    changes: list[Change] = []
    stamps: list[tuple[Any, ...]] = []
    explanations: list[tuple[int, str]] = []
    recolored: list[tuple[int, Any]] = []
    for account_id, data in gathered.items():
        out.accounts += 1
        old = current.get(account_id)
        inputs = data.inputs
        # The scorer is deterministic in (inputs, day, model), and the day alone moves nothing before the stored
        # ``rescore_on``: the same inputs as last time give the same score, so the account is skipped.
        key = inputs_digest(
            (
                SCORER_REVISION,
                version.version,
                data.requires_triage,
                data.active_users_prev,
                data.open_urgent,
                *astuple_fast(inputs),
            )
        )
        if old is not None and old.holds_on(today, key):
            continue
        result = scorer.score(inputs, today=today)
        until = scorer.rescore_on(inputs, today=today)
        color = result.color or ""
        breakdown = scorer.breakdown_json(result)
        measures: list[Any] = []
        for m in result.measures:
            measures += (m.score, m.band or "")
        days = (inputs.sentiment_at if inputs.sentiment is not None else None, inputs.last_engagement)
        counts = (
            inputs.licenses,
            inputs.active_users,
            data.active_users_prev,
            inputs.tickets_last_30d,
            data.open_urgent,
        )
        facts = (*days, *counts)
        fields = (result.score, color, result.red_override, result.drag or "", result.stale, data.requires_triage)
        digest = score_digest((*fields, *measures, *facts, version.version), breakdown)
        until_value = None if until is None else day(until)
        if old is not None and old.digest == digest:
            # Same score from moved inputs, or on a day that could have moved it: remember the inputs and the days
            # it now holds for, so the next runs skip it.
            stamps.append((account_id, key, today_value, until_value))
            continue
        if old is not None and old.color and color and old.color != color:
            recolored.append((account_id, at(now)))
        rows.append(
            (
                account_id,
                *fields,
                *measures,
                *(None if d is None else day(d) for d in days),
                *counts,
                version.version,
                at(now),
                None,  # color_changed_at: kept as it is by the upsert, set below for the scores whose color changed
                today_value,
                until_value,
                digest,
                key,
            )
        )
        changes.append((account_id, result, data, old))
        explanations.append((account_id, breakdown))
    bulk_update_rows(HealthScore._meta.db_table, "account_id", ["inputs_digest", "scored_on", "rescore_on"], stamps)
    if not changes:
        return
    out.changed += len(changes)
    # One upsert (COPY into a temporary table and INSERT ... ON CONFLICT on PostgreSQL) for new and changed scores.
    # ``color_changed_at`` is not read back for every account (parsing 100,000 timestamps a run): the upsert leaves
    # it as it is, and the few scores whose color changed get theirs after.
    update = [c for c in SCORE_COLUMNS[1:] if c != "color_changed_at"]
    bulk_upsert(HealthScore._meta.db_table, SCORE_COLUMNS, rows, conflict=["account_id"], update=update)
    bulk_update_rows(HealthScore._meta.db_table, "account_id", ["color_changed_at"], recolored)
    bulk_upsert(
        HealthExplanation._meta.db_table,
        ["account_id", "breakdown"],
        explanations,
        conflict=["account_id"],
        update=["breakdown"],
    )
    _write_history(changes, today=today)
    _consequences(changes, version=version, today=today, now=now, source=source, out=out, ctx=ctx)


def _consequences(
    changes: list[Change],
    *,
    version: HealthModelVersion,
    today: dt.date,
    now: dt.datetime,
    source: str,
    out: RecomputeResult,
    ctx: dict[str, Any],
) -> None:
    """What changed scores set off: timeline entries, audit events and notifications for color changes, health
    review tasks for sentiments turned stale, triage proposals (all in bulk)."""
    spec = ctx["spec"]
    entries: list[TimelineEntry] = []
    drafts: list[NotificationDraft] = []
    events = []
    tasks: list[TaskDraft] = []
    proposals: list[tuple[int, str, bool]] = []
    for account_id, result, data, old in changes:
        before = old.color if old is not None else ""
        after = result.color or ""
        if before and after and before != after:
            out.color_changes.append((account_id, before, after))
            title = _change_title(before, after, result)
            entries.append(
                TimelineEntry(
                    account_id=account_id,
                    kind=EntryKind.SYSTEM,
                    occurred_at=now,
                    title=title[:200],
                    notes=_change_notes(result, today),
                    created_at=now,
                )
            )
            if "directors" not in ctx:
                ctx["directors"] = _directors()
            url = reverse("accounts:detail", args=[account_id])
            for pk in recipients_for(after, data, ctx["directors"]):
                drafts.append(
                    NotificationDraft(
                        recipient_id=pk,
                        kind=NotificationKind.GENERAL,
                        title=f"{data.name}: health {COLOR_LABELS[before]} → {COLOR_LABELS[after]}",
                        body=_change_notes(result, today),
                        url=url,
                        account_id=account_id,
                        dedupe_key=f"health:{account_id}:{after}:{now.isoformat()}",
                    )
                )
            stub = HealthScore(account_id=account_id)
            events.append(
                build_event(
                    actor=None,
                    obj=stub,
                    action=AuditAction.UPDATE,
                    before={"color": before, "score": old.score if old else None},
                    after={"color": after, "score": result.score, "model_version": version.version},
                    source=source,
                    at=now,
                )
            )
        triage_due = after == HealthColor.RED or (after == HealthColor.YELLOW and data.requires_triage)
        was_due = old is not None and (
            old.color == HealthColor.RED or (old.color == HealthColor.YELLOW and old.requires_triage)
        )
        if triage_due and not was_due:
            proposals.append((account_id, after, data.requires_triage))
        if result.stale and not (old is not None and old.stale) and data.tam_id is not None:
            tasks.append(
                TaskDraft(
                    type=TaskType.HEALTH_REVIEW,
                    account_id=account_id,
                    owner_id=data.tam_id,
                    reason=STALE_REASON,
                    why={
                        "data": {"sentiment_at": str(data.inputs.sentiment_at), "staleness_days": spec.staleness_days}
                    },
                    title=f"Health review: {data.name}"[:200],
                    due_on=today + dt.timedelta(days=14),
                )
            )
    if entries:
        TimelineEntry.objects.bulk_create(entries)
    if events:
        audit_record_many(events)
    if drafts:
        # Whoever made the change (the TAM's sentiment, a call she logged) is not notified of it.
        out.notifications += notify_many(drafts, actor=ctx.get("actor_id"))
    if tasks:
        out.tasks += len(task_raise_many(tasks, source=source))
    if proposals:
        out.triage_proposals += len(triage_propose_many(proposals, source=source, actor=ctx.get("actor_id")))


def _write_history(changes: list[Change], *, today: dt.date) -> None:
    """Today's point for each changed account that has a score: one upsert on (account, day)."""
    day = connection.ops.adapt_datefield_value(today)
    rows = [
        (account_id, day, result.score, result.color or "")
        for account_id, result, _, _ in changes
        if result.score is not None
    ]
    bulk_upsert(
        HealthHistory._meta.db_table,
        ["account_id", "day", "score", "color"],
        rows,
        conflict=["account_id", "day"],
        update=["score", "color"],
    )


# --- The daily health mix ------------------------------------------------------------------------------------

SNAPSHOT_KEEP_DAYS = 400
COLOR_SLOTS: dict[str, str] = {HealthColor.GREEN: "green", HealthColor.YELLOW: "yellow", HealthColor.RED: "red"}


def _slices(region_id: int, tam_id: int, segment: str) -> list[tuple[str, int, int, str]]:
    """The snapshot rows one (region, TAM, segment) group of accounts counts in, one per level."""
    return [
        (SnapshotLevel.BOOK, 0, 0, ""),
        (SnapshotLevel.SEGMENT, 0, 0, segment),
        (SnapshotLevel.REGION, region_id, 0, ""),
        (SnapshotLevel.REGION_SEGMENT, region_id, 0, segment),
        (SnapshotLevel.TAM, region_id, tam_id, ""),
        (SnapshotLevel.TAM_SEGMENT, region_id, tam_id, segment),
    ]


@transaction.atomic
def health_mix_snapshot_take(*, day: dt.date) -> int:
    """Replace ``day``'s health mix snapshots (``HealthMixSnapshot``) with the book as its scores stand now: one
    grouped query over the accounts in health reporting, rolled up to every level in Python (a few hundred rows),
    then one insert. Snapshots older than ``SNAPSHOT_KEEP_DAYS`` go. Returns the rows written. Run by every full
    recompute for its day, so each day keeps the mix of its last full run."""
    groups = (
        Account.objects.exclude(lifecycle_stage=LifecycleStage.WILL_CHURN)
        .values("region_id", "tam_id", "segment", "health__color")
        .annotate(n=Count("pk"), arr=Sum("arr"), stale=Count("pk", filter=Q(health__stale=True)))
        .order_by()
    )
    cells: dict[tuple[str, int, int, str], dict[str, Any]] = {}
    for g in groups:
        slot = COLOR_SLOTS.get(g["health__color"] or "", "unscored")
        arr = Decimal(g["arr"] or 0)
        for key in _slices(g["region_id"] or 0, g["tam_id"] or 0, g["segment"] or ""):
            cell = cells.get(key)
            if cell is None:
                cell = cells[key] = (
                    {"stale": 0} | {c: 0 for c in SNAPSHOT_SLOTS} | {f"{c}_arr": Decimal(0) for c in SNAPSHOT_SLOTS}
                )
            cell[slot] += g["n"]
            cell[f"{slot}_arr"] += arr
            cell["stale"] += g["stale"]
    HealthMixSnapshot.objects.filter(day=day).delete()
    HealthMixSnapshot.objects.filter(day__lt=day - dt.timedelta(days=SNAPSHOT_KEEP_DAYS)).delete()
    rows = [
        HealthMixSnapshot(day=day, level=level, region_id=region_id, tam_id=tam_id, segment=segment, **cell)
        for (level, region_id, tam_id, segment), cell in cells.items()
    ]
    return insert_instances(rows)


def _scopes(account_ids: Iterable[int], *, full: bool) -> list[Sequence[int] | IdRange]:
    """The chunks a run walks: id ranges for a full run (one index range scan each), id lists otherwise."""
    ids = sorted(set(account_ids))
    if full:
        return [IdRange(chunk[0], chunk[-1]) for chunk in chunks(ids, FULL_CHUNK)]
    return list(chunks(ids, CHUNK))


def _run_beat(fields: dict[str, Any], *, run_id: int, lock_token: str) -> None:
    """A running recompute's heartbeat (``core.heartbeat.Pulse``): the run's, and the full run's lease renewed."""
    now = timezone.now()
    HealthRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(heartbeat_at=now)
    if lock_token:
        HealthLock.objects.filter(name=FULL_LOCK, holder=lock_token).update(locked_until=now + lease())


def _run(
    account_ids: Iterable[int],
    *,
    kind: str,
    source: str,
    today: dt.date | None,
    run: HealthRun | None = None,
    actor: User | None = None,
    lock_token: str = "",
) -> RecomputeResult:
    started = time.monotonic()
    today = today or timezone.localdate()
    version = live_version()
    if run is None:
        run = HealthRun.objects.create(
            kind=kind, source=source[:40], model_version=version.version, heartbeat_at=timezone.now()
        )
    out = RecomputeResult(run_id=run.pk)
    spec = version.spec()
    ctx: dict[str, Any] = {"spec": spec, "scorer": Scorer(spec), "actor_id": actor.pk if actor is not None else None}
    beat = partial(_run_beat, run_id=run.pk, lock_token=lock_token)
    try:
        with Pulse(beat, name=f"health {kind} run {run.pk}"):
            for scope in _scopes(account_ids, full=kind == RunKind.FULL):
                with transaction.atomic():
                    _recompute_chunk(scope, version=version, today=today, source=source, out=out, ctx=ctx)
                pause_for_writers()
            if kind == RunKind.FULL:
                health_mix_snapshot_take(day=today)
    except Exception as exc:
        run.status, run.error = RunStatus.FAILED, f"{type(exc).__name__}: {exc}"[:2000]
        raise
    else:
        run.status = RunStatus.DONE
    finally:
        out.seconds = time.monotonic() - started
        out.status = run.status
        run.finished_at = timezone.now()
        run.seconds = out.seconds
        run.model_version = version.version
        run.accounts, run.changed, run.color_changes = out.accounts, out.changed, len(out.color_changes)
        run.notifications, run.tasks = out.notifications, out.tasks
        run.save(
            update_fields=[
                "status",
                "error",
                "finished_at",
                "seconds",
                "model_version",
                "accounts",
                "changed",
                "color_changes",
                "notifications",
                "tasks",
            ]
        )
    return out


def health_recompute_accounts(
    *, account_ids: Iterable[int], source: str, today: dt.date | None = None, actor: User | None = None
) -> RecomputeResult:
    """Rescore these accounts (the ones a data change touched); idempotent. Recorded as an incremental run.
    ``actor`` made the change (a sentiment, a call): a color change it causes notifies everyone but them."""
    ids = [int(pk) for pk in account_ids]
    if not ids:
        return RecomputeResult()
    return _run(ids, kind=RunKind.INCREMENTAL, source=source, today=today, actor=actor)


def _acquire(name: str, token: str) -> bool:
    """Take the named lease when it is free or expired: one conditional UPDATE, atomic on every database."""
    HealthLock.objects.get_or_create(name=name)
    now = timezone.now()
    taken = (
        HealthLock.objects.filter(name=name)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .update(holder=token, locked_until=now + lease())
    )
    return taken == 1


def health_runs_fail_lost(*, now: dt.datetime) -> int:
    """Fail the recomputes whose process is gone (running, no heartbeat for the lease) with the reason, and free
    the locks whose lease ran out. Each chunk of a run is its own transaction, so the chunks it finished stay (they
    are whole, correct scores) and the one it was in died with it. A reaper of the scheduler tick (``periodic.py``);
    returns how many runs it failed."""
    stale = (
        HealthRun.objects.filter(status=RunStatus.RUNNING)
        .annotate(last_sign=Coalesce("heartbeat_at", "started_at"))
        .filter(last_sign__lt=now - lease())
        .values_list("pk", "last_sign", "started_at")
    )
    failed = 0
    for pk, last_sign, started_at in stale:
        failed += HealthRun.objects.filter(pk=pk, status=RunStatus.RUNNING).update(
            status=RunStatus.FAILED,
            finished_at=now,
            seconds=max(0.0, (last_sign - started_at).total_seconds()),  # known to have run until its last beat
            error=lost_reason(last_sign) + " The chunks it finished are kept; the next full run rescores the rest.",
        )
    HealthLock.objects.filter(locked_until__lt=now).exclude(holder="").update(holder="", locked_until=None)
    return failed


def _release(name: str, token: str) -> None:
    HealthLock.objects.filter(name=name, holder=token).update(holder="", locked_until=None)


def health_recompute_all(*, source: str = "scheduler", today: dt.date | None = None) -> RecomputeResult:
    """Rescore every account: the hourly job. Skipped (and recorded so) while another full run holds the lock."""
    token = uuid.uuid4().hex
    health_runs_fail_lost(now=timezone.now())  # a run whose worker died does not hold the lock any longer
    if not _acquire(FULL_LOCK, token):
        run = HealthRun.objects.create(
            kind=RunKind.FULL, source=source[:40], status=RunStatus.SKIPPED, finished_at=timezone.now()
        )
        return RecomputeResult(run_id=run.pk, status=RunStatus.SKIPPED)
    try:
        ids = list(Account.objects.order_by("pk").values_list("pk", flat=True))
        return _run(ids, kind=RunKind.FULL, source=source, today=today, lock_token=token)
    finally:
        _release(FULL_LOCK, token)


def health_recompute_all_job() -> dict[str, Any]:
    """The periodic job's entry point (``periodic.py``): a full run, its summary stored on the job run."""
    return health_recompute_all(source="scheduler").summary()


# --- Drafts ------------------------------------------------------------------------------------------------------


@transaction.atomic
def health_model_draft_create(
    *,
    actor: User,
    definition: Any,
    note: str = "",
    origin: str = "",
    detail: dict[str, Any] | None = None,
    source: str = "web",
) -> HealthModelDraft:
    """Keep ``definition`` as a draft (validated, canonical; not live, no version). Admins only. The editor opens
    it for the preview and saves it as the next version (``health_model_save``); audited."""
    if not policy.can_edit_health_model(actor):
        raise PermissionDenied("Only admins change the health model.")
    try:
        canonical = parse_spec(definition).to_json()
    except SpecError as exc:
        raise ValidationFailed(exc.errors) from exc
    live = live_version()
    draft = HealthModelDraft.objects.create(
        definition=canonical,
        based_on_version=live.version,
        note=note[:500],
        origin=origin[:40],
        detail=detail or {},
        created_by=actor,
    )
    audit_record(
        actor=actor,
        obj=draft,
        action=AuditAction.CREATE,
        before=None,
        after={
            "based_on_version": live.version,
            "definition": canonical,
            "note": draft.note,
            "origin": draft.origin,
            "detail": draft.detail,
        },
        source=source,
    )
    return draft
