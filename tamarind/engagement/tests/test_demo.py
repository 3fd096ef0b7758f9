"""The demo shows engagement and the Service Desk: two past iterations with different results, a pool with
requests in every state and an email kept aside."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from tamarind.engagement.comparison import compare
from tamarind.engagement.models import Iteration, Placement
from tamarind.servicedesk.models import InboundEmail, ServiceRequest


@pytest.mark.django_db
def test_demo_has_iterations_and_a_service_desk() -> None:
    call_command("demo", "--accounts", "300", "--seed", "3", stdout=StringIO(), stderr=StringIO())
    its = list(Iteration.objects.order_by("starts_on"))
    assert len(its) == 2
    assert Placement.objects.filter(source="manual", reason__startswith="Iteration 2").exists()
    result = compare(its)
    named = [g for g in result.groups if g.model_key == "named"]
    assert len(named) == 2 and named[0].accounts < named[1].accounts  # the pilot grew named
    row = next(r for r in result.rows if r.metric.key == "accounts_per_tam")
    firsts = {g.label: c.estimate.value for g, c in zip(result.groups, row.cells, strict=True)}
    assert firsts[named[0].label] != firsts[named[1].label]
    states = set(ServiceRequest.objects.values_list("status", flat=True))
    assert states == {"new", "in_progress", "waiting", "closed"}
    assert ServiceRequest.objects.filter(satisfaction__isnull=False).count() == 2
    assert InboundEmail.objects.filter(status="unmatched").count() == 1
