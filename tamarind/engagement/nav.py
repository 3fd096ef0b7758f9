"""The navigation group of the engagement and Service Desk pages (called from ``core.context_processors``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tamarind import policy
from tamarind.people.models import User


def nav_groups(user: User, item: Callable[[str, str], dict[str, Any]]) -> list[dict[str, Any]]:
    items = [item("Engagement models", "engagement:models")]
    if policy.can_view_capacity(user):
        items += [item("Capacity", "engagement:capacity"), item("Compare iterations", "engagement:compare")]
    if policy.can_view_servicedesk(user):
        items.append(item("Service Desk", "servicedesk:queue"))
    if policy.can_view_stuck(user):
        items.append(item("Stuck customers", "stuck:queue"))
    if policy.can_view_cohorts(user):
        items.append(item("Customer cohorts", "cohorts:list"))
    return [{"label": "Engagement", "items": items}]
