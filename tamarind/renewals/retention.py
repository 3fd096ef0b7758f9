"""Gross and net retention (domain §8) from the monthly ARR snapshots, as sums, never averages.

Over a 12-month window ending in month E, each account's ARR 12 months earlier is A and its ARR in E is B (no
snapshot in E counts as 0: the account is gone). Among the accounts with A > 0 (the cohort):

    gross = sum(min(A, B)) / sum(A)        net = sum(B) / sum(A)

Accounts with no ARR at the window's start but some at its end were added during the window: excluded from both
ratios and listed as new. With ``roll_up_to_parent`` an account's ARR counts with its parent's (children merged
into the parent before the comparison). An empty cohort answers ``None`` ratios and says so; nothing divides by 0.

``ratios`` is the plain restatement (pure Python over pairs); the SQL below computes the same sums in the
database: the inner query pairs A and B per account (or per parent) with the ORM, so the access scope and filters
are the ordinary ``Q`` objects, and the outer query sums them per slice (region, TAM, segment, engagement model,
customer-since cohort). Two queries at most per figure, whatever the book's size.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Case, DecimalField, F, Q, Sum, Value, When
from django.db.models.functions import Coalesce

from tamarind.accounts.models import Account, EngagementModel, Segment
from tamarind.people.models import Region, User
from tamarind.renewals.models import ArrSnapshot, Renewal, RenewalStatus, month_index
from tamarind.renewals.quarters import add_months

MONEY = DecimalField(max_digits=18, decimal_places=2)
ZERO = Decimal(0)
DIMENSIONS: dict[str, str] = {
    "book": "The whole book",
    "region": "Region",
    "tam": "TAM",
    "segment": "Segment",
    "engagement_model": "Engagement model",
    "cohort": "Customer since",
}
DRILL_LIMIT = 200


@dataclass
class Ratios:
    """One figure: the sums behind it, and the ratios (``None`` when the cohort is empty)."""

    key: Any = None
    label: str = ""
    accounts: int = 0
    start_arr: Decimal = ZERO  # sum(A)
    kept_arr: Decimal = ZERO  # sum(min(A, B))
    end_arr: Decimal = ZERO  # sum(B)
    new_accounts: int = 0
    new_arr: Decimal = ZERO

    @property
    def gross(self) -> Decimal | None:
        return None if not self.start_arr else self.kept_arr / self.start_arr * 100

    @property
    def net(self) -> Decimal | None:
        return None if not self.start_arr else self.end_arr / self.start_arr * 100

    @property
    def empty(self) -> bool:
        return self.accounts == 0


def _dec(value: Any) -> Decimal:
    """A sum from the database as cents (SQLite answers floats for decimal sums)."""
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def ratios(pairs: Iterable[tuple[Decimal, Decimal]]) -> Ratios:
    """The plain restatement: ``pairs`` are (A, B) per account; new accounts (A = 0, B > 0) counted apart."""
    out = Ratios()
    for a, b in pairs:
        if a > 0:
            out.accounts += 1
            out.start_arr += a
            out.kept_arr += min(a, b)
            out.end_arr += b
        elif b > 0:
            out.new_accounts += 1
            out.new_arr += b
    return out


@dataclass(frozen=True)
class Window:
    """A 12-month window ending in the month of ``end`` (its first day)."""

    end: dt.date

    @property
    def start(self) -> dt.date:
        return add_months(self.end, -12)

    @property
    def end_index(self) -> int:
        return month_index(self.end.year, self.end.month)

    @property
    def start_index(self) -> int:
        return self.end_index - 12


def _pairs(scope: Q, window: Window, roll_up: bool) -> tuple[str, list[Any]]:
    """The inner query, compiled: one row per account (or parent) with ``a`` and ``b``, its key ``k``."""
    key = Coalesce(F("account__parent_id"), F("account_id")) if roll_up else F("account_id")
    qs = (
        ArrSnapshot.objects.filter(month_index__in=[window.start_index, window.end_index])
        .filter(scope)
        .values(k=key)
        .annotate(
            a=Sum(Case(When(month_index=window.start_index, then=F("arr")), default=Value(ZERO), output_field=MONEY)),
            b=Sum(Case(When(month_index=window.end_index, then=F("arr")), default=Value(ZERO), output_field=MONEY)),
        )
        .order_by()
    )
    sql, params = qs.query.sql_with_params()
    return sql, list(params)


def _dimension_sql(dimension: str) -> str:
    if dimension == "book":
        return "0"
    if dimension == "region":
        return "acc.region_id"
    if dimension == "tam":
        return "acc.tam_id"
    if dimension == "segment":
        return "acc.segment"
    if dimension == "engagement_model":
        return "acc.engagement_model"
    if dimension == "cohort":
        if connection.vendor == "postgresql":
            return "CAST(EXTRACT(YEAR FROM acc.customer_since) AS INTEGER)"
        return "CAST(strftime('%%Y', acc.customer_since) AS INTEGER)"
    raise ValueError(f"Unknown retention dimension {dimension!r}")


def _scope_q(account_scope: Q | None, filters: Q | None) -> Q:
    from tamarind.policy import _under

    q = Q()
    if account_scope is not None:
        q &= _under("account__", account_scope)
    if filters is not None:
        q &= _under("account__", filters)
    return q


def retention_by(
    *,
    account_scope: Q | None,
    window: Window,
    dimension: str = "book",
    roll_up: bool = False,
    filters: Q | None = None,
) -> list[Ratios]:
    """Retention per value of ``dimension`` (one aggregate query), labelled. ``account_scope``/``filters`` are
    filters on Account (``policy.account_scope``; ``None``: all)."""
    inner, params = _pairs(_scope_q(account_scope, filters), window, roll_up)
    dim = _dimension_sql(dimension)
    sql = f"""
        SELECT {dim} AS dim,
            COUNT(CASE WHEN p.a > 0 THEN 1 END),
            COALESCE(SUM(CASE WHEN p.a > 0 THEN p.a END), 0),
            COALESCE(SUM(CASE WHEN p.a > 0 THEN (CASE WHEN p.b < p.a THEN p.b ELSE p.a END) END), 0),
            COALESCE(SUM(CASE WHEN p.a > 0 THEN p.b END), 0),
            COUNT(CASE WHEN p.a <= 0 AND p.b > 0 THEN 1 END),
            COALESCE(SUM(CASE WHEN p.a <= 0 AND p.b > 0 THEN p.b END), 0)
        FROM ({inner}) p JOIN accounts_account acc ON acc.id = p.k
        {"" if dimension == "book" else f"GROUP BY {dim}"}
    """  # noqa: S608 - the dimension is one of the fixed expressions above; values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    out = [
        Ratios(
            key=dim_value,
            accounts=int(n),
            start_arr=_dec(a),
            kept_arr=_dec(kept),
            end_arr=_dec(b),
            new_accounts=int(new_n),
            new_arr=_dec(new_b),
        )
        for dim_value, n, a, kept, b, new_n, new_b in rows
    ]
    _label(out, dimension)
    return sorted(out, key=lambda r: (r.empty, -r.start_arr, r.label))


def _label(rows: list[Ratios], dimension: str) -> None:
    if dimension == "book":
        for r in rows:
            r.label = DIMENSIONS["book"]
        return
    names: dict[Any, str] = {}
    if dimension == "region":
        names = dict(Region.objects.filter(pk__in=[r.key for r in rows if r.key]).values_list("pk", "name"))
    elif dimension == "tam":
        names = dict(User.objects.filter(pk__in=[r.key for r in rows if r.key]).values_list("pk", "full_name"))
    elif dimension == "segment":
        names = dict(Segment.choices)
    elif dimension == "engagement_model":
        names = dict(EngagementModel.choices)
    for r in rows:
        if r.key in (None, ""):
            r.label = "None" if dimension != "cohort" else "Unknown"
        else:
            r.label = str(names.get(r.key, r.key))


def book_retention(**kwargs: Any) -> Ratios:
    """The whole book's figure (an empty ``Ratios`` when there is no account in the window)."""
    rows = retention_by(dimension="book", **kwargs)
    return rows[0] if rows else Ratios(label=DIMENSIONS["book"])


@dataclass
class TrendPoint:
    month: dt.date
    figure: Ratios


def retention_trend(
    *, account_scope: Q | None, end: dt.date, months: int = 12, roll_up: bool = False
) -> list[TrendPoint]:
    """The book's gross and net retention for each of the ``months`` windows ending in the months up to ``end``:
    one query over the snapshots of those months and the 12 before them (each month paired with 12 earlier)."""
    last = month_index(end.year, end.month)
    first = last - months + 1
    key = Coalesce(F("account__parent_id"), F("account_id")) if roll_up else F("account_id")
    inner = (
        ArrSnapshot.objects.filter(month_index__gte=first - 12, month_index__lte=last)
        .filter(_scope_q(account_scope, None))
        .values(k=key, mi=F("month_index"))
        .annotate(v=Sum("arr"))
        .order_by()
    )
    sql, params = inner.query.sql_with_params()
    query = f"""
        WITH s AS ({sql})
        SELECT a.mi + 12,
            COUNT(*), COALESCE(SUM(a.v), 0),
            COALESCE(SUM(CASE WHEN COALESCE(b.v, 0) < a.v THEN COALESCE(b.v, 0) ELSE a.v END), 0),
            COALESCE(SUM(COALESCE(b.v, 0)), 0)
        FROM s a LEFT JOIN s b ON b.k = a.k AND b.mi = a.mi + 12
        WHERE a.v > 0 AND a.mi + 12 >= %s
        GROUP BY a.mi + 12
    """  # noqa: S608 - no value is formatted in, only the compiled inner query
    with connection.cursor() as cursor:
        cursor.execute(query, [*params, first])
        found = {int(mi): row for mi, *row in cursor.fetchall()}
    points = []
    for i in range(months):
        mi = first + i
        year, month0 = divmod(mi, 12)
        figure = Ratios(label="")
        if mi in found:
            n, a, kept, b = found[mi]
            figure = Ratios(accounts=int(n), start_arr=_dec(a), kept_arr=_dec(kept), end_arr=_dec(b))
        points.append(TrendPoint(dt.date(year, month0 + 1, 1), figure))
    return points


@dataclass
class DrillRow:
    account: Account
    start_arr: Decimal
    end_arr: Decimal
    change: str  # churned, contracted, expanded, flat, new
    reason: str = ""
    notes: str = ""


@dataclass
class Drill:
    """The accounts behind a figure, by what happened to them (at most ``DRILL_LIMIT`` each, largest first)."""

    churned: list[DrillRow] = field(default_factory=list)
    contracted: list[DrillRow] = field(default_factory=list)
    expanded: list[DrillRow] = field(default_factory=list)
    new: list[DrillRow] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def change_of(a: Decimal, b: Decimal) -> str:
    if a <= 0:
        return "new" if b > 0 else "none"
    if b == 0:
        return "churned"
    return "contracted" if b < a else "expanded" if b > a else "flat"


def drill_down(*, account_scope: Q | None, window: Window, filters: Q | None = None, roll_up: bool = False) -> Drill:
    """The churned, contracted, expanded and new accounts of a window, with the reason of the renewal closed in
    the window (if any). Three queries: the pairs, their accounts, the renewals' reasons."""
    inner, params = _pairs(_scope_q(account_scope, filters), window, roll_up)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT p.k, p.a, p.b FROM ({inner}) p WHERE p.a <> p.b", params)  # noqa: S608
        pairs = [(int(k), _dec(a), _dec(b)) for k, a, b in cursor.fetchall()]
    out = Drill()
    buckets: dict[str, list[tuple[int, Decimal, Decimal]]] = {
        "churned": [],
        "contracted": [],
        "expanded": [],
        "new": [],
    }
    for k, a, b in pairs:
        change = change_of(a, b)
        if change in buckets:
            buckets[change].append((k, a, b))
    out.counts = {name: len(rows) for name, rows in buckets.items()}
    keep: dict[str, list[tuple[int, Decimal, Decimal]]] = {
        name: sorted(rows, key=lambda r: -abs(r[2] - r[1]))[:DRILL_LIMIT] for name, rows in buckets.items()
    }
    ids = [k for rows in keep.values() for k, _, _ in rows]
    accounts = Account.objects.select_related("region", "tam").in_bulk(ids)
    reasons: dict[int, tuple[str, str]] = {}
    closed = (
        Renewal.objects.filter(
            account_id__in=ids,
            status=RenewalStatus.CLOSED,
            renewal_date__gt=window.start,
            renewal_date__lte=add_months(window.end, 1) - dt.timedelta(days=1),
        )
        .order_by("account_id", "renewal_date")
        .values_list("account_id", "outcome_reason", "outcome_notes")
    )
    for account_id, reason, notes in closed:
        reasons[account_id] = (reason, notes)
    from tamarind.renewals.models import OutcomeReason

    labels = dict(OutcomeReason.choices)
    for name, rows in keep.items():
        target = getattr(out, name)
        for k, a, b in rows:
            account = accounts.get(k)
            if account is None:
                continue
            reason, notes = reasons.get(k, ("", ""))
            target.append(DrillRow(account, a, b, name, str(labels.get(reason, "")), notes))
    return out


def latest_window_end(account_scope: Q | None = None) -> dt.date | None:
    """The latest month with any snapshot (the default window end)."""
    last = ArrSnapshot.objects.order_by("-month_index").values_list("month", flat=True).first()
    return last
