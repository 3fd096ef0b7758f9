"""REST routes of actions, mounted by ``core.api`` under ``/api/v1/``."""

from ninja import Router

router = Router(tags=["Tasks"])
