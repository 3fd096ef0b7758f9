"""Cell parsers: amounts, dates, priorities, currencies; header and value matching."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tamarind.imports.columns import (
    CellError,
    header_key,
    parse_amount,
    parse_arr,
    parse_count,
    parse_currency,
    parse_date,
    parse_priority,
    value_key,
)


@pytest.mark.parametrize(
    ("raw", "amount", "currency"),
    [
        ("1234", "1234", None),
        ("$1,234.50", "1234.50", "USD"),
        ("$ 1,234", "1234", "USD"),
        ("12,345,678.9", "12345678.9", None),
        ("€ 12.000", "12000", "EUR"),
        ("€12.000,50", "12000.50", "EUR"),
        ("£ 1 234", "1234", "GBP"),
        ("1\u00a0234,5", "1234.5", None),
        ("1,234,567", "1234567", None),
        ("1.234.567", "1234567", None),
        ("12,5", "12.5", None),
        ("1234.567", "1234.567", None),
        ("USD 950", "950", "USD"),
        ("950 chf", "950", "CHF"),
        ("-5", "-5", None),
        ("($5.00)", "-5.00", "USD"),
        ("1'234.50", "1234.50", None),
    ],
)
def test_parse_amount(raw, amount, currency):
    assert parse_amount(raw) == (Decimal(amount), currency)


@pytest.mark.parametrize("raw", ["lots", "", "$", "1,23,4", "1.2.3,4,5", "12..5", "1e5", "NaN", "--5", "1,234.5.6"])
def test_parse_amount_refuses(raw):
    with pytest.raises(CellError, match="is not a number"):
        parse_amount(raw)


def test_parse_arr_rounds_to_cents_and_refuses_negative_or_huge():
    assert parse_arr("1234.567") == (Decimal("1234.57"), None)
    with pytest.raises(CellError, match="is negative"):
        parse_arr("-1")
    with pytest.raises(CellError, match="is too large"):
        parse_arr("1000000000000")


def test_parse_count():
    assert parse_count("1,200") == 1200
    assert parse_count("250.0") == 250
    for raw, reason in (("12.5", "is not a whole number"), ("many", "is not a whole number"), ("-1", "is negative")):
        with pytest.raises(CellError, match=reason):
            parse_count(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-01-31", dt.date(2026, 1, 31)),
        ("2026-1-5", dt.date(2026, 1, 5)),
        ("2026-01-31 00:00:00", dt.date(2026, 1, 31)),
        ("2026-01-31T10:00:00+02:00", dt.date(2026, 1, 31)),
        ("01/31/2026", dt.date(2026, 1, 31)),
        ("1/5/2026", dt.date(2026, 1, 5)),
        ("1/5/2026 3:04 PM", dt.date(2026, 1, 5)),
    ],
)
def test_parse_date(raw, expected):
    assert parse_date(raw) == expected


@pytest.mark.parametrize("raw", ["2026-02-30", "31/01/2026", "2026/01/31", "Jan 5 2026", "yesterday", "2026-13-01"])
def test_parse_date_refuses(raw):
    with pytest.raises(CellError, match="is not a date"):
        parse_date(raw)


def test_priority_currency_and_keys():
    assert [parse_priority(v) for v in ("1", "P2", "Priority 3", "4 — digital only")] == [1, 2, 3, 4]
    with pytest.raises(CellError):
        parse_priority("5")
    assert parse_currency("eur") == "EUR" and parse_currency("€") == "EUR"
    with pytest.raises(CellError, match="is not a currency code"):
        parse_currency("euros")
    assert header_key("  Account   ID ") == header_key("account id")
    assert value_key("Mid Market") == value_key("mid-market") == value_key("MID_MARKET")
    assert value_key("Optimize & Grow") == value_key("Optimize and Grow")
