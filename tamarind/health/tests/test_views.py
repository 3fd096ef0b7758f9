"""Health pages: the account page's panel (breakdown, drag, stale flag, constant queries), the two-click sentiment
(htmx), the model page and its versions (everyone reads), and the model editor with its preview (admins)."""

from __future__ import annotations

import copy
import datetime as dt
import json
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tamarind.audit.models import AuditEvent
from tamarind.health.forms import HealthModelForm
from tamarind.health.models import HealthHistory, HealthModelVersion, HealthScore, Sentiment
from tamarind.health.services import health_model_save, health_recompute_accounts, health_recompute_all, sentiment_set
from tamarind.health.spec import DEFAULT_DEFINITION, MEASURES, parse_spec
from tamarind.testing.factories import AccountFactory
from tamarind.timeline.models import EntryKind, TimelineEntry

pytestmark = pytest.mark.django_db


def account_url(account):  # type: ignore[no-untyped-def]
    return f"/accounts/{account.pk}/"


def sentiment_url(account):  # type: ignore[no-untyped-def]
    return f"/health/accounts/{account.pk}/sentiment/"


def test_the_account_page_shows_the_breakdown_and_the_drag(book, client_for):
    TimelineEntry.objects.create(
        account=book.account, kind=EntryKind.CALL, title="Sync", occurred_at=timezone.now() - dt.timedelta(days=50)
    )
    sentiment_set(actor=book.tam, account=book.account, color="green", reason="Happy customer")
    body = client_for(book.sal).get(account_url(book.account)).content.decode()
    assert 'id="health"' in body and 'id="health-breakdown"' in body
    health = HealthScore.objects.get(account=book.account)
    # (50 x 100 + 10 x 62) / 60 = 93.67 -> 94, engagement yellow drags
    assert health.score == 94 and health.drag == "engagement"
    assert "94 · Green" in body
    assert 'id="health-drag"' in body and "Engagement" in body
    assert 'data-measure="support"' in body and "Happy customer" in body
    assert 'id="health-stale"' not in body
    assert 'health-sentiment"' not in body  # the SAL reads only: no form


def test_the_stale_flag_shows(book, client_for):
    s = sentiment_set(actor=book.tam, account=book.account, color="green", reason="Fine")
    Sentiment.objects.filter(pk=s.pk).update(set_at=timezone.now() - dt.timedelta(days=120))
    health_recompute_accounts(account_ids=[book.account.pk], source="test")
    body = client_for(book.tam).get(account_url(book.account)).content.decode()
    assert 'id="health-stale"' in body


def test_an_unscored_account_says_so(book, client_for):
    body = client_for(book.tam).get(account_url(book.account)).content.decode()
    assert 'id="health-none"' in body and 'class="health-sentiment"' in body


def test_account_page_queries_do_not_grow_with_health_data(book, client_for):
    sentiment_set(actor=book.tam, account=book.account, color="green", reason="Fine")
    c = client_for(book.manager)
    with CaptureQueriesContext(connection) as small:
        assert c.get(account_url(book.account)).status_code == 200
    today = timezone.localdate()
    HealthHistory.objects.bulk_create(
        HealthHistory(account=book.account, day=today - dt.timedelta(days=i), score=50 + i % 40, color="yellow")
        for i in range(1, 60)
    )
    for i in range(8):
        sentiment_set(actor=book.tam, account=book.account, color=["red", "yellow"][i % 2], reason=f"Review {i}")
    with CaptureQueriesContext(connection) as large:
        assert c.get(account_url(book.account)).status_code == 200
    assert len(large) == len(small)


@pytest.mark.parametrize("who", ["tam", "manager", "admin"])
def test_two_click_sentiment_with_htmx_answers_the_panel(book, client_for, who):
    response = client_for(getattr(book, who)).post(
        sentiment_url(book.account),
        {"color": "yellow", "reason": "Sponsor moved on", "requires_triage": "on"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body and 'id="health"' in body and 'id="health-saved"' in body
    sentiment = Sentiment.objects.get()
    assert (sentiment.color, sentiment.requires_triage, sentiment.set_by) == ("yellow", True, getattr(book, who))
    assert "62 · Yellow" in body and "Requires triage" in body


def test_a_plain_post_redirects_to_the_account(book, client_for):
    response = client_for(book.tam).post(sentiment_url(book.account), {"color": "red", "reason": "Outage"})
    assert response.status_code == 302 and response["Location"] == account_url(book.account)
    assert Sentiment.objects.get().color == "red"


def test_a_sentiment_without_a_reason_is_refused(book, client_for):
    response = client_for(book.tam).post(
        sentiment_url(book.account), {"color": "red", "reason": ""}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
    assert not Sentiment.objects.exists()


@pytest.mark.parametrize(("who", "status"), [("director", 403), ("sal", 403), ("tam2", 403), ("other_tam", 404)])
def test_readers_and_outsiders_cannot_set_sentiment(book, client_for, who, status):
    response = client_for(getattr(book, who)).post(
        sentiment_url(book.account), {"color": "red", "reason": "x"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == status
    assert not Sentiment.objects.exists()


# --- The health model: its page, the editor, the preview, versions ------------------------------------------


class FormFields(HTMLParser):
    """What a browser would post from one ``<form id=...>``: inputs, checked boxes, selected options, textareas."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.data: dict[str, str] = {}
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside:
            return
        if tag == "input" and a.get("name"):
            if a.get("type") == "checkbox":
                if "checked" in a:
                    self.data[a["name"]] = "on"
            else:
                self.data[a["name"]] = a.get("value", "")
        elif tag == "select":
            self.select = a["name"]
            self.data.setdefault(self.select, "")
        elif tag == "option" and self.select and "selected" in a:
            self.data[self.select] = a.get("value", "")
        elif tag == "textarea":
            self.textarea = a["name"]
            self.data[self.textarea] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data: str) -> None:
        if self.inside and self.textarea:
            self.data[self.textarea] += data


def editor_data(client, form_id: str = "health-model-form") -> dict[str, str]:  # type: ignore[no-untyped-def]
    response = client.get(EDIT)
    assert response.status_code == 200
    parser = FormFields(form_id)
    parser.feed(response.content.decode())
    return parser.data


EDIT, PREVIEW, MODEL = "/health/model/edit/", "/health/model/preview/", "/health/model/"


def test_the_model_page_reads_for_everyone(book, client_for):
    body = client_for(book.tam).get(MODEL).content.decode()
    assert "Version 1 is live" in body and 'id="hm-utilization"' in body
    assert "under 10%" in body and "over 75%" in body and "9+ months" in body
    assert EDIT not in body
    assert EDIT in client_for(book.admin).get(MODEL).content.decode()


def test_the_model_page_lists_recent_recomputes(book, client_for):
    assert "No recompute has run yet." in client_for(book.tam).get(MODEL).content.decode()
    health_recompute_all(source="scheduler")
    health_recompute_accounts(account_ids=[book.account.pk], source="api")
    body = client_for(book.tam).get(MODEL).content.decode()
    runs = body.split('id="health-runs"')[1].split("<tbody>")[1]
    assert runs.index("Incremental") < runs.index("Full")  # newest first
    assert "scheduler" in runs and "api" in runs and "model v1" in runs


def test_the_default_model_round_trips_through_the_form(book, client_for):
    """Rendered into the fields and posted back untouched, the default is the live version: nothing to save."""
    admin = client_for(book.admin)
    assert 'data-share-for="weight_sentiment">50%<' in admin.get(EDIT).content.decode()
    data = editor_data(admin)
    assert data["weight_sentiment"] == "50" and data["u_1_max"] == "50" and data["u_1_bound"] == "le"
    assert data["u_2_c_2"] == "yellow" and data["m_3"] == "9" and data["u_rows"] == "5"
    form = HealthModelForm(data, definition=DEFAULT_DEFINITION)
    assert form.is_valid(), form.errors
    assert form.to_definition() == parse_spec(DEFAULT_DEFINITION).to_json()
    response = admin.post(EDIT, data)
    assert response.status_code == 400
    assert "same as version 1" in response.content.decode()
    assert HealthModelVersion.objects.count() == 1


def test_the_editor_saves_a_weight_and_a_cell_as_the_next_version(book, client_for):
    admin = client_for(book.admin)
    data = editor_data(admin)
    data.update({"weight_support": "15", "u_1_c_1": "green", "note": "Support matters more"})
    response = admin.post(EDIT, data)
    assert response.status_code == 302 and response["Location"] == MODEL
    live = HealthModelVersion.objects.live()
    assert live is not None and live.version == 2 and live.note == "Support matters more"
    usage = live.definition["measures"]["product_usage"]
    assert live.definition["measures"]["support"]["weight"] == 15
    assert usage["utilization"][1]["colors"] == ["green", "green", "red", "red"]
    event = AuditEvent.objects.filter(object_type__endswith="healthmodelversion").latest("pk")
    assert event.after["version"] == 2 and event.actor == book.admin


def test_the_editor_adds_a_row_and_a_column_in_order_and_drops_a_priority(book, client_for):
    admin = client_for(book.admin)
    data = editor_data(admin)
    # The empty row (4) gets "up to 30%", the empty column (4) month 4; priority 2 stops being rated.
    data.update({"u_4_max": "30", "u_4_bound": "le", "m_4": "4", "eng_2_green": "", "eng_2_yellow": ""})
    for i, colors in enumerate(
        [
            ["yellow", "red", "red", "red", "red"],
            ["green", "yellow", "red", "red", "yellow"],
            ["green", "green", "yellow", "red", "green"],
            ["green"] * 5,
            ["green", "yellow", "red", "red", "red"],
        ]
    ):
        data.update({f"u_{i}_c_{j}": c for j, c in enumerate(colors)})
    response = admin.post(EDIT, data)
    assert response.status_code == 302, response.content.decode()
    live = HealthModelVersion.objects.live()
    assert live is not None
    usage = live.definition["measures"]["product_usage"]
    assert usage["month_breaks"] == [2, 4, 6, 9]
    assert [r["max"] for r in usage["utilization"]] == ["10", "30", "50", "75", None]
    assert usage["utilization"][1]["colors"] == ["green", "yellow", "red", "red", "red"]  # the new row
    assert usage["utilization"][2]["colors"] == ["green", "yellow", "yellow", "red", "red"]  # month 4's cell moved
    assert live.definition["measures"]["engagement"]["by_priority"] == {"1": {"green": 35, "yellow": 60}}


def _errors_of(response, field: str) -> str:  # type: ignore[no-untyped-def]
    """The error list rendered right after ``field``'s input (or inside its ``.field`` box)."""
    body = response.content.decode()
    at = body.index(f'name="{field}"')
    tail = body[at : at + 1500]
    end = min(
        (tail.find(marker, 1) for marker in ('name="u_', 'name="eng_', 'name="m_', "data-field=", "<td>", "<tr")),
        key=lambda n: n if n > 0 else 10**9,
    )
    return tail[:end]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"band_yellow": "80"}, "band_yellow", "Yellow starts below Green."),
        ({"band_green": "150"}, "band_green", "Expected 1 to 100."),
        ({"score_yellow": "40"}, "score_yellow", "scores within its band"),
        ({"staleness_days": "0"}, "staleness_days", "Expected 1 to 3650."),
        ({"weight_engagement": "120"}, "weight_engagement", "Expected 0 to 100."),
        ({"utilization_share": "0", "adoption_share": "0"}, "utilization_share", "cannot both have share 0"),
        ({"adoption_yellow": "70"}, "adoption_yellow", "Yellow starts at or below Green."),
        ({"eng_1_yellow": "20"}, "eng_1_yellow", "at least Green"),
        ({"eng_2_yellow": ""}, "eng_2_yellow", "leave both empty"),
        ({"support_yellow": "2"}, "support_yellow", "at least Green"),
        ({"u_2_c_1": "red"}, "u_2_c_1", "More utilization cannot rate worse"),
        ({"u_1_c_0": ""}, "u_1_c_0", "Choose a color."),
        ({"u_2_max": ""}, "u_2_max", "Only one row has no upper bound"),
        ({"m_2": "2"}, "m_2", "Another column already starts at month 2."),
        ({"u_2_max": "abc"}, "u_2_max", "Enter a number."),
    ],
)
def test_each_validation_error_lands_on_its_field(book, client_for, changes, field, message):
    admin = client_for(book.admin)
    data = {**editor_data(admin), **changes}
    response = admin.post(EDIT, data)
    assert response.status_code == 400
    assert message in _errors_of(response, field)
    assert HealthModelVersion.objects.count() == 1


def test_all_weights_zero_is_an_error_on_the_weights_section(book, client_for):
    admin = client_for(book.admin)
    data = {**editor_data(admin), **{f"weight_{k}": "0" for k in MEASURES}}
    response = admin.post(EDIT, data)
    body = response.content.decode()
    assert response.status_code == 400
    section = body[body.index('id="hm-weights-section"') :]
    assert "At least one measure needs a weight above 0." in section[: section.index("</legend>") + 200]


@pytest.mark.parametrize(("text", "message"), [("{not json", "Not valid JSON"), (json.dumps({"bands": {}}), "Missing")])
def test_the_advanced_json_editor_shows_errors(book, client_for, text, message):
    response = client_for(book.admin).post(EDIT, {"mode": "json", "definition": text})
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body and 'id="health-model-advanced" open' in body
    assert HealthModelVersion.objects.count() == 1


def test_the_advanced_json_editor_saves(book, client_for):
    definition = copy.deepcopy(DEFAULT_DEFINITION)
    definition["staleness_days"] = 45
    response = client_for(book.admin).post(
        EDIT, {"mode": "json", "definition": json.dumps(definition), "note": "Tighter reviews"}
    )
    assert response.status_code == 302
    live = HealthModelVersion.objects.live()
    assert live is not None and live.version == 2 and live.definition["staleness_days"] == 45


@pytest.mark.parametrize("who", ["director", "manager", "tam", "sal"])
def test_only_admins_edit_and_preview_the_model(book, client_for, who):
    c = client_for(getattr(book, who))
    assert c.get(EDIT).status_code == 403
    assert c.post(EDIT, {"mode": "json", "definition": json.dumps(DEFAULT_DEFINITION)}).status_code == 403
    assert c.post(PREVIEW, {"mode": "json", "definition": json.dumps(DEFAULT_DEFINITION)}).status_code == 403
    assert HealthModelVersion.objects.count() == 1


def test_model_page_no_longer_takes_a_post(book, client_for):
    assert client_for(book.admin).post(MODEL, {"definition": "{}"}).status_code == 405


def _scored_accounts(book, n: int) -> None:  # type: ignore[no-untyped-def]
    """``n`` accounts with a green sentiment and a call 50 days ago: Green (94) under the default model."""
    accounts = [AccountFactory(name=f"Preview {i:03}", region=book.east) for i in range(n)]
    long_ago = timezone.now() - dt.timedelta(days=50)
    Sentiment.objects.bulk_create(Sentiment(account=a, color="green", reason="Fine") for a in accounts)
    TimelineEntry.objects.bulk_create(
        TimelineEntry(account=a, kind=EntryKind.CALL, title="Call", occurred_at=long_ago) for a in accounts
    )


def test_the_preview_shows_counts_and_the_accounts_that_change(book, client_for):
    _scored_accounts(book, 3)
    admin = client_for(book.admin)
    data = {**editor_data(admin), "weight_sentiment": "10", "weight_engagement": "90"}
    response = admin.post(PREVIEW, data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body and 'id="health-preview-result"' in body
    assert "Preview over 5 accounts" in body
    assert 'id="health-preview-changed">3<' in body
    assert "Preview 000" in body and "94 · Green" in body and "66 · Yellow" in body
    assert HealthModelVersion.objects.count() == 1  # nothing saved


def test_the_preview_of_an_invalid_draft_lists_its_errors(book, client_for):
    admin = client_for(book.admin)
    data = {**editor_data(admin), "band_yellow": "90"}
    response = admin.post(PREVIEW, data, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert "Yellow from: Yellow starts below Green." in response.content.decode()
    response = admin.post(PREVIEW, {"mode": "json", "definition": "[1"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and "Not valid JSON" in response.content.decode()


def test_preview_queries_do_not_grow_with_accounts(book, client_for):
    admin = client_for(book.admin)
    data = {**editor_data(admin), "weight_sentiment": "10", "weight_engagement": "90"}
    _scored_accounts(book, 2)
    with CaptureQueriesContext(connection) as small:
        assert admin.post(PREVIEW, data).status_code == 200
    _scored_accounts(book, 60)
    with CaptureQueriesContext(connection) as large:
        response = admin.post(PREVIEW, data)
    assert response.status_code == 200 and "Preview over 64 accounts" in response.content.decode()
    assert len(large) == len(small)


def test_a_version_page_shows_what_changed(book, client_for):
    definition = copy.deepcopy(DEFAULT_DEFINITION)
    definition["measures"]["support"]["weight"] = 15
    definition["measures"]["product_usage"]["utilization"][1]["colors"][1] = "green"
    health_model_save(actor=book.admin, definition=definition, note="More support")
    c = client_for(book.sal)
    body = c.get("/health/model/v2/").content.decode()
    assert "Changes from v1" in body and "Weight: Support" in body
    assert "Utilization 10% to 50% at 2-5 months" in body
    assert "The first version" in c.get("/health/model/v1/").content.decode()
    assert c.get("/health/model/v9/").status_code == 404
    assert 'href="/health/model/v2/"' in c.get(MODEL).content.decode()


def test_model_and_version_pages_queries_do_not_grow_with_versions(book, client_for):
    c = client_for(book.tam)
    with CaptureQueriesContext(connection) as small:
        assert c.get(MODEL).status_code == 200
        assert c.get("/health/model/v1/").status_code == 200
    for days in range(60, 70):
        definition = copy.deepcopy(DEFAULT_DEFINITION)
        definition["staleness_days"] = days
        health_model_save(actor=book.admin, definition=definition)
        health_recompute_accounts(account_ids=[book.account.pk], source="test")
    with CaptureQueriesContext(connection) as large:
        assert c.get(MODEL).status_code == 200
        assert c.get("/health/model/v1/").status_code == 200
    assert len(large) == len(small)
