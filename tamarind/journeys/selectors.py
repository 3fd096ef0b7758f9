"""Reading the digital journey: programs with per-step counts, gated fetches, an account's journey panel, and the
public links' sends. Fixed query counts whatever the number of steps, sends or events."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from tamarind import policy
from tamarind.accounts.models import Account
from tamarind.journeys import schedule
from tamarind.journeys.models import Event, Program, Send, SendStatus, Step
from tamarind.people.models import User

DELIVERED = (SendStatus.SENT,)


def _require_view(user: User) -> None:
    if not policy.can_view_journeys(user):
        raise PermissionDenied("Digital journey programs are for TAMs, managers, directors and admins.")


def programs(user: User) -> list[Program]:
    """Every program with its steps and personas, and per program ``sent``/``opened``/``clicked`` counts (3 queries)."""
    _require_view(user)
    items = list(
        Program.objects.prefetch_related(
            "personas", Prefetch("steps", queryset=Step.objects.order_by("day", "position", "pk"))
        )
    )
    counts = _counts("step__program_id", [p.pk for p in items])
    for p in items:
        p.counts = counts.get(p.pk, _zero())  # type: ignore[attr-defined]
    return items


def _zero() -> dict[str, int]:
    return {"queued": 0, "sent": 0, "opened": 0, "clicked": 0, "bounced": 0, "failed": 0}


def _counts(key: str, ids: list[int]) -> dict[int, dict[str, int]]:
    """Send counts grouped by ``key`` (one query)."""
    rows = (
        Send.objects.filter(**{f"{key}__in": ids})
        .order_by()
        .values(key)
        .annotate(
            queued=Count("pk", filter=Q(status=SendStatus.QUEUED)),
            sent=Count("pk", filter=Q(status=SendStatus.SENT)),
            opened=Count("pk", filter=Q(opened_at__isnull=False)),
            clicked=Count("pk", filter=Q(first_clicked_at__isnull=False)),
            bounced=Count("pk", filter=Q(status=SendStatus.BOUNCED)),
            failed=Count("pk", filter=Q(status=SendStatus.FAILED)),
        )
    )
    return {r.pop(key): r for r in rows}


def require_edit(user: User) -> None:
    """Creating programs: admins and TAM Managers (readers 403; SAL/AE and SA 403 too)."""
    _require_view(user)
    if not policy.can_edit_journeys(user):
        raise PermissionDenied("Only admins and TAM Managers edit digital journey programs.")


def program_for_user(user: User, program_id: int, *, write: bool = False) -> Program:
    """The program (unknown: 404; a reader asking to write: 403)."""
    _require_view(user)
    program = Program.objects.prefetch_related("personas", "steps").filter(pk=program_id).first()
    if program is None:
        raise Http404("No such program.")
    if write and not policy.can_edit_journeys(user):
        raise PermissionDenied("Only admins and TAM Managers edit digital journey programs.")
    return program


def step_for_user(user: User, step_id: int, *, write: bool = False) -> Step:
    _require_view(user)
    step = Step.objects.select_related("program").filter(pk=step_id).first()
    if step is None:
        raise Http404("No such step.")
    if write and not policy.can_edit_journeys(user):
        raise PermissionDenied("Only admins and TAM Managers edit digital journey programs.")
    return step


def program_page(*, user: User, program: Program) -> dict[str, Any]:
    """The program's steps with their send counts (2 queries)."""
    steps = list(program.steps.order_by("day", "position", "pk"))
    counts = _counts("step_id", [s.pk for s in steps])
    for s in steps:
        s.counts = counts.get(s.pk, _zero())  # type: ignore[attr-defined]
    totals = _zero()
    for s in steps:
        for k, v in s.counts.items():  # type: ignore[attr-defined]
            totals[k] += v
    return {"program": program, "steps": steps, "totals": totals, "can_edit": policy.can_edit_journeys(user)}


def engagement_model_choices() -> list[tuple[str, str]]:
    """The engagement models a program may be for: the built-in keys and those admins added (one query)."""
    from tamarind.accounts.models import EngagementModel as BuiltIn
    from tamarind.engagement.selectors import model_names

    names = dict(BuiltIn.choices) | model_names()
    return sorted(names.items(), key=lambda kv: str(kv[1]).lower())


# --- An account's journey ---------------------------------------------------------------------------------------
def qualifies(program: Program, account: Account) -> bool:
    """Whether ``account`` is one ``program`` is for (the run's ``_qualifying`` restated in Python)."""
    if program.engagement_models and account.engagement_model in program.engagement_models:
        return True
    if not program.has_band():
        return False
    low_ok = program.min_arr is None or account.arr >= program.min_arr
    high_ok = program.max_arr is None or account.arr <= program.max_arr
    return low_ok and high_ok


@dataclass
class NextStep:
    program: Program
    step: Step
    on: dt.date


def account_sends(account: Account) -> QuerySet[Send]:
    return Send.objects.filter(account=account).select_related("step__program", "contact").order_by("-due_on", "-pk")


def account_events(account: Account) -> QuerySet[Event]:
    return Event.objects.filter(account=account).select_related("send__step", "send__contact").order_by("-at", "-pk")


def account_panel(*, user: User, account: Account, today: dt.date | None = None) -> dict[str, Any]:
    """The account page's Digital journey panel: counts, latest sends, the next step and when (4 queries)."""
    today = today or timezone.localdate()
    agg = Send.objects.filter(account=account).aggregate(
        sent=Count("pk", filter=Q(status=SendStatus.SENT)),
        queued=Count("pk", filter=Q(status=SendStatus.QUEUED)),
        opened=Count("pk", filter=Q(opened_at__isnull=False)),
        clicked=Count("pk", filter=Q(first_clicked_at__isnull=False)),
        bounced=Count("pk", filter=Q(status=SendStatus.BOUNCED)),
    )
    recent = list(account_sends(account)[:8])
    upcoming: NextStep | None = None
    joined: list[Program] = []
    if account.customer_since is not None:
        for program in Program.objects.active().prefetch_related("steps"):
            if not qualifies(program, account):
                continue
            joined.append(program)
            for step in program.steps.all():
                if step.is_webinar:  # follows the webinar sessions, not a date of its own
                    continue
                on = schedule.next_date(
                    since=account.customer_since,
                    today=today,
                    offset=step.day,
                    repeat=step.repeat_days,
                    repeat_months=step.repeat_months,
                )
                if on is not None and (upcoming is None or on < upcoming.on):
                    upcoming = NextStep(program=program, step=step, on=on)
    return {
        "journey_counts": agg,
        "journey_recent": recent,
        "journey_next": upcoming,
        "journey_programs": joined,
    }


# --- Public links -------------------------------------------------------------------------------------------------
def send_by_token(token: str) -> Send:
    """The send a public link names (unknown or malformed: 404)."""
    if not token or len(token) > 40:
        raise Http404("No such link.")
    send = Send.objects.select_related("step__program", "contact", "webinar_session__topic").filter(token=token).first()
    if send is None:
        raise Http404("No such link.")
    return send


def send_registered(send: Send) -> bool:
    """Whether the invitee of ``send`` registered for its webinar session through their link."""
    from tamarind.journeys.models import EventKind

    return Event.objects.filter(send=send, kind=EventKind.REGISTER).exists()


def sample_contacts_for(user: User, limit: int = 50) -> QuerySet[Any]:
    """Contacts ``user`` may read, to preview a step for (the preview's picker)."""
    from tamarind.contacts.models import Contact

    return (
        Contact.objects.filter(account__in=Account.objects.visible_to(user))
        .select_related("account")
        .order_by("account__name", "name", "pk")[:limit]
    )
