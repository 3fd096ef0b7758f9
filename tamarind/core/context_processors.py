"""The navigation shell: sections by role, the current one marked active."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from tamarind import policy


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
    path = request.path

    def item(label: str, url_name: str) -> dict[str, Any]:
        url = reverse(url_name)
        return {"label": label, "url": url, "active": path.startswith(url)}

    # Renewals and its Retention page (under /renewals/ too): one of the two is current, not both.
    renewal_items = [item("Renewals", "renewals:review")]
    if policy.can_view_retention(user):
        renewal_items.append(item("Retention", "renewals:retention"))
        renewal_items[0]["active"] = renewal_items[0]["active"] and not renewal_items[1]["active"]
    groups: list[dict[str, Any]] = [
        *_reviews_group(user, item),
        {
            "label": "Book",
            "items": [
                item("Accounts", "accounts:list"),
                item("Onboarding", "onboarding:list"),
                item("Triage board", "triage:board"),
                item("Success plans", "success:list"),
                item("No Admin contact", "contacts:missing_admin"),
                *renewal_items,
                *([item("Survey results", "surveys:results")] if policy.can_view_survey_results(user) else []),
                *([item("Digital journey", "journeys:programs")] if policy.can_view_journeys(user) else []),
                *([item("Accounts to staff", "assignment:staffing")] if policy.can_view_staffing(user) else []),
                *([item("Webinars", "webinars:season")] if policy.can_view_webinars(user) else []),
            ],
        },
        *(
            [
                {
                    "label": "Dashboards",
                    "items": [
                        item("Customer onboarding", "dashboards:onboarding"),
                        *(
                            [item("Customer health", "dashboards:health")]
                            if policy.can_view_health_dashboard(user)
                            else []
                        ),
                        *([item("Signals", "signals:index")] if policy.can_view_signals(user) else []),
                    ],
                }
            ]
            if policy.can_view_onboarding_dashboard(user)
            else []
        ),
        {
            "label": "Team",
            "items": [
                item("People", "people:list"),
                item("Regions", "people:regions"),
                *([item("Team tasks", "actions:team")] if policy.can_read_team_tasks(user) else []),
            ],
        },
    ]
    data_items = []
    if policy.can_import(user):
        data_items.append(item("Imports", "imports:list"))
    if policy.can_view_audit_log(user):
        data_items.append(item("Audit log", "audit:log"))
    data_items.append(item("Qualification rules", "assignment:rules"))
    data_items.append(item("Health model", "health:model"))
    data_items.append(item("Usage metrics", "usage:metrics"))
    if policy.can_view_scheduler(user):
        data_items.append(item("Scheduler", "scheduler:jobs"))
    if data_items:
        groups.append({"label": "Data", "items": data_items})
    from tamarind.engagement.nav import nav_groups as engagement_nav

    groups.extend(engagement_nav(user, item))
    groups.append(
        {
            "label": "You",
            "items": [
                item("My tasks", "actions:mine"),
                item("Notifications", "notifications:list"),
                item("API tokens", "people:tokens"),
            ],
        }
    )
    # Sections nest (/people/ holds /people/regions/): only the longest matching entry is the current one.
    active = [i for g in groups for i in g["items"] if i["active"]]
    for extra in sorted(active, key=lambda i: len(i["url"]))[:-1]:
        extra["active"] = False
    return {"nav": groups}


def _reviews_group(user: Any, item: Any) -> list[dict[str, Any]]:
    """The manager's cockpit (issue 12): My week, reviews, the regional dashboard and the burn-down."""
    if not policy.can_view_cockpit(user):
        return []
    return [
        {
            "label": "Cockpit",
            "items": [
                item("My week", "reviews:my_week"),
                item("Reviews and 1:1s", "reviews:list"),
                item("Regional dashboard", "reviews:dashboard"),
                item("Burn-down", "reviews:burndown"),
                item("Your calendar", "reviews:calendar"),
            ],
        }
    ]
