"""The demo book's health story: usage, support tickets, TAM sentiments, calls and triage, then the recompute.

``seed_health_story`` gives every TAM-managed account of the demo book a story (``plan_stories``): most are
healthy, some slip (usage falling, a yellow review), a few are at risk (a red review, a ticket spike, an open urgent
ticket), a few recover, some reviews are older than the staleness setting and some customers are too new to have
one. Accounts without a TAM report usage and tickets only: a qualifying one waiting for its TAM like the others,
pooled and digital customers a lighter feed (today's usage and their tickets, first scored today). The story is
loaded in two steps through the production paths so that changes have their consequences:

1. the data as it stood ``HISTORY_CUT`` (ten) days ago: month-end usage of the last months, tickets as the
   support system reported them then, older reviews and calls; then a full recompute dated that day;
2. the last ten days: daily usage, the tickets now, the newer reviews and calls; then a full recompute today.

The second recompute finds the color changes (timeline entries, notifications by the matrix of domain section 6),
proposes triage for accounts that turned red or yellow with "requires triage", and opens "health review" tasks for
reviews that went stale. Finally some of the proposals become triage cases spread over the board's columns, with
next steps, updates and escalations (``triage.demo``).

Usage and tickets go through ``usage.services`` (``usage.demo``), so the monthly rollups are kept as in
production. Reviews and calls are history written in bulk by ``sentiment_set_many`` and ``engagement_log_many``
below: ``sentiment_set`` and ``timeline_entry_create`` stamp "now" and rescore the account on every call, which
suits a person at the keyboard, not hundreds of backdated records. Same seed, same day: same story.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from tamarind import policy
from tamarind.accounts.models import Account, LifecycleStage
from tamarind.actions.models import Task, TaskStatus, TaskType
from tamarind.actions.services import task_resolve_many
from tamarind.audit.models import AuditAction
from tamarind.audit.services import audit_record_many, build_event, snapshot
from tamarind.core.errors import ValidationFailed
from tamarind.health.models import HealthColor, HealthScore, Sentiment
from tamarind.health.services import REASON_MAX, STALE_REASON, health_recompute_all
from tamarind.health.spec import COLOR_LABELS
from tamarind.people.models import User
from tamarind.timeline.models import ENGAGEMENT_KINDS, ENTRY_FIELDS, EntryKind, TimelineEntry
from tamarind.triage.demo import DemoCase, DemoEscalation, DemoStep, triage_demo_cases
from tamarind.triage.models import CaseStatus, Classification, Outcome, RiskReason, RiskType, Severity
from tamarind.usage.demo import TicketDraft, UsageCurve, demo_metrics, tickets_load, usage_load, usage_rows
from tamarind.usage.models import TicketPriority

SOURCE = "demo"
HISTORY_CUT = 10  # days: the first recompute is dated this many days ago, the daily usage starts then
SNAPSHOT_MONTHS = 3  # month-end usage snapshots before the daily window (the usage chart's months)
TICKET_DAYS = 60  # support tickets of the last 60 days
MAX_CASES = 16  # open triage cases on the board at most (the rest of the proposals stay proposals)

ProgressFn = Callable[[int, int], None]


# --- Bulk writers ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SentimentDraft:
    """A TAM's health review as it happened: on ``account_id`` by ``set_by_id`` at ``set_at``."""

    account_id: int
    color: str
    reason: str
    set_by_id: int
    set_at: dt.datetime
    requires_triage: bool = False


def _people(ids: set[int]) -> dict[int, User]:
    return User.objects.select_related("managed_region").in_bulk(list(ids))


@transaction.atomic
def sentiment_set_many(*, drafts: Sequence[SentimentDraft], source: str = SOURCE) -> int:
    """The bulk form of ``health.services.sentiment_set`` for loading review history (the demo, a move from another
    tool): each review at its own time, with its timeline note and audit event, checked and refused as one would
    be. The accounts are NOT rescored here: the caller recomputes once (``health_recompute_all``). Returns how many
    reviews were written."""
    if not drafts:
        return 0
    accounts = Account.objects.in_bulk(sorted({d.account_id for d in drafts}))
    people = _people({d.set_by_id for d in drafts})
    errors: dict[str, list[str]] = {}
    for i, d in enumerate(drafts):
        account, person = accounts.get(d.account_id), people.get(d.set_by_id)
        if account is None or person is None or not policy.can_set_sentiment(person, account):
            raise PermissionDenied(f"Review {i}: only the account's TAM, its region's manager and admins set it.")
        if d.color not in HealthColor.values:
            errors.setdefault(f"{i}.color", []).append(f"Choose one of: {', '.join(HealthColor.values)}.")
        if not d.reason.strip() or len(d.reason) > REASON_MAX:
            errors.setdefault(f"{i}.reason", []).append(f"Say why, in at most {REASON_MAX} characters.")
        if timezone.is_naive(d.set_at) or d.set_at > timezone.now():
            errors.setdefault(f"{i}.set_at", []).append("An aware date and time, not in the future.")
    if errors:
        raise ValidationFailed(errors)
    rows = [
        Sentiment(
            account_id=d.account_id,
            color=d.color,
            reason=d.reason.strip(),
            requires_triage=d.requires_triage,
            set_by_id=d.set_by_id,
            set_at=d.set_at,
        )
        for d in drafts
    ]
    Sentiment.objects.bulk_create(rows, batch_size=1000)
    notes = []
    events = []
    for d, row in zip(drafts, rows, strict=True):
        triage = " (requires triage)" if d.requires_triage and d.color == HealthColor.YELLOW else ""
        notes.append(
            TimelineEntry(
                account_id=d.account_id,
                kind=EntryKind.NOTE,
                occurred_at=d.set_at,
                title=f"Health review: sentiment {COLOR_LABELS[d.color]}{triage}",
                notes=row.reason,
                author_id=d.set_by_id,
                created_at=d.set_at,
            )
        )
        after = {"account": d.account_id, "color": d.color, "reason": row.reason, "requires_triage": d.requires_triage}
        events.append(
            build_event(
                actor=people[d.set_by_id], obj=row, action=AuditAction.CREATE, before=None, after=after, source=source
            )
        )
    TimelineEntry.objects.bulk_create(notes, batch_size=1000)
    audit_record_many(events)
    # A review answers the "health review" task a stale one opened (by whoever wrote the account's newest review).
    newest: dict[int, SentimentDraft] = {}
    for d in drafts:
        if d.account_id not in newest or d.set_at >= newest[d.account_id].set_at:
            newest[d.account_id] = d
    by_person: dict[int, list[int]] = {}
    for d in newest.values():
        by_person.setdefault(d.set_by_id, []).append(d.account_id)
    for person_id, account_ids in sorted(by_person.items()):
        task_resolve_many(
            account_ids=account_ids,
            type=TaskType.HEALTH_REVIEW,
            reason=STALE_REASON,
            actor=people[person_id],
            source=source,
        )
    return len(rows)


@dataclass(frozen=True)
class EngagementDraft:
    """A call or meeting with the customer, logged by ``author_id`` on ``account_id``."""

    account_id: int
    kind: str
    occurred_at: dt.datetime
    title: str
    external_attendees: str
    notes: str
    author_id: int


@transaction.atomic
def engagement_log_many(*, drafts: Sequence[EngagementDraft], source: str = SOURCE) -> int:
    """Calls and meetings of the past in bulk, each audited as ``timeline_entry_create`` audits it. No rescoring
    (the caller recomputes once) and no onboarding first engagement (the demo's onboarding stories set theirs)."""
    if not drafts:
        return 0
    accounts = Account.objects.in_bulk(sorted({d.account_id for d in drafts}))
    people = _people({d.author_id for d in drafts})
    for i, d in enumerate(drafts):
        account, person = accounts.get(d.account_id), people.get(d.author_id)
        if account is None or person is None or not policy.can_log_timeline(person, account):
            raise PermissionDenied(f"Entry {i}: only the account's team, its manager and admins log calls.")
        if d.kind not in ENGAGEMENT_KINDS or not d.title.strip() or not d.external_attendees.strip():
            raise ValidationFailed({str(i): ["A call or meeting with a title and the customer's attendees."]})
        if timezone.is_naive(d.occurred_at) or d.occurred_at > timezone.now():
            raise ValidationFailed({f"{i}.occurred_at": ["An aware date and time, not in the future."]})
    now = timezone.now()
    rows = [
        TimelineEntry(
            account_id=d.account_id,
            kind=d.kind,
            occurred_at=d.occurred_at,
            title=d.title[:200],
            notes=d.notes,
            external_attendees=d.external_attendees,
            author_id=d.author_id,
            created_at=now,
        )
        for d in drafts
    ]
    TimelineEntry.objects.bulk_create(rows, batch_size=1000)
    events = []
    for d, row in zip(drafts, rows, strict=True):
        after = snapshot(row, ENTRY_FIELDS)
        after["internal_attendees"] = []
        events.append(
            build_event(
                actor=people[d.author_id], obj=row, action=AuditAction.CREATE, before=None, after=after, source=source
            )
        )
    audit_record_many(events)
    return len(rows)


# --- The story -------------------------------------------------------------------------------------------------

# (profile, share of the established TAM-managed accounts). "new": customers in their first months (not drawn).
PROFILES: list[tuple[str, float]] = [
    ("healthy", 0.585),
    ("weak_spot", 0.09),  # green overall with one weak measure: an early warning fires
    ("slipping", 0.14),  # green ten days ago, yellow now (review and usage)
    ("lingering", 0.045),  # yellow for a while
    ("data_yellow", 0.02),  # the TAM still says green; usage and calls say otherwise
    ("at_risk", 0.08),  # red review
    ("recovering", 0.04),  # red or yellow ten days ago, green now
]
WEAK_SPOTS = ("low_usage", "late_call", "urgent_ticket", "ticket_spike")
GREEN_CALL_DAYS = {1: 30, 2: 58}  # the last call of a healthy account, at most (priority cadence, domain §6)

REASONS: dict[str, list[str]] = {
    HealthColor.GREEN: [
        "Cadence calls on track; the champion is engaged and adoption keeps growing.",
        "Rolled CI out to two more teams this quarter; the sponsor is happy with the pace.",
        "EBR went well: the sponsor sees the value and asked about expanding seats.",
        "Healthy usage and no open issues; renewal expected flat or up.",
        "Security scanning is live in the production pipelines; the platform team is a reference.",
        "Steady adoption; monthly office hours are well attended.",
    ],
    HealthColor.YELLOW: [
        "The champion left; rebuilding the relationship with the new engineering lead.",
        "Usage dropped after a reorganisation; two teams paused their migration.",
        "Budget review next quarter and the value is not yet proven to finance.",
        "CI adoption is slow: most pipelines still run on the old tool.",
        "Frustrated by recent incidents; asked for a roadmap session before renewal.",
    ],
    HealthColor.RED: [
        "Evaluating a competitor ahead of the renewal.",
        "The sponsor says the rollout failed; the renewal is at risk.",
        "Repeated outages hurt trust; escalation open with Support.",
        "Budget cut: procurement asked for a quote at half the seats.",
        "No answer to three outreach attempts while usage collapses.",
    ],
}
RECOVERED = [
    "Recovery plan worked: usage back above 80% and the sponsor re-engaged.",
    "The new engineering lead is a champion; the migration restarted and CI adoption doubled.",
    "Outages fixed and the customer confirmed the renewal at the same seats.",
]
CALL_TITLES = [
    ("Cadence call", "Adoption review, open questions and next steps."),
    ("Roadmap session", "Walked through the coming releases against their priorities."),
    ("CI/CD enablement workshop", "Hands-on session with the platform team on pipelines."),
    ("Security scanning set-up", "Configured scanning for the first projects; results reviewed."),
    ("Usage review", "Went through active users by team and the teams not yet onboarded."),
    ("Renewal preparation", "Value delivered so far and the goals for the next term."),
]
RISK_CALLS = [
    ("Escalation sync", "Daily sync with the customer on the open incident."),
    ("Exec sponsor call", "Discussed the concerns behind the review with the sponsor."),
]
ROLES = ["VP Engineering", "Platform lead", "DevOps manager", "Head of Security", "Engineering director", "CTO"]
FIRST = ["Alex", "Sam", "Jordan", "Taylor", "Morgan", "Riley", "Casey", "Jamie", "Robin", "Avery", "Kim", "Lee"]
LAST = ["Meyer", "Novak", "Silva", "Okafor", "Lindgren", "Tanaka", "Dubois", "Rossi", "Walsh", "Haddad", "Ito"]


class StoryAccount(NamedTuple):
    pk: int
    crm_id: str
    name: str
    priority: int
    lifecycle: str
    customer_since: dt.date | None
    licenses: int
    tam_id: int | None
    renewal: dt.date | None
    qualifies: bool | None


@dataclass
class Story:
    """One TAM-managed account's story: a profile and what it produces."""

    account: StoryAccount
    profile: str
    variant: str = ""
    curve: UsageCurve | None = None
    sentiments: list[SentimentDraft] = field(default_factory=list)
    calls: list[EngagementDraft] = field(default_factory=list)
    tickets: list[TicketDraft] = field(default_factory=list)
    urgent_open: bool = False


@dataclass
class HealthStoryResult:
    accounts: int = 0
    usage_rows: int = 0
    tickets: int = 0
    sentiments: int = 0
    calls: int = 0
    colors: Counter[str] = field(default_factory=Counter)
    stale: int = 0
    color_changes: int = 0
    notifications: int = 0
    triage_proposals: int = 0
    cases: int = 0
    escalations: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        mix = ", ".join(f"{self.colors.get(c, 0)} {c}" for c in HealthColor.values)
        return (
            f"{self.accounts} accounts with a health story: {self.usage_rows:,} usage rows, {self.tickets} tickets, "
            f"{self.sentiments} reviews ({self.stale} stale), {self.calls} calls; scores {mix}; "
            f"{self.color_changes} color changes, {self.notifications} notifications, "
            f"{self.triage_proposals} triage proposals, {self.cases} triage cases, {self.escalations} escalations"
        )


def _weighted(rng: random.Random, items: Sequence[tuple[Any, float]]) -> Any:
    roll, acc = rng.random() * sum(w for _, w in items), 0.0
    for item, weight in items:
        acc += weight
        if roll < acc:
            return item
    return items[-1][0]


def _moment(today: dt.date, days_ago: int, rng: random.Random) -> dt.datetime:
    """A working-hours moment ``days_ago`` days before ``today`` (at least one day ago: never in the future)."""
    day = today - dt.timedelta(days=max(days_ago, 1))
    return timezone.make_aware(dt.datetime.combine(day, dt.time(rng.randint(8, 17), rng.choice([0, 15, 30, 45]))))


def _attendees(rng: random.Random) -> str:
    people = [f"{rng.choice(FIRST)} {rng.choice(LAST)} ({rng.choice(ROLES)})" for _ in range(rng.randint(1, 3))]
    return ", ".join(dict.fromkeys(people))


def story_accounts() -> list[StoryAccount]:
    """Every account of the book, in CRM id order (the order the story is drawn in)."""
    return [
        StoryAccount(*row)
        for row in Account.objects.order_by("crm_id").values_list(
            "pk",
            "crm_id",
            "name",
            "priority",
            "lifecycle_stage",
            "customer_since",
            "licenses",
            "tam_id",
            "next_renewal_date",
            "qualification__qualifies",
        )
    ]


def _open_onboardings(ids: list[int]) -> dict[int, tuple[dt.date | None, dt.date | None]]:
    from tamarind.onboarding.models import Onboarding

    return {
        account_id: (first_value, first_engagement)
        for account_id, first_value, first_engagement in Onboarding.objects.open()
        .filter(account_id__in=ids)
        .values_list("account_id", "first_value", "first_engagement")
    }


def plan_stories(accounts: Sequence[StoryAccount], *, seed: int, today: dt.date, now: dt.datetime) -> list[Story]:
    """Draw each account's story (deterministic for a seed, a day and the book)."""
    rng = random.Random(seed + 4)
    onboarding = _open_onboardings([a.pk for a in accounts])
    snapshots = _snapshot_days(today)
    story_start = snapshots[0] if snapshots else today - dt.timedelta(days=HISTORY_CUT)
    stories: list[Story] = []
    ticket_no = 0
    for a in accounts:
        age = (today - a.customer_since).days if a.customer_since else 10_000
        if a.tam_id is None:
            # Usage and tickets, but nobody to review it or call: a qualifying account waiting for its TAM, or a
            # pooled / digital customer (a lighter usage feed: see ``seed_health_story``).
            profile = "unstaffed" if a.qualifies else "digital"
        elif a.lifecycle == LifecycleStage.WILL_CHURN:
            profile = "at_risk"
        elif a.lifecycle == LifecycleStage.ONBOARDING or age < 75:
            profile = "new"
        else:
            profile = _weighted(rng, PROFILES)
        story = Story(account=a, profile=profile)
        if profile == "weak_spot":
            story.variant = rng.choice(WEAK_SPOTS)
        since = max(a.customer_since or story_start, story_start)
        _plan_usage(story, rng, since=since, today=today, onboarding=onboarding.get(a.pk))
        _plan_reviews(story, rng, today=today, age=age)
        _plan_calls(story, rng, today=today, age=age, onboarding=onboarding.get(a.pk))
        ticket_no = _plan_tickets(story, rng, now=now, seed=seed, start_no=ticket_no, age=age)
        stories.append(story)
    # The support system numbers tickets as they are opened, across its customers.
    ids = iter(sorted(t.external_id for s in stories for t in s.tickets))
    by_opening = sorted((t.opened_at, t.external_id) for s in stories for t in s.tickets)
    renumbered = {old: new for (_, old), new in zip(by_opening, ids, strict=True)}
    for story in stories:
        story.tickets = [replace(t, external_id=renumbered[t.external_id]) for t in story.tickets]
    return stories


def _plan_usage(
    story: Story,
    rng: random.Random,
    *,
    since: dt.date,
    today: dt.date,
    onboarding: tuple[dt.date | None, dt.date | None] | None,
) -> None:
    p, u = story.profile, rng.uniform
    new = story.account.customer_since is not None and story.account.customer_since >= since
    if p == "new":
        stuck = onboarding is not None and onboarding[0] is None
        # No first value yet: usage stays under the 10% that would set it (and "no first value" fires later on).
        start, end = 0.0, (u(0.03, 0.08) if stuck else u(0.25, 0.6))
        cases = (0, 0 if stuck else rng.randint(1, 2))
    elif p == "healthy" or (p == "weak_spot" and story.variant != "low_usage"):
        end = u(0.78, 0.95)
        start = end - u(0.04, 0.12)
        to = _weighted(rng, [(2, 0.25), (3, 0.4), (4, 0.35)])
        cases = (max(to - rng.randint(0, 1), 1), to)
    elif p == "digital":
        # Small customers without a TAM: most use the product well, some stall (the pooled model's triage).
        outcome = story.variant = _weighted(rng, [("green", 0.82), ("yellow", 0.13), ("red", 0.05)])
        if outcome == "green":
            start = u(0.55, 0.95)
            end, cases = start + u(-0.05, 0.05), (rng.randint(2, 3), rng.randint(2, 3))
        elif outcome == "yellow":
            start = u(0.3, 0.7)
            end, cases = start + u(-0.1, 0.03), (rng.randint(1, 2), 1)
        else:
            start = u(0.1, 0.4)
            end, cases = start - u(0.0, 0.08), (1, 0)
    elif p == "unstaffed":
        start = u(0.5, 0.9)
        end = start + u(-0.1, 0.1)
        cases = (rng.randint(1, 3), rng.randint(1, 3))
    elif p == "weak_spot":
        end = u(0.58, 0.72)
        start = end + u(-0.04, 0.04)
        cases = (rng.randint(2, 3), rng.randint(2, 3))
    elif p == "slipping":
        start = u(0.72, 0.88)
        end = start - u(0.18, 0.35)
        to = rng.randint(1, 2)
        cases = (to + 1, to)
    elif p == "lingering":
        start = u(0.5, 0.7)
        end = start - u(0.0, 0.08)
        cases = (rng.randint(1, 2), rng.randint(1, 2))
    elif p == "data_yellow":
        start, end = u(0.5, 0.65), u(0.12, 0.3)
        cases = (1, 0)
    elif p == "at_risk":
        start, end = u(0.5, 0.7), u(0.12, 0.4)
        cases = (2, rng.randint(0, 1))
    else:  # recovering
        start, end = u(0.42, 0.58), u(0.8, 0.9)
        cases = (1, 3)
    if new and p != "new":
        start = 0.0
    story.curve = UsageCurve(
        crm_id=story.account.crm_id,
        licenses=max(story.account.licenses, 1),
        since=since,
        until=today,
        util_from=max(start, 0.0),
        util_to=max(end, 0.0),
        use_cases_from=cases[0],
        use_cases_to=cases[1],
    )


def _review(story: Story, rng: random.Random, today: dt.date, days_ago: int, color: str, **kw: Any) -> None:
    reason = kw.pop("reason", None) or rng.choice(REASONS[color])
    assert story.account.tam_id is not None
    story.sentiments.append(
        SentimentDraft(
            account_id=story.account.pk,
            color=color,
            reason=reason,
            set_by_id=story.account.tam_id,
            set_at=_moment(today, days_ago, rng),
            **kw,
        )
    )


def _plan_reviews(story: Story, rng: random.Random, *, today: dt.date, age: int) -> None:
    p, r = story.profile, rng.randint
    g, y, red = HealthColor.GREEN, HealthColor.YELLOW, HealthColor.RED
    if p in ("unstaffed", "digital"):
        return
    if p == "new":
        if rng.random() < 0.5 and age > 12:
            _review(story, rng, today, r(1, max(age - 10, 1)), g)
        return
    if p in ("healthy", "weak_spot"):
        # About one in seven reviews is older than the 90 days allowed: stale, and a task opens for the TAM.
        latest = r(91, 190) if rng.random() < 0.14 else r(2, 85)
        _review(story, rng, today, latest + r(80, 140), g)
        _review(story, rng, today, latest, g)
    elif p == "slipping":
        before = r(35, 85)
        _review(story, rng, today, before + r(80, 120), g)
        _review(story, rng, today, before, g)
        _review(story, rng, today, r(1, HISTORY_CUT - 1), y, requires_triage=rng.random() < 0.4)
    elif p == "lingering":
        latest = r(95, 150) if rng.random() < 0.3 else r(20, 80)
        _review(story, rng, today, latest + r(60, 120), g)
        _review(story, rng, today, latest, y, requires_triage=rng.random() < 0.3)
    elif p == "data_yellow":
        latest = r(60, 130)
        _review(story, rng, today, latest + r(80, 120), g)
        _review(story, rng, today, latest, g)
    elif p == "at_risk":
        if rng.random() < 0.6:  # turned red in the last ten days
            before = r(20, 70)
            _review(story, rng, today, before + r(60, 100), g)
            _review(story, rng, today, before, y)
            _review(story, rng, today, r(1, HISTORY_CUT - 1), red)
        else:
            latest = r(HISTORY_CUT + 3, 50)
            _review(story, rng, today, latest + r(40, 90), y)
            _review(story, rng, today, latest, red)
    else:  # recovering
        bad = red if rng.random() < 0.5 else y
        _review(story, rng, today, r(HISTORY_CUT + 10, 60), bad)
        _review(story, rng, today, r(1, HISTORY_CUT - 3), g, reason=rng.choice(RECOVERED))


def _plan_calls(
    story: Story,
    rng: random.Random,
    *,
    today: dt.date,
    age: int,
    onboarding: tuple[dt.date | None, dt.date | None] | None,
) -> None:
    a, p, r = story.account, story.profile, rng.randint
    if a.tam_id is None:
        return
    green = GREEN_CALL_DAYS.get(a.priority, 58)
    titles = CALL_TITLES
    if p == "new":
        engaged = onboarding[1] if onboarding is not None else a.customer_since
        if engaged is None or (today - engaged).days < 1:
            return  # no kickoff yet: nothing to log
        first = (today - engaged).days
        days = [first] + ([r(1, first - 1)] if first > 14 else [])
        titles = [("Kickoff call", "Goals, success criteria and the onboarding plan."), *CALL_TITLES[:1]]
    else:
        if p == "weak_spot" and story.variant == "late_call":
            last = r(38, 58) if a.priority == 1 else r(68, 88)
        elif p == "data_yellow":
            last = r(65, 110) if a.priority == 1 else r(95, 130)
        elif p in ("at_risk", "recovering"):
            last = r(1, 10)
            titles = RISK_CALLS  # the latest call; the earlier ones were ordinary
        elif p == "lingering":
            last = r(15, 45)
        else:
            last = r(2, green)
        days = [last]
        for _ in range(r(1, 2)):
            days.append(days[-1] + r(max(green // 2, 7), green + 10))
        days = [d for d in days if d < age]
    for i, days_ago in enumerate(days):
        title, notes = titles[i] if p == "new" else rng.choice(titles if i == 0 else CALL_TITLES)
        story.calls.append(
            EngagementDraft(
                account_id=a.pk,
                kind=EntryKind.CALL if rng.random() < 0.7 else EntryKind.MEETING,
                occurred_at=_moment(today, days_ago, rng),
                title=title,
                external_attendees=_attendees(rng),
                notes=notes,
                author_id=a.tam_id,
            )
        )


def _plan_tickets(story: Story, rng: random.Random, *, now: dt.datetime, seed: int, start_no: int, age: int) -> int:
    """Tickets of the last ``TICKET_DAYS`` days: how many per 30 days by profile, a median resolution of ~2.5 days;
    an open urgent ticket for some at-risk accounts and one weak spot. Returns the next ticket number."""
    p, v, r = story.profile, story.variant, rng.randint
    per_month = {
        "healthy": (0, 3),
        "weak_spot": (8, 12) if v == "ticket_spike" else (0, 3),
        "slipping": (2, 6),
        "lingering": (1, 5),
        "data_yellow": (0, 2),
        "at_risk": (6, 18),
        "recovering": (2, 4),
        "new": (1, 4),
        "unstaffed": (0, 3),
        # A struggling small customer asks for help: with support data its usage alone does not make it red.
        "digital": (1, 2) if v == "yellow" else (0, 1),
    }[p]
    window = min(TICKET_DAYS, max(age, 1))
    n = start_no
    spans = [(0.0, min(30.0, window))] + ([(30.0, float(window))] if window > 30 else [])
    for lo, hi in spans:
        count = r(*per_month) if lo == 0 else r(0, max(per_month[0], 1))
        for _ in range(count):
            n += 1
            opened = now - dt.timedelta(days=rng.uniform(lo, hi))
            priority = _weighted(
                rng, [(TicketPriority.LOW, 0.2), (TicketPriority.NORMAL, 0.55), (TicketPriority.HIGH, 0.22)]
            )
            solved: dt.datetime | None = opened + dt.timedelta(days=rng.lognormvariate(math.log(2.5), 0.8))
            if solved is not None and solved > now:
                solved = None
            story.tickets.append(
                TicketDraft(
                    crm_id=story.account.crm_id,
                    external_id=f"SUP-{seed % 1000:03d}-{n:06d}",
                    opened_at=opened,
                    solved_at=solved,
                    priority=priority,
                    pending=solved is None and rng.random() < 0.4,
                )
            )
    urgent_open = (p == "at_risk" and rng.random() < 0.5) or (p == "weak_spot" and v == "urgent_ticket")
    if urgent_open or (p in ("healthy", "slipping") and rng.random() < 0.05):
        # An urgent ticket: still open for the accounts the story says, solved within hours for the others.
        n += 1
        opened = now - dt.timedelta(days=rng.uniform(1, min(8, window)) if urgent_open else rng.uniform(2, window))
        solved = None if urgent_open else opened + dt.timedelta(hours=rng.uniform(2, 20))
        story.tickets.append(
            TicketDraft(
                crm_id=story.account.crm_id,
                external_id=f"SUP-{seed % 1000:03d}-{n:06d}",
                opened_at=opened,
                solved_at=solved,
                priority=TicketPriority.URGENT,
            )
        )
        story.urgent_open = urgent_open
    return n


# --- Loading ----------------------------------------------------------------------------------------------------


def _snapshot_days(today: dt.date) -> list[dt.date]:
    """The month-end days reported before the daily window: the last day of each of the last months."""
    cut = today - dt.timedelta(days=HISTORY_CUT)
    out = []
    first = today.replace(day=1)
    for _ in range(SNAPSHOT_MONTHS):
        last = first - dt.timedelta(days=1)
        if last < cut:
            out.append(last)
        first = last.replace(day=1)
    return sorted(out)


def _daily_days(today: dt.date) -> list[dt.date]:
    return [today - dt.timedelta(days=d) for d in range(HISTORY_CUT, -1, -1)]


def seed_health_story(
    *,
    seed: int,
    actor: User | None = None,
    progress: ProgressFn | None = None,
) -> HealthStoryResult:
    """Load the health story of the book in the database (see the module docstring); returns what it did."""
    started = time.monotonic()
    today, now = timezone.localdate(), timezone.now()
    cut = today - dt.timedelta(days=HISTORY_CUT)
    accounts = story_accounts()
    stories = plan_stories(accounts, seed=seed, today=today, now=now)
    out = HealthStoryResult(accounts=len(stories))
    if not stories:
        return out
    metrics = demo_metrics()
    early_days = [*_snapshot_days(today), cut]
    late_days = [d for d in _daily_days(today) if d > cut]
    # Pooled and digital customers (no TAM, not qualifying) report today's usage only: their feed is lighter,
    # they get their first score today, and the demo stays quick.
    light_early: list[dt.date] = []
    light_late = [today]
    early: list[Any] = []
    late: list[Any] = []
    for s in stories:
        assert s.curve is not None
        light = s.profile == "digital"
        early.extend(usage_rows(s.curve, light_early if light else early_days, metrics, seed=seed))
        late.extend(usage_rows(s.curve, light_late if light else late_days, metrics, seed=seed + 1))
    book = Account.objects.count()
    total = len(early) + len(late) + 2 * book + MAX_CASES + 2
    sentiments = [d for s in stories for d in s.sentiments]
    calls = [d for s in stories for d in s.calls]
    tickets = [t for s in stories if s.profile != "digital" for t in s.tickets]
    light_tickets = [t for s in stories if s.profile == "digital" for t in s.tickets]
    cut_at = timezone.make_aware(dt.datetime.combine(cut, dt.time(23, 59)))

    # 1. Ten days ago.
    out.usage_rows += usage_load(actor=actor, rows=early, progress=progress, done=0, total=total).created
    tickets_load(actor=actor, drafts=tickets, at=min(cut_at, now))
    out.sentiments += sentiment_set_many(drafts=[d for d in sentiments if d.set_at <= cut_at])
    out.calls += engagement_log_many(drafts=[d for d in calls if d.occurred_at <= cut_at])
    health_recompute_all(source=SOURCE, today=cut)
    if progress is not None:
        progress(len(early) + book, total)

    # 2. The last ten days, then today's recompute and its consequences.
    out.usage_rows += usage_load(actor=actor, rows=late, progress=progress, done=len(early) + book, total=total).created
    tickets_load(actor=actor, drafts=tickets, at=now, since=min(cut_at, now))
    tickets_load(actor=actor, drafts=light_tickets, at=now)  # with their usage: first scored today
    out.tickets = len(tickets) + len(light_tickets)
    out.sentiments += sentiment_set_many(drafts=[d for d in sentiments if d.set_at > cut_at])
    out.calls += engagement_log_many(drafts=[d for d in calls if d.occurred_at > cut_at])
    run = health_recompute_all(source=SOURCE)
    out.color_changes, out.notifications = len(run.color_changes), run.notifications
    if progress is not None:
        progress(len(early) + len(late) + 2 * book, total)

    # 3. The triage board: some proposals taken up by their TAMs.
    cases = plan_cases(stories, seed=seed)
    done = len(early) + len(late) + 2 * book
    triage = triage_demo_cases(
        cases=cases, progress=(lambda n, _: progress(done + n, total)) if progress is not None else None
    )
    out.cases, out.escalations = triage.cases, triage.escalations
    if progress is not None and len(cases) < MAX_CASES + 2:
        progress(total, total)
    out.triage_proposals = Task.objects.filter(type=TaskType.TRIAGE_REVIEW).count()
    out.colors = Counter(
        HealthScore.objects.filter(account_id__in=[s.account.pk for s in stories])
        .exclude(color="")
        .values_list("color", flat=True)
    )
    out.stale = HealthScore.objects.filter(stale=True).count()
    out.seconds = time.monotonic() - started
    return out


# --- Triage -----------------------------------------------------------------------------------------------------

# Per column: the fewest days a case there has been open, days since its last update, next steps, updates.
CASE_PATTERNS: dict[str, tuple[int, int, tuple[DemoStep, ...], tuple[str, ...]]] = {
    CaseStatus.NEW: (1, 1, (DemoStep("First call with the sponsor to hear the concerns", 3),), ()),
    CaseStatus.INVESTIGATING: (
        4,
        3,
        (
            DemoStep("Pull active users by team from the usage page", -2, done=True),
            DemoStep("Call with the champion to understand the drop", 2),
        ),
        ("Usage fell in two business units after their reorganisation; meeting the new leads.",),
    ),
    CaseStatus.ACTION_PLAN: (
        8,
        5,
        (
            DemoStep("Agree a recovery plan with the SAL and the sponsor", -6, done=True),
            DemoStep("CI/CD enablement workshop for the platform team", 5),
            DemoStep("Exec sponsor check-in on the plan", 21),
        ),
        ("Plan agreed: enablement for the teams that stalled, weekly check-ins until usage recovers.",),
    ),
    CaseStatus.MONITORING: (
        16,
        8,
        (
            DemoStep("Fix the pipeline failures with Support", -12, done=True),
            DemoStep("Workshop for the teams that paused", -5, done=True),
            DemoStep("Check utilization is back above 75%", 14),
        ),
        ("Incidents closed; the sponsor confirmed the teams are back on the platform.",),
    ),
}
# Cases nobody updated in time: red ones every 14 days, yellow every 30 (triage settings).
OVERDUE_DAYS: dict[str, int] = {HealthColor.RED: 18, HealthColor.YELLOW: 36}


def _risk(story: Story, rng: random.Random) -> dict[str, Any]:
    if story.profile == "at_risk":
        if story.urgent_open:
            reason, kind = RiskReason.PRODUCT_QUALITY, RiskType.CUSTOMER_CHURN
        else:
            reason, kind = rng.choice(
                [
                    (RiskReason.COMPETITION, RiskType.COMPETITOR),
                    (RiskReason.LOSS_OF_BUDGET, RiskType.SEAT_CHURN),
                    (RiskReason.LACK_OF_ADOPTION, RiskType.TIER_DOWNGRADE),
                    (RiskReason.PRODUCT_VALUE, RiskType.CUSTOMER_CHURN),
                ]
            )
        classification = Classification.UNEXPECTED_AVOIDABLE
    else:
        reason = rng.choice([RiskReason.LACK_OF_ADOPTION, RiskReason.LACK_OF_ENGAGEMENT])
        kind = RiskType.SEAT_CHURN if reason == RiskReason.LACK_OF_ADOPTION else RiskType.SENTIMENT
        classification = Classification.EXPECTED_AVOIDABLE
    latest = story.sentiments[-1].reason if story.sentiments else ""
    return {
        "risk_type": kind,
        "risk_reason": reason,
        "classification": classification,
        "summary": latest,
    }


def _case_for_an_onboarding_tam(chosen: list[Story], at_risk: Sequence[Story], *, keep: set[int]) -> None:
    """Make sure a TAM with an onboarding under way has one of the cases (when one has an account due for triage):
    ``tamarind logins`` prints first the TAMs whose book shows the most, and that book should have a triage case
    to open. Swaps the last case not in ``keep`` for one of that TAM's (the TAM with the most accounts due)."""
    from tamarind.onboarding.models import Onboarding

    onboarding_tams = set(Onboarding.objects.open().filter(tam__isnull=False).values_list("tam_id", flat=True))
    if any(s.account.tam_id in onboarding_tams for s in chosen):
        return
    candidates = [s for s in at_risk if s.account.tam_id in onboarding_tams and s not in chosen]
    if not candidates:
        return
    book = Counter(s.account.tam_id for s in at_risk)
    pick = min(candidates, key=lambda s: (-book[s.account.tam_id], s.account.crm_id))
    swappable = [i for i, s in enumerate(chosen) if s.account.pk not in keep]
    if swappable and len(chosen) >= MAX_CASES:
        chosen[swappable[-1]] = pick
    else:
        chosen.append(pick)


def plan_cases(stories: Sequence[Story], *, seed: int) -> list[DemoCase]:
    """Turn some of today's triage proposals into cases across the board's columns (a third of them, at most
    ``MAX_CASES``), two of them overdue and two with an escalation; close one won back (a recovered account) and
    one lost (a customer that will churn)."""
    rng = random.Random(seed + 5)
    proposed = set(
        Task.objects.filter(type=TaskType.TRIAGE_REVIEW, status=TaskStatus.OPEN).values_list("account_id", flat=True)
    )
    colors = dict(
        HealthScore.objects.filter(account_id__in=[s.account.pk for s in stories]).values_list("account_id", "color")
    )
    at_risk = [
        s
        for s in stories
        if s.account.pk in proposed
        and s.account.tam_id is not None
        and s.profile != "recovering"
        and s.account.lifecycle != LifecycleStage.WILL_CHURN
    ]
    today = timezone.localdate()

    def due_for(s: Story) -> int:
        """Days since the account became due for triage: since the review that made it red (or yellow "requires
        triage"). A case is opened after that, never before."""
        return max((today - timezone.localdate(s.sentiments[-1].set_at)).days if s.sentiments else 30, 1)

    # One case of each color that nobody updated in time (when the book has an account due long enough).
    late_ones = []
    for color, days in sorted(OVERDUE_DAYS.items()):
        eligible = [s for s in at_risk if colors.get(s.account.pk) == color and due_for(s) > days + 1]
        if eligible:
            late_ones.append(rng.choice(eligible))
    late_ids = {s.account.pk for s in late_ones}
    n_open = min(len(at_risk), MAX_CASES, max(2, round(len(at_risk) / 3)))
    rest = [s for s in at_risk if s.account.pk not in late_ids]
    chosen = late_ones + rng.sample(rest, max(min(n_open - len(late_ones), len(rest)), 0))
    _case_for_an_onboarding_tam(chosen, at_risk, keep=late_ids)
    # The critical escalation goes to a customer with an open urgent ticket when there is one.
    chosen.sort(key=lambda s: (not s.urgent_open, s.account.crm_id))
    cases: list[DemoCase] = []
    in_column: Counter[str] = Counter()
    escalations = 0
    for s in chosen:
        age = due_for(s)
        allowed = [status for status, pattern in CASE_PATTERNS.items() if pattern[0] <= age]
        if s.account.pk in late_ids:
            allowed = [status for status in allowed if status != CaseStatus.NEW]
        status = min(allowed, key=lambda c: (in_column[c], -list(CASE_PATTERNS).index(c)))
        in_column[status] += 1
        least_open, updated, steps, notes = CASE_PATTERNS[status]
        opened = rng.randint(least_open, min(age, least_open + 20))
        if s.account.pk in late_ids:
            late = OVERDUE_DAYS[colors[s.account.pk]]
            opened, updated = rng.randint(late + 1, min(age, late + 20)), late
        escalation = None
        if escalations < 2 and s.profile == "at_risk" and status != CaseStatus.NEW:
            escalations += 1
            escalation = (
                DemoEscalation(
                    "Pipelines failing after the upgrade",
                    Severity.CRITICAL,
                    "Builds fail for most projects since the upgrade; an urgent ticket is open with Support.",
                    updated_days_ago=2,
                )
                if escalations == 1
                else DemoEscalation(
                    "Security scan findings block the rollout",
                    Severity.HIGH,
                    "The customer's security team stopped the rollout until the findings are triaged.",
                    updated_days_ago=1,
                )
            )
        cases.append(
            DemoCase(
                account_id=s.account.pk,
                status=status,
                open_data=_risk(s, rng),
                steps=tuple(
                    DemoStep(st.text, max(st.due_in_days, 1 - opened) if st.due_in_days is not None else None, st.done)
                    for st in steps
                ),
                notes=notes,
                escalation=escalation,
                opened_days_ago=opened,
                updated_days_ago=min(updated, opened - 1) if opened > 1 else 0,
            )
        )
    recovered = [s for s in stories if s.profile == "recovering"]
    if recovered:
        s = rng.choice(recovered)
        cases.append(
            DemoCase(
                account_id=s.account.pk,
                status=CaseStatus.CLOSED,
                open_data={**_risk(s, rng), "health_color": HealthColor.RED, "summary": s.sentiments[0].reason},
                steps=(
                    DemoStep("Recovery plan with the sponsor", -30, done=True),
                    DemoStep("Enablement for the stalled teams", -18, done=True),
                ),
                outcome=Outcome.WON_BACK,
                close_note="Health is green again and the customer renews at the same ARR.",
                opened_days_ago=45,
                updated_days_ago=2,
            )
        )
    churning = [s for s in stories if s.account.lifecycle == LifecycleStage.WILL_CHURN and s.account.tam_id]
    if churning:
        s = rng.choice(churning)
        cases.append(
            DemoCase(
                account_id=s.account.pk,
                status=CaseStatus.CLOSED,
                open_data={
                    **_risk(s, rng),
                    "risk_type": RiskType.CUSTOMER_CHURN,
                    "risk_reason": RiskReason.CORPORATE_DECISION,
                },
                steps=(DemoStep("Exec-to-exec call to understand the decision", -20, done=True),),
                outcome=Outcome.LOST_CHURN,
                close_note="Corporate decision to consolidate on another vendor; the customer will not renew.",
                opened_days_ago=40,
                updated_days_ago=6,
            )
        )
    return cases
