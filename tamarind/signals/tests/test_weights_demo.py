"""The demo book's suggested weights: the demo's outcomes follow "no call" and falling active users, while ticket
spikes and urgent tickets fire whatever happens (``signals.demo.STRENGTH``), so the fit has something to show."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from tamarind.people.models import Role, User
from tamarind.signals import selectors, weights


@pytest.mark.django_db
def test_demo_shows_a_fit() -> None:
    call_command("demo", "--accounts", "600", "--seed", "3", stdout=StringIO(), stderr=StringIO())
    admin = User.objects.filter(role=Role.ADMIN).first()
    assert admin is not None
    fit = weights.suggest_weights(user=admin, filters=selectors.BacktestFilters()).fit
    assert fit.ok, fit.message
    by = {m.key: m for m in fit.measures}
    assert by["engagement"].suggested > by["support"].suggested
    assert by["product_usage"].per_unit is not None and by["product_usage"].per_unit > 0
    assert len(fit.effects) == 6 and fit.auc["suggested"].value is not None
