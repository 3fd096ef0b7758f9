"""Retention as sums, against a plain restatement: accounts that churn to zero, grow, appear and are merged into a
parent; slices; the trend; the drill-down; an empty window says so."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from tamarind import policy
from tamarind.accounts.models import Segment
from tamarind.conftest import Book
from tamarind.renewals import retention
from tamarind.renewals.retention import Window, ratios
from tamarind.renewals.tests.factories import RenewalFactory, snap
from tamarind.testing.factories import AccountFactory

START = dt.date(2025, 6, 1)
END = dt.date(2026, 6, 1)


def test_plain_restatement() -> None:
    r = ratios([(Decimal(100), Decimal(0)), (Decimal(100), Decimal(150)), (Decimal(0), Decimal(70))])
    assert r.accounts == 2 and r.new_accounts == 1 and r.new_arr == 70
    assert r.gross == Decimal(50) and r.net == Decimal(75)
    assert ratios([]).gross is None and ratios([]).net is None and ratios([]).empty


def test_sums_not_averages_with_churn_growth_new_and_a_parent(book: Book) -> None:
    churned, grown, flat = (AccountFactory(region=book.east) for _ in range(3))
    new = AccountFactory(region=book.east)
    parent = AccountFactory(region=book.west, segment=Segment.MID_MARKET)
    child = AccountFactory(region=book.west, parent=parent, segment=Segment.MID_MARKET)
    for account, a, b in ((churned, 100, 0), (grown, 1000, 1500), (flat, 10, 10), (parent, 300, 0), (child, 0, 300)):
        if a:
            snap(account.pk, START, a)
        snap(account.pk, END, b)
    snap(new.pk, END, 70)
    window = Window(END)
    book_figure = retention.book_retention(account_scope=None, window=window)
    # Averages of per-account ratios would give another answer: gross (0 + 1 + 1 + 0) / 4 = 50%.
    assert book_figure.start_arr == 1410 and book_figure.kept_arr == 1010 and book_figure.end_arr == 1510
    plain = ratios(
        [(Decimal(a), Decimal(b)) for a, b in ((100, 0), (1000, 1500), (10, 10), (300, 0), (0, 300), (0, 70))]
    )
    assert (book_figure.gross, book_figure.net) == (plain.gross, plain.net)
    assert book_figure.new_accounts == 2  # the child and the new account
    rolled = retention.book_retention(account_scope=None, window=window, roll_up=True)
    # Merged into its parent, the child's 300 replaces the parent's 300: flat, not a churn and a new account.
    assert rolled.start_arr == 1410 and rolled.kept_arr == 1310 and rolled.end_arr == 1810
    assert rolled.new_accounts == 1
    by_region = {r.label: r for r in retention.retention_by(account_scope=None, window=window, dimension="region")}
    assert by_region["AMER East"].start_arr == 1110 and by_region["EMEA"].start_arr == 300
    assert by_region["EMEA"].gross == 0
    drill = retention.drill_down(account_scope=None, window=window)
    assert {d.account.pk for d in drill.churned} == {churned.pk, parent.pk}
    assert {d.account.pk for d in drill.expanded} == {grown.pk}
    assert {d.account.pk for d in drill.new} == {new.pk, child.pk}


def test_sql_matches_the_restatement_on_a_random_book(book: Book) -> None:
    rng = random.Random(11)
    pairs = []
    for _ in range(40):
        account = AccountFactory(region=rng.choice([book.east, book.west]))
        a = Decimal(rng.choice([0, 0, rng.randint(1, 500_000)])) / 1
        b = Decimal(rng.choice([0, rng.randint(1, 800_000), a]))
        if a:
            snap(account.pk, START, a)
        if b or rng.random() < 0.5:
            snap(account.pk, END, b)
        pairs.append((a, b))
    got = retention.book_retention(account_scope=None, window=Window(END))
    want = ratios(pairs)
    assert (got.accounts, got.start_arr, got.kept_arr, got.end_arr) == (
        want.accounts, want.start_arr, want.kept_arr, want.end_arr,
    )  # fmt: skip
    slices = retention.retention_by(account_scope=None, window=Window(END), dimension="segment")
    assert sum(s.start_arr for s in slices) == want.start_arr


def test_scope_trend_reasons_and_the_empty_window(book: Book) -> None:
    a = AccountFactory(region=book.east)
    for i in range(24):
        month = dt.date(2024 + (6 + i) // 12, (6 + i) % 12 + 1, 1)
        snap(a.pk, month, 100 if i < 20 else 80)
    snap(book.other_account.pk, START, 500)
    RenewalFactory(
        account=a, renewal_date=dt.date(2026, 3, 1), status="closed", outcome="contracted", new_arr=80,
        outcome_reason="downgrade", closed_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
    )  # fmt: skip
    scope = policy.account_scope(book.manager)
    figure = retention.book_retention(account_scope=scope, window=Window(END))
    assert figure.accounts == 1 and figure.gross == Decimal(80)
    trend = retention.retention_trend(account_scope=scope, end=END, months=12)
    assert len(trend) == 12 and trend[-1].figure.gross == Decimal(80)
    drill = retention.drill_down(account_scope=scope, window=Window(END))
    assert [d.reason for d in drill.contracted] == ["Downgrade"]
    empty = retention.book_retention(account_scope=None, window=Window(dt.date(2030, 1, 1)))
    assert empty.empty and empty.gross is None
