"""REST routes of this app (see tamarind.core.api for auth and error handling)."""

from ninja import Router

router = Router(tags=["TODO"])
