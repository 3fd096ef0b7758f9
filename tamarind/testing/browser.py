"""Browser-test support: Debian's Chromium driven by Playwright, screenshots under the test output folder.

Use the ``page`` fixture (a fresh context per test) with ``live_server``; ``login(page, live_server, user)``
signs in through the real form; ``screenshot(page, "name")`` saves ``var/test-output/screenshots/name.png``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("TAMARIND_CHROMIUM", "/usr/bin/chromium")
OUTPUT_DIR = Path(os.environ.get("TAMARIND_TEST_OUTPUT", Path(__file__).resolve().parents[2] / "var" / "test-output"))
SCREENSHOTS = OUTPUT_DIR / "screenshots"

# Playwright's sync API runs an event loop in this thread; the ORM calls our tests make between page steps
# are plain synchronous code, so tell Django not to refuse them.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's package (apt-get install chromium).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.set_default_timeout(10_000)
    pg = context.new_page()
    yield pg
    context.close()
    _wait_for_live_server_requests()


def _wait_for_live_server_requests(timeout: float = 10.0) -> None:
    """Wait until the live server has answered every request the closed browser left in flight.

    The test database is flushed right after this fixture; on SQLite (an in-memory database in shared-cache mode)
    a request thread still saving its session holds a table lock, and the flush fails with "database table is
    locked" instead of waiting. The server's request threads are daemon threads the server does not track, so they
    are found by the name ``socketserver`` gives them (the browser's closed connections end them)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = [t for t in threading.enumerate() if "process_request_thread" in t.name]
        if not busy:
            return
        busy[0].join(timeout=max(0.0, deadline - time.monotonic()))


def login(page: Any, live_server: Any, user: Any, password: str | None = None) -> None:
    from tamarind.testing.factories import PASSWORD

    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", user.email)
    page.fill("input[name=password]", password or PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def seed_defaults() -> None:
    """Re-create what migrations seed (product tier rungs, the default import mapping, the default qualification
    rules, the built-in usage metrics, the default health model, the built-in engagement models, the stuck rules, the personas, the default journey program).

    Browser tests run against a live server, so they are transactional: each one ends by emptying every
    table, seeded rows included. The ``browser`` marker makes the root conftest call this before each test.
    """
    import importlib

    from django.apps import apps

    from tamarind.testing.factories import DEFAULT_RUNGS, tier

    importlib.import_module("tamarind.imports.migrations.0002_default_mapping").seed(apps, None)
    for migration in (
        "tamarind.assignment.migrations.0002_seed_default_rules",
        "tamarind.usage.migrations.0002_builtin_metrics",
        "tamarind.health.migrations.0002_seed_default_model",
        "tamarind.engagement.migrations.0002_builtin_models",
        "tamarind.stuck.migrations.0002_default_rules",
        "tamarind.contacts.migrations.0002_default_personas",
        "tamarind.webinars.migrations.0002_seed_topics",
        "tamarind.journeys.migrations.0002_default_programs",
    ):
        importlib.import_module(migration).seed(apps, None)
    for name in DEFAULT_RUNGS:
        tier(name)
