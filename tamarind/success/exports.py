"""The success plans as CSV: one row per objective (a plan without objectives gets one row with them empty), the
same columns the ``success_plans`` import reads, so an export imports back unchanged. Every cell goes through
``core.csv_safe`` (no spreadsheet formula runs on the reader's machine)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tamarind.core.csv_safe import csv_lines
from tamarind.people.models import User
from tamarind.success.models import Objective, SuccessPlan

COLUMNS: tuple[str, ...] = (
    "account_crm_id",
    "plan_status",
    "plan_start_on",
    "why_bought",
    "strategy",
    "highlights",
    "objective",
    "category",
    "objective_status",
    "priority",
    "owner_email",
    "due_on",
    "success_criteria",
    "outcome",
)
BATCH = 1000


def _rows(user: User) -> Iterator[list[Any]]:
    yield list(COLUMNS)
    plans = SuccessPlan.objects.visible_to(user).current().select_related("account").order_by("account__crm_id", "pk")
    ids = list(plans.values_list("pk", flat=True))
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        objectives: dict[int, list[Objective]] = {}
        for objective in Objective.objects.filter(plan_id__in=chunk).select_related("owner").order_by("position", "pk"):
            objectives.setdefault(objective.plan_id, []).append(objective)
        for plan in plans.filter(pk__in=chunk):
            head = [
                plan.account.crm_id,
                plan.status,
                plan.start_on.isoformat(),
                plan.why_bought,
                plan.strategy,
                plan.highlights,
            ]
            items: list[Objective | None] = list(objectives.get(plan.pk, [])) or [None]
            for o in items:
                if o is None:
                    yield [*head, *([""] * 8)]
                else:
                    yield [
                        *head,
                        o.name,
                        o.category,
                        o.status,
                        o.priority,
                        o.owner.email if o.owner else "",
                        o.due_on.isoformat() if o.due_on else "",
                        o.success_criteria,
                        o.outcome,
                    ]


def plan_rows_csv(*, user: User) -> Iterator[str]:
    return csv_lines(_rows(user))
