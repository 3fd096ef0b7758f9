"""The indicators' SQL twins (``dashboards.indicator_sql``, over the facts the recompute stores with each score)
fire for exactly the accounts their Python indicators (``dashboards.indicators.evaluate``) fire for when judged
from the live data those facts come from (usage rollups, tickets, the timeline, onboarding, triage: ``live_signals``
below): a seeded book of accounts whose facts sit on and around every threshold, judged both ways, on SQLite and
PostgreSQL alike. And the page's signals (``health_selectors.account_signals``, from the stored facts) are the live
ones."""

import datetime as dt
import random
from decimal import Decimal

import pytest
from django.db.models import Max
from django.utils import timezone

from tamarind.accounts.models import Account, LifecycleStage
from tamarind.dashboards import health_selectors as hs
from tamarind.dashboards import indicator_sql, indicators
from tamarind.health.models import HealthScore
from tamarind.health.services import health_recompute_accounts
from tamarind.onboarding.models import OPEN_STATUSES, Onboarding, OnboardingStatus
from tamarind.surveys.models import SurveyAnswer, SurveyInvitation
from tamarind.testing.factories import AccountFactory, ContactFactory
from tamarind.timeline.models import ENGAGEMENT_KINDS, TimelineEntry
from tamarind.triage.models import TriageCase
from tamarind.usage.rows import TicketRow, UsageRow
from tamarind.usage.selectors import usage_facts
from tamarind.usage.services import tickets_ingest, usage_ingest_daily

pytestmark = pytest.mark.django_db


def month_start(day, back=0):
    index = day.year * 12 + day.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


def seed_account(rng, book, now, number, usage, tickets):
    """One account with facts drawn on and around each indicator's threshold (usage and ticket rows are collected
    in ``usage`` / ``tickets`` for one ingest of the whole book, through the services that keep the rollups)."""
    today = timezone.localdate(now)
    account = AccountFactory(
        region=book.east,
        tam=book.tam,
        arr=Decimal(rng.choice([1000, 2500, 70_000])),
        lifecycle_stage=rng.choice([LifecycleStage.ADOPTION, LifecycleStage.OPTIMIZE_GROW, LifecycleStage.ONBOARDING]),
        priority=rng.choice([1, 2, 3, 4]),
        customer_since=rng.choice([None, today - dt.timedelta(days=rng.choice([20, 30, 31, 60, 61, 400]))]),
        licenses=rng.choice([0, 10, 100]),
        next_renewal_date=rng.choice([None, today - dt.timedelta(days=1), today, today + dt.timedelta(days=150),
                                      indicators.add_months(today, 6), indicators.add_months(today, 6) + dt.timedelta(days=1)]),
    )  # fmt: skip
    # Usage: the latest month is this one or the last; the previous month may be missing (a gap).
    if rng.random() < 0.8:
        latest = month_start(today, rng.choice([0, 1]))
        months = [latest]
        if rng.random() < 0.7:
            months.append(month_start(latest, rng.choice([1, 1, 1, 2])))
        for month in months:
            for key in rng.sample(["active_users", "licenses", "ci_users"], rng.randint(1, 3)):
                usage.append(UsageRow(account.crm_id, month, key, rng.choice([0, 5, 74, 75, 76, 100])))
    # Tickets: a few within the 30-day window or just outside it.
    for i in range(rng.choice([0, 0, 2, 5, 6, 7])):
        opened = now - dt.timedelta(days=rng.choice([1, 29, 31]), minutes=5)
        status = rng.choice(["open", "pending", "solved", "closed"])
        closed = opened + dt.timedelta(hours=1) if status in ("solved", "closed") else None
        priority = rng.choice(["urgent", "normal", "normal", "low"])
        tickets.append(TicketRow(account.crm_id, f"T{number}-{i}", opened, closed, priority, status))
    for days in rng.sample([0, 29, 30, 31, 59, 60, 61, 90], rng.choice([0, 1, 2])):
        TimelineEntry.objects.create(
            account=account,
            kind=rng.choice(["call", "meeting", "email"]),
            title="Touch",
            occurred_at=timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=days), dt.time(hour=9))),
        )
    if rng.random() < 0.5:
        Onboarding.objects.create(
            account=account,
            status=rng.choice([OnboardingStatus.IN_PROGRESS, OnboardingStatus.NOT_STARTED, OnboardingStatus.SCHEDULED]),
            contract_start=rng.choice([None, today - dt.timedelta(days=rng.choice([10, 30, 31, 90]))]),
            first_value=rng.choice([None, None, today - dt.timedelta(days=2)]),
        )
    if rng.random() < 0.4:
        TriageCase.objects.create(
            account=account,
            health_color=rng.choice(["red", "yellow", ""]),
            last_update_at=timezone.make_aware(
                dt.datetime.combine(today - dt.timedelta(days=rng.choice([3, 14, 15, 30, 31])), dt.time(hour=12))
            ),
        )
    # Survey answers on and around the window (90 days) and the poor limits (NPS 6, CSAT 2), drawn from their own
    # generator so the other facts stay what they were for each seed.
    rng = random.Random(f"surveys-{number}-{rng.random()}")
    for days in rng.sample([0, 1, 89, 90, 91, 200], rng.choice([0, 0, 1, 2])):
        kind = rng.choice(["nps", "csat"])
        score = rng.choice([0, 6, 7, 10] if kind == "nps" else [1, 2, 3, 5])
        contact = ContactFactory(account=account)
        invitation = SurveyInvitation.objects.create(contact=contact, account=account, kind=kind, created_at=now)
        at = timezone.make_aware(
            dt.datetime.combine(today - dt.timedelta(days=days), dt.time(hour=rng.choice([0, 12, 23])))
        )
        SurveyAnswer.objects.create(
            invitation=invitation, account=account, kind=kind, score=score, answered_at=at, updated_at=at
        )
    return account


def seed_book(book, seed, now, *, count=60, prefix=""):
    """``count`` accounts in east with facts around every threshold (``prefix`` keeps ticket ids apart), scored by
    the recompute (which stores the indicators' facts), then given a color of any kind."""
    rng = random.Random(seed)
    usage, tickets = [], []
    accounts = [seed_account(rng, book, now, f"{prefix}{number}", usage, tickets) for number in range(count)]
    usage_ingest_daily(actor=book.admin, rows=usage, source="test")
    tickets_ingest(actor=book.admin, rows=tickets, source="test")
    # The calls, onboarding and triage above went straight to the tables: rescore so the stored facts see them.
    health_recompute_accounts(account_ids=[a.pk for a in accounts], source="test")
    for account in accounts:  # the score's color last, whatever the measures said
        color = rng.choice(["", "green", "yellow", "red"])
        HealthScore.objects.filter(account=account).update(color=color, score=50 if color else None)


def live_signals(accounts, *, now):
    """The indicators' inputs read from where they live (the usage rollups and tickets through ``usage_facts``, the
    timeline, onboarding and triage): what the stored facts must agree with."""
    ids = [a.pk for a in accounts]
    facts = usage_facts(ids, now=now)
    onboarding = {
        row["account_id"]: row
        for row in Onboarding.objects.filter(account_id__in=ids, status__in=OPEN_STATUSES).values(
            "account_id", "contract_start", "first_value"
        )
    }
    engaged = dict(
        TimelineEntry.objects.filter(account_id__in=ids, kind__in=ENGAGEMENT_KINDS)
        .values("account_id")
        .annotate(last=Max("occurred_at"))
        .order_by()
        .values_list("account_id", "last")
    )
    cases = {
        row["account_id"]: row
        for row in TriageCase.objects.open()
        .filter(account_id__in=ids)
        .values("account_id", "health_color", "last_update_at")
    }
    from tamarind.success.selectors import success_signals

    plans, ebrs = success_signals(ids)
    answers: dict[int, list] = {}
    lookback = now - dt.timedelta(days=indicators.SURVEY_LOOKBACK_DAYS + 1)
    for answer in SurveyAnswer.objects.filter(account_id__in=ids, answered_at__gte=lookback).order_by(
        "answered_at", "pk"
    ):
        answers.setdefault(answer.account_id, []).append(
            (timezone.localdate(answer.answered_at), answer.kind, answer.score)
        )
    out = {}
    for a in accounts:
        f, o, c = facts.get(a.pk), onboarding.get(a.pk), cases.get(a.pk)
        health = getattr(a, "health", None)
        out[a.pk] = indicators.Signals(
            priority=a.priority,
            lifecycle_stage=a.lifecycle_stage,
            customer_since=a.customer_since,
            licenses=f.licenses if f and f.usage_updated_at else None,
            active_users=f.active_users if f and f.usage_updated_at else None,
            active_users_prev=f.active_users_prev if f and f.usage_updated_at else None,
            onboarding_open=o is not None,
            contract_start=o["contract_start"] if o else None,
            first_value=o["first_value"] if o else None,
            last_engagement=timezone.localdate(engaged[a.pk]) if a.pk in engaged else None,
            tickets_last_30d=f.tickets_last_30d if f and f.tickets_updated_at else None,
            open_urgent_tickets=f.open_urgent_tickets if f else 0,
            next_renewal_date=a.next_renewal_date,
            health_color=(health.color or None) if health else None,
            # A case follows its account's color now; an unscored account's case the color it opened with.
            triage_color=((health.color if health else "") or c["health_color"]) if c else None,
            triage_last_update=timezone.localdate(c["last_update_at"]) if c else None,
            success_plan=plans.get(a.pk, "none"),
            ebr_known=True,
            last_ebr=ebrs.get(a.pk),
            survey_answers=tuple(answers.get(a.pk, ())),
        )
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_each_twin_fires_for_exactly_the_accounts_its_indicator_fires_for(book, seed):
    now = timezone.now()
    today = timezone.localdate(now)
    seed_book(book, seed, now)
    limits = hs.thresholds(hs.live_version().spec())
    accounts = list(Account.objects.filter(region=book.east).select_related("health").order_by("pk"))
    live = live_signals(accounts, now=now)
    expected = {a.pk: {f.key for f in indicators.evaluate(live[a.pk], limits, today=today)} for a in accounts}
    fired = set().union(*expected.values())
    assert len(fired) >= 6, fired  # the seeded book makes most indicators fire somewhere
    assert "poor_survey" in fired
    for key in indicator_sql.TWINS:
        q = indicator_sql.indicator_q(key, limits, today=today, now=now)
        chosen = set(Account.objects.filter(region=book.east).filter(q).values_list("pk", flat=True))
        assert chosen == {pk for pk, keys in expected.items() if key in keys}, key
    # What the page shows of each account (what fired and why) comes from the stored facts: the live ones.
    assert hs.account_signals(accounts) == live


def test_later_days_need_no_rescore(book):
    """The day-dependent twins decide from stored dates: judged on a later day without a recompute, the twins
    still agree with the indicators judged from the live data on that day."""
    now = timezone.now()
    seed_book(book, 5, now)
    limits = hs.thresholds(hs.live_version().spec())
    accounts = list(Account.objects.filter(region=book.east).select_related("health").order_by("pk"))
    for days in (1, 7, 31):
        later, day = now + dt.timedelta(days=days), timezone.localdate(now) + dt.timedelta(days=days)
        live = live_signals(accounts, now=now)  # the facts as stored; the tickets' window is the hourly run's
        for key in ("no_call", "renewal_at_risk", "no_first_value", "stalled_triage"):
            q = indicator_sql.indicator_q(key, limits, today=day, now=later)
            chosen = set(Account.objects.filter(region=book.east).filter(q).values_list("pk", flat=True))
            assert chosen == {
                a.pk for a in accounts if key in {f.key for f in indicators.evaluate(live[a.pk], limits, today=day)}
            }, (key, days)


def test_thresholds_move_the_twins(book):
    now = timezone.now()
    today = timezone.localdate(now)
    account = AccountFactory(region=book.east, priority=1, customer_since=today - dt.timedelta(days=45))
    limits = hs.thresholds(hs.live_version().spec())

    def q(t):
        return Account.objects.filter(pk=account.pk).filter(
            indicator_sql.indicator_q("no_call", t, today=today, now=now)
        )

    assert q(limits).exists()  # 45 days without a call, priority 1 every 30
    relaxed = indicators.Thresholds(**{**limits.__dict__, "cadence_days": {1: 60, 2: 90}})
    assert not q(relaxed).exists()


def test_totals_count_accounts_and_arr_per_indicator_and_any(book):
    now = timezone.now()
    today = timezone.localdate(now)
    seed_book(book, 4, now)
    limits = hs.thresholds(hs.live_version().spec())
    accounts = hs.health_accounts(book.admin, hs.HealthFilters())
    listed = list(accounts.select_related("health").order_by("pk"))
    signals = live_signals(listed, now=now)
    fired = {a.pk: {f.key for f in indicators.evaluate(signals[a.pk], limits, today=today)} for a in listed}
    arr = {a.pk: a.arr or Decimal(0) for a in listed}
    found, base = hs.widget_indicator_totals(accounts, limits, today=today, now=now)
    totals = {t.key: t for t in found}
    assert base == len(listed)
    assert list(totals) == [key for key, _, _ in indicators.INDICATORS] + ["any"]
    for key in indicator_sql.TWINS:
        ids = [pk for pk, keys in fired.items() if key in keys]
        assert (totals[key].accounts, totals[key].arr) == (len(ids), sum((arr[pk] for pk in ids), Decimal(0))), key
    anyone = [pk for pk, keys in fired.items() if keys]
    assert totals["any"].accounts == len(anyone) and totals["any"].arr == sum(arr[pk] for pk in anyone)
    assert totals["any"].label == "Any indicator"
