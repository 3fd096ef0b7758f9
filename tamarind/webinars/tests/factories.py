"""Test helpers: a session (of a seeded topic, on a fixed day), a report's CSV bytes, a stream of them."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from tamarind.webinars.models import Round, Session, Topic

START = dt.datetime(2026, 3, 10, 16, 0, tzinfo=dt.UTC)
END = START + dt.timedelta(hours=1)
HEADER = "Email,Name,Join Time,Leave Time,Duration (Minutes),Feedback"


def make_session(**kwargs: Any) -> Session:
    data: dict[str, Any] = {
        "topic": Topic.objects.get(key="cicd"),
        "round": Round.OPERATIONALIZE,
        "starts_at": START,
        "ends_at": END,
    }
    data.update(kwargs)
    return Session.objects.create(**data)


def at(minutes: int, base: dt.datetime = START) -> str:
    return (base + dt.timedelta(minutes=minutes)).strftime("%Y-%m-%d %H:%M:%S+00:00")


def csv_bytes(rows: list[tuple[str, str, int, int, str]], header: str = HEADER) -> bytes:
    """``rows``: (email, name, join minute, leave minute, feedback) relative to the session's start."""
    lines = [header]
    for email, name, join, leave, feedback in rows:
        lines.append(f"{email},{name},{at(join)},{at(leave)},{leave - join},{feedback}")
    return ("\n".join(lines) + "\n").encode()


def stream(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)
