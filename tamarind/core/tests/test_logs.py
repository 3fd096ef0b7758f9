"""No secret reaches a log: real requests carrying tokens, passwords and cookies, through Django's logging, ninja,
the error emails and gunicorn's access log, with every handler the settings install."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import io
import json
import logging
import socket
import sys

import pytest
from django.core import mail
from django.test import Client, override_settings

from tamarind.core.logs import REDACTED, GunicornLogger, RedactSecretsFilter, redact
from tamarind.people.services import token_create, token_revoke

pytestmark = pytest.mark.django_db

ACCOUNTS = "/api/v1/accounts/"


def _all_handlers() -> list[logging.Handler]:
    loggers = [logging.getLogger()] + [
        lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger)
    ]
    out: list[logging.Handler] = []
    for lg in loggers:
        if lg.name.startswith("gunicorn"):
            continue  # configured by gunicorn itself (GunicornLogger below), not by settings.LOGGING
        for h in lg.handlers:
            if isinstance(h, logging.NullHandler):
                continue  # writes nothing
            if h not in out and type(h).__module__.split(".")[0] in ("logging", "django", "tamarind"):
                out.append(h)
    return out


@contextlib.contextmanager
def captured_logs():
    """Everything the configured stream handlers write while the block runs, as one string (the caller reads
    ``buf.getvalue()``). Each handler keeps its own filters and formatter, as in production."""
    buf = io.StringIO()
    swapped = []
    for handler in _all_handlers():
        if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler):
            # Not setStream(), which flushes the old stream: under pytest it may be a capture file closed since.
            swapped.append((handler, handler.stream))
            handler.stream = buf
    try:
        yield buf
    finally:
        for handler, stream in swapped:
            handler.stream = stream


def test_every_configured_handler_redacts():
    handlers = _all_handlers()
    assert handlers
    for handler in handlers:
        assert any(isinstance(f, RedactSecretsFilter) for f in handler.filters), handler


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Unexpected auth - 'tmd_AbC-123_xyzXYZ0987654321'", "tmd_AbC-123_xyzXYZ0987654321"),
        ("Authorization: Bearer abcdef0123456789", "abcdef0123456789"),
        ("Authorization: Basic dXNlcjpodW50ZXIy", "dXNlcjpodW50ZXIy"),
        ("{'HTTP_AUTHORIZATION': 'opaque-bare-value'}", "opaque-bare-value"),
        ('{"email": "a@b.c", "password": "hunter2!"}', "hunter2!"),
        ("POST /login/ email=a%40b.c&password=hunter2&next=/", "hunter2"),
        ("Cookie: sessionid=s3ss10nvalue; csrftoken=csrfvalue123", "s3ss10nvalue"),
        ("Cookie: sessionid=s3ss10nvalue; csrftoken=csrfvalue123", "csrfvalue123"),
        ("csrfmiddlewaretoken=formtok3n&x=1", "formtok3n"),
        ("'HTTP_X_CSRFTOKEN': 'headertok3n'", "headertok3n"),
        ("GET /api/v1/accounts/?access_token=qwertyuiop HTTP/1.1", "qwertyuiop"),
        ("EMAIL_HOST_PASSWORD = 'smtp-secret'", "smtp-secret"),
    ],
)
def test_redact_removes_secrets(text, secret):
    out = redact(text)
    assert secret not in out
    assert REDACTED in out


@pytest.mark.parametrize(
    "text",
    [
        "GET /api/v1/tokens/5 HTTP/1.1 401",
        "Unauthorized: /api/v1/accounts/",
        "import job 12 failed: line 3: unknown region 'EMEA'",
        "Authentication required: send 'Authorization: Bearer <token>'.",
    ],
)
def test_redact_keeps_ordinary_text(text):
    assert redact(text) == text


def _header_forms(book):
    """(Authorization header, secrets that must not be logged) for each way a client sends a credential."""
    _, live_raw = token_create(actor=book.tam, user=book.tam, name="live")
    revoked, revoked_raw = token_create(actor=book.tam, user=book.tam, name="revoked")
    token_revoke(actor=book.tam, token=revoked)
    basic_token = base64.b64encode(f"{live_raw}:".encode()).decode()
    basic_password = base64.b64encode(b"tam@example.com:hunter2-password").decode()
    return [
        (f"Basic {basic_token}", [live_raw, basic_token]),
        (f"Basic {basic_password}", [basic_password, "hunter2-password"]),
        (f"Token {live_raw}", [live_raw]),
        (live_raw, [live_raw]),
        (f"Bearer {revoked_raw}", [revoked_raw]),
        ("Bearer tmd_forgedForgedForgedForgedForged123", ["tmd_forgedForgedForgedForgedForged123"]),
        ("opaque-secret-without-a-scheme", ["opaque-secret-without-a-scheme"]),
    ]


@override_settings(DEBUG=True)  # ninja logs unexpected Authorization headers in DEBUG (what `make run` uses)
def test_requests_with_credentials_log_no_secret(book):
    for header, secrets in _header_forms(book):
        client = Client(headers={"Authorization": header})
        with captured_logs() as buf:
            assert client.get(ACCOUNTS).status_code == 401
            response = client.post(ACCOUNTS, json.dumps({"name": "x"}), content_type="application/json")
            assert response.status_code == 401
        logged = buf.getvalue()
        assert "Unauthorized: /api/v1/accounts/" in logged  # the requests were logged at all
        for secret in secrets:
            assert secret not in logged, (header, logged)


def test_cookies_and_passwords_of_a_failed_request_are_not_logged(book):
    client = Client()
    client.cookies["sessionid"] = "forged-session-value"
    client.cookies["csrftoken"] = "forged-csrf-value-0123456789abcdef"
    with captured_logs() as buf:
        response = client.post(
            "/api/v1/people/",
            json.dumps({"email": "x@example.com", "password": "hunter2-password"}),
            content_type="application/json",
        )
    assert response.status_code == 401
    logged = buf.getvalue()
    assert logged
    for secret in ("forged-session-value", "forged-csrf-value-0123456789abcdef", "hunter2-password"):
        assert secret not in logged


@override_settings(ADMINS=[("Ops", "ops@example.com")], DEBUG=False)
def test_exception_report_and_log_of_a_500_carry_no_secret(book, monkeypatch):
    _, raw = token_create(actor=book.tam, user=book.tam, name="live")

    def broken(token):
        password = "hunter2-password"  # a local the report would print
        raise RuntimeError(f"lookup failed for {token} ({len(password)})")

    monkeypatch.setattr("tamarind.people.services.token_authenticate", broken)
    client = Client(raise_request_exception=False, headers={"Authorization": f"Bearer {raw}"})
    client.cookies["sessionid"] = "forged-session-value"
    with captured_logs() as buf:
        response = client.get(ACCOUNTS + "?access_token=" + raw)
    assert response.status_code == 500
    logged = buf.getvalue()
    assert "RuntimeError: lookup failed for tmd_" in logged
    assert raw not in logged
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    text = email.subject + email.body + "".join(str(a[0]) for a in email.alternatives)
    assert "lookup failed" in text
    for secret in (raw, "hunter2-password", "forged-session-value"):
        assert secret not in text


def _gunicorn_request(raw_request: bytes, cfg):
    """One request through gunicorn's own parser, WSGI environ and response, into Tamarind's WSGI application,
    then gunicorn's access log: what a gunicorn sync worker does for each request, without the fork."""
    from django.core.signals import request_finished, request_started
    from django.core.wsgi import get_wsgi_application
    from django.db import close_old_connections
    from gunicorn.http import RequestParser
    from gunicorn.http import wsgi as gunicorn_wsgi

    ours, theirs = socket.socketpair()
    # As Django's test client does: the request must not close the test's database connection (its transaction).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        ours.sendall(raw_request)
        req = next(iter(RequestParser(cfg, theirs, ("127.0.0.1", 50000))))
        resp, environ = gunicorn_wsgi.create(req, theirs, ("127.0.0.1", 50000), ("127.0.0.1", 8102), cfg)
        for chunk in get_wsgi_application()(environ, resp.start_response):
            resp.write(chunk)
        resp.close()
        cfg.logger_class(cfg).access(resp, req, environ, dt.timedelta(milliseconds=3))
        return resp.status
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
        ours.close()
        theirs.close()


@pytest.mark.parametrize(
    "access_format",
    [
        None,  # gunicorn's default: the request line (with the query), the Basic user, the referer
        '%(h)s "%(r)s" %(s)s %(u)s "%({authorization}i)s" "%({cookie}i)s" "%(f)s"',
    ],
)
def test_gunicorn_access_log_of_tamarind_serve_carries_no_secret(book, tmp_path, monkeypatch, access_format):
    from gunicorn.app.wsgiapp import WSGIApplication

    from tamarind.core.management.commands.serve import gunicorn_argv

    log_file = tmp_path / "access.log"
    argv = gunicorn_argv(bind="127.0.0.1:8102", workers=1, threads=1)
    argv[argv.index("--access-logfile") + 1] = str(log_file)
    if access_format:
        argv += ["--access-logformat", access_format]
    monkeypatch.setattr(sys, "argv", argv)
    cfg = WSGIApplication().cfg  # the configuration gunicorn builds from `tamarind serve`'s command line
    assert cfg.logger_class is GunicornLogger

    _, raw = token_create(actor=book.tam, user=book.tam, name="live")
    basic = base64.b64encode(f"{raw}:".encode()).decode()
    requests = [
        f"GET /api/v1/accounts/?token={raw}&password=hunter2-password HTTP/1.1\r\nHost: localhost\r\n"
        f"Authorization: Bearer {raw}\r\nReferer: http://localhost/x?access_token={raw}\r\n\r\n",
        f"GET /api/v1/accounts/ HTTP/1.1\r\nHost: localhost\r\nAuthorization: Basic {basic}\r\n"
        "Cookie: sessionid=forged-session-value; csrftoken=forged-csrf-value\r\n\r\n",
        f"GET /api/v1/accounts/ HTTP/1.1\r\nHost: localhost\r\nAuthorization: {raw}\r\n\r\n",
    ]
    statuses = [_gunicorn_request(r.encode(), cfg) for r in requests]
    assert [str(s).split()[0] for s in statuses] == ["200", "401", "401"]
    logged = log_file.read_text()
    assert logged.count("/api/v1/accounts/") == 3
    for secret in (raw, basic, "hunter2-password", "forged-session-value", "forged-csrf-value"):
        assert secret not in logged, logged
