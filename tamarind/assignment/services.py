"""Writes of the assignment app: saving rule versions and evaluating accounts against the live rules.

Every account write (web, API, import, demo) ends in ``qualification_refresh`` for the accounts it touched; a
saved rule version re-evaluates the whole book. The stored ``Qualification`` of each account is compared with
the new verdict and only a change has consequences (domain section 3):

- newly qualifies: its region's manager is notified; with no TAM the manager gets the task "Assign a TAM"; with a
  TAM (and still onboarding) an onboarding record is created for that TAM; a disengagement flag is lifted;
- stops qualifying: flagged for disengagement review (a task and a notification for the manager), nothing deleted.

The TAM changes of the same write are passed in too (``tam_changes``; a create with its TAM is a change from
none), and every write that sets a TAM has the same consequences, whatever page, API route or import made it
(``_tam_moves``): the "Assign a TAM" task is closed, the onboarding follows ``selectors.onboarding_outcome``
(started for a qualifying account in the Onboarding stage, handed over when a record is open, none for an account
past onboarding), the new TAM is notified and the former one told; clearing the TAM unassigns the open record and
raises the task again. Tasks and notifications carry dedupe keys backed by database constraints, and onboarding
allows one open record per account, so repeating a write never repeats a consequence.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from tamarind import policy
from tamarind.accounts.models import Account
from tamarind.actions import services as task_services
from tamarind.actions.models import TaskType
from tamarind.actions.services import TaskDraft
from tamarind.assignment import selectors
from tamarind.assignment.models import Qualification, RuleSetVersion
from tamarind.assignment.rules import RuleError, RuleSpec, compile_rules, evaluate
from tamarind.assignment.selectors import (
    N_FACTS,
    Vocabulary,
    account_rows,
    facts_from_row,
    live_rules,
    vocabulary,
)
from tamarind.audit.models import AuditAction
from tamarind.audit.services import audit_record, audit_record_many, build_event, jsonable
from tamarind.core.bulk import bulk_insert, chunks
from tamarind.core.errors import ValidationFailed
from tamarind.core.progress import ProgressFn
from tamarind.notifications import services as notification_services
from tamarind.notifications.models import NotificationKind
from tamarind.notifications.services import NotificationDraft
from tamarind.onboarding import services as onboarding_services
from tamarind.people.models import User

TAM_TASK_REASON = "qualified"
DISENGAGE_REASON = "disqualified"
QUALIFICATION_COLUMNS = (
    "account_id",
    "qualifies",
    "rule_version",
    "qualified_at",
    "disengagement_flagged_at",
    "evaluated_at",
)


# --- Rule versions -------------------------------------------------------------------------------------------


@transaction.atomic
def rule_set_save(
    *, actor: User, definition: Any, note: str = "", name: str = "", source: str = "web"
) -> RuleSetVersion:
    """Validate ``definition`` and save it as the next version (live from now). Admins only.

    The whole book is re-evaluated against it after the commit, in the background (``tasks.reevaluate_book``).
    """
    if not policy.can_edit_rules(actor):
        raise PermissionDenied("Only admins change the qualification rules.")
    try:
        spec = vocabulary().parse(definition)
    except RuleError as exc:
        raise ValidationFailed(exc.errors) from exc
    live = RuleSetVersion.objects.select_for_update().order_by("-version").first()
    canonical = spec.to_json()
    if live is not None and live.definition == canonical and (not name or name == live.name):
        raise ValidationFailed({"__all__": [f"These rules are the same as version {live.version}; nothing to save."]})
    version = RuleSetVersion.objects.create(
        version=(live.version + 1) if live else 1,
        name=name or (live.name if live else "Qualification for a TAM"),
        definition=canonical,
        note=note[:500],
        created_by=actor,
    )
    audit_record(
        actor=actor,
        obj=version,
        action=AuditAction.CREATE,
        before={"version": live.version, "definition": live.definition} if live else None,
        after={"version": version.version, "definition": canonical, "note": version.note},
        source=source,
    )
    from tamarind.assignment.tasks import reevaluate_book

    transaction.on_commit(lambda: reevaluate_book.enqueue())
    return version


# --- Evaluation ------------------------------------------------------------------------------------------------


@dataclass
class RefreshResult:
    """What one evaluation pass found and did."""

    evaluated: int = 0
    newly_qualified: list[int] = field(default_factory=list)
    disqualified: list[int] = field(default_factory=list)
    tasks: int = 0
    notifications: int = 0
    onboardings: int = 0
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "evaluated": self.evaluated,
            "newly_qualified": len(self.newly_qualified),
            "disqualified": len(self.disqualified),
            "tasks": self.tasks,
            "notifications": self.notifications,
            "onboardings": self.onboardings,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class _Change:
    """One account whose standing changed, with what its consequences need."""

    account_id: int
    name: str
    tam_id: int | None
    manager_id: int | None
    lifecycle: str
    facts: Any
    was_flagged: bool


@dataclass
class _Rules:
    """The live rules of one evaluation pass, with their vocabulary read once and only if a task needs it."""

    version: RuleSetVersion
    spec: RuleSpec
    _vocab: Vocabulary | None = None

    def why(self, facts: Any) -> dict[str, Any]:
        """The explanation a task carries: the rules and version, each condition's outcome, the account's data."""
        if self._vocab is None:
            self._vocab = vocabulary()
        return _why(self.version, self.spec, self._vocab, facts)


def _why(rules: RuleSetVersion, spec: RuleSpec, vocab: Vocabulary, facts: Any) -> dict[str, Any]:
    verdict = evaluate(spec, facts)
    return {
        "rule_set": rules.pk,
        "rule_version": rules.version,
        "rule": rules.name,
        "match": spec.match,
        "conditions": [{"condition": vocab.describe(r.condition), "holds": r.holds} for r in verdict.results],
        "data": {k: jsonable(v) for k, v in facts._asdict().items()},
    }


def _account_url(account_id: int) -> str:
    # reverse() once per pass, not once per account: a first evaluation may notify about tens of thousands.
    return _account_url_pattern().replace("/0/", f"/{account_id}/")


@functools.cache
def _account_url_pattern() -> str:
    return reverse("accounts:detail", args=[0])


@transaction.atomic
def qualification_refresh(
    *,
    actor: User | None,
    account_ids: Sequence[int] | None,
    tam_changes: Iterable[tuple[int, int | None, int | None]] = (),
    source: str = "web",
    progress: ProgressFn | None = None,
) -> RefreshResult:
    """Evaluate ``account_ids`` (every account when None) against the live rules and act on changes of standing.

    ``tam_changes`` are ``(account_id, from_tam_id, to_tam_id)`` of the same write. Idempotent: a second call with
    the same data writes nothing but the evaluation stamp of accounts last judged by an older rules version.
    """
    started = time.monotonic()
    live = live_rules()
    rules = _Rules(live, live.spec())
    qualifies = compile_rules(rules.spec, offset=1)  # reads the facts straight from each row
    now = timezone.now()
    result = RefreshResult()
    inserts: list[tuple[Any, ...]] = []
    restamp: list[int] = []
    gained: list[_Change] = []
    lost: list[_Change] = []
    moves: list[_Move] = []
    moved = {account_id: (from_tam, to_tam) for account_id, from_tam, to_tam in tam_changes}
    total = len(account_ids) if account_ids is not None else Account.objects.count()
    for rows in account_rows(account_ids):
        for row in rows:
            verdict = qualifies(row)
            prior, prior_version, flagged = row[-3:]
            pk = row[0]
            if prior == verdict:
                if prior_version != live.version:
                    restamp.append(pk)
                if pk not in moved:
                    continue
            elif prior is None:
                inserts.append((pk, verdict, live.version, now if verdict else None, None, now))
            tam_id, manager_id, name = row[N_FACTS + 1 : N_FACTS + 4]
            facts = facts_from_row(row[1 : N_FACTS + 1])
            change = _Change(pk, name, tam_id, manager_id, facts.lifecycle_stage, facts, flagged is not None)
            if pk in moved:
                moves.append(_Move(change, bool(verdict), *moved[pk]))
            if prior == verdict:
                continue
            if verdict:
                gained.append(change)
            elif prior:  # a first evaluation that does not qualify changes no standing
                lost.append(change)
        result.evaluated += len(rows)
        if progress is not None:
            progress(result.evaluated, total)
    bulk_insert(Qualification._meta.db_table, list(QUALIFICATION_COLUMNS), inserts)
    for chunk in chunks(restamp, 5000):
        Qualification.objects.filter(pk__in=chunk).update(rule_version=live.version, evaluated_at=now)
    _record_changes(actor=actor, rules=live, gained=gained, lost=lost, now=now, source=source, inserted=inserts)
    result.newly_qualified = [c.account_id for c in gained]
    result.disqualified = [c.account_id for c in lost]
    _consequences(
        actor=actor, rules=rules, gained=gained, lost=lost, now=now, source=source, result=result, moved=set(moved)
    )
    _tam_moves(
        actor=actor, rules=rules, moves=moves, newly=set(result.newly_qualified), now=now, source=source, result=result
    )
    result.seconds = time.monotonic() - started
    return result


def _record_changes(
    *,
    actor: User | None,
    rules: RuleSetVersion,
    gained: list[_Change],
    lost: list[_Change],
    now: Any,
    source: str,
    inserted: list[tuple[Any, ...]],
) -> None:
    """Store the new standing of changed accounts and write one audit event for each."""
    new_rows = {row[0] for row in inserted}
    for change in gained:
        if change.account_id not in new_rows:
            Qualification.objects.filter(pk=change.account_id).update(
                qualifies=True,
                qualified_at=now,
                disengagement_flagged_at=None,
                rule_version=rules.version,
                evaluated_at=now,
            )
    lost_ids = [c.account_id for c in lost]
    for chunk in chunks(lost_ids, 5000):
        Qualification.objects.filter(pk__in=chunk).update(
            qualifies=False, disengagement_flagged_at=now, rule_version=rules.version, evaluated_at=now
        )
    events = []
    for change, qualified in [(c, True) for c in gained] + [(c, False) for c in lost]:
        obj = Qualification(account_id=change.account_id, qualifies=qualified, rule_version=rules.version)
        events.append(
            build_event(
                actor=actor,
                obj=obj,
                action=AuditAction.UPDATE,
                before={"qualifies": not qualified},
                after={"qualifies": qualified, "rule_version": rules.version, "account_name": change.name},
                source=source,
                at=now,
            )
        )
    audit_record_many(events)


def _consequences(
    *,
    actor: User | None,
    rules: _Rules,
    gained: list[_Change],
    lost: list[_Change],
    now: Any,
    source: str,
    result: RefreshResult,
    moved: set[int],
) -> None:
    """A change of standing: the manager hears of it; a newly qualifying account without a TAM gets the "Assign a
    TAM" task, one that already had its TAM starts onboarding when the rule says so (``_tam_moves`` handles the
    accounts whose TAM this same write set); one that stops qualifying is flagged for a disengagement review."""
    stamp = int(now.timestamp())
    tasks: list[TaskDraft] = []
    notes: list[NotificationDraft] = []
    pairs: list[tuple[int, int]] = []
    task_services.task_resolve_many(
        account_ids=[c.account_id for c in gained if c.was_flagged],
        type=TaskType.DISENGAGEMENT_REVIEW,
        reason=DISENGAGE_REASON,
        actor=actor,
    )
    task_services.task_resolve_many(
        account_ids=[c.account_id for c in lost], type=TaskType.ASSIGN_TAM, reason=TAM_TASK_REASON, actor=actor
    )
    for c in gained:
        if c.manager_id is not None:
            staffed = "" if c.tam_id is None else " It already has a TAM; review the assignment."
            notes.append(
                NotificationDraft(
                    recipient_id=c.manager_id,
                    kind=NotificationKind.ACCOUNT_QUALIFIED,
                    title=f"{c.name} qualifies for a TAM",
                    body=f"{c.name} now meets the qualification rules (v{rules.version.version}).{staffed}",
                    url=_account_url(c.account_id),
                    account_id=c.account_id,
                    dedupe_key=f"qualified:{c.account_id}:{stamp}",
                )
            )
        if c.tam_id is None:
            if c.manager_id is not None:
                tasks.append(_assign_task(rules, c))
        elif c.account_id not in moved:
            pairs.append((c.account_id, c.tam_id))
    pairs = _to_onboard(pairs, {c.account_id: c.lifecycle for c in gained}, qualifying={c.account_id for c in gained})
    for c in lost:
        if c.manager_id is None:
            continue
        tasks.append(
            TaskDraft(
                type=TaskType.DISENGAGEMENT_REVIEW,
                account_id=c.account_id,
                owner_id=c.manager_id,
                reason=DISENGAGE_REASON,
                title=f"Review disengagement of {c.name}",
                why=rules.why(c.facts),
            )
        )
        notes.append(
            NotificationDraft(
                recipient_id=c.manager_id,
                kind=NotificationKind.ACCOUNT_DISQUALIFIED,
                title=f"{c.name} no longer qualifies for a TAM",
                body="It is flagged for a disengagement review; nothing was removed.",
                url=_account_url(c.account_id),
                account_id=c.account_id,
                dedupe_key=f"disqualified:{c.account_id}:{stamp}",
            )
        )
    result.tasks += len(task_services.task_raise_many(tasks, actor=actor))
    result.notifications += notification_services.notify_many(notes, actor=actor)
    if pairs:
        result.onboardings += onboarding_services.onboarding_start_many(actor=actor, pairs=pairs, source=source)


def _assign_task(rules: _Rules, c: _Change) -> TaskDraft:
    assert c.manager_id is not None
    return TaskDraft(
        type=TaskType.ASSIGN_TAM,
        account_id=c.account_id,
        owner_id=c.manager_id,
        reason=TAM_TASK_REASON,
        title=f"Assign a TAM to {c.name}",
        why=rules.why(c.facts),
    )


@dataclass
class _Move:
    """One account whose TAM this write set or cleared, with its standing after the write."""

    change: _Change
    qualifies: bool
    from_tam: int | None
    to_tam: int | None


def _tam_moves(
    *,
    actor: User | None,
    rules: _Rules,
    moves: list[_Move],
    newly: set[int],
    now: Any,
    source: str,
    result: RefreshResult,
) -> None:
    """The consequences of setting or clearing an account's TAM, the same whatever the write (a page, the API, a
    CRM import, a create with its TAM):

    - set: the "Assign a TAM" task is closed; the onboarding follows ``assignment.selectors.onboarding_outcome``
      (an open record is handed to the TAM, a qualifying account in the Onboarding stage starts one, an account
      past onboarding gets none); the new TAM is notified once (by the onboarding's notification when a record
      was started or handed over, else by "You are now the TAM of ...");
    - cleared: the open onboarding goes on unassigned, and a qualifying account is put back on the manager's list;
    - the TAM the account leaves is told. The actor is never notified of their own change.
    """
    if not moves:
        return
    staffed = [m for m in moves if m.to_tam is not None]
    task_services.task_resolve_many(
        account_ids=[m.change.account_id for m in staffed],
        type=TaskType.ASSIGN_TAM,
        reason=TAM_TASK_REASON,
        actor=actor,
    )
    records = selectors.onboarding_records([m.change.account_id for m in moves])
    outcomes = {
        m.change.account_id: selectors.onboarding_outcome(
            qualifies=m.qualifies,
            lifecycle=m.change.lifecycle,
            open_record=records.get(m.change.account_id, (False, False))[0],
            any_record=records.get(m.change.account_id, (False, False))[1],
        )
        for m in moves
    }
    pairs = [(m.change.account_id, m.to_tam) for m in staffed if outcomes[m.change.account_id].onboards]
    told: set[int] = set()
    if pairs:
        told = onboarding_services.onboarding_staff_many(actor=actor, pairs=pairs, source=source)  # type: ignore[arg-type]
        result.onboardings += len(told)
    tasks: list[TaskDraft] = []
    for m in moves:
        if m.to_tam is not None:
            continue
        # Rare (a TAM cleared by hand or by a CRM file), so the account is read whole for the policy check.
        account = Account.objects.select_related("region").get(pk=m.change.account_id)
        onboarding_services.onboarding_unassign(actor=actor, account=account, source=source)
        if m.qualifies and m.change.manager_id is not None and m.change.account_id not in newly:
            tasks.append(_assign_task(rules, m.change))
    result.tasks += len(task_services.task_raise_many(tasks, actor=actor))
    result.notifications += notification_services.notify_many(
        _tam_notes(actor=actor, moves=moves, outcomes=outcomes, told=told, now=now), actor=actor
    )


def _tam_notes(
    *,
    actor: User | None,
    moves: list[_Move],
    outcomes: dict[int, selectors.OnboardingOutcome],
    told: set[int],
    now: Any,
) -> list[NotificationDraft]:
    """The notifications of TAM changes: the new TAM (unless the onboarding already told them), the former one."""
    by = str(actor) if actor is not None else "Tamarind"
    stamp = int(now.timestamp())
    leavers = [m for m in moves if m.from_tam is not None and m.from_tam != m.to_tam]
    names: dict[int, str] = {}
    if leavers:
        wanted = {m.to_tam for m in leavers if m.to_tam is not None}
        names = dict(User.objects.filter(pk__in=wanted).values_list("pk", "full_name")) if wanted else {}
    notes: list[NotificationDraft] = []
    for m in moves:
        c = m.change
        url = _account_url(c.account_id)
        if m.to_tam is not None and c.account_id not in told:
            notes.append(
                NotificationDraft(
                    recipient_id=m.to_tam,
                    kind=NotificationKind.TAM_ASSIGNED,
                    title=f"You are now the TAM of {c.name}",
                    body=f"{by} made you the TAM of {c.name}. {outcomes[c.account_id].note}.",
                    url=url,
                    account_id=c.account_id,
                    dedupe_key=f"tam:{c.account_id}:{m.to_tam}:{stamp}",
                )
            )
        if m.from_tam is not None and m.from_tam != m.to_tam:
            moved_to = names.get(m.to_tam) if m.to_tam is not None else None
            notes.append(
                NotificationDraft(
                    recipient_id=m.from_tam,
                    kind=NotificationKind.TAM_ASSIGNED,
                    title=f"{c.name} moved to {moved_to}" if moved_to else f"{c.name} no longer has you as its TAM",
                    body=f"{by} changed the TAM of {c.name}; it has left your book.",
                    url=url,
                    account_id=c.account_id,
                    dedupe_key=f"tam-left:{c.account_id}:{m.from_tam}:{stamp}",
                )
            )
    return notes


def _to_onboard(
    pairs: list[tuple[int, int]], lifecycle: dict[int, str], *, qualifying: set[int]
) -> list[tuple[int, int]]:
    """The (account, TAM) pairs whose TAM starts or takes over an onboarding (``selectors.onboarding_outcome``):
    accounts still in the Onboarding stage, and any account whose onboarding record is open (say, left
    unassigned when its TAM was cleared). An account long past onboarding gets no new onboarding record."""
    if not pairs:
        return []
    records = selectors.onboarding_records([pk for pk, _ in pairs])
    return [
        (pk, tam)
        for pk, tam in pairs
        if selectors.onboarding_outcome(
            qualifies=pk in qualifying,
            lifecycle=lifecycle.get(pk, ""),
            open_record=records.get(pk, (False, False))[0],
            any_record=records.get(pk, (False, False))[1],
        ).onboards
    ]


def qualification_refresh_stale() -> dict[str, Any]:
    """Evaluate the accounts with no standing yet, or judged by an older rules version (a safety net behind the
    write paths and the re-evaluation after a rules change; idempotent, so running it often is harmless)."""
    live = live_rules()
    stale = list(
        Account.objects.exclude(qualification__rule_version=live.version).order_by("pk").values_list("pk", flat=True)
    )
    if not stale:
        return {"evaluated": 0}
    return qualification_refresh(actor=None, account_ids=stale, source="rules").summary()
