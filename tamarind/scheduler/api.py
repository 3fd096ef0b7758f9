"""REST routes of scheduler, mounted by ``core.api`` under ``/api/v1/``."""

from ninja import Router

router = Router(tags=["Scheduler"])
