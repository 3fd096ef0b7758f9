"""The CLI commands that live outside an app's own domain: token, logins, worker guard."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tamarind.people.models import ApiToken
from tamarind.people.services import token_authenticate


@pytest.mark.django_db
def test_token_create_prints_a_working_token(book):
    out = StringIO()
    call_command("token", "create", "TAM@example.com", stdout=out)
    raw = out.getvalue().strip()
    assert raw.startswith("tmd_")
    assert token_authenticate(raw) == book.tam
    assert ApiToken.objects.get(user=book.tam).prefix == raw[:10]


@pytest.mark.django_db
def test_token_create_unknown_email(book):
    with pytest.raises(CommandError, match="No person has the email"):
        call_command("token", "create", "nobody@example.com")


@pytest.mark.django_db
def test_logins_lists_a_login_per_role(book):
    out = StringIO()
    call_command("logins", "--url", "http://127.0.0.1:9000/", "--password", "pw", stdout=out)
    text = out.getvalue()
    assert "http://127.0.0.1:9000/" in text
    for email in ("admin@example.com", "director@example.com", "manager@example.com", "tam@example.com"):
        assert email in text
    assert "TAM Manager, AMER East" in text and "TAM Manager, EMEA" in text


@pytest.mark.django_db
def test_logins_on_an_empty_database():
    out = StringIO()
    call_command("logins", stdout=out)
    assert "No one can sign in yet" in out.getvalue()
