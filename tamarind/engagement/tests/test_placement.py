"""Placement by the models' criteria at their boundaries, and overlap decided exactly (pure, no database)."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tamarind.assignment.rules import AccountFacts, RuleError
from tamarind.engagement.builtins import BUILT_IN_MODELS
from tamarind.engagement.placement import ModelRule, conflicts, matches, ordered, overlap, parse_criteria, place


def facts(
    arr: str | int, segment: str = "enterprise", tier: int | None = 2, region: int | None = 1, priority: int = 1
) -> AccountFacts:
    return AccountFacts(Decimal(arr), segment, tier, region, priority, 10, "", "onboarding", False)


BUILT_IN = ordered(ModelRule(m["key"], m["precedence"], parse_criteria(m["criteria"])) for m in BUILT_IN_MODELS)


@pytest.mark.parametrize(
    ("arr", "expected"),
    [
        ("4999.99", ""),
        ("5000", "digital"),
        ("20000", "digital"),
        ("20000.01", "pooled"),
        ("50000", "pooled"),  # exactly 50,000 does not qualify for a TAM (domain section 3)
        ("50000.01", "low_touch"),
        ("150000", "low_touch"),
        ("150000.01", "named"),
        ("500000", "named"),
        ("500000.01", "high_touch"),
    ],
)
def test_built_in_models_at_their_arr_boundaries(arr: str, expected: str) -> None:
    assert place(BUILT_IN, facts(arr)) == expected


def test_tam_models_need_the_segment_and_the_tier() -> None:
    assert place(BUILT_IN, facts(600000, segment="smb")) == ""
    assert place(BUILT_IN, facts(600000, tier=1)) == ""
    assert place(BUILT_IN, facts(600000, tier=None)) == ""  # a missing fact satisfies nothing
    assert place(BUILT_IN, facts(600000, segment="mid_market", tier=3)) == "high_touch"
    # Pooled and digital test ARR only.
    assert place(BUILT_IN, facts(30000, segment="smb", tier=None)) == "pooled"


def test_precedence_decides_overlaps_lower_wins() -> None:
    a = ModelRule("a", 2, parse_criteria({"match": "all", "conditions": [{"field": "arr", "op": "gt", "value": 0}]}))
    b = ModelRule("b", 1, parse_criteria({"match": "all", "conditions": [{"field": "arr", "op": "gt", "value": 10}]}))
    rules = ordered([a, b])
    assert place(rules, facts(11)) == "b"
    assert place(rules, facts(10)) == "a"
    c = ModelRule("c", None, parse_criteria({"match": "all", "conditions": []}))
    assert [r.key for r in ordered([c, a, b])] == ["b", "a", "c"]


def _spec(*conditions: tuple[str, str, object]) -> object:
    return parse_criteria({"match": "all", "conditions": [{"field": f, "op": o, "value": v} for f, o, v in conditions]})


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ((("arr", "gt", "50000"),), (("arr", "lte", "50000"),), False),
        ((("arr", "gte", "50000"),), (("arr", "lte", "50000"),), True),  # both hold at exactly 50,000
        ((("arr", "gt", "50000"),), (("arr", "lt", "50000.01"),), True),  # 50,000.005 is in both
        ((("arr", "gt", "5"),), (("arr", "lt", "5"),), False),
        ((("tier", "gt", 1),), (("tier", "lt", 2),), False),  # integers: nothing strictly between 1 and 2
        ((("tier", "gte", 1),), (("tier", "lte", 1),), True),
        ((("priority", "in", [1, 2]),), (("priority", "in", [3]),), False),
        ((("priority", "in", [1, 2]),), (("priority", "gte", 2),), True),
        ((("priority", "in", [1]),), (("priority", "not_in", [1]),), False),
        ((("segment", "in", ["smb"]),), (("segment", "in", ["enterprise"]),), False),
        ((("segment", "in", ["smb", "enterprise"]),), (("segment", "not_in", ["smb"]),), True),
        ((("region", "in", [1]),), (("region", "in", [2]),), False),
        ((("region", "in", [1]),), (("arr", "gt", "1"),), True),  # different fields: the boxes cross
        ((), (("arr", "gt", "1"),), True),  # no criteria: every account
        ((("priority", "gte", 2), ("priority", "lte", 2)), (("priority", "not_in", [2]),), False),
    ],
)
def test_overlap(a: tuple, b: tuple, expected: bool) -> None:  # type: ignore[type-arg]
    assert overlap(_spec(*a), _spec(*b)) is expected  # type: ignore[arg-type]
    assert overlap(_spec(*b), _spec(*a)) is expected  # type: ignore[arg-type]


def test_conflicts_need_distinct_precedences() -> None:
    low = _spec(("arr", "gt", "50000"))
    high = _spec(("arr", "gt", "500000"))
    assert conflicts(ModelRule("a", None, low), [ModelRule("b", 1, high)]) == ["b"]
    assert conflicts(ModelRule("a", 1, low), [ModelRule("b", 1, high)]) == ["b"]
    assert conflicts(ModelRule("a", 2, low), [ModelRule("b", 1, high)]) == []
    assert conflicts(ModelRule("a", None, _spec(("arr", "lte", "50000"))), [ModelRule("b", None, low)]) == []


def test_built_in_models_do_not_conflict() -> None:
    for rule in BUILT_IN:
        assert conflicts(rule, BUILT_IN) == []


@pytest.mark.parametrize(
    "definition",
    [
        {"match": "any", "conditions": []},
        {"match": "all", "conditions": [{"field": "licenses", "op": "gt", "value": 1}]},
        {"match": "all", "conditions": [{"field": "arr", "op": "ne", "value": 1}]},
        {"match": "all", "conditions": [{"field": "arr", "op": "gt", "value": "lots"}]},
        "not an object",
    ],
)
def test_bad_criteria_are_refused(definition: object) -> None:
    with pytest.raises(RuleError):
        parse_criteria(definition)


# Overlap against brute force: every small integer-valued account over a grid decides the same as ``overlap``.
_OPS = ["gt", "gte", "lt", "lte", "eq"]
condition = st.one_of(
    st.tuples(st.just("tier"), st.sampled_from(_OPS), st.integers(0, 4)),
    st.tuples(
        st.just("priority"), st.sampled_from(["in", "not_in"]), st.lists(st.integers(1, 4), min_size=1, max_size=3)
    ),
    st.tuples(st.just("arr"), st.sampled_from(_OPS), st.integers(0, 4)),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(condition, max_size=3), st.lists(condition, max_size=3))
def test_overlap_matches_brute_force(a: list, b: list) -> None:  # type: ignore[type-arg]
    sa, sb = _spec(*a), _spec(*b)
    # ARR is a real number: probe halves too, so an open interval between integers is found.
    arrs = [Decimal(n) / 2 for n in range(-2, 12)]
    both = any(
        matches(ModelRule("a", None, sa), f) and matches(ModelRule("b", None, sb), f)  # type: ignore[arg-type]
        for arr, tier, pri in itertools.product(arrs, range(-1, 7), range(0, 6))
        for f in [facts(str(arr), tier=tier, priority=pri)]
    )
    assert overlap(sa, sb) is both  # type: ignore[arg-type]


def test_admin_added_models_and_dated_moves_from_account_edits_and_crm_imports(book, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A model an admin added is accepted by the account form's service, the API and the CRM import; an unknown key
    is refused naming the field; each change is kept as a dated move (pinning the account), a new account's model
    is not a move."""
    import datetime as dt

    from django.utils import timezone

    from tamarind.accounts.selectors import engagement_model_choices
    from tamarind.accounts.services import account_update
    from tamarind.core.errors import ValidationFailed
    from tamarind.engagement.models import EngagementModel, Placement
    from tamarind.engagement.selectors import model_on_day, pinned_account_ids
    from tamarind.imports import services as import_services

    EngagementModel.objects.create(key="scaled", name="Scaled pilot")
    assert ("scaled", "Scaled pilot") in engagement_model_choices()
    account_update(actor=book.admin, account=book.account, changes={"engagement_model": "scaled"})
    move = Placement.objects.get(account=book.account)
    assert (move.from_model, move.to_model, move.source, move.placed_on) == (
        "",
        "scaled",
        "manual",
        timezone.localdate(),
    )
    assert book.account.pk in pinned_account_ids()
    assert model_on_day(book.account, timezone.localdate() - dt.timedelta(days=1)) == ""
    with pytest.raises(ValidationFailed) as refused:
        account_update(actor=book.admin, account=book.account, changes={"engagement_model": "nonsense"})
    assert "engagement_model" in refused.value.errors

    header = "Account ID,Account Name,Sales Segment,Region,CARR (This Account),Engagement Model\n"
    path = tmp_path / "crm.csv"
    path.write_text(
        header
        + f"{book.account.crm_id},Acme Corp,Enterprise,AMER East,120000,Named\n"
        + "NEW-1,Newco,Enterprise,AMER East,90000,Scaled pilot\n",
        encoding="utf-8",
    )
    job = import_services.import_job_create_from_path(actor=book.admin, path=path, dry_run=False)
    job = import_services.import_job_run(job_id=job.pk)
    assert job.status == "succeeded", job.errors
    moves = list(Placement.objects.filter(account=book.account).order_by("placed_at", "id"))
    assert [(m.from_model, m.to_model) for m in moves] == [("", "scaled"), ("scaled", "named")]
    assert moves[-1].reason.startswith("From the CRM import")
    from tamarind.accounts.models import Account

    newco = Account.objects.get(crm_id="NEW-1")
    assert newco.engagement_model == "scaled" and not Placement.objects.filter(account=newco).exists()
    path.write_text(header + f"{book.account.crm_id},Acme Corp,Enterprise,AMER East,120000,Unheard of\n")
    bad = import_services.import_job_run(
        job_id=import_services.import_job_create_from_path(actor=book.admin, path=path, dry_run=False).pk
    )
    assert bad.status == "failed" and "engagement model" in str(bad.errors)
