"""Writes of the reviews app: schedules, occurrences (the scheduler job), opening a review (its checklist built
from live data and stored as it stood), decisions per item, agenda items, notes, attendees, completion.
Every write is audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from tamarind import policy
from tamarind.actions.models import TaskStatus, TaskType
from tamarind.audit.models import AuditAction
from tamarind.audit.services import audit_record, snapshot
from tamarind.core.errors import ValidationFailed
from tamarind.core.values import clean_date, clean_text
from tamarind.people.models import Region, Role, User
from tamarind.reviews import checklists
from tamarind.reviews.cadence import due_dates, meeting_start
from tamarind.reviews.models import (
    ITEM_FIELDS,
    OCCURRENCE_FIELDS,
    SCHEDULE_FIELDS,
    Cadence,
    Decision,
    ItemOrigin,
    OccurrenceStatus,
    ReviewItem,
    ReviewKind,
    ReviewOccurrence,
    ReviewSchedule,
    valid_time_zone,
)
from tamarind.reviews.selectors import previous_one_on_one, review_settings

# The cadence a new region's review starts with (domain section 9); the region's manager or an admin changes it.
DEFAULT_CADENCE: dict[str, str] = {
    ReviewKind.NEW_ACCOUNTS: Cadence.WEEKLY,
    ReviewKind.ONBOARDING: Cadence.TWICE_MONTHLY,
    ReviewKind.SUCCESS_PLAN: Cadence.MONTHLY,
    ReviewKind.TRIAGE_HEALTH: Cadence.MONTHLY,
    ReviewKind.RENEWAL: Cadence.TWICE_MONTHLY,
    ReviewKind.ONE_ON_ONE: Cadence.WEEKLY,
}
NOTE_MAX = 5000
LABEL_MAX = 300
# Decisions whose side effect (a task, a case, an escalation) is done: they are not changed afterwards.
FINAL_DECISIONS = frozenset({Decision.TASK, Decision.CASE, Decision.ESCALATED})


def _today() -> dt.date:
    return timezone.localdate()


# --- schedules and occurrences ----------------------------------------------------------------------------------


@transaction.atomic
def review_schedules_ensure(*, today: dt.date | None = None) -> int:
    """Give every region a schedule for every review kind it lacks (default cadences). Returns how many."""
    today = today or _today()
    monday = today - dt.timedelta(days=today.weekday())
    have = set(ReviewSchedule.objects.values_list("region_id", "kind"))
    new = [
        ReviewSchedule(region_id=rid, kind=kind, cadence=DEFAULT_CADENCE[kind], starts_on=monday)
        for rid in Region.objects.values_list("pk", flat=True)
        for kind in ReviewKind.values
        if (rid, kind) not in have
    ]
    ReviewSchedule.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


def occurrences_schedule(*, today: dt.date | None = None) -> dict[str, int]:
    """The scheduler job: make sure every enabled schedule has its occurrences from a week ago up to the horizon
    (a 1:1 one per active TAM of the region). Idempotent: the unique constraints and ``ignore_conflicts`` keep one
    occurrence per schedule, date (and TAM)."""
    today = today or _today()
    created_schedules = review_schedules_ensure(today=today)
    horizon = today + dt.timedelta(days=review_settings().schedule_horizon_days)
    tams: dict[int, list[int]] = {}
    for pk, rid in User.objects.filter(role=Role.TAM, is_active=True, region__isnull=False).values_list(
        "pk", "region_id"
    ):
        tams.setdefault(rid, []).append(pk)
    before = ReviewOccurrence.objects.count()
    rows: list[ReviewOccurrence] = []
    schedules = ReviewSchedule.objects.filter(enabled=True).select_related("region")
    for schedule in schedules:
        start = max(schedule.starts_on, today - dt.timedelta(days=7))
        owner_id = schedule.owner_id or schedule.region.manager_id
        tz = schedule.time_zone if valid_time_zone(schedule.time_zone) else "UTC"
        for day in due_dates(schedule.cadence, schedule.starts_on, horizon):
            if day < start:
                continue
            due_at = meeting_start(day, schedule.meeting_time, tz)
            subjects: list[int | None] = (
                list(tams.get(schedule.region_id, [])) if schedule.kind == ReviewKind.ONE_ON_ONE else [None]
            )
            for subject in subjects:
                rows.append(
                    ReviewOccurrence(
                        schedule=schedule,
                        kind=schedule.kind,
                        region_id=schedule.region_id,
                        owner_id=owner_id,
                        subject_id=subject,
                        due_on=day,
                        due_at=due_at,
                    )
                )
    with transaction.atomic():
        ReviewOccurrence.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    return {
        "schedules_created": created_schedules,
        "occurrences_created": ReviewOccurrence.objects.count() - before,
    }


SCHEDULE_KEYS = frozenset({"cadence", "owner", "owner_id", "starts_on", "meeting_time", "time_zone", "enabled"})


@transaction.atomic
def review_schedule_update(
    *, actor: User, schedule: ReviewSchedule, changes: dict[str, Any], source: str = "web"
) -> ReviewSchedule:
    """Change a schedule's cadence, owner, first date, time or time zone, or switch it off. Occurrences still to
    come that were never opened are re-planned on the new cadence; held ones stay as they were."""
    if not policy.can_edit_review_schedule(actor, schedule.region_id):
        raise PermissionDenied("Only admins and the region's TAM Manager change its review cadence.")
    unknown = set(changes) - SCHEDULE_KEYS
    if unknown:
        raise ValidationFailed({"__all__": [f"Unknown schedule field(s): {', '.join(sorted(unknown))}."]})
    before = _schedule_state(schedule)
    fields: list[str] = []
    errors: dict[str, list[str]] = {}
    if "cadence" in changes:
        if changes["cadence"] not in Cadence.values:
            errors["cadence"] = [f"Unknown cadence {changes['cadence']!r}: choose one of {', '.join(Cadence.values)}."]
        else:
            schedule.cadence = changes["cadence"]
            fields.append("cadence")
    if "owner" in changes or "owner_id" in changes:
        value = changes.get("owner", changes.get("owner_id"))
        if value in (None, ""):
            schedule.owner = None
        else:
            owner = User.objects.filter(pk=value if str(value).isdigit() else 0, is_active=True).first()
            if owner is None or owner.role not in (Role.MANAGER, Role.ADMIN, Role.DIRECTOR):
                errors["owner"] = ["The owner must be an active TAM Manager, director or admin."]
            else:
                schedule.owner = owner
        fields.append("owner")
    if "starts_on" in changes:
        try:
            day = clean_date(changes["starts_on"], "starts_on")
        except ValidationFailed as exc:
            errors.update(exc.errors)
        else:
            if day is None:
                errors["starts_on"] = ["A first date is required."]
            else:
                schedule.starts_on = day
                fields.append("starts_on")
    if "meeting_time" in changes:
        value = changes["meeting_time"]
        try:
            schedule.meeting_time = value if isinstance(value, dt.time) else dt.time.fromisoformat(str(value))
            fields.append("meeting_time")
        except ValueError:
            errors["meeting_time"] = [f"meeting_time must be HH:MM, got {value!r}."]
    if "time_zone" in changes:
        if not isinstance(changes["time_zone"], str) or not valid_time_zone(changes["time_zone"]):
            errors["time_zone"] = [f"Unknown time zone {changes['time_zone']!r} (use an IANA name like Europe/Paris)."]
        else:
            schedule.time_zone = changes["time_zone"]
            fields.append("time_zone")
    if "enabled" in changes:
        if not isinstance(changes["enabled"], bool):
            errors["enabled"] = ["enabled must be true or false."]
        else:
            schedule.enabled = changes["enabled"]
            fields.append("enabled")
    if errors:
        raise ValidationFailed(errors)
    if not fields:
        return schedule
    schedule.updated_at = timezone.now()
    schedule.save(update_fields=[*fields, "updated_at"])
    # Re-plan what is still to come and untouched; the scheduler job (run now) fills the new dates.
    ReviewOccurrence.objects.filter(
        schedule=schedule, status=OccurrenceStatus.SCHEDULED, due_on__gte=_today(), items__isnull=True
    ).delete()
    audit_record(
        actor=actor,
        obj=schedule,
        action=AuditAction.UPDATE,
        before=before,
        after=_schedule_state(schedule),
        source=source,
    )
    transaction.on_commit(lambda: occurrences_schedule())
    return schedule


def _schedule_state(schedule: ReviewSchedule) -> dict[str, Any]:
    state = snapshot(schedule, SCHEDULE_FIELDS)
    state["meeting_time"] = schedule.meeting_time.isoformat(timespec="minutes")
    return state


# --- a review ---------------------------------------------------------------------------------------------------


def _audit_review(actor: User, review: ReviewOccurrence, before: dict[str, Any] | None, source: str) -> None:
    audit_record(
        actor=actor,
        obj=review,
        action=AuditAction.UPDATE if before is not None else AuditAction.CREATE,
        before=before,
        after=snapshot(review, OCCURRENCE_FIELDS),
        source=source,
    )


def _carried_items(review: ReviewOccurrence) -> list[ReviewItem]:
    """The previous 1:1's items still open: action items whose task is not done, items carried over, items left
    undecided. They come back on this agenda, pointing at the same task."""
    prev = previous_one_on_one(review)
    if prev is None:
        return []
    out = []
    for item in prev.items.select_related("task").order_by("position", "id"):
        task_done = item.task is not None and item.task.status == TaskStatus.DONE
        still_open = not task_done and (
            item.decision in ("", Decision.CARRIED_OVER) or (item.decision == Decision.TASK and item.task is not None)
        )
        if not still_open:
            continue
        out.append(
            ReviewItem(
                occurrence=review,
                section="carried_over",
                section_title="Carried over from the last 1:1",
                key=item.key,
                origin=ItemOrigin.CARRIED,
                label=item.label,
                account_id=item.account_id,
                account_name=item.account_name,
                link=item.link,
                facts={
                    **item.facts,
                    "from": prev.due_on.isoformat(),
                    "previous_decision": item.decision or "undecided",
                },
                carried_from=item,
                task=item.task,
                added_by=item.added_by,
            )
        )
    return out


@transaction.atomic
def review_open(
    *, actor: User, review: ReviewOccurrence, today: dt.date | None = None, source: str = "web"
) -> ReviewOccurrence:
    """Open a review: build its checklist (a 1:1: its agenda) from live data and store the items as they stand.
    Opening an open or completed review changes nothing."""
    if not policy.can_run_review(actor, review):
        raise PermissionDenied("Only the region's TAM Manager and admins open this review.")
    review = ReviewOccurrence.objects.select_for_update().get(pk=review.pk)
    if review.status != OccurrenceStatus.SCHEDULED:
        return review
    before = snapshot(review, OCCURRENCE_FIELDS)
    today = today or _today()
    subject = User.objects.filter(pk=review.subject_id).first() if review.subject_id else None
    ctx = checklists.ChecklistContext(region_id=review.region_id, today=today, settings=review_settings(), tam=subject)
    built = checklists.build(review.kind, ctx)
    rows: list[ReviewItem] = []
    carried = _carried_items(review) if review.kind == ReviewKind.ONE_ON_ONE else []
    # What either side added before the meeting stays, after the built sections.
    added = list(review.items.all())
    sections = []
    if carried:
        sections.append(
            {"key": "carried_over", "title": "Carried over from the last 1:1", "total": len(carried), "notice": ""}
        )
        rows.extend(carried)
    for section in built:
        sections.append({"key": section.key, "title": section.title, "total": section.total, "notice": section.notice})
        for draft in section.items:
            rows.append(
                ReviewItem(
                    occurrence=review,
                    section=section.key,
                    section_title=section.title,
                    key=draft.key[:120],
                    origin=ItemOrigin.CHECKLIST,
                    label=draft.label[:LABEL_MAX],
                    account_id=draft.account_id,
                    account_name=draft.account_name[:255],
                    link=draft.link[:500],
                    facts=draft.facts,
                )
            )
    if added:
        sections.append({"key": "added", "title": "Added to the agenda", "total": len(added), "notice": ""})
    for position, row in enumerate(rows):
        row.position = position
    ReviewItem.objects.bulk_create(rows)
    for position, item in enumerate(added, start=len(rows)):
        item.position = position
        item.save(update_fields=["position"])
    review.sections = sections
    review.status = OccurrenceStatus.OPEN
    review.opened_at = timezone.now()
    review.opened_by = actor
    review.save(update_fields=["sections", "status", "opened_at", "opened_by"])
    attendees = [pk for pk in (review.owner_id, review.subject_id, actor.pk) if pk]
    review.attendees.add(*attendees)
    _audit_review(actor, review, before, source)
    return review


def _require_open(review: ReviewOccurrence, what: str) -> None:
    if review.status == OccurrenceStatus.COMPLETED:
        raise ValidationFailed({"__all__": [f"This review is completed; {what} is kept as it was."]})


@transaction.atomic
def review_item_decide(
    *,
    actor: User,
    review: ReviewOccurrence,
    item: ReviewItem,
    decision: str,
    note: str = "",
    owner: Any = None,
    due_on: Any = None,
    source: str = "web",
) -> ReviewItem:
    """Record the decision on one item: noted; a task (type *review action item*) for ``owner``; a triage case
    opened on the item's account; an escalation opened on it; or carried over to the next one."""
    if not policy.can_run_review(actor, review):
        raise PermissionDenied("Only the region's TAM Manager and admins decide on review items.")
    _require_open(review, "its decisions")
    if review.status != OccurrenceStatus.OPEN:
        raise ValidationFailed({"__all__": ["Open the review before deciding on its items."]})
    if item.occurrence_id != review.pk:
        raise ValidationFailed({"item": ["That item belongs to another review."]})
    if decision not in Decision.values:
        raise ValidationFailed({"decision": [f"Choose one of: {', '.join(Decision.values)}."]})
    if item.decision in FINAL_DECISIONS:
        raise ValidationFailed({"decision": [f"Already decided: {item.get_decision_display()}."]})
    note = clean_text(note, "note", max_length=NOTE_MAX)
    before = snapshot(item, ITEM_FIELDS)
    account = item.account if item.account_id else None
    if decision in (Decision.CASE, Decision.ESCALATED) and account is None:
        raise ValidationFailed({"decision": ["Only an item about an account can open a case or an escalation."]})
    if decision == Decision.TASK:
        from tamarind.actions.services import task_create

        if owner in (None, ""):
            raise ValidationFailed({"owner": ["Say who the task is for."]})
        item.task = task_create(
            actor=actor,
            data={
                "type": TaskType.REVIEW_ACTION,
                "title": (note or item.label)[:200],
                "account": account,
                "owner": owner,
                "due_on": due_on,
                "notes": f"From {review}: {item.label}",
            },
            source=source,
        )
    elif decision == Decision.CASE:
        from tamarind.triage.services import case_open

        case_open(actor=actor, account=account, data={"summary": note or item.label}, source=source)  # type: ignore[arg-type]
    elif decision == Decision.ESCALATED:
        from tamarind.triage.services import escalation_open

        escalation_open(
            actor=actor,
            account=account,  # type: ignore[arg-type]
            data={"title": (note or item.label)[:200], "severity": "high", "description": f"From {review}."},
            source=source,
        )
    item.decision = decision
    item.decision_note = note
    item.decided_by = actor
    item.decided_at = timezone.now()
    item.save(update_fields=["decision", "decision_note", "decided_by", "decided_at", "task"])
    audit_record(
        actor=actor,
        obj=item,
        action=AuditAction.UPDATE,
        before=before,
        after=snapshot(item, ITEM_FIELDS),
        source=source,
    )
    return item


@transaction.atomic
def review_item_add(*, actor: User, review: ReviewOccurrence, label: Any, source: str = "web") -> ReviewItem:
    """Add an item to the agenda by hand: the manager (an action item, a topic) or the TAM of a 1:1 before or
    during the meeting. It needs a decision like any other before the review completes."""
    if not policy.can_add_to_agenda(actor, review):
        raise PermissionDenied("Only the region's TAM Manager, admins and the TAM of a 1:1 add to it.")
    _require_open(review, "its agenda")
    text = clean_text(label, "label", required=True, max_length=LABEL_MAX)
    position = review.items.count()
    item = ReviewItem.objects.create(
        occurrence=review,
        section="added",
        section_title="Added to the agenda",
        position=position,
        key=f"added:{actor.pk}:{position}",
        origin=ItemOrigin.ADDED,
        label=text,
        added_by=actor,
        facts={"added_by": actor.full_name},
    )
    if review.status == OccurrenceStatus.OPEN and not any(s.get("key") == "added" for s in review.sections):
        review.sections = [*review.sections, {"key": "added", "title": "Added to the agenda", "total": 0, "notice": ""}]
        review.save(update_fields=["sections"])
    audit_record(
        actor=actor, obj=item, action=AuditAction.CREATE, before=None, after=snapshot(item, ITEM_FIELDS), source=source
    )
    return item


@transaction.atomic
def review_notes_update(
    *, actor: User, review: ReviewOccurrence, notes: Any = None, subject_notes: Any = None, source: str = "web"
) -> ReviewOccurrence:
    """The manager's notes (``notes``) and, on a 1:1, the TAM's own (``subject_notes``): each side writes its own."""
    _require_open(review, "its notes")
    before = snapshot(review, OCCURRENCE_FIELDS)
    fields = []
    if notes is not None:
        if not policy.can_run_review(actor, review):
            raise PermissionDenied("Only the region's TAM Manager and admins write the review's notes.")
        review.notes = clean_text(notes, "notes", max_length=NOTE_MAX)
        fields.append("notes")
    if subject_notes is not None:
        if not (review.subject_id == actor.pk and policy.can_add_to_agenda(actor, review)):
            raise PermissionDenied("Only the TAM of the 1:1 writes their own notes.")
        review.subject_notes = clean_text(subject_notes, "subject_notes", max_length=NOTE_MAX)
        fields.append("subject_notes")
    if not fields:
        if not policy.can_add_to_agenda(actor, review):
            raise PermissionDenied("You may not write notes here.")
        return review
    review.save(update_fields=fields)
    _audit_review(actor, review, before, source)
    return review


@transaction.atomic
def review_attendees_set(
    *, actor: User, review: ReviewOccurrence, attendee_ids: list[Any], source: str = "web"
) -> ReviewOccurrence:
    if not policy.can_run_review(actor, review):
        raise PermissionDenied("Only the region's TAM Manager and admins record who attended.")
    _require_open(review, "its attendance")
    ids = []
    for value in attendee_ids:
        try:
            ids.append(int(value))
        except (TypeError, ValueError):
            raise ValidationFailed({"attendees": [f"attendees must be people's ids, got {value!r}."]}) from None
    people = list(User.objects.filter(pk__in=ids, is_active=True))
    if len(people) != len(set(ids)):
        raise ValidationFailed({"attendees": ["Some of those people do not exist or are not active."]})
    before = sorted(review.attendees.values_list("pk", flat=True))
    review.attendees.set(people)
    audit_record(
        actor=actor,
        obj=review,
        action=AuditAction.UPDATE,
        before={"attendees": before},
        after={"attendees": sorted(p.pk for p in people)},
        source=source,
    )
    return review


@transaction.atomic
def review_complete(*, actor: User, review: ReviewOccurrence, source: str = "web") -> ReviewOccurrence:
    """Complete a review. Every item needs a decision (or an explicit "carried over") first; completed, the
    review and its items are kept as they were."""
    if not policy.can_run_review(actor, review):
        raise PermissionDenied("Only the region's TAM Manager and admins complete this review.")
    review = ReviewOccurrence.objects.select_for_update().get(pk=review.pk)
    _require_open(review, "it")
    if review.status != OccurrenceStatus.OPEN:
        raise ValidationFailed({"__all__": ["Open the review (and decide on its items) before completing it."]})
    undecided = review.items.filter(decision="").count()
    if undecided:
        raise ValidationFailed(
            {"__all__": [f'{undecided} item(s) have no decision yet: decide on each, or mark it "carried over".']}
        )
    before = snapshot(review, OCCURRENCE_FIELDS)
    review.status = OccurrenceStatus.COMPLETED
    review.completed_at = timezone.now()
    review.completed_by = actor
    review.save(update_fields=["status", "completed_at", "completed_by"])
    _audit_review(actor, review, before, source)
    return review


@transaction.atomic
def review_settings_update(*, actor: User, changes: dict[str, Any], source: str = "web") -> Any:
    """Change the cockpit's thresholds and capacity targets (admins). The first save creates the row; audited."""
    from decimal import Decimal, InvalidOperation

    from tamarind.reviews.models import REVIEW_SETTINGS_FIELDS, ReviewSettings

    if not policy.can_edit_review_settings(actor):
        raise PermissionDenied("Only admins change the review settings.")
    unknown = set(changes) - set(REVIEW_SETTINGS_FIELDS)
    if unknown:
        raise ValidationFailed({"__all__": [f"Unknown setting(s): {', '.join(sorted(unknown))}."]})
    row = ReviewSettings.objects.select_for_update().filter(pk=ReviewSettings.SINGLETON_PK).first()
    creating = row is None
    current = row or ReviewSettings()
    before = snapshot(current, REVIEW_SETTINGS_FIELDS)
    errors: dict[str, list[str]] = {}
    for name, value in changes.items():
        if name in ("capacity_arr", "p1_share_target"):
            try:
                number = Decimal(str(value))
            except (InvalidOperation, ValueError):
                errors[name] = ["Enter a number."]
                continue
            limit = Decimal("1") if name == "p1_share_target" else Decimal("1e12")
            if not number.is_finite() or number <= 0 or number > limit:
                errors[name] = [f"Enter a number above 0 and at most {limit:,}."]
                continue
            setattr(current, name, number)
        else:
            try:
                days = int(value)
            except (TypeError, ValueError):
                days = 0
            if isinstance(value, bool) or not 1 <= days <= 3650:
                errors[name] = ["Enter a whole number of days (months for the EBR) from 1 to 3650."]
                continue
            setattr(current, name, days)
    if errors:
        raise ValidationFailed(errors)
    after = snapshot(current, REVIEW_SETTINGS_FIELDS)
    if after == before and not creating:
        return current
    current.updated_at = timezone.now()
    current.save()
    audit_record(
        actor=actor,
        obj=current,
        action=AuditAction.CREATE if creating else AuditAction.UPDATE,
        before=None if creating else before,
        after=after,
        source=source,
    )
    return current
