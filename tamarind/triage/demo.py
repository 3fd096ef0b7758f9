"""Demo triage cases: a board with cases in every column, next steps, updates and escalations.

``triage_demo_cases`` plays each ``DemoCase`` through the triage services (``case_open``, ``step_add``,
``step_complete``, ``case_note_add``, ``case_update``, ``case_close``, ``escalation_open``), acting as the account's
TAM, so every change is policy-checked and audited as in production. The services stamp everything "now"; a board
where every case was opened a minute ago shows nothing overdue, so the demo then moves each case's clock back to
when its story says it happened (``opened_days_ago``, ``updated_days_ago``): the case's, its steps', notes' and
escalations' timestamps and the "Triage case opened" timeline entry. That is a demo-only adjustment of timestamps,
not a business change, and it is not audited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from tamarind.accounts.models import Account
from tamarind.people.models import User
from tamarind.timeline.models import EntryKind, TimelineEntry
from tamarind.triage.models import CaseStatus, Escalation, TriageCase, TriageNote, TriageStep
from tamarind.triage.services import (
    case_close,
    case_note_add,
    case_open,
    case_update,
    escalation_open,
    step_add,
    step_complete,
)

SOURCE = "demo"
# The columns a case passes through on its way to ``status`` (moves are audited one by one, as on the board).
PATH = (CaseStatus.INVESTIGATING, CaseStatus.ACTION_PLAN, CaseStatus.MONITORING)


@dataclass(frozen=True)
class DemoStep:
    """A next step: its text, due ``due_in_days`` from today (negative: in the past), done or not."""

    text: str
    due_in_days: int | None
    done: bool = False


@dataclass(frozen=True)
class DemoEscalation:
    title: str
    severity: str
    description: str
    updated_days_ago: int = 0


@dataclass(frozen=True)
class DemoCase:
    """One account's triage story: the case as opened, the column it is in now (or its outcome), its steps and
    updates, an escalation, and when it was opened and last updated."""

    account_id: int
    status: str
    open_data: dict[str, Any]
    steps: tuple[DemoStep, ...] = ()
    notes: tuple[str, ...] = ()
    outcome: str = ""
    close_note: str = ""
    escalation: DemoEscalation | None = None
    opened_days_ago: int = 7
    updated_days_ago: int = 1


@dataclass
class TriageDemoResult:
    cases: int = 0
    escalations: int = 0
    by_status: dict[str, int] = field(default_factory=dict)


def _at(now: dt.datetime, days_ago: float) -> dt.datetime:
    return now - dt.timedelta(days=days_ago)


def triage_demo_cases(
    *, cases: Sequence[DemoCase], progress: Callable[[int, int], None] | None = None
) -> TriageDemoResult:
    """Play ``cases`` through the triage services as each account's TAM, then date them as their stories say."""
    out = TriageDemoResult()
    if not cases:
        return out
    accounts = Account.objects.select_related("tam", "region").in_bulk([c.account_id for c in cases])
    today = timezone.localdate()
    for n, story in enumerate(cases, start=1):
        account = accounts.get(story.account_id)
        tam = account.tam if account is not None else None
        if account is None or tam is None:
            continue
        case = _play(story, account, tam, today)
        _backdate(case, story)
        out.cases += 1
        out.by_status[case.status] = out.by_status.get(case.status, 0) + 1
        out.escalations += story.escalation is not None
        if progress is not None:
            progress(n, len(cases))
    return out


def _play(story: DemoCase, account: Account, tam: User, today: dt.date) -> TriageCase:
    case = case_open(actor=tam, account=account, data=story.open_data, source=SOURCE)
    for step in story.steps:
        due = None if step.due_in_days is None else today + dt.timedelta(days=step.due_in_days)
        added = step_add(actor=tam, case=case, text=step.text, due_on=due, source=SOURCE)
        if step.done:
            step_complete(actor=tam, step=added, source=SOURCE)
    for text in story.notes:
        case_note_add(actor=tam, case=case, text=text, source=SOURCE)
    if story.escalation is not None:
        e = story.escalation
        escalation_open(
            actor=tam,
            account=account,
            data={"title": e.title, "severity": e.severity, "description": e.description},
            source=SOURCE,
        )
    if story.status == CaseStatus.CLOSED:
        for status in PATH:
            case = case_update(actor=tam, case=case, changes={"status": status}, source=SOURCE)
        return case_close(actor=tam, case=case, outcome=story.outcome, note=story.close_note, source=SOURCE)
    for status in PATH:
        if CaseStatus.values.index(status) > CaseStatus.values.index(story.status):
            break
        case = case_update(actor=tam, case=case, changes={"status": status}, source=SOURCE)
    return case


def _backdate(case: TriageCase, story: DemoCase) -> None:
    """Move the case's clock back to its story's dates (see the module docstring)."""
    now = timezone.now()
    opened = _at(now, story.opened_days_ago)
    updated = _at(now, min(story.updated_days_ago, story.opened_days_ago))
    changes: dict[str, Any] = {"opened_at": opened, "last_update_at": updated}
    if case.status == CaseStatus.CLOSED:
        changes["closed_at"] = updated
    TriageCase.objects.filter(pk=case.pk).update(**changes)
    span = max((updated - opened).total_seconds(), 0.0)
    steps = list(TriageStep.objects.filter(case=case).order_by("id"))
    for i, step in enumerate(steps):
        step.created_at = opened + dt.timedelta(seconds=span * (i + 1) / (len(steps) + 2))
        if step.done:
            step.done_at = step.created_at + dt.timedelta(seconds=span / (len(steps) + 2))
    if steps:
        TriageStep.objects.bulk_update(steps, ["created_at", "done_at"])
    notes = list(TriageNote.objects.filter(case=case).order_by("id"))
    for i, note in enumerate(notes):
        # The last update is the newest note: the board's "last updated" and the case's notes agree.
        note.created_at = updated - dt.timedelta(seconds=span * (len(notes) - 1 - i) / (len(notes) + 1))
    if notes:
        TriageNote.objects.bulk_update(notes, ["created_at"])
    Escalation.objects.filter(case=case).update(
        opened_at=opened + dt.timedelta(seconds=span / 3),
        last_update_at=_at(now, story.escalation.updated_days_ago) if story.escalation else updated,
    )
    TimelineEntry.objects.filter(
        account_id=case.account_id, kind=EntryKind.SYSTEM, title__startswith="Triage case opened"
    ).update(occurred_at=opened, created_at=opened)
    if case.status == CaseStatus.CLOSED:
        TimelineEntry.objects.filter(
            account_id=case.account_id, kind=EntryKind.SYSTEM, title__startswith="Triage case closed"
        ).update(occurred_at=updated, created_at=updated)
