"""``tamarind logins`` on the demo book (issue 9): the first TAM it prints owned one account. It now prints TAMs
with a representative book first, and the demo gives that TAM something to look at: accounts in several health
colors, an onboarding under way and a triage case."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command

from tamarind.accounts.models import Account
from tamarind.health.models import HealthScore
from tamarind.onboarding.models import Onboarding
from tamarind.triage.models import TriageCase


def printed_tams(out: str) -> list[str]:
    return re.findall(r"^\s+TAM, [^@]*?\s(\S+@\S+)", out, flags=re.M)


@pytest.mark.django_db
@pytest.mark.parametrize(("accounts", "seed"), [(600, 7), (250, 3)])
def test_the_first_tam_printed_has_a_full_book(accounts, seed):
    call_command("demo", "--accounts", str(accounts), "--seed", str(seed), stdout=StringIO(), stderr=StringIO())
    out = StringIO()
    call_command("logins", "--password", "tamarind-demo", stdout=out)
    emails = printed_tams(out.getvalue())
    assert len(emails) == 3, out.getvalue()
    first = emails[0]
    book = Account.objects.filter(tam__email=first)
    assert book.count() >= 5, f"{first} owns {book.count()} accounts"
    colors = set(HealthScore.objects.filter(account__in=book).values_list("color", flat=True))
    assert "green" in colors and colors & {"yellow", "red"}, colors
    assert Onboarding.objects.filter(account__in=book).open().exists(), "no onboarding under way"
    assert TriageCase.objects.filter(account__in=book).open().exists(), "no triage case"
    # The line says what the book holds, so whoever reads it knows why this TAM.
    line = next(line for line in out.getvalue().splitlines() if first in line)
    assert re.search(r"\d+ accounts", line) and "onboarding" in line and "triage" in line
