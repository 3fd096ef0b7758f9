"""Demo stuck customers: the daily sweep run over the demo's pooled accounts (so every case says why, from the
demo's own data), then a few cases worked through the services: one claimed with an outreach (an email) logged, one resolved
as unstuck (its clock moved back so it got unstuck within 30 days of opening: a demo-only timestamp adjustment, not
audited, as the Service Desk demo does), one resolved without a response; the rest stay open in the queue."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from tamarind.servicedesk.models import Pool
from tamarind.stuck import services
from tamarind.stuck.models import Outcome, StuckCase


def seed_stuck_demo(*, pool: Pool | None) -> dict[str, int]:
    if pool is None:
        return {}
    tams = [m.tam for m in pool.members.select_related("tam").order_by("pk")]
    result = services.stuck_sweep()
    cases = list(StuckCase.objects.filter(pool=pool).select_related("account", "pool").order_by("pk"))
    if not tams or not cases:
        return result
    now = timezone.now()
    for i, case in enumerate(cases[:3]):
        tam = tams[i % len(tams)]
        services.stuck_case_claim(actor=tam, case=case, source="demo")
        services.stuck_case_log_outreach(
            actor=tam,
            case=case,
            kind="email" if i != 2 else "note",  # not a call: a call rescores health (the demo may run without)
            title="Stuck-customer check-in",
            notes="Walked through what is blocking them; offered the onboarding webinar.",
            source="demo",
        )
        if i == 1:
            services.stuck_case_resolve(
                actor=tam, case=case, outcome=Outcome.UNSTUCK, notes="Admins trained; usage picking up.", source="demo"
            )
            opened = now - dt.timedelta(days=40)
            StuckCase.objects.filter(pk=case.pk).update(
                opened_at=opened,
                claimed_at=opened + dt.timedelta(days=1),
                unstuck_at=opened + dt.timedelta(days=18),
                resolved_at=opened + dt.timedelta(days=20),
            )
        elif i == 2:
            services.stuck_case_resolve(
                actor=tam, case=case, outcome=Outcome.NO_RESPONSE, notes="Three emails, no answer.", source="demo"
            )
    return result
