"""Reading surveys: the public link's invitation, one gated fetch per model, the account page's panel, and the
results (NPS, CSAT) per account, TAM, program and fiscal quarter, each group one query whatever the data."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.http import Http404
from django.utils import timezone

from tamarind import policy
from tamarind.accounts.models import Account
from tamarind.people.models import User
from tamarind.renewals.quarters import Quarter, parse_quarter_key, quarter_of
from tamarind.renewals.selectors import renewal_settings
from tamarind.surveys import scoring
from tamarind.surveys.models import SurveyAnswer, SurveyInvitation, SurveyKind

ACCOUNT_PANEL_ANSWERS = 5
ACCOUNT_ROWS = 50
ANSWERS_PER_PAGE = 50
QUARTER_CHOICES = 8
MAX_ID = 2**63 - 1
BUCKETS = ("promoter", "passive", "detractor", "satisfied", "unsatisfied")


def _pk(raw: Any) -> int | None:
    try:
        pk = int(raw)
    except (TypeError, ValueError):
        return None
    return pk if 0 < pk <= MAX_ID else None


# --- The public link ------------------------------------------------------------------------------------------


def invitation_by_token(token: str) -> SurveyInvitation:
    """The invitation of a link, with its contact, account and answer (one query); ``Http404`` for an unknown
    token (never saying whose it might have been)."""
    if not token or len(token) > 64:
        raise Http404("No such survey.")
    found = SurveyInvitation.objects.filter(token=token).select_related("contact", "account", "answer").first()
    if found is None:
        raise Http404("No such survey.")
    return found


def answer_of(invitation: SurveyInvitation) -> SurveyAnswer | None:
    try:
        return invitation.answer
    except SurveyAnswer.DoesNotExist:
        return None


# --- What the indicators read --------------------------------------------------------------------------------------


def survey_signals(
    account_ids: list[int], *, now: dt.datetime | None = None
) -> dict[int, tuple[tuple[dt.date, str, int], ...]]:
    """Per account, its answers of the indicators' look-back (``indicators.SURVEY_LOOKBACK_DAYS``) as (local day
    answered, kind, score), oldest first: one query."""
    from tamarind.dashboards.indicators import SURVEY_LOOKBACK_DAYS

    now = now or timezone.now()
    out: dict[int, list[tuple[dt.date, str, int]]] = {}
    rows = (
        SurveyAnswer.objects.filter(
            account_id__in=account_ids, answered_at__gte=now - dt.timedelta(days=SURVEY_LOOKBACK_DAYS + 1)
        )
        .order_by("account_id", "answered_at", "pk")
        .values_list("account_id", "answered_at", "kind", "score")
    )
    for account_id, answered_at, kind, score in rows:
        out.setdefault(account_id, []).append((timezone.localdate(answered_at), kind, score))
    return {pk: tuple(items) for pk, items in out.items()}


# --- Gated fetches ----------------------------------------------------------------------------------------------


def invitation_for_user(user: User, invitation_id: Any, *, write: bool = False) -> SurveyInvitation:
    """An invitation ``user`` may read (else 404); with ``write``, one they may revoke (else 403)."""
    pk = _pk(invitation_id)
    if pk is None:
        raise Http404("No such survey invitation.")
    qs = SurveyInvitation.objects.select_related("account", "contact")
    scope = policy.survey_account_scope(user)
    if scope is not None:
        qs = qs.filter(scope)
    invitation = qs.filter(pk=pk).first()
    if invitation is None:
        raise Http404("No such survey invitation.")
    if write and not policy.can_send_survey(user, invitation.account):
        raise PermissionDenied("Only the account's TAM, the region's manager or an admin revokes a survey.")
    return invitation


def invitations_for(user: User) -> QuerySet[SurveyInvitation]:
    qs = SurveyInvitation.objects.select_related("contact", "account", "answer")
    scope = policy.survey_account_scope(user)
    return qs.filter(scope) if scope is not None else qs


def answers_for(user: User) -> QuerySet[SurveyAnswer]:
    qs = SurveyAnswer.objects.select_related("invitation__contact", "account")
    scope = policy.survey_account_scope(user)
    return qs.filter(scope) if scope is not None else qs


# --- The account page -------------------------------------------------------------------------------------------


def account_panel(*, user: User, account: Account) -> dict[str, Any]:
    """The Surveys panel of the account page: the latest answers, the account's NPS and CSAT, the open
    invitations and (for who may send) the contacts to invite; four queries whatever the data."""
    latest = list(
        SurveyAnswer.objects.filter(account=account)
        .select_related("invitation__contact")
        .order_by("-answered_at", "-pk")[:ACCOUNT_PANEL_ANSWERS]
    )
    figures = _figures_of(SurveyAnswer.objects.filter(account=account))
    now = timezone.now()
    pending = list(
        SurveyInvitation.objects.filter(account=account, revoked_at__isnull=True, answer__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .select_related("contact")
        .order_by("-created_at", "-pk")[:10]
    )
    can_send = policy.can_send_survey(user, account)
    contacts = (
        list(account.contacts.order_by("name", "pk").only("pk", "account_id", "name", "email")[:200])
        if can_send
        else []
    )
    return {
        "survey_answers": latest,
        "survey_figures": figures,
        "survey_pending": pending,
        "survey_can_send": can_send,
        "survey_contacts": contacts,
        "survey_kinds": SurveyKind.choices,
    }


# --- Results ----------------------------------------------------------------------------------------------------

_FIGURES = {
    "nps_answers": Count("pk", filter=Q(kind=SurveyKind.NPS)),
    "promoters": Count("pk", filter=Q(kind=SurveyKind.NPS, score__gte=scoring.PROMOTER_MIN)),
    "detractors": Count("pk", filter=Q(kind=SurveyKind.NPS, score__lte=scoring.DETRACTOR_MAX)),
    "csat_answers": Count("pk", filter=Q(kind=SurveyKind.CSAT)),
    "csat_total": Sum("score", filter=Q(kind=SurveyKind.CSAT)),
    "satisfied": Count("pk", filter=Q(kind=SurveyKind.CSAT, score__gte=scoring.SATISFIED_MIN)),
}


def _to_figures(row: dict[str, Any]) -> scoring.Figures:
    n = row["nps_answers"] or 0
    return scoring.Figures(
        nps_answers=n,
        promoters=row["promoters"] or 0,
        passives=n - (row["promoters"] or 0) - (row["detractors"] or 0),
        detractors=row["detractors"] or 0,
        csat_answers=row["csat_answers"] or 0,
        csat_total=row["csat_total"] or 0,
        satisfied=row["satisfied"] or 0,
    )


def _figures_of(qs: QuerySet[SurveyAnswer]) -> scoring.Figures:
    return _to_figures(qs.order_by().aggregate(**_FIGURES))


@dataclass(frozen=True)
class ResultFilters:
    """The results page's filters (parsed; unknown values are ignored)."""

    quarter: Quarter | None = None
    tam_id: int | None = None
    program: str | None = None  # "" : sent by hand (no program)
    kind: str | None = None
    account_id: int | None = None
    bucket: str | None = None

    def query(self, **changes: Any) -> dict[str, str]:
        """The filters as query parameters (for links), with ``changes``."""
        out: dict[str, str] = {}
        values = {
            "quarter": self.quarter.key if self.quarter else None,
            "tam": self.tam_id,
            "program": self.program,
            "kind": self.kind,
            "account": self.account_id,
            "bucket": self.bucket,
        }
        values.update(changes)
        for key, value in values.items():
            if value is not None:
                out[key] = "-" if key == "program" and value == "" else str(value)
        return out


def parse_filters(data: Any, start_month: int) -> ResultFilters:
    quarter = parse_quarter_key(str(data.get("quarter") or ""), start_month)
    program_raw = data.get("program")
    program = None if program_raw in (None, "") else ("" if program_raw == "-" else str(program_raw)[:50])
    kind = data.get("kind") if data.get("kind") in SurveyKind.values else None
    bucket = data.get("bucket") if data.get("bucket") in BUCKETS else None
    return ResultFilters(
        quarter=quarter,
        tam_id=_pk(data.get("tam")),
        program=program,
        kind=kind,
        account_id=_pk(data.get("account")),
        bucket=bucket,
    )


def _bucket_q(bucket: str) -> Q:
    return {
        "promoter": Q(kind=SurveyKind.NPS, score__gte=scoring.PROMOTER_MIN),
        "passive": Q(kind=SurveyKind.NPS, score__gt=scoring.DETRACTOR_MAX, score__lt=scoring.PROMOTER_MIN),
        "detractor": Q(kind=SurveyKind.NPS, score__lte=scoring.DETRACTOR_MAX),
        "satisfied": Q(kind=SurveyKind.CSAT, score__gte=scoring.SATISFIED_MIN),
        "unsatisfied": Q(kind=SurveyKind.CSAT, score__lt=scoring.SATISFIED_MIN),
    }[bucket]


def _midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def filtered_answers(user: User, filters: ResultFilters, *, reading: bool = False) -> QuerySet[SurveyAnswer]:
    """The answers the results page counts for ``user`` under ``filters``; with ``reading``, those of every account
    ``user`` reads (the API's answer list) rather than the results' book."""
    qs = SurveyAnswer.objects.all()
    scope = policy.account_scope(user) if reading else policy.survey_results_scope(user)
    if scope is not None:
        qs = qs.filter(account__in=Account.objects.filter(scope).values("pk"))
    if filters.quarter is not None:
        end = filters.quarter.end + dt.timedelta(days=1)
        qs = qs.filter(answered_at__gte=_midnight(filters.quarter.start), answered_at__lt=_midnight(end))
    if filters.tam_id is not None:
        qs = qs.filter(account__tam_id=filters.tam_id)
    if filters.program is not None:
        qs = qs.filter(invitation__program=filters.program)
    if filters.kind is not None:
        qs = qs.filter(kind=filters.kind)
    if filters.account_id is not None:
        qs = qs.filter(account_id=filters.account_id)
    if filters.bucket is not None:
        qs = qs.filter(_bucket_q(filters.bucket))
    return qs


@dataclass
class ResultRow:
    """One group's figures: ``key`` filters the answers behind them (``filters.query(**key)``)."""

    label: str
    key: dict[str, Any]
    figures: scoring.Figures


@dataclass
class Results:
    filters: ResultFilters
    start_month: int
    total: scoring.Figures
    quarters: list[ResultRow] = field(default_factory=list)
    tams: list[ResultRow] = field(default_factory=list)
    programs: list[ResultRow] = field(default_factory=list)
    accounts: list[ResultRow] = field(default_factory=list)
    quarter_choices: list[Quarter] = field(default_factory=list)
    tam_choices: list[User] = field(default_factory=list)
    program_choices: list[str] = field(default_factory=list)


def _grouped(qs: QuerySet[SurveyAnswer], *fields: str) -> list[dict[str, Any]]:
    return list(qs.order_by().values(*fields).annotate(**_FIGURES).order_by(*fields))


def _per_quarter(qs: QuerySet[SurveyAnswer], start_month: int) -> list[ResultRow]:
    """Per fiscal quarter: the database counts per local month, folded here into the setting's quarters."""
    months = _grouped(qs.annotate(month=TruncMonth("answered_at")), "month")
    folded: dict[Quarter, dict[str, int]] = {}
    for row in months:
        month = row["month"]
        day = month.date() if isinstance(month, dt.datetime) else month
        sums = folded.setdefault(quarter_of(day, start_month), dict.fromkeys(_FIGURES, 0))
        for key in _FIGURES:
            sums[key] += row[key] or 0
    return [
        ResultRow(q.label, {"quarter": q.key}, _to_figures(sums)) for q, sums in sorted(folded.items(), reverse=True)
    ]


def survey_results(user: User, filters: ResultFilters, *, start_month: int | None = None) -> Results:
    """The results page (and the API's results): totals, per quarter, per TAM, per program and per account (the
    ``ACCOUNT_ROWS`` with the most answers), in a fixed number of queries whatever the data."""
    if start_month is None:
        start_month = renewal_settings().fiscal_start_month
    qs = filtered_answers(user, filters)
    total = _figures_of(qs)
    quarters = _per_quarter(qs, start_month)
    tam_rows = _grouped(qs, "account__tam_id")
    program_rows = _grouped(qs, "invitation__program")
    account_rows = list(
        qs.order_by()
        .values("account_id", "account__name")
        .annotate(**_FIGURES, answers=Count("pk"))
        .order_by("-answers", "account__name", "account_id")[:ACCOUNT_ROWS]
    )
    scope = policy.survey_results_scope(user)
    visible = Account.objects.all() if scope is None else Account.objects.filter(scope)
    tam_ids = {r["account__tam_id"] for r in tam_rows if r["account__tam_id"]}
    tam_choices = list(
        User.objects.filter(Q(pk__in=visible.filter(tam__isnull=False).values("tam_id")) | Q(pk__in=tam_ids))
        .distinct()
        .order_by("full_name", "pk")
    )
    names = {u.pk: u.full_name for u in tam_choices}
    today = timezone.localdate()
    current = quarter_of(today, start_month)
    inv = SurveyInvitation.objects.filter(account__in=visible.values("pk")) if scope is not None else None
    program_qs = (inv if inv is not None else SurveyInvitation.objects.all()).exclude(program="")
    return Results(
        filters=filters,
        start_month=start_month,
        total=total,
        quarters=quarters,
        tams=[
            ResultRow(
                names.get(r["account__tam_id"], "No TAM") if r["account__tam_id"] else "No TAM",
                {"tam": r["account__tam_id"]} if r["account__tam_id"] else {},
                _to_figures(r),
            )
            for r in tam_rows
        ],
        programs=[
            ResultRow(r["invitation__program"] or "Sent by hand", {"program": r["invitation__program"]}, _to_figures(r))
            for r in program_rows
        ],
        accounts=[
            ResultRow(r["account__name"], {"account": r["account_id"]}, _to_figures(dict(r))) for r in account_rows
        ],
        quarter_choices=[current.shift(-i) for i in range(QUARTER_CHOICES)],
        tam_choices=tam_choices,
        program_choices=sorted(set(program_qs.order_by().values_list("program", flat=True).distinct())),
    )


def answers_page(user: User, filters: ResultFilters, *, reading: bool = False) -> QuerySet[SurveyAnswer]:
    """The answers behind the figures, newest first, with contact and account (paginated by the caller)."""
    return (
        filtered_answers(user, filters, reading=reading)
        .select_related("account", "invitation__contact")
        .order_by("-answered_at", "-pk")
    )
