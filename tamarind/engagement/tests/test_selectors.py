"""The SQL form of placement (``criteria_q``, ``placement_case``) against the Python form it restates, and the
what-if planner's grouped query against placing each account in Python, on a seeded book."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from tamarind.accounts.models import Account, Segment
from tamarind.engagement import selectors, services
from tamarind.engagement.models import EngagementModel, Placement
from tamarind.engagement.placement import ModelRule, matches, parse_criteria, place
from tamarind.testing.factories import AccountFactory, tier

ARRS = ("4999.99", "5000", "20000", "20000.01", "50000", "50000.01", "150000", "150000.01", "500000", "500000.01")
TIERS = ("Free", "Bronze", "Premium", "Ultimate", None)


def _seed_book(book: Any) -> list[Account]:
    """Accounts on every ARR boundary of the built-in models, in each segment, tier (or none), region and
    priority, spread over the two regions' TAMs."""
    out = []
    combos = itertools.product(ARRS, Segment.values, TIERS)
    for i, (arr, segment, tier_name) in enumerate(combos):
        east = i % 2 == 0
        out.append(
            AccountFactory(
                arr=Decimal(arr),
                segment=segment,
                product_tier=tier(tier_name) if tier_name else None,
                region=book.east if east else book.west,
                tam=(book.tam if i % 3 else book.tam2) if east else book.other_tam,
                priority=1 + i % 3,
            )
        )
    return out


CONDITIONS: list[dict[str, Any]] = [
    {"field": "arr", "op": "gt", "value": "50000"},
    {"field": "arr", "op": "gte", "value": "50000"},
    {"field": "arr", "op": "lt", "value": "20000.01"},
    {"field": "arr", "op": "lte", "value": "20000.01"},
    {"field": "arr", "op": "eq", "value": "150000"},
    {"field": "segment", "op": "in", "value": ["enterprise", "mid_market"]},
    {"field": "segment", "op": "not_in", "value": ["smb"]},
    {"field": "tier", "op": "gte", "value": 2},
    {"field": "tier", "op": "lt", "value": 2},
    {"field": "tier", "op": "eq", "value": 0},
    {"field": "priority", "op": "in", "value": [1, 3]},
    {"field": "priority", "op": "not_in", "value": [2]},
    {"field": "priority", "op": "lte", "value": 2},
]


@pytest.mark.parametrize("condition", CONDITIONS, ids=lambda c: f"{c['field']}-{c['op']}-{c['value']}")
def test_criteria_q_selects_what_matches_selects(book, condition) -> None:  # type: ignore[no-untyped-def]
    """One condition at a time, and with a second condition, the accounts the SQL form selects are exactly those
    the Python form matches; a missing tier satisfies no tier condition."""
    _seed_book(book)
    facts = {row[0]: selectors.facts_of_row(row) for row in selectors.fact_rows()}
    regions = [
        {"field": "region", "op": "in", "value": [book.east.pk]},
        {"field": "region", "op": "not_in", "value": [book.east.pk]},
    ]
    for extra in ([], [{"field": "tier", "op": "lte", "value": 2}], *([r] for r in regions)):
        spec = parse_criteria({"match": "all", "conditions": [condition, *extra]})
        rule = ModelRule("m", None, spec)
        want = {pk for pk, f in facts.items() if matches(rule, f)}
        got = set(Account.objects.filter(selectors.criteria_q(spec)).values_list("pk", flat=True))
        assert got == want, (condition, extra)
        assert 0 < len(want) < len(facts), (condition, extra)  # the seed has accounts on both sides


def test_criteria_q_without_conditions_matches_every_account(book) -> None:  # type: ignore[no-untyped-def]
    _seed_book(book)
    spec = parse_criteria({"match": "all", "conditions": []})
    assert Account.objects.filter(selectors.criteria_q(spec)).count() == Account.objects.count()


def _placed_in_python(rules: list[ModelRule], scope_region: int | None) -> dict[str, Any]:
    """The what-if's figures the plain way: every account's facts read, placed by ``place`` (pinned ones stay)."""
    pinned = selectors.pinned_account_ids()
    unmanaged = set(EngagementModel.objects.filter(tam_managed=False).values_list("key", flat=True))
    moves: dict[tuple[str, str], list[Any]] = {}
    region_arr: dict[int, Decimal] = {}
    tam_arr: dict[int, Decimal] = {}
    for row in selectors.fact_rows():
        pk, arr, now, tam_id, region_id = row[0], row[1], row[7], row[-3], row[-2]
        if scope_region is not None and region_id != scope_region:
            continue
        draft = now if pk in pinned else place(rules, selectors.facts_of_row(row))
        cell = moves.setdefault((now, draft), [0, Decimal(0)])
        cell[0] += 1
        cell[1] += arr
        if draft and draft not in unmanaged:
            region_arr[region_id] = region_arr.get(region_id, Decimal(0)) + arr
            if tam_id is not None:
                tam_arr[tam_id] = tam_arr.get(tam_id, Decimal(0)) + arr
    return {"moves": moves, "region_arr": region_arr, "tam_arr": tam_arr}


def test_whatif_equals_placing_each_account_in_python(book) -> None:  # type: ignore[no-untyped-def]
    """The planner's one grouped query gives the same moves, regional and per-TAM ARR as placing every account
    in Python, for the whole book (admin) and a region (manager), with pinned accounts kept: one placed by hand,
    one placed by hand and then moved by the rules (no longer pinned), and two placements at the same instant,
    where the higher id is the newer."""
    accounts = _seed_book(book)
    services.placements_apply_rules(actor=book.admin, on=dt.date(2026, 1, 1))
    pinned, unpinned, tie = accounts[3], accounts[4], accounts[6]
    services.account_place(actor=book.admin, account=pinned, model_key="pooled", reason="Pilot")
    services.account_place(actor=book.admin, account=unpinned, model_key="digital", reason="Pilot")
    later = timezone.now() + dt.timedelta(minutes=5)
    Placement.objects.create(account=unpinned, from_model="digital", to_model="named", source="rules", placed_at=later)
    same = timezone.now() + dt.timedelta(minutes=6)
    Placement.objects.create(account=tie, from_model="", to_model="named", source="rules", placed_at=same)
    Placement.objects.create(
        account=tie, from_model="named", to_model="pooled", source="manual", reason="x", placed_at=same
    )
    assert selectors.pinned_account_ids() == {pinned.pk, tie.pk}
    assert set(
        Placement.objects.filter(account_id__in=selectors.pinned_accounts()).values_list("account_id", flat=True)
    ) == {pinned.pk, tie.pk}
    models = list(EngagementModel.objects.all())
    high = next(m for m in models if m.key == "high_touch")
    draft = json.loads(json.dumps(high.criteria))
    for c in draft["conditions"]:
        if c["field"] == "arr":
            c["value"] = "150000"
    for overrides in ({}, {"high_touch": draft}, {"named": {"criteria": draft, "precedence": 5}}):
        rules = selectors.rules_of(models, overrides=overrides)
        for user, region in ((book.admin, None), (book.manager, book.east.pk)):
            got = selectors.whatif(user, overrides)
            want = _placed_in_python(rules, region)
            assert got.moves == want["moves"], overrides
            assert got.region_arr == want["region_arr"], overrides
            assert {t: a for t, a in got.tam_arr.items() if a} == want["tam_arr"], overrides
            assert got.accounts == sum(n for n, _ in want["moves"].values())
    assert selectors.whatif(book.admin, {"high_touch": draft}).moved()[0] > 0
