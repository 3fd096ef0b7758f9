"""Reading stuck-customer triage: the pooled accounts and their facts (for the sweep, in a fixed number of
queries), the enabled rules, the queue (scoped by the policy), one case (the gated fetch) and the headline
metric (how many cases got unstuck within 30 days of opening)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Q
from django.http import Http404

from tamarind import policy
from tamarind.accounts.models import Account
from tamarind.onboarding.models import Onboarding, OnboardingStatus
from tamarind.people.models import User
from tamarind.servicedesk.models import Pool, PoolMember, ServiceRequest
from tamarind.stuck import rules
from tamarind.stuck.models import UNSTUCK_WITHIN_DAYS, CaseStatus, StuckCase, StuckRule
from tamarind.timeline.models import TimelineEntry
from tamarind.usage.models import SupportTicket

logger = logging.getLogger(__name__)


def enabled_rules() -> list[rules.RuleSpec]:
    return [r.spec() for r in StuckRule.objects.filter(enabled=True).order_by("position", "key")]


def all_rules() -> list[StuckRule]:
    return list(StuckRule.objects.order_by("position", "key"))


def rule_for_user(user: User, rule_id: int | str, *, write: bool = False) -> StuckRule:
    """The one permission-gated fetch of a rule: the rules are read by everyone who sees the queue (403 for the
    others) and changed by admins (403 when ``write``); 404 for an id that is no rule."""
    if not policy.can_view_stuck(user):
        raise PermissionDenied("The stuck-customer rules are for TAMs, managers, directors and admins.")
    try:
        pk = int(rule_id)
    except (TypeError, ValueError):
        raise Http404("No such stuck rule.") from None
    rule = StuckRule.objects.filter(pk=pk).first() if 0 < pk < 2**63 else None
    if rule is None:
        raise Http404("No such stuck rule.")
    if write and not policy.can_edit_rules(user):
        raise PermissionDenied("Only admins change the stuck-customer rules.")
    return rule


def rule_params(rule: StuckRule) -> list[dict[str, Any]]:
    """The rule's thresholds as the editor shows them: name, value, allowed range and default (from ``PARAMS``)."""
    current = dict(rule.params or {})
    return [
        {"name": name, "value": current.get(name, default), "low": low, "high": high, "default": default}
        for name, (low, high, default) in rules.PARAMS.get(rule.kind, {}).items()
    ]


def pooled_accounts() -> dict[int, int]:
    """Every pooled account -> the pool serving it: the first active pool (by name) of the account's engagement
    model whose criteria it meets (as ``servicedesk.services.pool_for_account`` decides). Two queries."""
    from tamarind.assignment.rules import RuleError
    from tamarind.engagement.placement import ModelRule, matches, parse_criteria
    from tamarind.engagement.selectors import FACT_COLUMNS, fact_rows, facts_of_row

    model_column = 1 + FACT_COLUMNS.index("engagement_model")
    pools = list(Pool.objects.filter(is_active=True).order_by("name", "pk"))
    if not pools:
        return {}
    by_model: dict[str, list[tuple[int, ModelRule]]] = {}
    for p in pools:
        try:
            crit = parse_criteria(p.criteria or {"match": "all", "conditions": []})
        except RuleError:
            logger.warning("Pool %s has invalid criteria; the stuck sweep skips it.", p.pk)
            continue
        by_model.setdefault(p.engagement_model, []).append((p.pk, ModelRule(str(p.pk), None, crit)))
    out: dict[int, int] = {}
    for row in fact_rows(Q(engagement_model__in=sorted(by_model))):
        facts = facts_of_row(row)
        for pool_id, rule in by_model.get(row[model_column], []):
            if matches(rule, facts):
                out[row[0]] = pool_id
                break
    return out


def stuck_facts(account_ids: list[int], *, now: dt.datetime) -> dict[int, rules.StuckFacts]:
    """``StuckFacts`` of the given accounts, from five queries however many: the stored health facts (latest usage
    month's licenses and active users, the last call or meeting) with the usage state, the onboardings, the last
    Service Desk requests, the support tickets of the last 60 days and the survey answers of the last year."""
    from django.utils import timezone

    ids = sorted(set(account_ids))
    if not ids:
        return {}
    today = timezone.localdate(now)
    base = Account.objects.filter(pk__in=ids)
    rows = base.values_list(
        "pk",
        "customer_since",
        "licenses",
        "health__licenses",
        "health__active_users",
        "health__engaged_on",
        "usage_state__last_day",
        "usage_state__tickets_updated_at",
    )
    # Per account: (contract start, first value, experience score, open?) of its open onboarding, else of its
    # newest completed one (rows come oldest first).
    onboarding: dict[int, tuple[dt.date | None, dt.date | None, int | None, bool]] = {}
    ordered = Onboarding.objects.filter(account_id__in=ids).order_by("account_id", "created_at", "id")
    for account_id, status, start, value, score in ordered.values_list(
        "account_id", "status", "contract_start", "first_value", "experience_score"
    ):
        is_open = status != OnboardingStatus.COMPLETED
        held = onboarding.get(account_id)
        if held is None or is_open or not held[3]:
            onboarding[account_id] = (start, value, score, is_open)
    last_request = dict(
        ServiceRequest.objects.filter(account_id__in=ids)
        .values("account_id")
        .annotate(last=Max("created_at"))
        .order_by()
        .values_list("account_id", "last")
    )
    cut = now - dt.timedelta(days=30)
    tickets = {
        account_id: (last, prev)
        for account_id, last, prev in SupportTicket.objects.filter(
            account_id__in=ids, opened_at__gte=now - dt.timedelta(days=60), opened_at__lte=now
        )
        .values("account_id")
        .annotate(last=Count("pk", filter=Q(opened_at__gt=cut)), prev=Count("pk", filter=Q(opened_at__lte=cut)))
        .order_by()
        .values_list("account_id", "last", "prev")
    }
    # The survey answers of the look-back window, to be judged against each rule's own window and limits.
    from tamarind.surveys.models import SurveyAnswer

    surveys: dict[int, list[tuple[dt.date, str, int]]] = {}
    for account_id, answered_at, kind, score in (
        SurveyAnswer.objects.filter(
            account_id__in=ids, answered_at__gte=now - dt.timedelta(days=rules.SURVEY_LOOKBACK_DAYS + 1)
        )
        .order_by("account_id", "answered_at", "pk")
        .values_list("account_id", "answered_at", "kind", "score")
    ):
        surveys.setdefault(account_id, []).append((timezone.localdate(answered_at), kind, score))
    out: dict[int, rules.StuckFacts] = {}
    for pk, since, account_licenses, licenses, active, engaged_on, usage_day, tickets_at in rows:
        start, first_value, score, _ = onboarding.get(pk, (None, None, None, False))
        activity = [d for d in (engaged_on, usage_day if active else None) if d is not None]
        if pk in last_request:
            activity.append(timezone.localdate(last_request[pk]))
        last, prev = tickets.get(pk, (0, 0))
        out[pk] = rules.StuckFacts(
            contract_start=start or since,
            licenses=licenses if licenses is not None else (account_licenses or None),
            active_users=active,
            first_value=first_value,
            onboarding_score=score,
            last_activity=min(max(activity), today) if activity else None,
            tickets_30d=last if tickets_at is not None or last or prev else None,
            tickets_prev_30d=prev if tickets_at is not None or last or prev else None,
            survey_answers=tuple(surveys.get(pk, ())),
        )
    return out


# --- The queue -------------------------------------------------------------------------------------------------


def _scoped(user: User) -> Any:
    qs = StuckCase.objects.all()
    scope = policy.stuck_case_scope(user)
    if scope is not None:
        qs = qs.filter(pk__in=StuckCase.objects.filter(scope).values("pk"))
    return qs


def _member_ids(cases: list[StuckCase]) -> None:
    """Give each case its pool's member ids (for ``policy.can_work_stuck_case``) from one query."""
    pools = {c.pool_id for c in cases if c.pool_id is not None}
    ids: dict[int, set[int]] = {p: set() for p in pools}
    if pools:
        for pool_id, tam_id in PoolMember.objects.filter(pool_id__in=pools).values_list("pool_id", "tam_id"):
            ids[pool_id].add(tam_id)
    for c in cases:
        c.pool_member_ids = ids.get(c.pool_id, set()) if c.pool_id is not None else set()  # type: ignore[attr-defined]


@dataclass(frozen=True)
class QueueFilters:
    status: str = ""
    rule: str = ""
    pool: int | None = None

    @classmethod
    def from_params(cls, params: Any) -> QueueFilters:
        """Unknown values are ignored (the queue shows unfiltered), never a 500."""
        status = params.get("status", "")
        status = status if status in CaseStatus.values or status == "unresolved" else ""
        rule = str(params.get("rule", ""))[:50]
        pool_raw = str(params.get("pool", ""))
        pool = int(pool_raw) if pool_raw.isdigit() and len(pool_raw) < 19 else None
        return cls(status=status, rule=rule, pool=pool)


def queue(*, user: User, filters: QueueFilters) -> Any:
    """The cases ``user`` may read, filtered: unresolved first (open before claimed), oldest first; then resolved,
    newest first. A queryset (the API pages it); ``with_members`` gives a page the pool members."""
    qs = _scoped(user).select_related("account", "pool", "claimed_by")
    if filters.status == "unresolved":
        qs = qs.filter(status__in=[CaseStatus.OPEN, CaseStatus.CLAIMED])
    elif filters.status:
        qs = qs.filter(status=filters.status)
    if filters.rule:
        # ``reasons`` is a list of objects; a JSON "contains" is not portable to SQLite, so match the key's text.
        qs = qs.filter(reasons__icontains=f'"rule": "{filters.rule}"')
    if filters.pool is not None:
        qs = qs.filter(pool_id=filters.pool)
    return qs.order_by("status", "opened_at", "id")


def with_members(cases: list[StuckCase]) -> list[StuckCase]:
    _member_ids(cases)
    return cases


def case_for_user(user: User, case_id: int | str, *, write: bool = False) -> StuckCase:
    """The one permission-gated fetch: 404 out of scope, 403 when ``write`` and not allowed to work it."""
    try:
        pk = int(case_id)
    except (TypeError, ValueError):
        raise Http404("No such stuck case.") from None
    if not 0 < pk < 2**63:
        raise Http404("No such stuck case.")
    case = (
        _scoped(user)
        .select_related("account", "account__region", "pool", "pool__manager", "claimed_by", "resolved_by")
        .filter(pk=pk)
        .first()
    )
    if case is None:
        raise Http404("No such stuck case.")
    _member_ids([case])
    if write and not policy.can_work_stuck_case(user, case):
        raise PermissionDenied("You may read this case but not work it.")
    return case


def outreach(case: StuckCase) -> list[TimelineEntry]:
    """The account's timeline entries since the case opened (the outreach logged on it among them)."""
    return list(
        TimelineEntry.objects.filter(account_id=case.account_id, occurred_at__gte=case.opened_at)
        .select_related("author")
        .order_by("-occurred_at", "-id")[:50]
    )


def pools_for_filter(user: User) -> list[Pool]:
    return list(Pool.objects.filter(pk__in=_scoped(user).values("pool_id")).order_by("name"))


@dataclass(frozen=True)
class StuckMetrics:
    """Of the cases opened in the last ``days`` days: how many, how many got unstuck within 30 days of opening,
    and how many are younger than 30 days and not unstuck yet (still in their window)."""

    days: int
    opened: int
    unstuck: int
    pending: int
    unresolved: int

    @property
    def decided(self) -> int:
        """Cases past their 30 days, or unstuck already: the share's denominator."""
        return self.opened - self.pending

    @property
    def share(self) -> float | None:
        return self.unstuck / self.decided if self.decided else None


def metrics(*, user: User, now: dt.datetime, days: int = 90) -> StuckMetrics:
    """One query over the cases ``user`` may read."""
    from django.db.models import F

    window = dt.timedelta(days=UNSTUCK_WITHIN_DAYS)
    agg = (
        _scoped(user)
        .filter(opened_at__gte=now - dt.timedelta(days=days))
        .aggregate(
            opened=Count("pk"),
            unstuck=Count("pk", filter=Q(unstuck_at__isnull=False, unstuck_at__lte=F("opened_at") + window)),
            pending=Count("pk", filter=Q(unstuck_at__isnull=True, opened_at__gt=now - window)),
        )
    )
    unresolved = _scoped(user).filter(status__in=[CaseStatus.OPEN, CaseStatus.CLAIMED]).count()
    return StuckMetrics(days, agg["opened"], agg["unstuck"], agg["pending"], unresolved)
