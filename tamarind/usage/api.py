"""REST routes of usage and support data under ``/api/v1/usage/`` (auth and error bodies: ``tamarind.core.api``).

Pushes take a JSON list of rows and are all-or-nothing: a row the schema refuses, or one naming an unknown account
or metric, answers 422 naming every bad row (``errors``) and nothing is written. A batch sent twice changes nothing
the second time. Admins push; an account's usage is read by whoever reads the account.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja import Body, Field, Query, Router, Schema, Status

from tamarind import policy
from tamarind.accounts.selectors import account_for_user
from tamarind.core.schemas import Id, InputSchema, PageQuery, actor, error_responses, paginate
from tamarind.usage import selectors, services
from tamarind.usage.models import SupportTicket, TicketPriority, TicketStatus, UsageMetric
from tamarind.usage.rows import MAX_VALUE, TicketRow, UsageRow

router = Router(tags=["Usage and support"])

Crm = Annotated[str, Field(min_length=1, max_length=64, description="The account's CRM id.")]


class UsageRowIn(InputSchema):
    account: Crm
    day: dt.date = Field(..., description="YYYY-MM-DD")
    metric: Annotated[str, Field(min_length=1, max_length=50, description="A metric key, e.g. `active_users`.")]
    value: Annotated[int, Field(ge=0, le=MAX_VALUE)]


class TicketRowIn(InputSchema):
    account: Crm
    external_id: Annotated[str, Field(min_length=1, max_length=64, description="The ticket's id in the support tool.")]
    opened_at: dt.datetime = Field(..., description="ISO 8601 with a time zone (UTC when none).")
    closed_at: dt.datetime | None = None
    priority: TicketPriority = TicketPriority.NORMAL
    status: TicketStatus = TicketStatus.OPEN


class IngestOut(Schema):
    received: int
    created: int
    updated: int
    unchanged: int
    accounts: int = Field(..., description="Accounts whose data changed.")
    first_values: int = Field(0, description="Onboardings whose first value this batch set.")


class UsageMetricOut(Schema):
    key: str
    label: str
    kind: str = Field(..., description="`licenses`, `billable`, `active` or `use_case`.")
    builtin: bool


class MetricIn(InputSchema):
    key: Annotated[str, Field(min_length=1, max_length=50)]
    label: Annotated[str, Field(min_length=1, max_length=100)]


class MonthOut(Schema):
    month: dt.date
    metric: str
    last_value: int
    last_day: dt.date
    max_value: int
    days_reported: int

    @staticmethod
    def resolve_metric(obj: Any) -> str:
        return str(obj.metric.key)


class FactsOut(Schema):
    licenses: int | None
    active_users: int | None
    active_users_prev: int | None
    utilization: float | None = Field(None, description="Active users / licenses in the latest month.")
    use_cases_adopted: int
    use_cases_total: int
    tickets_last_30d: int
    open_urgent_tickets: int
    usage_updated_at: dt.date | None
    tickets_updated_at: dt.datetime | None


class AccountUsageOut(Schema):
    account_id: int
    facts: FactsOut
    months: list[MonthOut] = Field(..., description="Monthly rollups of the last 12 months reported, newest first.")


class TicketOut(Schema):
    external_id: str
    opened_at: dt.datetime
    closed_at: dt.datetime | None
    priority: str
    status: str


class TicketPage(Schema):
    count: int
    page: int
    page_size: int
    results: list[TicketOut]


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)


def _result(result: services.IngestResult) -> dict[str, Any]:
    return {
        "received": result.received,
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "accounts": len(result.account_ids),
        "first_values": result.first_values,
    }


def _require_pusher(request: HttpRequest) -> Any:
    user = actor(request)
    if not policy.can_push_usage(user):
        raise PermissionDenied("Only admins send usage and support data.")
    return user


@router.post(
    "/daily",
    response={200: IngestOut, **error_responses(401, 403, 422)},
    summary="Push daily usage",
    description=(
        "A JSON list of `{account, day, metric, value}` (account = CRM id). Upserts by (account, day, metric): a "
        "re-sent row with the same value changes nothing. All or nothing: 422 names every bad row. Admins only."
    ),
)
def usage_push_daily(request: HttpRequest, rows: Body[list[UsageRowIn]]) -> dict[str, Any]:
    user = _require_pusher(request)
    parsed = [UsageRow(r.account, r.day, r.metric, r.value, ref=f"row {i}") for i, r in enumerate(rows)]
    return _result(services.usage_ingest_daily(actor=user, rows=parsed, source="api"))


@router.post(
    "/tickets",
    response={200: IngestOut, **error_responses(401, 403, 422)},
    summary="Push support tickets",
    description=(
        "A JSON list of `{account, external_id, opened_at, closed_at, priority, status}`. Upserts by external id. "
        "All or nothing: 422 names every bad row. Admins only."
    ),
)
def usage_push_tickets(request: HttpRequest, rows: Body[list[TicketRowIn]]) -> dict[str, Any]:
    user = _require_pusher(request)
    parsed = [
        TicketRow(
            r.account,
            r.external_id,
            _aware(r.opened_at),  # type: ignore[arg-type]
            _aware(r.closed_at),
            str(r.priority.value if hasattr(r.priority, "value") else r.priority),
            str(r.status.value if hasattr(r.status, "value") else r.status),
            ref=f"row {i}",
        )
        for i, r in enumerate(rows)
    ]
    return _result(services.tickets_ingest(actor=user, rows=parsed, source="api"))


@router.get(
    "/metrics",
    response={200: list[UsageMetricOut], **error_responses(401)},
    summary="List usage metrics",
    description="The built-in metrics and the use-case metrics admins added.",
)
def usage_metric_list(request: HttpRequest) -> list[UsageMetric]:
    return selectors.usage_metrics()


@router.post(
    "/metrics",
    response={201: UsageMetricOut, **error_responses(401, 403, 422)},
    summary="Add a use-case metric",
    description="Admins only; audited.",
)
def usage_metric_create(request: HttpRequest, payload: MetricIn) -> Status:
    metric = services.usage_metric_create(actor=actor(request), key=payload.key, label=payload.label, source="api")
    return Status(201, metric)


@router.get(
    "/accounts/{account_id}",
    response={200: AccountUsageOut, **error_responses(401, 404)},
    summary="An account's usage",
    description="The usage facts the health score reads and the monthly rollups. 404 outside what you may read.",
)
def usage_account_detail(request: HttpRequest, account_id: Id) -> dict[str, Any]:
    account = account_for_user(actor(request), account_id)
    facts = selectors.usage_facts([account.pk])[account.pk]
    out = {**facts.__dict__, "utilization": facts.utilization}
    return {"account_id": account.pk, "facts": out, "months": selectors.account_usage_months(account=account)}


@router.get(
    "/accounts/{account_id}/tickets",
    response={200: TicketPage, **error_responses(401, 404)},
    summary="An account's support tickets",
    description="Newest first. 404 outside what you may read.",
)
def usage_account_tickets(request: HttpRequest, account_id: Id, params: Query[PageQuery]) -> dict[str, Any]:
    account = account_for_user(actor(request), account_id)
    qs = SupportTicket.objects.filter(account=account).order_by("-opened_at", "-id")
    return paginate(qs, page=params.page, page_size=params.page_size)
