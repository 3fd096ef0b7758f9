"""A board card shows the account's health now (issue 9: it kept the color it had when the case opened); the color
at open stays on the card as history when it differs."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tamarind.health.models import HealthScore
from tamarind.triage.tests.factories import TriageCaseFactory

pytestmark = pytest.mark.django_db


def card(client, case) -> str:  # type: ignore[no-untyped-def]
    body = client.get(reverse("triage:board")).content.decode()
    start = body.index(f'id="case-{case.pk}"')
    opening = body.rindex("<article", 0, start)
    return body[opening : body.index("</article>", start)]


def test_a_card_takes_the_accounts_current_color_and_keeps_the_one_at_open_as_history(book, client_for):
    case = TriageCaseFactory(account=book.account, owner=book.tam, health_color="red")
    HealthScore.objects.create(account=book.account, score=82, color="green", model_version=1)
    html = card(client_for(book.manager), case)
    assert re.search(r'class="triage-card triage-green\b', html)
    assert re.search(r'<span class="badge green"[^>]*>Green</span>', html)
    assert "opened Red" in html


def test_a_card_whose_color_did_not_move_shows_it_once(book, client_for):
    case = TriageCaseFactory(account=book.account, owner=book.tam, health_color="yellow")
    HealthScore.objects.create(account=book.account, score=60, color="yellow", model_version=1)
    html = card(client_for(book.manager), case)
    assert re.search(r'class="triage-card triage-yellow\b', html) and "opened" not in html


def test_an_unscored_account_keeps_the_color_at_open(book, client_for):
    case = TriageCaseFactory(account=book.account, owner=book.tam, health_color="red")
    html = card(client_for(book.manager), case)
    assert re.search(r'class="triage-card triage-red\b', html) and "opened" not in html


def test_the_board_reads_the_colors_in_the_same_query(book, client_for):
    for _ in range(3):
        TriageCaseFactory(
            account=book.account.__class__.objects.create(
                crm_id=f"T-{_}", name=f"T {_}", region=book.east, segment="enterprise"
            ),
            health_color="red",
        )
    client = client_for(book.manager)
    client.get(reverse("triage:board"))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(reverse("triage:board"))
    for i in range(3, 9):
        TriageCaseFactory(
            account=book.account.__class__.objects.create(
                crm_id=f"T-{i}", name=f"T {i}", region=book.east, segment="enterprise"
            ),
            health_color="red",
        )
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("triage:board"))
    assert len(many.captured_queries) == len(few.captured_queries)
