"""The Service Desk's SMTP listener (aiosmtpd): every message received is handed to
``services.inbound_email_receive`` in a worker thread (the ORM is synchronous). A message over the size limit is
refused by the server with 552, so its sender gets a bounce rather than silence."""

from __future__ import annotations

import asyncio
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.db import close_old_connections

from tamarind.core.errors import ValidationFailed
from tamarind.servicedesk import services


def _receive(raw: bytes) -> None:
    close_old_connections()
    try:
        services.inbound_email_receive(raw)
    finally:
        close_old_connections()


class DeskHandler:
    """aiosmtpd handler: accept the message, store it, answer 250 only once it is stored."""

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or (envelope.content if isinstance(envelope.content, bytes) else b"")
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, _receive, raw)
        except ValidationFailed as exc:
            return f"552 {exc}"
        except Exception:  # the sender must hear of a failure rather than get a false 250
            return "451 Requested action aborted: local error in processing"
        return "250 Message accepted for delivery"


def controller(host: str, port: int, **kwargs: Any) -> Controller:
    """A started-on-demand listener on ``host:port`` (``controller.start()``, ``.stop()``)."""
    return Controller(DeskHandler(), hostname=host, port=port, data_size_limit=services.RAW_LIMIT, **kwargs)
