"""The demo has stuck customers in each state, each saying why."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from tamarind.stuck.models import StuckCase


@pytest.mark.django_db
def test_demo_has_stuck_customers() -> None:
    call_command("demo", "--accounts", "300", "--seed", "3", stdout=StringIO(), stderr=StringIO())
    cases = list(StuckCase.objects.all())
    assert {c.status for c in cases} == {"open", "claimed", "resolved"}
    assert all(c.reasons and all(r["why"] for r in c.reasons) for c in cases)
    assert any(c.outcome == "unstuck" and c.unstuck_within() for c in cases)
