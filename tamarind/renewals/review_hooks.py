"""What renewals bring to the manager's reviews (``tamarind.reviews``): the renewal review's "Renewal forecasts and
next steps" section named in ``reviews.checklists.OPTIONAL_HOOKS``. Reviews looks this module up at run time, so
neither app imports the other at load."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tamarind.accounts.models import LifecycleStage
from tamarind.renewals.models import Forecast, Renewal
from tamarind.renewals.quarters import quarters_from
from tamarind.renewals.selectors import forecast_rank, renewal_settings

if TYPE_CHECKING:
    from tamarind.reviews.checklists import ChecklistContext, ItemDraft

QUARTERS = 3  # this fiscal quarter and the next two, as the renewal review's own section


def renewal_forecast(ctx: ChecklistContext) -> list[ItemDraft]:
    """The region's open renewals (a 1:1: the TAM's) dated from today to the end of the second fiscal quarter after
    this one, riskiest forecast first, each with its ARR, forecast, the reason given and the forecast it moved
    from. One query."""
    from tamarind.reviews.checklists import ItemDraft, _url

    conf = renewal_settings()
    quarters = quarters_from(ctx.today, QUARTERS, conf.fiscal_start_month)
    qs = (
        Renewal.objects.open()
        .filter(account__region_id=ctx.region_id, renewal_date__gte=ctx.today, renewal_date__lte=quarters[-1].end)
        .exclude(account__lifecycle_stage=LifecycleStage.WILL_CHURN)
    )
    if ctx.tam is not None:
        qs = qs.filter(account__tam=ctx.tam)
    rows = (
        # The review walks the riskiest first: will churn, at risk, likely, then commit (the page's order reversed).
        qs.annotate(rank=forecast_rank())
        .order_by("-rank", "renewal_date", "id")
        .values(
            "pk",
            "account_id",
            "account__name",
            "renewal_date",
            "arr",
            "forecast",
            "forecast_reason",
            "previous_forecast",
            "tam__full_name",
            "account__tam__full_name",
        )
    )
    labels = dict(Forecast.choices)
    return [
        ItemDraft(
            key=f"renewal_forecast:{r['pk']}:{r['forecast']}",
            label=f"{r['account__name']}: {labels.get(r['forecast'], r['forecast'])}, renews {r['renewal_date']:%Y-%m-%d}",
            account_id=r["account_id"],
            account_name=r["account__name"],
            link=_url("renewals:detail", r["pk"]),
            facts={
                "arr": f"{r['arr']:,.0f}",
                "renewal": str(r["renewal_date"]),
                "forecast": labels.get(r["forecast"], r["forecast"]),
                # None: not shown (the item lists only the facts it has).
                "was": labels.get(r["previous_forecast"]) if r["previous_forecast"] else None,
                "reason": r["forecast_reason"] or None,
                "tam": r["tam__full_name"] or r["account__tam__full_name"] or "—",
            },
        )
        for r in rows
    ]
