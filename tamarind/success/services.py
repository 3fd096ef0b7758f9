"""Writes of the success app: plans, objectives, plan tasks, reviews, peer reviews, EBRs and the settings.

Every write is atomic and audited with before/after. Every change that can move a plan's color (the plan, its
objectives, its tasks, a review: its activity) recomputes that plan's color and re-evaluates the account's rule
tasks (``success_refresh_accounts``); so does a change of the account's priority (``accounts.services`` calls it)
and the daily job (``success_daily_job``), since inactivity grows with the days alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from tamarind import policy
from tamarind.accounts.models import Account
from tamarind.actions.models import Task, TaskType
from tamarind.actions.services import TaskDraft, task_raise_many, task_resolve, task_resolve_many
from tamarind.audit.models import AuditAction
from tamarind.audit.services import audit_record, audit_record_many, build_event, snapshot
from tamarind.core.bulk import chunks
from tamarind.core.errors import ValidationFailed
from tamarind.core.values import clean_date, clean_text, input_problem
from tamarind.people.models import User
from tamarind.success import rules
from tamarind.success.models import (
    ANSWER_FIELDS,
    CURRENT_STATUSES,
    EBR_FIELDS,
    NOTE_FIELDS,
    OBJECTIVE_FIELDS,
    PLAN_FIELDS,
    PLAN_TASK_FIELDS,
    REVIEW_FIELDS,
    Answer,
    Ebr,
    EbrStatus,
    Objective,
    ObjectiveCategory,
    ObjectivePriority,
    ObjectiveStatus,
    PlanColor,
    PlanReview,
    PlanStatus,
    PlanTask,
    PlanTaskStatus,
    PlanTemplate,
    ReviewKind,
    ReviewStatus,
    Risk,
    SuccessPlan,
    SuccessSettings,
    Verdict,
    live_settings,
)

TEXT_MAX = 20_000
NAME_MAX = 200
BATCH = 500
REASON_P1 = "p1_plan_not_green"
REASON_NEW = "new_customer_no_plan"
RECOMPUTE_JOB = "success.recompute_all"


def _today() -> dt.date:
    return timezone.localdate()


def _choice(value: Any, label: str, choices: Any) -> str:
    if value not in choices.values:
        raise ValidationFailed({label: [f"Choose one of: {', '.join(choices.values)}."]})
    return str(value)


def _check_unknown(data: dict[str, Any], allowed: Iterable[str]) -> None:
    unknown = set(data) - set(allowed)
    if unknown:
        raise ValidationFailed({"__all__": [f"Unknown field(s): {', '.join(sorted(unknown))}."]})
    for key, value in data.items():
        problem = input_problem(value)
        if problem:
            raise ValidationFailed({key: [problem]})


def _person(value: Any, label: str, account: Account) -> User | None:
    """An owner: a person who may read the account (an id, a User or empty)."""
    if value in (None, ""):
        return None
    if isinstance(value, User):
        person: User | None = value
    else:
        try:
            pk = int(value)
        except (TypeError, ValueError):
            raise ValidationFailed({label: ["Must be a person's id."]}) from None
        person = User.objects.with_region().filter(pk=pk).first() if abs(pk) < 2**63 else None
    if person is None or not person.is_active:
        raise ValidationFailed({label: ["No such active person."]})
    if not policy.can_read_account(person, account):
        raise ValidationFailed({label: [f"{person} cannot see {account}."]})
    return person


def _writable_plan(actor: User, plan: SuccessPlan) -> None:
    if not policy.can_write_success_plan(actor, plan.account):
        raise PermissionDenied("You may read this success plan but not change it.")
    if not plan.is_current:
        raise PermissionDenied("An archived success plan is read-only.")


def _touch(plan: SuccessPlan, now: dt.datetime) -> None:
    plan.last_activity_at = now
    plan.updated_at = now
    plan.save(update_fields=["last_activity_at", "updated_at"])


def _check_due(due: dt.date | None, plan: SuccessPlan, label: str = "due_on") -> None:
    if due is not None and due < plan.start_on:
        raise ValidationFailed({label: [f"Must be on or after the plan's start ({plan.start_on.isoformat()})."]})


# --- Settings ---------------------------------------------------------------------------------------------------

SETTINGS_KEYS = (
    "objectives_needed",
    "activity_days",
    "new_customer_days",
    "new_customer_lookback_days",
    "ebr_lead_months",
    "ebr_due_days",
    "ebr_target_pct",
    "review_due_days",
)


def _int_in(value: Any, label: str, low: int, high: int) -> int:
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValidationFailed({label: [f"A whole number from {low} to {high}."]})
    return value


@transaction.atomic
def success_settings_save(
    *, actor: User, values: dict[str, Any], note: str = "", source: str = "web"
) -> SuccessSettings:
    """Save the next settings version (admins), live at once, and queue the recompute of every plan's color (a run
    of the scheduler's ``success.recompute_all`` job row)."""
    if not policy.can_edit_success_settings(actor):
        raise PermissionDenied("Only admins change the success settings.")
    unknown = set(values) - set(SETTINGS_KEYS)
    if unknown:
        raise ValidationFailed({"__all__": [f"Unknown setting(s): {', '.join(sorted(unknown))}."]})
    current = live_settings()
    merged: dict[str, Any] = {k: getattr(current, k) for k in SETTINGS_KEYS}
    merged.update(values)
    errors = rules.check_objectives_matrix(merged["objectives_needed"])
    if errors:
        raise ValidationFailed(errors)
    limits = {
        "activity_days": (1, 3650),
        "new_customer_days": (1, 3650),
        "new_customer_lookback_days": (1, 3650),
        "ebr_lead_months": (1, 24),
        "ebr_due_days": (1, 365),
        "ebr_target_pct": (0, 100),
        "review_due_days": (1, 3650),
    }
    for key, (low, high) in limits.items():
        merged[key] = _int_in(merged[key], key, low, high)
    if merged["new_customer_lookback_days"] < merged["new_customer_days"]:
        raise ValidationFailed({"new_customer_lookback_days": ["Must be at least the new-customer window."]})
    live = SuccessSettings.objects.select_for_update().order_by("-version").first()
    before = {k: getattr(current, k) for k in SETTINGS_KEYS}
    if live is not None and before == merged:
        raise ValidationFailed(
            {"__all__": [f"These settings are the same as version {live.version}; nothing to save."]}
        )
    row = SuccessSettings.objects.create(
        version=(live.version + 1) if live else 1,
        note=clean_text(note, "note", max_length=500),
        created_by=actor,
        **merged,
    )
    audit_record(
        actor=actor,
        obj=row,
        action=AuditAction.CREATE,
        before=before if live else None,
        after={**merged, "version": row.version},
        source=source,
    )
    _queue_recompute(actor)
    return row


def _queue_recompute(actor: User) -> None:
    """Queue a run of the recompute job now (the job row is created if the scheduler has not synced it yet); a run
    already queued or running will pick up the new version all the same."""
    from tamarind.scheduler.models import PeriodicJob
    from tamarind.scheduler.services import periodic_job_run_now, periodic_jobs_sync

    job = PeriodicJob.objects.filter(key=RECOMPUTE_JOB).first()
    if job is None:
        periodic_jobs_sync()
        job = PeriodicJob.objects.filter(key=RECOMPUTE_JOB).first()
    if job is None:  # pragma: no cover - the spec is in success/periodic.py
        return
    try:
        with transaction.atomic():
            periodic_job_run_now(actor=actor, job=job, source="settings")
    except ValidationFailed:
        pass


# --- Color and rule tasks ---------------------------------------------------------------------------------------


@dataclass
class RefreshResult:
    plans: int = 0
    recolored: int = 0
    tasks_raised: int = 0
    tasks_closed: int = 0

    def summary(self) -> dict[str, int]:
        return {
            "plans": self.plans,
            "recolored": self.recolored,
            "tasks_raised": self.tasks_raised,
            "tasks_closed": self.tasks_closed,
        }


def _plans_with_counts(account_ids: list[int] | None) -> Any:
    qs = SuccessPlan.objects.current().annotate(
        n_objectives=Count("objectives"),
        n_open=Count("objectives", filter=~Q(objectives__status=ObjectiveStatus.CLOSED)),
    )
    if account_ids is not None:
        qs = qs.filter(account_id__in=account_ids)
    return qs.select_related("account").only(
        "id",
        "status",
        "strategy",
        "highlights",
        "last_activity_at",
        "color",
        "color_reasons",
        "color_settings_version",
        "account__id",
        "account__segment",
        "account__priority",
    )


def plan_facts(plan: SuccessPlan, *, objectives: int, open_objectives: int) -> rules.PlanFacts:
    return rules.PlanFacts(
        status=plan.status,
        strategy=bool(plan.strategy.strip()),
        highlights=bool(plan.highlights.strip()),
        objectives=objectives,
        open_objectives=open_objectives,
        last_activity=timezone.localtime(plan.last_activity_at).date(),
    )


def _recolor(plans: Iterable[SuccessPlan], *, today: dt.date, values: rules.SettingsValues) -> tuple[int, int]:
    changed: list[SuccessPlan] = []
    n = 0
    for plan in plans:
        n += 1
        facts = plan_facts(plan, objectives=plan.n_objectives, open_objectives=plan.n_open)  # type: ignore[attr-defined]
        color, reasons = rules.plan_color(
            facts, segment=plan.account.segment, priority=plan.account.priority, settings=values, today=today
        )
        if (plan.color, plan.color_reasons, plan.color_settings_version) != (color, reasons, values.version):
            plan.color, plan.color_reasons, plan.color_settings_version = color, reasons, values.version
            changed.append(plan)
    for chunk in chunks(changed, BATCH):
        SuccessPlan.objects.bulk_update(chunk, ["color", "color_reasons", "color_settings_version"])
    return n, len(changed)


def success_refresh_accounts(
    *,
    account_ids: Iterable[int],
    actor: User | None = None,
    today: dt.date | None = None,
    source: str = "rule",
    planned_only: bool = False,
) -> RefreshResult:
    """Recompute the color of these accounts' current plans and re-evaluate their success-plan tasks.

    ``planned_only`` (an account edit): tasks only for accounts that have a plan at all; the daily job raises those
    of accounts without one, so an account edit never raises a "no plan" task as a side effect.
    """
    ids = sorted(set(account_ids))
    today = today or _today()
    values = live_settings()
    result = RefreshResult()
    for chunk in chunks(ids, BATCH):
        n, changed = _recolor(_plans_with_counts(list(chunk)), today=today, values=values)
        result.plans += n
        result.recolored += changed
        raised, closed = _plan_tasks(
            account_ids=list(chunk), actor=actor, today=today, values=values, source=source, planned_only=planned_only
        )
        result.tasks_raised += raised
        result.tasks_closed += closed
    return result


def _plan_tasks(
    *,
    account_ids: list[int] | None,
    actor: User | None,
    today: dt.date,
    values: rules.SettingsValues,
    source: str,
    planned_only: bool = False,
) -> tuple[int, int]:
    """Raise one SUCCESS_PLAN task per account and reason (a priority 1 account whose plan is not green; a new
    customer without a plan after the window) for the account's TAM, with its why; close them when the plan turns
    green (the priority 1 one also when the account stops being priority 1)."""
    accounts = Account.objects.all()
    if account_ids is not None:
        accounts = accounts.filter(pk__in=account_ids)
    annotated = accounts.annotate(plan_color=_current_plan_color(), plans=Count("success_plans"))
    if planned_only:
        annotated = annotated.filter(plans__gt=0)
    rows = annotated.values_list("pk", "tam_id", "priority", "customer_since", "plan_color", "plans")
    drafts: list[TaskDraft] = []
    close_p1: list[int] = []
    close_new: list[int] = []
    for pk, tam_id, priority, since, color, plans in rows.iterator(chunk_size=2000):
        green = color == PlanColor.GREEN
        if priority == 1 and not green:
            if tam_id:
                state = "no success plan" if color is None else f"the plan is {color}"
                drafts.append(
                    TaskDraft(
                        type=TaskType.SUCCESS_PLAN,
                        account_id=pk,
                        owner_id=tam_id,
                        reason=REASON_P1,
                        why={"rule": "priority 1 without a green success plan", "data": {"color": color or "none"}},
                        title=f"Priority 1 without a green success plan ({state})",
                        due_on=today + dt.timedelta(days=14),
                    )
                )
        else:
            close_p1.append(pk)
        if green:
            close_new.append(pk)
        elif (
            plans == 0
            and tam_id
            and rules.new_customer_window_passed(customer_since=since, today=today, settings=values)
        ):
            days = (today - since).days if since else 0
            drafts.append(
                TaskDraft(
                    type=TaskType.SUCCESS_PLAN,
                    account_id=pk,
                    owner_id=tam_id,
                    reason=REASON_NEW,
                    why={
                        "rule": f"new customer without a success plan after {values.new_customer_days} days",
                        "data": {"customer_since": since.isoformat() if since else None, "days": days},
                    },
                    title=f"New customer without a success plan ({days} days)",
                    due_on=today + dt.timedelta(days=7),
                )
            )
    raised = task_raise_many(drafts, source=source, actor=actor) if drafts else []
    closed = 0
    if close_p1:
        closed += task_resolve_many(
            account_ids=close_p1, type=TaskType.SUCCESS_PLAN, reason=REASON_P1, actor=actor, source=source
        )
    if close_new:
        closed += task_resolve_many(
            account_ids=close_new, type=TaskType.SUCCESS_PLAN, reason=REASON_NEW, actor=actor, source=source
        )
    return len(raised), closed


def _current_plan_color() -> Any:
    from django.db.models import OuterRef, Subquery

    return Subquery(
        SuccessPlan.objects.filter(account_id=OuterRef("pk"), status__in=CURRENT_STATUSES).values("color")[:1]
    )


def success_recompute_all(*, today: dt.date | None = None, source: str = "scheduler") -> RefreshResult:
    """Recompute every current plan's color with the live settings, then every account's rule tasks and the EBR
    tasks. Idempotent: a second run writes nothing."""
    today = today or _today()
    values = live_settings()
    result = RefreshResult()
    ids = list(SuccessPlan.objects.current().order_by("pk").values_list("pk", flat=True))
    for chunk in chunks(ids, 5000):
        with transaction.atomic():
            qs = _plans_with_counts(None).filter(pk__in=chunk)
            n, changed = _recolor(qs, today=today, values=values)
        result.plans += n
        result.recolored += changed
    with transaction.atomic():
        raised, closed = _plan_tasks(account_ids=None, actor=None, today=today, values=values, source=source)
    result.tasks_raised += raised
    result.tasks_closed += closed
    result.tasks_raised += ebr_tasks_raise(today=today, values=values)
    return result


def success_daily_job() -> dict[str, int]:
    """The scheduler job: every plan's color, the success-plan tasks and the EBR tasks for today."""
    return success_recompute_all(source="scheduler").summary()


@transaction.atomic
def ebr_tasks_raise(*, today: dt.date | None = None, values: rules.SettingsValues | None = None) -> int:
    """Open an EBR task for each priority 1 account whose renewal is ``ebr_lead_months`` away or nearer (and not
    passed), due ``ebr_due_days`` after it opens; one per renewal date, ever (done ones are not raised again)."""
    today = today or _today()
    values = values or live_settings()
    latest = rules.add_months(today, values.ebr_lead_months)
    rows = (
        Account.objects.filter(
            priority=1, tam__isnull=False, next_renewal_date__gt=today, next_renewal_date__lte=latest
        )
        .values_list("pk", "tam_id", "next_renewal_date")
        .order_by("pk")
    )
    candidates: list[tuple[int, int, dt.date]] = [
        (pk, tam_id, renewal)
        for pk, tam_id, renewal in rows.iterator(chunk_size=2000)
        if renewal is not None
        and tam_id is not None
        and rules.ebr_task_due(renewal=renewal, priority=1, today=today, settings=values)
    ]
    drafts: list[TaskDraft] = []
    for chunk in chunks(candidates, BATCH):
        existing = set(
            Task.objects.filter(type=TaskType.EBR, account_id__in=[c[0] for c in chunk]).values_list(
                "account_id", "reason"
            )
        )
        for pk, tam_id, renewal in chunk:
            reason = f"ebr:{renewal.isoformat()}"
            if (pk, reason) in existing:
                continue
            opens, due = rules.ebr_window(renewal, values)
            drafts.append(
                TaskDraft(
                    type=TaskType.EBR,
                    account_id=pk,
                    owner_id=tam_id,
                    reason=reason,
                    why={
                        "rule": f"EBR {values.ebr_lead_months} months before the renewal",
                        "data": {"renewal": renewal.isoformat(), "opens_on": opens.isoformat()},
                    },
                    title=f"Hold the EBR before the {renewal.isoformat()} renewal",
                    due_on=due,
                )
            )
    return len(task_raise_many(drafts, source="scheduler")) if drafts else 0


# --- Plans --------------------------------------------------------------------------------------------------------


def template_for(account: Account) -> PlanTemplate | None:
    """The template a new plan of this account starts from: its engagement model's, else its segment's, else the
    default (both blank)."""
    templates = list(PlanTemplate.objects.filter(active=True).prefetch_related("objectives"))
    for match in (
        lambda t: account.engagement_model and t.engagement_model == account.engagement_model,
        lambda t: not t.engagement_model and t.segment == account.segment,
        lambda t: not t.engagement_model and not t.segment,
    ):
        found = [t for t in templates if match(t)]
        if found:
            return found[0]
    return None


PLAN_CREATE_KEYS = frozenset({"status", "why_bought", "strategy", "highlights", "start_on", "template"})


def _plan_values(data: dict[str, Any], plan: SuccessPlan | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "status" in data:
        out["status"] = _choice(data["status"], "status", PlanStatus)
    for key in ("why_bought", "strategy", "highlights"):
        if key in data:
            out[key] = clean_text(data[key], key, max_length=TEXT_MAX)
    if "start_on" in data:
        start = clean_date(data["start_on"], "start_on")
        if start is None:
            raise ValidationFailed({"start_on": ["This field is required."]})
        out["start_on"] = start
    return out


@transaction.atomic
def success_plan_create(
    *, actor: User, account: Account, data: dict[str, Any], source: str = "web", use_template: bool = True
) -> SuccessPlan:
    """Start the account's plan (Draft unless ``status`` says Active), with the template's objectives and tasks.

    Refused while the account has a current plan (Draft or Active): archive it first (``success_plan_archive``).
    """
    if not policy.can_write_success_plan(actor, account):
        raise PermissionDenied("Only the account's TAM, its region's manager and admins write its success plan.")
    _check_unknown(data, PLAN_CREATE_KEYS)
    values = _plan_values(data, None)
    status = values.get("status", PlanStatus.DRAFT)
    if status == PlanStatus.ARCHIVED:
        raise ValidationFailed({"status": ["A new plan is Draft or Active."]})
    current = SuccessPlan.objects.select_for_update().filter(account=account, status__in=CURRENT_STATUSES).first()
    if current is not None:
        raise ValidationFailed(
            {"status": [f"{account.name} already has a {current.get_status_display().lower()} plan; archive it first."]}
        )
    template: PlanTemplate | None
    if data.get("template") not in (None, ""):
        try:
            template = PlanTemplate.objects.filter(pk=int(data["template"]), active=True).first()
        except (TypeError, ValueError):
            template = None
        if template is None:
            raise ValidationFailed({"template": ["No such template."]})
    else:
        template = template_for(account) if use_template else None
    now = timezone.now()
    plan = SuccessPlan(
        account=account,
        status=status,
        why_bought=values.get("why_bought", ""),
        strategy=values.get("strategy", "") or (template.strategy if template else ""),
        highlights=values.get("highlights", ""),
        start_on=values.get("start_on") or _today(),
        template=template,
        created_by=actor,
        created_at=now,
        updated_at=now,
        last_activity_at=now,
    )
    try:
        with transaction.atomic():
            plan.save()
    except IntegrityError as exc:
        raise ValidationFailed({"status": [f"{account.name} already has a current plan."]}) from exc
    events = [
        build_event(
            actor=actor,
            obj=plan,
            action=AuditAction.CREATE,
            before=None,
            after={**snapshot(plan, PLAN_FIELDS), "account": account.pk, "template": template.pk if template else None},
            source=source,
            at=now,
        )
    ]
    if template is not None:
        for position, item in enumerate(template.objectives.all()):
            objective = Objective.objects.create(
                plan=plan,
                name=item.name,
                category=item.category,
                success_criteria=item.success_criteria,
                owner=account.tam,
                position=position,
                created_at=now,
                updated_at=now,
            )
            events.append(
                build_event(
                    actor=actor,
                    obj=objective,
                    action=AuditAction.CREATE,
                    before=None,
                    after=snapshot(objective, OBJECTIVE_FIELDS),
                    source=source,
                    at=now,
                )
            )
            for name in item.task_names():
                task = PlanTask.objects.create(objective=objective, name=name, owner=account.tam)
                events.append(
                    build_event(
                        actor=actor,
                        obj=task,
                        action=AuditAction.CREATE,
                        before=None,
                        after=snapshot(task, PLAN_TASK_FIELDS),
                        source=source,
                        at=now,
                    )
                )
    audit_record_many(events)
    success_refresh_accounts(account_ids=[account.pk], actor=actor, source=source)
    plan.refresh_from_db(fields=["color", "color_reasons", "color_settings_version"])
    return plan


PLAN_UPDATE_KEYS = frozenset({"status", "why_bought", "strategy", "highlights", "start_on"})


@transaction.atomic
def success_plan_update(*, actor: User, plan: SuccessPlan, changes: dict[str, Any], source: str = "web") -> list[str]:
    """Change the plan's status (Draft / Active; ``success_plan_archive`` archives), sections or start date."""
    _writable_plan(actor, plan)
    _check_unknown(changes, PLAN_UPDATE_KEYS)
    values = _plan_values(changes, plan)
    if values.get("status") == PlanStatus.ARCHIVED:
        raise ValidationFailed({"status": ["Archive the plan with its Archive button."]})
    if "start_on" in values:
        earliest = min(
            [d for d in plan.objectives.values_list("due_on", flat=True) if d is not None]
            + [d for d in PlanTask.objects.filter(objective__plan=plan).values_list("due_on", flat=True) if d],
            default=None,
        )
        if earliest is not None and earliest < values["start_on"]:
            raise ValidationFailed(
                {"start_on": [f"An objective or task is due {earliest.isoformat()}, before this start."]}
            )
    before = snapshot(plan, PLAN_FIELDS)
    for key, value in values.items():
        setattr(plan, key, value)
    after = snapshot(plan, PLAN_FIELDS)
    changed = [f for f in PLAN_FIELDS if before[f] != after[f]]
    if not changed:
        return []
    now = timezone.now()
    plan.updated_at = plan.last_activity_at = now
    plan.save(update_fields=[*changed, "updated_at", "last_activity_at"])
    audit_record(
        actor=actor,
        obj=plan,
        action=AuditAction.UPDATE,
        before={f: before[f] for f in changed},
        after={f: after[f] for f in changed},
        source=source,
    )
    success_refresh_accounts(account_ids=[plan.account_id], actor=actor, source=source)
    plan.refresh_from_db(fields=["color", "color_reasons", "color_settings_version"])
    return changed


@transaction.atomic
def success_plan_archive(*, actor: User, plan: SuccessPlan, source: str = "web") -> SuccessPlan:
    """Archive the current plan: kept, read-only, no color; the account may start a new one."""
    _writable_plan(actor, plan)
    before = {"status": plan.status}
    now = timezone.now()
    plan.status = PlanStatus.ARCHIVED
    plan.archived_at = now
    plan.updated_at = now
    plan.color = ""
    plan.color_reasons = []
    plan.save(update_fields=["status", "archived_at", "updated_at", "color", "color_reasons"])
    audit_record(
        actor=actor, obj=plan, action=AuditAction.UPDATE, before=before, after={"status": plan.status}, source=source
    )
    success_refresh_accounts(account_ids=[plan.account_id], actor=actor, source=source)
    return plan


# --- Objectives ---------------------------------------------------------------------------------------------------

OBJECTIVE_KEYS = frozenset(OBJECTIVE_FIELDS)


def _objective_values(data: dict[str, Any], plan: SuccessPlan) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "name" in data:
        out["name"] = clean_text(data["name"], "name", required=True, max_length=NAME_MAX)
    if "owner" in data:
        out["owner"] = _person(data["owner"], "owner", plan.account)
    if "due_on" in data:
        out["due_on"] = clean_date(data["due_on"], "due_on")
        _check_due(out["due_on"], plan)
    if "category" in data:
        out["category"] = _choice(data["category"], "category", ObjectiveCategory)
    if "status" in data:
        out["status"] = _choice(data["status"], "status", ObjectiveStatus)
    if "priority" in data:
        out["priority"] = _choice(data["priority"], "priority", ObjectivePriority)
    for key in ("success_criteria", "outcome"):
        if key in data:
            out[key] = clean_text(data[key], key, max_length=TEXT_MAX)
    return out


def _close_rules(objective: Objective, now: dt.datetime) -> None:
    if objective.status == ObjectiveStatus.CLOSED:
        if not objective.outcome:
            raise ValidationFailed({"outcome": ["Summarize the outcome to close the objective."]})
        objective.closed_at = objective.closed_at or now
    else:
        objective.closed_at = None


@transaction.atomic
def objective_create(*, actor: User, plan: SuccessPlan, data: dict[str, Any], source: str = "web") -> Objective:
    _writable_plan(actor, plan)
    _check_unknown(data, OBJECTIVE_KEYS)
    if "name" not in data:
        raise ValidationFailed({"name": ["This field is required."]})
    values = _objective_values(data, plan)
    now = timezone.now()
    objective = Objective(
        plan=plan,
        position=plan.objectives.count(),
        created_at=now,
        updated_at=now,
        **values,
    )
    _close_rules(objective, now)
    objective.save()
    audit_record(
        actor=actor,
        obj=objective,
        action=AuditAction.CREATE,
        before=None,
        after={**snapshot(objective, OBJECTIVE_FIELDS), "plan": plan.pk},
        source=source,
    )
    _touch(plan, now)
    success_refresh_accounts(account_ids=[plan.account_id], actor=actor, source=source)
    return objective


@transaction.atomic
def objective_update(*, actor: User, objective: Objective, changes: dict[str, Any], source: str = "web") -> list[str]:
    """Change an objective. Closing it needs a summary of the outcome (``outcome``, here or already saved)."""
    plan = objective.plan
    _writable_plan(actor, plan)
    _check_unknown(changes, OBJECTIVE_KEYS)
    values = _objective_values(changes, plan)
    before = snapshot(objective, OBJECTIVE_FIELDS)
    for key, value in values.items():
        setattr(objective, key, value)
    now = timezone.now()
    try:
        _close_rules(objective, now)
    except ValidationFailed:
        objective.refresh_from_db()
        raise
    after = snapshot(objective, OBJECTIVE_FIELDS)
    changed = [f for f in OBJECTIVE_FIELDS if before[f] != after[f]]
    if not changed:
        return []
    objective.updated_at = now
    objective.save(update_fields=[*(f"{f}_id" if f == "owner" else f for f in changed), "closed_at", "updated_at"])
    audit_record(
        actor=actor,
        obj=objective,
        action=AuditAction.UPDATE,
        before={f: before[f] for f in changed},
        after={f: after[f] for f in changed},
        source=source,
    )
    _touch(plan, now)
    success_refresh_accounts(account_ids=[plan.account_id], actor=actor, source=source)
    return changed


# --- Plan tasks ---------------------------------------------------------------------------------------------------

PLAN_TASK_KEYS = frozenset(PLAN_TASK_FIELDS)


def _task_values(data: dict[str, Any], plan: SuccessPlan) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "name" in data:
        out["name"] = clean_text(data["name"], "name", required=True, max_length=NAME_MAX)
    if "owner" in data:
        out["owner"] = _person(data["owner"], "owner", plan.account)
    if "customer_owner" in data:
        out["customer_owner"] = clean_text(data["customer_owner"], "customer_owner", max_length=120)
    if "due_on" in data:
        out["due_on"] = clean_date(data["due_on"], "due_on")
        _check_due(out["due_on"], plan)
    if "status" in data:
        out["status"] = _choice(data["status"], "status", PlanTaskStatus)
    if "risk" in data:
        out["risk"] = _choice(data["risk"], "risk", Risk)
    if "progress" in data:
        out["progress"] = _int_in(data["progress"], "progress", 0, 100)
    return out


@transaction.atomic
def plan_task_create(*, actor: User, objective: Objective, data: dict[str, Any], source: str = "web") -> PlanTask:
    """A task under an open objective (none under a closed one)."""
    plan = objective.plan
    _writable_plan(actor, plan)
    _check_unknown(data, PLAN_TASK_KEYS)
    if objective.status == ObjectiveStatus.CLOSED:
        raise ValidationFailed({"objective": ["This objective is closed; reopen it to add tasks."]})
    if "name" not in data:
        raise ValidationFailed({"name": ["This field is required."]})
    values = _task_values(data, plan)
    now = timezone.now()
    task = PlanTask.objects.create(objective=objective, created_at=now, updated_at=now, **values)
    audit_record(
        actor=actor,
        obj=task,
        action=AuditAction.CREATE,
        before=None,
        after={**snapshot(task, PLAN_TASK_FIELDS), "objective": objective.pk},
        source=source,
    )
    _touch(plan, now)
    success_refresh_accounts(account_ids=[plan.account_id], actor=actor, source=source)
    return task


@transaction.atomic
def plan_task_update(*, actor: User, task: PlanTask, changes: dict[str, Any], source: str = "web") -> list[str]:
    objective = task.objective
    plan = objective.plan
    _writable_plan(actor, plan)
    _check_unknown(changes, PLAN_TASK_KEYS)
    if objective.status == ObjectiveStatus.CLOSED:
        raise ValidationFailed({"objective": ["This objective is closed; reopen it to change its tasks."]})
    values = _task_values(changes, plan)
    before = snapshot(task, PLAN_TASK_FIELDS)
    for key, value in values.items():
        setattr(task, key, value)
    if task.status == PlanTaskStatus.DONE and "progress" not in values:
        task.progress = 100
    after = snapshot(task, PLAN_TASK_FIELDS)
    changed = [f for f in PLAN_TASK_FIELDS if before[f] != after[f]]
    if not changed:
        return []
    now = timezone.now()
    task.updated_at = now
    task.save(update_fields=[*(f"{f}_id" if f == "owner" else f for f in changed), "updated_at"])
    audit_record(
        actor=actor,
        obj=task,
        action=AuditAction.UPDATE,
        before={f: before[f] for f in changed},
        after={f: after[f] for f in changed},
        source=source,
    )
    _touch(plan, now)
    success_refresh_accounts(account_ids=[plan.account_id], actor=actor, source=source)
    return changed


# --- Reviews ------------------------------------------------------------------------------------------------------

REVIEW_KEYS = frozenset({*ANSWER_FIELDS, *NOTE_FIELDS, "verdict", "coaching"})


def _review_values(data: dict[str, Any]) -> dict[str, Any]:
    _check_unknown(data, REVIEW_KEYS)
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    for key in ANSWER_FIELDS:
        value = data.get(key)
        if value not in Answer.values:
            errors[key] = ["Answer Yes, Partly or No."]
        else:
            out[key] = value
    if data.get("verdict") not in Verdict.values:
        errors["verdict"] = [f"Choose one of: {', '.join(Verdict.values)}."]
    else:
        out["verdict"] = data["verdict"]
    for key in (*NOTE_FIELDS, "coaching"):
        try:
            out[key] = clean_text(data.get(key), key, max_length=TEXT_MAX)
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    return out


@transaction.atomic
def plan_review_record(*, actor: User, plan: SuccessPlan, data: dict[str, Any], source: str = "web") -> PlanReview:
    """The manager's review of a plan: six answers with notes, a verdict and coaching notes."""
    if not policy.can_read_account(actor, plan.account):
        raise ValidationFailed({"plan": ["No such success plan."]})
    if not policy.can_manager_review_plan(actor, plan):
        raise PermissionDenied("Only the region's TAM Manager and admins record a manager review.")
    values = _review_values(data)
    now = timezone.now()
    review = PlanReview.objects.create(
        plan=plan,
        kind=ReviewKind.MANAGER,
        status=ReviewStatus.COMPLETED,
        reviewer=actor,
        requested_at=now,
        completed_at=now,
        **values,
    )
    audit_record(
        actor=actor,
        obj=review,
        action=AuditAction.CREATE,
        before=None,
        after={**snapshot(review, REVIEW_FIELDS), "plan": plan.pk, "kind": review.kind},
        source=source,
    )
    return review


def peer_task_reason(review: PlanReview) -> str:
    return f"peer_review:{review.pk}"


@transaction.atomic
def peer_review_request(*, actor: User, plan: SuccessPlan, reviewer: Any, source: str = "web") -> PlanReview:
    """Ask another TAM to review the plan: a requested review and a PLAN_PEER_REVIEW task for the reviewer."""
    if not policy.can_request_peer_review(actor, plan):
        raise PermissionDenied("Only the plan's writers ask for a peer review.")
    if not plan.is_current:
        raise PermissionDenied("An archived success plan is read-only.")
    person: User | None = None
    if isinstance(reviewer, User):
        person = reviewer
    elif reviewer not in (None, ""):
        try:
            pk = int(reviewer)
        except (TypeError, ValueError):
            pk = 0
        person = User.objects.with_region().filter(pk=pk).first() if 0 < pk < 2**63 else None
    if person is None:
        raise ValidationFailed({"reviewer": ["Choose a TAM."]})
    if person.pk == actor.pk:
        raise ValidationFailed({"reviewer": ["Ask someone else: a peer review is another TAM's."]})
    if not policy.can_be_peer_reviewer(person, plan):
        raise ValidationFailed({"reviewer": [f"{person} may not review this plan (a TAM who can read the account)."]})
    if plan.reviews.filter(kind=ReviewKind.PEER, status=ReviewStatus.REQUESTED, reviewer=person).exists():
        raise ValidationFailed({"reviewer": [f"{person} has already been asked to review this plan."]})
    now = timezone.now()
    review = PlanReview.objects.create(
        plan=plan,
        kind=ReviewKind.PEER,
        status=ReviewStatus.REQUESTED,
        reviewer=person,
        requested_by=actor,
        requested_at=now,
    )
    audit_record(
        actor=actor,
        obj=review,
        action=AuditAction.CREATE,
        before=None,
        after={"plan": plan.pk, "kind": review.kind, "status": review.status, "reviewer": person.pk},
        source=source,
    )
    task_raise_many(
        [
            TaskDraft(
                type=TaskType.PLAN_PEER_REVIEW,
                account_id=plan.account_id,
                owner_id=person.pk,
                reason=peer_task_reason(review),
                why={"rule": "peer review requested", "data": {"plan": plan.pk, "requested_by": actor.full_name}},
                title=f"Peer review the success plan of {plan.account.name}",
                due_on=_today() + dt.timedelta(days=14),
            )
        ],
        source=source,
        actor=actor,
    )
    return review


@transaction.atomic
def peer_review_answer(*, actor: User, review: PlanReview, data: dict[str, Any], source: str = "web") -> PlanReview:
    """The reviewer answers the six questions; the review is completed and their task closed."""
    if review.kind != ReviewKind.PEER or review.status != ReviewStatus.REQUESTED:
        raise ValidationFailed({"__all__": ["This review is not waiting for an answer."]})
    if not policy.can_answer_review(actor, review):
        raise PermissionDenied("Only the person asked answers this peer review.")
    values = _review_values(data)
    before = snapshot(review, REVIEW_FIELDS)
    for key, value in values.items():
        setattr(review, key, value)
    now = timezone.now()
    review.status = ReviewStatus.COMPLETED
    review.completed_at = now
    review.save(update_fields=[*values, "status", "completed_at"])
    audit_record(
        actor=actor,
        obj=review,
        action=AuditAction.UPDATE,
        before=before,
        after=snapshot(review, REVIEW_FIELDS),
        source=source,
    )
    task_resolve(
        account=review.plan.account,
        type=TaskType.PLAN_PEER_REVIEW,
        reason=peer_task_reason(review),
        actor=actor,
        source=source,
    )
    return review


# --- EBRs ---------------------------------------------------------------------------------------------------------

EBR_KEYS = frozenset(EBR_FIELDS)


def _ebr_values(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "status" in data:
        out["status"] = _choice(data["status"], "status", EbrStatus)
    if "held_on" in data:
        out["held_on"] = clean_date(data["held_on"], "held_on")
    for key in ("attendees", "outcome"):
        if key in data:
            out[key] = clean_text(data[key], key, max_length=TEXT_MAX)
    if "materials_url" in data:
        url = clean_text(data["materials_url"], "materials_url", max_length=500)
        if url and not url.startswith(("https://", "http://")):
            raise ValidationFailed({"materials_url": ["A link starting with https:// or http://."]})
        out["materials_url"] = url
    return out


def _ebr_rules(ebr: Ebr) -> None:
    if ebr.status in (EbrStatus.SCHEDULED, EbrStatus.COMPLETED) and ebr.held_on is None:
        raise ValidationFailed({"held_on": [f"A {ebr.get_status_display().lower()} EBR has a date."]})
    if ebr.status == EbrStatus.COMPLETED and ebr.held_on and ebr.held_on > _today():
        raise ValidationFailed({"held_on": ["A completed EBR took place on or before today."]})


def _ebr_done(ebr: Ebr, actor: User, source: str) -> None:
    if ebr.status == EbrStatus.COMPLETED:
        task_resolve(account=ebr.account, type=TaskType.EBR, actor=actor, source=source)


@transaction.atomic
def ebr_create(*, actor: User, account: Account, data: dict[str, Any], source: str = "web") -> Ebr:
    if not policy.can_write_success_plan(actor, account):
        raise PermissionDenied("Only the account's TAM, its region's manager and admins record its EBRs.")
    _check_unknown(data, EBR_KEYS)
    now = timezone.now()
    ebr = Ebr(account=account, created_by=actor, created_at=now, updated_at=now, **_ebr_values(data))
    _ebr_rules(ebr)
    ebr.save()
    audit_record(
        actor=actor,
        obj=ebr,
        action=AuditAction.CREATE,
        before=None,
        after={**snapshot(ebr, EBR_FIELDS), "account": account.pk},
        source=source,
    )
    _ebr_done(ebr, actor, source)
    return ebr


@transaction.atomic
def ebr_update(*, actor: User, ebr: Ebr, changes: dict[str, Any], source: str = "web") -> list[str]:
    if not policy.can_write_success_plan(actor, ebr.account):
        raise PermissionDenied("Only the account's TAM, its region's manager and admins change its EBRs.")
    _check_unknown(changes, EBR_KEYS)
    values = _ebr_values(changes)
    before = snapshot(ebr, EBR_FIELDS)
    for key, value in values.items():
        setattr(ebr, key, value)
    try:
        _ebr_rules(ebr)
    except ValidationFailed:
        ebr.refresh_from_db()
        raise
    after = snapshot(ebr, EBR_FIELDS)
    changed = [f for f in EBR_FIELDS if before[f] != after[f]]
    if not changed:
        return []
    ebr.updated_at = timezone.now()
    ebr.save(update_fields=[*changed, "updated_at"])
    audit_record(
        actor=actor,
        obj=ebr,
        action=AuditAction.UPDATE,
        before={f: before[f] for f in changed},
        after={f: after[f] for f in changed},
        source=source,
    )
    _ebr_done(ebr, actor, source)
    return changed
