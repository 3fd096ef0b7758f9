"""Factories for renewals tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from tamarind.renewals.models import ArrSnapshot, Forecast, Renewal, month_index


class RenewalFactory(DjangoModelFactory):
    class Meta:
        model = Renewal

    renewal_date = dt.date(2027, 1, 15)
    arr = Decimal("120000.00")
    forecast = Forecast.LIKELY


def snap(account_id: int, month: dt.date, arr: Decimal | int | str) -> ArrSnapshot:
    return ArrSnapshot.objects.create(
        account_id=account_id,
        month=month.replace(day=1),
        month_index=month_index(month.year, month.month),
        arr=Decimal(str(arr)),
    )


__all__ = ["RenewalFactory", "factory", "snap"]
