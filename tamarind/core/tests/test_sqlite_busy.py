"""Behind a long writer on SQLite (one writer at a time): reads answer, writes wait their turn or answer 503 with
Retry-After, never 500.

A real server (``tamarind serve``) over an SQLite file, with a busy timeout of one second; the test's own
connection holds the write lock as a long job would. Before: a bearer-token read answered 500 "database is
locked" (its ``last_used_at`` write waited out the busy timeout and failed), and so did every write.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import sqlite3
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tamarind.testing.processes import Proc, free_port, sqlite_env, start, tamarind, wait_until

PASSWORD = "busy-test-pw"
SEED = f"""
from tamarind.accounts.models import Account
from tamarind.notifications.models import Notification
from tamarind.people.models import Region, Role, User
from tamarind.people.services import token_create
region = Region.objects.create(name="East")
admin = User.objects.create_user(email="admin@busy.test", password="{PASSWORD}", role=Role.ADMIN, full_name="Ada")
account = Account.objects.create(crm_id="0015busy", name="Busy Corp", region=region, segment="enterprise", arr=100000)
note = Notification.objects.create(recipient=admin, title="Hello")
_, raw = token_create(actor=admin, user=admin, name="busy")
print(raw, account.pk, note.pk)
"""


class Client:
    """An HTTP client with cookies (a signed-in browser) and bearer tokens (an API client)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect())

    def request(
        self, method: str, path: str, *, data: Any = None, token: str = "", form: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], str, float]:
        headers = {"Referer": self.base + path}
        body = None
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if data is not None:
            body = json.dumps(data).encode()
            headers["Content-Type"] = "application/json"
        if form is not None:
            body = urllib.parse.urlencode({**form, "csrfmiddlewaretoken": self.csrf()}).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        req = urllib.request.Request(self.base + path, data=body, method=method, headers=headers)
        started = time.monotonic()
        try:
            with self.opener.open(req, timeout=60) as response:
                status, got, text = response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as error:
            status, got, text = error.code, dict(error.headers), error.read().decode()
        return status, got, text, time.monotonic() - started

    def csrf(self) -> str:
        for cookie in self.jar:
            if cookie.name == "csrftoken":
                return cookie.value
        self.request("GET", "/login/")
        return self.csrf()

    def login(self) -> None:
        status, _, _, _ = self.request("POST", "/login/", form={"username": "admin@busy.test", "password": PASSWORD})
        assert status == 302, "sign-in failed"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("busy")
    env = sqlite_env(tmp, TAMARIND_SQLITE_TIMEOUT="1")
    token, account, note = tamarind(env, "shell", "-c", SEED).split()[-3:]
    port = free_port()
    proc: Proc = start(env, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "4")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _healthy(base), timeout=60, what="the server")
        yield {
            "base": base,
            "db": env["TAMARIND_SQLITE_PATH"],
            "token": token,
            "account": int(account),
            "note": int(note),
            "proc": proc,
        }
    finally:
        proc.stop()
        proc.kill_group()


def _healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


class Writer:
    """A long writer: another connection holding SQLite's write lock until ``release()``."""

    def __init__(self, db: str) -> None:
        self.conn = sqlite3.connect(db, isolation_level=None, timeout=10, check_same_thread=False)
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.execute("UPDATE accounts_account SET name = name")

    def release(self) -> None:
        self.conn.execute("COMMIT")
        self.conn.close()


def token_last_used(db: str) -> Any:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT last_used_at FROM people_apitoken").fetchone()[0]
    finally:
        conn.close()


def test_a_bearer_read_answers_behind_a_long_writer_and_a_write_gets_503_never_500(server):
    api = Client(server["base"])
    account_url = f"/api/v1/accounts/{server['account']}"
    assert token_last_used(server["db"]) is None  # never used: this read has a last_used_at to write
    writer = Writer(server["db"])
    try:
        status, _, body, took = api.request("GET", account_url, token=server["token"])
        assert status == 200, body
        assert json.loads(body)["name"] == "Busy Corp"
        assert took < 1.0, f"the read waited {took:.2f}s for its bookkeeping write"
        assert token_last_used(server["db"]) is None  # skipped, not failed

        status, headers, body, took = api.request("PATCH", account_url, token=server["token"], data={"licenses": 7})
        assert status == 503, body
        assert headers.get("Retry-After") == "5"
        assert headers.get("Content-Type", "").startswith("application/json")
        assert json.loads(body)["detail"].startswith("The database is busy")
        assert 0.9 < took < 10  # it waited its turn (the busy timeout) first
    finally:
        writer.release()
    assert "skipped the API token's last use: the database is busy" in server["proc"].output
    assert "database busy: PATCH" in server["proc"].output
    assert "Internal Server Error" not in server["proc"].output

    # The writer is gone: the same write goes through, and the next read records the token's use.
    status, _, body, _ = api.request("PATCH", account_url, token=server["token"], data={"licenses": 7})
    assert status == 200 and json.loads(body)["licenses"] == 7, body
    assert api.request("GET", account_url, token=server["token"])[0] == 200
    assert token_last_used(server["db"]) is not None


def test_a_write_waits_for_a_writer_that_commits_within_the_busy_timeout(server):
    import threading

    api = Client(server["base"])
    writer = Writer(server["db"])
    threading.Timer(0.4, writer.release).start()
    status, _, body, took = api.request(
        "PATCH", f"/api/v1/accounts/{server['account']}", token=server["token"], data={"licenses": 8}
    )
    assert status == 200, body
    assert took >= 0.3  # it waited for the writer, then wrote
    assert json.loads(body)["licenses"] == 8


def test_web_writes_behind_a_long_writer_get_a_503_page(server):
    browser = Client(server["base"])
    browser.login()
    writer = Writer(server["db"])
    try:
        status, headers, body, _ = browser.request("POST", f"/notifications/{server['note']}/read/", form={})
        assert status == 503, body[:500]
        assert headers.get("Retry-After") == "5"
        assert headers.get("Content-Type", "").startswith("text/html")
        assert "The database is busy" in body and "Try again" in body

        # Signing in writes too (the session, the last login): a 503 page, not a 500.
        other = Client(server["base"])
        other.csrf()
        status, _, body, _ = other.request(
            "POST", "/login/", form={"username": "admin@busy.test", "password": PASSWORD}
        )
        assert status == 503, body[:500]
        assert "The database is busy" in body

        # Reading pages is not held up.
        status, _, body, took = browser.request("GET", f"/accounts/{server['account']}/")
        assert status == 200 and "Busy Corp" in body and took < 1.0
    finally:
        writer.release()
    status, _, _, _ = browser.request("POST", f"/notifications/{server['note']}/read/", form={})
    assert status in (200, 302)
    assert not re.search(r"Internal Server Error", server["proc"].output)
