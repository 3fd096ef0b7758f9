"""The five built-in engagement models (domain section 10), as first seeded. Admins change them afterwards; this
is only the seed (migration 0002) and the demo's starting point."""

from __future__ import annotations

from typing import Any

_TAM = [
    {"field": "segment", "op": "in", "value": ["enterprise", "mid_market"]},
    {"field": "tier", "op": "gte", "value": 2},
]

BUILT_IN_MODELS: list[dict[str, Any]] = [
    {
        "key": "high_touch",
        "name": "High touch",
        "description": "The largest TAM-managed customers: full lifecycle, frequent calls, EBRs.",
        "tam_managed": True,
        "criteria": {"match": "all", "conditions": [{"field": "arr", "op": "gt", "value": "500000"}, *_TAM]},
        "precedence": 10,
        "cadence_days": {"1": 14, "2": 30},
        "services": ["Success plan", "Monthly cadence call", "Executive business review", "Escalation management"],
        "metrics": [
            "time_to_engage",
            "time_to_first_value",
            "time_to_onboard",
            "success_plan_coverage",
            "ebr_coverage",
            "health_mix",
            "gross_retention",
            "net_retention",
            "arr_per_tam",
        ],
        "indicators": [
            "utilization_below_75",
            "active_users_falling",
            "no_call_over_cadence",
            "renewal_6m_not_green",
            "stalled_triage_case",
        ],
    },
    {
        "key": "named",
        "name": "Named",
        "description": "A named TAM who knows the customer, on a lighter cadence than high touch.",
        "tam_managed": True,
        "criteria": {"match": "all", "conditions": [{"field": "arr", "op": "gt", "value": "150000"}, *_TAM]},
        "precedence": 20,
        "cadence_days": {"1": 30, "2": 60},
        "services": ["Success plan", "Cadence call", "Onboarding"],
        "metrics": [
            "time_to_engage",
            "time_to_first_value",
            "time_to_onboard",
            "success_plan_coverage",
            "health_mix",
            "calls_per_account",
            "accounts_per_tam",
        ],
        "indicators": ["utilization_below_75", "no_first_value_day_30", "no_call_over_cadence", "ticket_spike"],
    },
    {
        "key": "low_touch",
        "name": "Low touch",
        "description": "TAM-managed (over 50,000 ARR) with scaled motions: webinars, office hours, fewer calls.",
        "tam_managed": True,
        "criteria": {"match": "all", "conditions": [{"field": "arr", "op": "gt", "value": "50000"}, *_TAM]},
        "precedence": 30,
        "cadence_days": {"1": 30, "2": 60},
        "services": ["Onboarding", "Quarterly call", "Enablement webinars"],
        "metrics": ["time_to_engage", "time_to_first_value", "health_mix", "health_staleness", "accounts_per_tam"],
        "indicators": ["utilization_below_75", "no_first_value_day_30", "ticket_spike"],
    },
    {
        "key": "pooled",
        "name": "Pooled (service desk)",
        "description": "Smaller customers served by a pool of TAMs through the Service Desk.",
        "tam_managed": False,
        "criteria": {
            "match": "all",
            "conditions": [
                {"field": "arr", "op": "gt", "value": "20000"},
                {"field": "arr", "op": "lte", "value": "50000"},
            ],
        },
        "precedence": 40,
        "cadence_days": {},
        "services": ["Service Desk (first response within 48 hours)", "Stuck-customer outreach"],
        "metrics": ["time_to_first_value", "health_mix"],
        "indicators": ["utilization_below_75", "no_first_value_day_30", "ticket_spike", "open_urgent_ticket"],
    },
    {
        "key": "digital",
        "name": "Digital program",
        "description": "The smallest customers: email series by days since start, surveys.",
        "tam_managed": False,
        "criteria": {
            "match": "all",
            "conditions": [
                {"field": "arr", "op": "gte", "value": "5000"},
                {"field": "arr", "op": "lte", "value": "20000"},
            ],
        },
        "precedence": 50,
        "cadence_days": {},
        "services": ["Email series", "Surveys"],
        "metrics": ["time_to_first_value"],
        "indicators": ["utilization_below_75", "active_users_falling"],
    },
]
