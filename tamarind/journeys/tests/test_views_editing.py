"""Editing programs and steps in the web UI: creating and editing a program (criteria, personas, status), adding a
step previewed before saving, an unknown merge field refused (htmx: 200 with the refusal; a plain save: 400 and
nothing saved), removing a step; each write audited; readers see no edit controls and get 403."""

from __future__ import annotations

from typing import Any

import pytest

from tamarind.audit.models import AuditEvent
from tamarind.journeys.models import Program, Step
from tamarind.journeys.tests.factories import program

pytestmark = pytest.mark.django_db

PROGRAM = {
    "name": "Mid-market onboarding",
    "key": "mid-market",
    "description": "For the 5k-20k band.",
    "status": "active",
    "min_arr": "5000",
    "max_arr": "20000",
    "personas": ["admin", "development-lead"],
    "track": "on",
}
STEP = {
    "name": "Welcome",
    "kind": "email",
    "day": "0",
    "repeat_days": "",
    "subject": "Welcome, {{ contact.first_name }}",
    "body": "Hello {{ contact.name }} of {{ account.name }}",
}


def _audits(obj: Any, action: str) -> int:
    return AuditEvent.objects.filter(object_id=str(obj.pk), action=action).count()


def test_create_and_edit_a_program(book: Any, client_for: Any) -> None:
    personas = PROGRAM["personas"]
    client = client_for(book.manager)
    page = client.get("/journeys/new/").content.decode()
    assert 'name="engagement_models" value="digital"' in page and 'name="personas" value="admin"' in page
    got = client.post("/journeys/new/", PROGRAM)
    assert got.status_code == 302
    item = Program.objects.get(key="mid-market")
    assert got["Location"] == f"/journeys/{item.pk}/"
    assert (item.name, item.min_arr, item.max_arr, item.track) == ("Mid-market onboarding", 5000, 20000, True)
    assert sorted(p.key for p in item.personas.all()) == sorted(personas)
    assert _audits(item, "create") == 1

    got = client.post(
        f"/journeys/{item.pk}/edit/",
        {"name": "Mid-market", "status": "paused", "engagement_models": ["digital"], "min_arr": "", "max_arr": ""},
    )
    assert got.status_code == 302
    item.refresh_from_db()
    assert (item.name, item.status, item.engagement_models, item.min_arr, item.track) == (
        "Mid-market",
        "paused",
        ["digital"],
        None,
        False,  # the box unticked
    )
    assert list(item.personas.all()) == []
    assert _audits(item, "update") == 1
    assert 'id="edit-program"' in client.get(f"/journeys/{item.pk}/").content.decode()


def test_a_program_refused_keeps_what_was_typed(book: Any, client_for: Any) -> None:
    client = client_for(book.admin)
    got = client.post("/journeys/new/", {**PROGRAM, "min_arr": "", "max_arr": "", "key": "no-criteria"})
    body = got.content.decode()
    assert got.status_code == 400 and "otherwise no account qualifies" in body
    assert 'value="Mid-market onboarding"' in body  # nothing lost
    assert not Program.objects.filter(key="no-criteria").exists()
    got = client.post("/journeys/new/", {**PROGRAM, "personas": ["admin", "nobody"]})
    assert got.status_code == 400 and "Unknown persona(s): nobody" in got.content.decode()
    got = client.post("/journeys/new/", {**PROGRAM, "min_arr": "30000", "max_arr": "abc"})
    assert got.status_code == 400 and "Enter an amount" in got.content.decode()
    got = client.post("/journeys/new/", {**PROGRAM, "key": "digital-onboarding"})
    assert got.status_code == 400 and "exists" in got.content.decode()


def test_add_a_step_previewed_then_refused_then_saved(book: Any, client_for: Any) -> None:
    p = program(key="adding", steps=[])
    client = client_for(book.manager)
    url = f"/journeys/{p.pk}/steps/new/"
    assert 'id="save-button">Add step' in client.get(url).content.decode()
    got = client.post(url, {**STEP, "action": "preview"}, headers={"HX-Request": "true"})
    assert got.status_code == 200 and "Hello Alex Example of Example Corp" in got.content.decode()
    assert not p.steps.exists()
    got = client.post(
        url, {**STEP, "body": "Hi {{ contact.shoe_size }}", "action": "preview"}, headers={"HX-Request": "true"}
    )
    assert got.status_code == 200
    assert 'id="preview-error"' in got.content.decode() and "contact.shoe_size" in got.content.decode()
    got = client.post(url, {**STEP, "subject": "{{ account.arr }}", "action": "save"})
    assert got.status_code == 400 and "Unknown merge field {{ account.arr }}" in got.content.decode()
    assert 'value="{{ account.arr }}"' in got.content.decode()  # what was typed stays on the form
    assert not p.steps.exists()
    got = client.post(url, {**STEP, "action": "save"})
    assert got.status_code == 302
    step = p.steps.get()
    assert (step.name, step.day, step.subject) == ("Welcome", 0, "Welcome, {{ contact.first_name }}")
    assert _audits(step, "create") == 1
    page = client.get(f"/journeys/{p.pk}/").content.decode()
    assert f'id="step-{step.pk}"' in page and "Hello {{ contact.name }} of {{ account.name }}" in page


def test_remove_a_step(book: Any, client_for: Any) -> None:
    p = program(key="removing")
    step = p.steps.order_by("day").first()
    assert step is not None
    assert client_for(book.tam).post(f"/journeys/steps/{step.pk}/delete/").status_code == 403
    assert client_for(book.director).post(f"/journeys/steps/{step.pk}/delete/").status_code == 403
    got = client_for(book.admin).post(f"/journeys/steps/{step.pk}/delete/")
    assert got.status_code == 302 and got["Location"] == f"/journeys/{p.pk}/"
    assert not Step.objects.filter(pk=step.pk).exists()
    event = AuditEvent.objects.get(object_id=str(step.pk), action="delete")
    assert event.before["name"] == step.name
    assert client_for(book.admin).post(f"/journeys/steps/{step.pk}/delete/").status_code == 404


def test_readers_see_no_edit_controls(book: Any, client_for: Any) -> None:
    p = program(key="readonly")
    client = client_for(book.tam)
    listing = client.get("/journeys/").content.decode()
    page = client.get(f"/journeys/{p.pk}/").content.decode()
    assert 'id="new-program"' not in listing and 'id="add-step"' not in page and "/delete/" not in page
    assert 'id="new-program"' in client_for(book.manager).get("/journeys/").content.decode()
    assert client.get("/journeys/new/").status_code == 403
    assert client.get(f"/journeys/{p.pk}/steps/new/").status_code == 403
