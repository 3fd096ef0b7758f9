"""Onboarding pages: the permission trio per route, what they show, and query counts that do not grow."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tamarind.audit.models import AuditEvent
from tamarind.onboarding.models import OnboardingTargets
from tamarind.onboarding.tests.factories import OnboardingFactory, complete_values
from tamarind.testing.factories import AccountFactory

pytestmark = pytest.mark.django_db


def detail(o):
    return reverse("onboarding:detail", args=[o.pk])


@pytest.fixture
def record(book):
    return OnboardingFactory(
        account=book.account,
        tam=book.tam,
        onboarding_start=dt.date(2025, 1, 20),
        first_engagement=dt.date(2025, 1, 30),
        contract_start=dt.date(2025, 1, 15),
        first_value=dt.date(2025, 1, 10),
    )


# --- detail -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "director", "manager", "tam", "tam2", "sal", "sa"])
def test_detail_allowed(book, client_for, record, who):
    response = client_for(getattr(book, who)).get(detail(record))
    assert response.status_code == 200
    assert "Onboarding of Acme Corp" in response.content.decode()


@pytest.mark.parametrize("who", ["other_manager", "other_tam"])
def test_detail_outsider_gets_404(book, client_for, record, who):
    assert client_for(getattr(book, who)).get(detail(record)).status_code == 404


def test_detail_unknown_id_is_404(book, client_for):
    assert client_for(book.admin).get("/onboarding/999999/").status_code == 404


def test_detail_requires_login(client, record):
    response = client.get(detail(record))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_detail_shows_metrics_against_targets_and_data_errors(book, client_for, record):
    body = client_for(book.tam).get(detail(record)).content.decode()
    assert "Time to engage" in body and "10 days" in body and "4 days under" in body
    # First value dated before the contract start: shown as a data error, not as -5 days.
    assert "Data error" in body and "First value (2025-01-10) is before contract start (2025-01-15)" in body
    assert "-5 day" not in body and "−5" not in body


def test_detail_query_count_is_constant(book, client_for, record):
    c = client_for(book.admin)
    with CaptureQueriesContext(connection) as small:
        c.get(detail(record))
    for _ in range(20):
        OnboardingFactory(account=AccountFactory(region=book.east, tam=book.tam), tam=book.tam)
    with CaptureQueriesContext(connection) as large:
        c.get(detail(record))
    assert len(large) == len(small)


def form_values(record, **overrides):
    values = {
        "status": record.status,
        "contract_start": "2025-01-15",
        "onboarding_start": "2025-01-20",
        "first_engagement": "",
        "infrastructure_ready": "",
        "first_value": "",
        "onboarding_finish": "",
        "delay_reason": "",
        "experience_score": "",
        "notes": "",
        "challenges": "",
        "highlights": "",
    }
    values.update(overrides)
    return values


def test_detail_shows_the_form_to_writers_only(book, client_for, record):
    assert 'id="onboarding-form"' in client_for(book.tam).get(detail(record)).content.decode()
    body = client_for(book.director).get(detail(record)).content.decode()
    assert 'id="onboarding-form"' not in body and "disabled" in body  # checklist shown, not clickable


def test_tam_saves_the_record(book, client_for, record):
    response = client_for(book.tam).post(
        detail(record), form_values(record, status="in_progress", infrastructure_ready="2025-02-01", notes="SSO done")
    )
    assert response.status_code == 302 and response["Location"] == detail(record)
    record.refresh_from_db()
    assert record.status == "in_progress" and record.infrastructure_ready == dt.date(2025, 2, 1)
    assert record.notes == "SSO done"


@pytest.mark.parametrize("who", ["director", "tam2", "sal", "sa"])
def test_readers_may_not_save(book, client_for, record, who):
    before = AuditEvent.objects.count()
    response = client_for(getattr(book, who)).post(detail(record), form_values(record, notes="x"))
    assert response.status_code == 403 and AuditEvent.objects.count() == before


@pytest.mark.parametrize("who", ["other_manager", "other_tam"])
def test_outsiders_may_not_save(book, client_for, record, who):
    assert client_for(getattr(book, who)).post(detail(record), form_values(record)).status_code == 404


def test_completing_without_what_it_needs_shows_the_problems(book, client_for, record):
    response = client_for(book.tam).post(detail(record), {**form_values(record), "complete": "1"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Set the first value date to complete the onboarding." in body
    assert "Write the onboarding notes to complete it." in body
    record.refresh_from_db()
    assert record.status == "not_started"


def test_completing_from_the_page(book, client_for, record):
    values = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in complete_values().items()}
    response = client_for(book.tam).post(detail(record), {**form_values(record, **values), "complete": "1"})
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.status == "completed" and record.experience_score == 4


def test_bad_form_input_is_400_not_500(book, client_for, record):
    c = client_for(book.tam)
    assert c.post(detail(record), form_values(record, first_value="31/02/2025")).status_code == 400
    assert c.post(detail(record), form_values(record, experience_score="9")).status_code == 400
    assert c.post(detail(record), form_values(record, status="nope")).status_code == 400
    response = c.post(detail(record), form_values(record, status="on_hold"))
    assert response.status_code == 400 and "Say why the onboarding is on hold." in response.content.decode()


# --- steps --------------------------------------------------------------------------------------------------


def step(o, key):
    return reverse("onboarding:step", args=[o.pk, key])


def test_ticking_a_step_with_htmx_answers_the_checklist_metrics_and_dates(book, client_for, record):
    response = client_for(book.tam).post(step(record, "kickoff_call"), {"done": "on"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="onboarding-steps"' in body and "<html" not in body
    assert 'id="onboarding-metrics" hx-swap-oob="true"' in body and 'id="onboarding-dates" hx-swap-oob="true"' in body
    record.refresh_from_db()
    today = timezone.localdate()
    assert record.kickoff_call_done_on == today and record.first_engagement == dt.date(2025, 1, 30)
    # Unticking clears the step.
    client_for(book.tam).post(step(record, "kickoff_call"), {}, HTTP_HX_REQUEST="true")
    record.refresh_from_db()
    assert record.kickoff_call_done_on is None


def test_ticking_a_step_on_a_given_day_without_htmx_redirects(book, client_for, record):
    response = client_for(book.manager).post(step(record, "handoff"), {"done": "on", "on": "2025-01-18"})
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.handoff_done_on == dt.date(2025, 1, 18)


def test_unknown_step_is_404_and_bad_day_is_400(book, client_for, record):
    c = client_for(book.tam)
    assert c.post(step(record, "party"), {"done": "on"}, HTTP_HX_REQUEST="true").status_code == 404
    assert c.post(step(record, "handoff"), {"done": "on", "on": "soon"}, HTTP_HX_REQUEST="true").status_code == 400


@pytest.mark.parametrize(("who", "status"), [("director", 403), ("sal", 403), ("tam2", 403), ("other_tam", 404)])
def test_step_trio(book, client_for, record, who, status):
    response = client_for(getattr(book, who)).post(step(record, "handoff"), {"done": "on"}, HTTP_HX_REQUEST="true")
    assert response.status_code == status
    record.refresh_from_db()
    assert record.handoff_done_on is None


def test_step_query_count_is_constant(book, client_for, record):
    c = client_for(book.tam)
    with CaptureQueriesContext(connection) as small:
        c.post(step(record, "handoff"), {"done": "on"}, HTTP_HX_REQUEST="true")
    for _ in range(20):
        OnboardingFactory(account=AccountFactory(region=book.east, tam=book.tam), tam=book.tam)
    with CaptureQueriesContext(connection) as large:
        c.post(step(record, "welcome_email"), {"done": "on"}, HTTP_HX_REQUEST="true")
    assert len(large) == len(small)


# --- list ---------------------------------------------------------------------------------------------------


def listing(client, **params):
    response = client.get(reverse("onboarding:list"), params)
    assert response.status_code == 200
    return response.content.decode()


def test_a_tam_sees_their_own_records_first(book, client_for, record):
    other = OnboardingFactory(account=AccountFactory(name="Initech", region=book.east, tam=book.tam2), tam=book.tam2)
    body = listing(client_for(book.tam))
    assert "My onboarding" in body and "Acme Corp" in body and "Initech" not in body
    body = listing(client_for(book.tam), scope="all")
    assert "Initech" in body
    body = listing(client_for(book.tam2))
    assert "Initech" in body and "Acme Corp" not in body
    assert other.pk


def test_managers_see_their_region_directors_everything(book, client_for, record):
    OnboardingFactory(account=book.other_account, tam=book.other_tam)
    body = listing(client_for(book.manager))
    assert "Acme Corp" in body and "Globex" not in body
    body = listing(client_for(book.director))
    assert "Acme Corp" in body and "Globex" in body
    body = listing(client_for(book.sal))
    assert "Acme Corp" in body and "Globex" not in body


def test_list_filters(book, client_for, record):
    done = OnboardingFactory(
        account=AccountFactory(name="Done Co", region=book.east, tam=book.tam),
        tam=book.tam,
        status="completed",
        **complete_values(),
    )
    unassigned = OnboardingFactory(account=AccountFactory(name="Nobody Ltd", region=book.east), tam=None)
    c = client_for(book.manager)
    assert "Done Co" not in listing(c) and "Nobody Ltd" in listing(c)
    body = listing(c, state="completed")
    assert "Done Co" in body and "Acme Corp" not in body
    body = listing(c, tam="none")
    assert "Nobody Ltd" in body and "Acme Corp" not in body
    body = listing(c, state="overdue")  # started 2025-01-20: long past every target
    assert "Acme Corp" in body and "Done Co" not in body
    body = listing(c, q="acme")
    assert "Acme Corp" in body and "Nobody Ltd" not in body
    assert done.pk and unassigned.pk


def test_list_reports_bad_filters_without_failing(book, client_for, record):
    body = listing(client_for(book.manager), state="soon", tam="x", status="party")
    assert "Unknown state" in body and "tam must be a number" in body and "Unknown status" in body


def test_list_query_count_is_constant(book, client_for, record):
    c = client_for(book.manager)
    url = reverse("onboarding:list")
    with CaptureQueriesContext(connection) as small:
        assert c.get(url, {"scope": "all"}).status_code == 200
    for _ in range(40):
        OnboardingFactory(account=AccountFactory(region=book.east, tam=book.tam2), tam=book.tam2)
    with CaptureQueriesContext(connection) as large:
        assert c.get(url, {"scope": "all"}).status_code == 200
    assert len(large) == len(small)


# --- targets ------------------------------------------------------------------------------------------------


def test_everyone_reads_the_targets_admins_change_them(book, client_for):
    url = reverse("onboarding:targets")
    body = client_for(book.tam).get(url).content.decode()
    assert "14 days" in body and 'id="targets-form"' not in body
    assert 'id="targets-form"' in client_for(book.admin).get(url).content.decode()
    response = client_for(book.admin).post(url, {"engage_days": "10", "first_value_days": "30", "onboard_days": "45"})
    assert response.status_code == 302
    assert OnboardingTargets.objects.get().engage_days == 10


@pytest.mark.parametrize("who", ["director", "manager", "tam", "sal"])
def test_non_admins_may_not_change_targets(book, client_for, who):
    url = reverse("onboarding:targets")
    response = client_for(getattr(book, who)).post(
        url, {"engage_days": "1", "first_value_days": "1", "onboard_days": "1"}
    )
    assert response.status_code == 403 and not OnboardingTargets.objects.exists()


def test_bad_targets_are_400(book, client_for):
    response = client_for(book.admin).post(
        reverse("onboarding:targets"), {"engage_days": "0", "first_value_days": "x", "onboard_days": "45"}
    )
    assert response.status_code == 400 and not OnboardingTargets.objects.exists()


def test_targets_shape_the_metrics(book, client_for, record):
    from tamarind.onboarding.services import onboarding_targets_update

    onboarding_targets_update(actor=book.admin, changes={"engage_days": 7})
    body = client_for(book.tam).get(detail(record)).content.decode()
    assert "Target 7 days" in body and "3 days over" in body  # first engagement after 10 days


def test_detail_history_reads_as_labels_and_names(book, client_for, record):
    from tamarind.onboarding.services import onboarding_start

    onboarding_start(actor=book.manager, account=book.account, tam=book.tam2)
    body = client_for(book.manager).get(detail(record)).content.decode()
    assert "Tara Tam" in body and "Theo Tam" in body and ">TAM<" in body
