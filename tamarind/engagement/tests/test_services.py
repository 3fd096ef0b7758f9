"""Engagement services: models refused when they overlap without a precedence, placement by hand and by the
rules with every move dated, an account's model on a past day, capacity targets and iterations."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from tamarind.audit.models import AuditEvent
from tamarind.core.errors import ValidationFailed
from tamarind.engagement import selectors, services
from tamarind.engagement.models import EngagementModel, IterationAccount, Placement
from tamarind.testing.factories import AccountFactory

ARR_OVER_1M = {"match": "all", "conditions": [{"field": "arr", "op": "gt", "value": "1000000"}]}


def test_built_in_models_are_seeded(db: None) -> None:
    assert set(EngagementModel.objects.values_list("key", flat=True)) >= {
        "high_touch",
        "low_touch",
        "named",
        "pooled",
        "digital",
    }


def test_a_model_overlapping_another_without_precedence_is_refused(book) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as exc:
        services.engagement_model_save(actor=book.admin, data={"name": "Strategic", "criteria": ARR_OVER_1M})
    assert "overlap" in str(exc.value) and "High touch" in str(exc.value)
    assert not EngagementModel.objects.filter(key="strategic").exists()
    with pytest.raises(ValidationFailed, match="already"):
        services.engagement_model_save(
            actor=book.admin, data={"name": "Strategic", "criteria": ARR_OVER_1M, "precedence": 10}
        )
    model = services.engagement_model_save(
        actor=book.admin,
        data={
            "name": "Strategic",
            "criteria": ARR_OVER_1M,
            "precedence": 5,
            "metrics": ["arr_per_tam"],
            "cadence_days": {"1": 7},
        },
    )
    assert model.key == "strategic" and model.cadence_days == {"1": 7}
    assert AuditEvent.objects.filter(object_type="engagement.engagementmodel", object_id=str(model.pk)).exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "X", "metrics": ["happiness"]}, "metrics"),
        ({"name": "X", "indicators": ["moon_phase"]}, "indicators"),
        ({"name": "X", "cadence_days": {"7": 30}}, "cadence_days"),
        ({"name": "X", "cadence_days": {"1": 0}}, "cadence_days"),
        ({"name": "X", "precedence": "first"}, "precedence"),
        ({"name": "X", "criteria": {"match": "any", "conditions": []}}, "criteria.match"),
        ({"name": "X", "colour": "red"}, "__all__"),
        ({"name": "", "precedence": 99}, "name"),
    ],
)
def test_bad_model_input(book, data: dict, field: str) -> None:  # type: ignore[no-untyped-def, type-arg]
    with pytest.raises(ValidationFailed) as exc:
        services.engagement_model_save(actor=book.admin, data=data)
    assert field in exc.value.errors


def test_only_admins_edit_models(book) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied):
        services.engagement_model_save(actor=book.manager, data={"name": "X"})


def test_placing_by_hand_needs_a_reason_and_is_kept_with_its_day(book) -> None:  # type: ignore[no-untyped-def]
    account = book.account
    with pytest.raises(ValidationFailed):
        services.account_place(actor=book.manager, account=account, model_key="named", reason=" ")
    with pytest.raises(ValidationFailed):
        services.account_place(actor=book.manager, account=account, model_key="nope", reason="x")
    with pytest.raises(PermissionDenied):
        services.account_place(actor=book.sal, account=account, model_key="named", reason="x")
    services.account_place(
        actor=book.manager, account=account, model_key="named", reason="Pilot", on=dt.date(2026, 1, 10)
    )
    services.account_place(
        actor=book.manager, account=account, model_key="high_touch", reason="Grew", on=dt.date(2026, 3, 1)
    )
    account.refresh_from_db()
    assert account.engagement_model == "high_touch"
    assert selectors.model_on_day(account, dt.date(2026, 1, 9)) == ""
    assert selectors.model_on_day(account, dt.date(2026, 1, 10)) == "named"
    assert selectors.model_on_day(account, dt.date(2026, 2, 28)) == "named"
    assert selectors.model_on_day(account, dt.date(2026, 3, 1)) == "high_touch"
    assert [p.reason for p in selectors.placement_history(account)] == ["Grew", "Pilot"]


def test_an_account_with_no_moves_is_in_its_model_every_day(book) -> None:  # type: ignore[no-untyped-def]
    account = AccountFactory(region=book.east, engagement_model="low_touch")
    assert selectors.model_on_day(account, dt.date(2020, 1, 1)) == "low_touch"


def test_rules_place_the_book_once_and_leave_pinned_accounts(book) -> None:  # type: ignore[no-untyped-def]
    big = AccountFactory(region=book.east, arr=Decimal("900000"))
    small = AccountFactory(region=book.east, arr=Decimal("30000"))
    services.account_place(actor=book.admin, account=small, model_key="high_touch", reason="Strategic logo")
    moved = services.placements_apply_rules(actor=book.admin)
    big.refresh_from_db()
    small.refresh_from_db()
    assert big.engagement_model == "high_touch"
    assert small.engagement_model == "high_touch"  # pinned by hand
    assert moved >= 1
    assert services.placements_apply_rules(actor=book.admin) == 0
    services.account_release(actor=book.admin, account=small)
    small.refresh_from_db()
    assert small.engagement_model == "pooled"
    assert Placement.objects.filter(account=big, source="rules").count() == 1


def test_capacity_settings(book) -> None:  # type: ignore[no-untyped-def]
    for bad in ({"target_p1_share": "1.5"}, {"target_arr_per_tam": "0"}, {"target_arr_per_tam": "lots"}, {"x": 1}):
        with pytest.raises(ValidationFailed):
            services.capacity_settings_update(actor=book.admin, changes=bad)
    row = services.capacity_settings_update(actor=book.admin, changes={"target_arr_per_tam": "4000000"})
    assert selectors.capacity_settings().target_arr_per_tam == Decimal("4000000.00") == row.target_arr_per_tam


def test_iterations_never_overlap_and_keep_the_accounts_in_each_model(book) -> None:  # type: ignore[no-untyped-def]
    services.account_place(
        actor=book.admin, account=book.account, model_key="named", reason="Pilot", on=dt.date(2026, 1, 1)
    )
    first = services.iteration_create(
        actor=book.admin, data={"name": "FY22-Q1", "starts_on": "2026-02-01", "ends_on": "2026-04-30"}
    )
    assert {m["key"] for m in first.models_snapshot} >= {"named", "pooled"}
    assert IterationAccount.objects.get(iteration=first, account=book.account).model_key == "named"
    for starts, ends in (("2026-04-30", "2026-06-30"), ("2026-01-01", "2026-02-01"), ("2026-03-01", "2026-03-02")):
        with pytest.raises(ValidationFailed, match="overlap"):
            services.iteration_create(actor=book.admin, data={"name": "X", "starts_on": starts, "ends_on": ends})
    with pytest.raises(ValidationFailed):
        services.iteration_create(
            actor=book.admin, data={"name": "X", "starts_on": "2026-06-02", "ends_on": "2026-06-01"}
        )
    services.iteration_create(
        actor=book.admin, data={"name": "FY22-Q3", "starts_on": "2026-05-01", "ends_on": "2026-07-31"}
    )
