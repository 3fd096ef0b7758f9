from __future__ import annotations

import pytest

from tamarind.testing.factories import AccountFactory
from tamarind.triage.models import TriageCase
from tamarind.triage.tests.factories import TriageCaseFactory

pytestmark = pytest.mark.django_db
J = "application/json"


def test_create_patch_close_and_steps(book, api_for):
    c = api_for(book.tam)
    r = c.post(
        "/api/v1/triage/cases",
        {"account_id": book.account.pk, "risk_reason": "lack_of_adoption", "health_color": "red"},
        content_type=J,
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["status"] == "new" and body["owner"]["id"] == book.tam.pk and body["overdue"] is False
    pk = body["id"]
    # A second open case for the account is refused.
    r = c.post("/api/v1/triage/cases", {"account_id": book.account.pk}, content_type=J)
    assert r.status_code == 422
    r = c.patch(f"/api/v1/triage/cases/{pk}", {"status": "closed"}, content_type=J)
    assert r.status_code == 422 and "outcome" in r.content.decode()
    r = c.patch(f"/api/v1/triage/cases/{pk}", {"status": "bogus"}, content_type=J)
    assert r.status_code == 422
    r = c.post(f"/api/v1/triage/cases/{pk}/steps", {"text": "Sponsor call", "due_on": "2027-01-10"}, content_type=J)
    assert r.status_code == 201
    step_id = r.json()["id"]
    r = c.patch(f"/api/v1/triage/cases/{pk}/steps/{step_id}", {"done": True}, content_type=J)
    assert r.status_code == 200 and r.json()["done"] is True
    r = c.patch(
        f"/api/v1/triage/cases/{pk}",
        {"status": "closed", "outcome": "won_back", "note": "Green again", "risk_type": None},
        content_type=J,
    )
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "closed" and body["outcome"] == "won_back" and body["notes"][0]["text"] == "Green again"
    assert c.patch(f"/api/v1/triage/cases/{pk}", {"colour": "x"}, content_type=J).status_code == 422


def test_trio(book, api_for):
    case = TriageCaseFactory(account=book.account, owner=book.tam)
    assert api_for(book.sal).get(f"/api/v1/triage/cases/{case.pk}").status_code == 200
    assert (
        api_for(book.sal).patch(f"/api/v1/triage/cases/{case.pk}", {"status": "new"}, content_type=J).status_code == 403
    )
    assert api_for(book.other_tam).get(f"/api/v1/triage/cases/{case.pk}").status_code == 404
    r = api_for(book.other_tam).post("/api/v1/triage/cases", {"account_id": book.account.pk}, content_type=J)
    assert r.status_code == 404
    assert not TriageCase.objects.exclude(pk=case.pk).exists()


def test_list_filters(book, api_for):
    TriageCaseFactory(account=book.account, owner=book.tam, risk_reason="competition")
    TriageCaseFactory(account=book.other_account, owner=book.other_tam, risk_reason="other")
    c = api_for(book.admin)
    assert c.get("/api/v1/triage/cases").json()["count"] == 2
    assert c.get("/api/v1/triage/cases?risk_reason=competition").json()["count"] == 1
    assert c.get(f"/api/v1/triage/cases?region={book.west.pk}").json()["count"] == 1
    assert c.get("/api/v1/triage/cases?risk_reason=nope").status_code == 422
    assert api_for(book.manager).get("/api/v1/triage/cases").json()["count"] == 1


@pytest.mark.parametrize("n", [1, 8])
def test_list_query_count_constant(book, api_for, django_assert_num_queries, n):
    for _ in range(n):
        TriageCaseFactory(account=AccountFactory(region=book.east, tam=book.tam), owner=book.tam)
    c = api_for(book.manager)
    c.get("/api/v1/triage/cases")
    with django_assert_num_queries(4):
        assert c.get("/api/v1/triage/cases").status_code == 200


@pytest.mark.parametrize("n", [1, 6])
def test_detail_query_count_constant(book, api_for, django_assert_num_queries, n):
    from tamarind.triage import services

    case = TriageCaseFactory(account=book.account, owner=book.tam)
    for i in range(n):
        services.step_add(actor=book.tam, case=case, text=f"Step {i}")
        services.case_note_add(actor=book.tam, case=case, text=f"Note {i}")
    c = api_for(book.tam)
    c.get(f"/api/v1/triage/cases/{case.pk}")
    with django_assert_num_queries(5):
        assert c.get(f"/api/v1/triage/cases/{case.pk}").status_code == 200


def test_escalations_and_settings_api(book, api_for):
    c = api_for(book.tam)
    r = c.post(
        "/api/v1/triage/escalations",
        {"account_id": book.account.pk, "title": "Outage", "severity": "critical"},
        content_type=J,
    )
    assert r.status_code == 201 and r.json()["severity"] == "critical" and r.json()["overdue"] is False
    pk = r.json()["id"]
    r = c.patch(f"/api/v1/triage/escalations/{pk}", {"status": "resolved", "note": "Fixed"}, content_type=J)
    assert r.status_code == 200 and r.json()["resolved_at"]
    assert c.get("/api/v1/triage/escalations").json()["count"] == 0
    assert c.get("/api/v1/triage/escalations?state=all").json()["count"] == 1
    assert c.get("/api/v1/triage/escalations?state=x").status_code == 422
    assert api_for(book.other_tam).get("/api/v1/triage/escalations?state=all").json()["count"] == 0
    assert c.patch("/api/v1/triage/settings", {"red_update_days": 3}, content_type=J).status_code == 403
    a = api_for(book.admin)
    assert a.patch("/api/v1/triage/settings", {"red_update_days": 0}, content_type=J).status_code == 422
    r = a.patch("/api/v1/triage/settings", {"red_update_days": 9}, content_type=J)
    assert r.status_code == 200 and r.json()["red_update_days"] == 9
    assert c.get("/api/v1/triage/settings").json()["red_update_days"] == 9


@pytest.mark.parametrize("n", [1, 6])
def test_escalation_list_query_count_constant(book, api_for, django_assert_num_queries, n):
    from tamarind.triage import services

    for i in range(n):
        account = AccountFactory(region=book.east, tam=book.tam)
        services.escalation_open(actor=book.tam, account=account, data={"title": f"E{i}"})
    c = api_for(book.manager)
    c.get("/api/v1/triage/escalations")
    with django_assert_num_queries(4):
        assert c.get("/api/v1/triage/escalations").status_code == 200


def test_patch_owner_notifies_the_new_owner(book, api_for):
    from tamarind.audit.models import AuditEvent
    from tamarind.notifications.models import Notification

    case = TriageCaseFactory(account=book.account, owner=book.tam)
    c = api_for(book.manager)
    r = c.patch(f"/api/v1/triage/cases/{case.pk}", {"owner_id": book.tam2.pk}, content_type=J)
    assert r.status_code == 200 and r.json()["owner"]["id"] == book.tam2.pk
    assert Notification.objects.get(recipient=book.tam2).url == f"/triage/{case.pk}/"
    assert AuditEvent.objects.for_object("triage.triagecase", case.pk).get().source == "api"
    r = c.patch(f"/api/v1/triage/cases/{case.pk}", {"owner_id": book.other_tam.pk}, content_type=J)
    assert r.status_code == 422 and "cannot own" in r.content.decode()


def test_escalation_detail_with_updates(book, api_for):
    from tamarind.triage import services

    esc = services.escalation_open(actor=book.tam, account=book.account, data={"title": "Outage", "severity": "high"})
    services.escalation_note_add(actor=book.tam, escalation=esc, text="Fix on staging")
    services.escalation_update(actor=book.manager, escalation=esc, changes={"owner_id": book.tam2.pk})
    r = api_for(book.sal).get(f"/api/v1/triage/escalations/{esc.pk}")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["update_every_days"] == 2 and body["overdue"] is False and body["owner"]["id"] == book.tam2.pk
    assert [u["note"] for u in body["updates"]] == ["", "Fix on staging", ""]
    assert body["updates"][0]["changes"] == [{"field": "owner", "before": "Tara Tam", "after": "Theo Tam"}]
    assert body["updates"][-1]["opened"] is True and body["updates"][-1]["actor_name"] == "Tara Tam"
    assert api_for(book.other_tam).get(f"/api/v1/triage/escalations/{esc.pk}").status_code == 404
    assert (
        api_for(book.sal).patch(f"/api/v1/triage/escalations/{esc.pk}", {"note": "x"}, content_type=J).status_code
        == 403
    )
    assert api_for(book.admin).get("/api/v1/triage/escalations/99999999999999999999").status_code in (404, 422)


@pytest.mark.parametrize("n", [1, 6])
def test_escalation_detail_query_count_constant(book, api_for, django_assert_num_queries, n):
    from tamarind.triage import services

    esc = services.escalation_open(actor=book.tam, account=book.account, data={"title": "Outage"})
    for i in range(n):
        services.escalation_note_add(actor=book.tam, escalation=esc, text=f"Update {i}")
        services.escalation_update(
            actor=book.tam, escalation=esc, changes={"owner_id": (book.tam2, book.tam)[i % 2].pk}
        )
    c = api_for(book.tam)
    c.get(f"/api/v1/triage/escalations/{esc.pk}")
    with django_assert_num_queries(5):
        assert c.get(f"/api/v1/triage/escalations/{esc.pk}").status_code == 200


def test_escalation_routes_in_the_openapi_schema(client):
    schema = client.get("/api/v1/openapi.json").json()
    ops = schema["paths"]["/api/v1/triage/escalations/{escalation_id}"]
    assert {"get", "patch"} <= set(ops)
    assert ops["get"]["operationId"].endswith("triage_escalation_detail")
    assert {"401", "404"} <= set(ops["get"]["responses"])
    assert "EscalationDetailOut" in schema["components"]["schemas"]
