"""The settings module: SQLite by default, PostgreSQL from DATABASE_URL, loud failure without a production secret."""

import os
import subprocess
import sys

import pytest


def load_settings(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    code = (
        "import json, tamarind.config.settings as s; "
        "print(json.dumps({'engine': s.DATABASES['default']['ENGINE'], 'debug': s.DEBUG, "
        "'hsts': getattr(s, 'SECURE_HSTS_SECONDS', 0), 'secure_cookie': getattr(s, 'SESSION_COOKIE_SECURE', False), "
        "'conn_max_age': s.DATABASES['default'].get('CONN_MAX_AGE', 0)}))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TAMARIND_", "DATABASE_URL"))}
    return subprocess.run(
        [sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True, check=False
    )


def test_default_is_sqlite_debug():
    out = load_settings({"TAMARIND_VAR_DIR": "/tmp/tamarind-settings-test"})
    assert out.returncode == 0, out.stderr
    assert '"engine": "django.db.backends.sqlite3"' in out.stdout and '"debug": true' in out.stdout


def test_database_url_selects_postgresql_with_persistent_connections():
    out = load_settings({"DATABASE_URL": "postgres://u:p@db.example:5432/tamarind"})
    assert out.returncode == 0, out.stderr
    assert "postgresql" in out.stdout and '"conn_max_age": 600' in out.stdout


def test_production_without_secret_fails_loudly():
    out = load_settings({"TAMARIND_DEBUG": "0", "TAMARIND_ALLOWED_HOSTS": "x.example"})
    assert out.returncode != 0
    assert "TAMARIND_SECRET_KEY must be set" in out.stderr


def test_production_without_hosts_fails_loudly():
    out = load_settings({"TAMARIND_DEBUG": "0", "TAMARIND_SECRET_KEY": "s" * 60})
    assert out.returncode != 0
    assert "TAMARIND_ALLOWED_HOSTS" in out.stderr


def test_production_is_secure():
    out = load_settings({"TAMARIND_DEBUG": "0", "TAMARIND_SECRET_KEY": "s" * 60, "TAMARIND_ALLOWED_HOSTS": "x.example"})
    assert out.returncode == 0, out.stderr
    assert '"hsts": 31536000' in out.stdout and '"secure_cookie": true' in out.stdout


@pytest.mark.django_db
def test_request_id_is_echoed_and_generated(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")
    assert response.status_code == 200 and response["X-Request-ID"] == "abc-123"
    generated = client.get("/healthz", HTTP_X_REQUEST_ID="bad id with spaces\n")["X-Request-ID"]
    assert len(generated) == 32 and " " not in generated
