"""The daily run and delivery: due steps by days since start, never twice, never after opt-out, paused programs
silent, personas and qualification; program and step writes refused on bad input and audited."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail

from tamarind.audit.models import AuditEvent
from tamarind.core.errors import ValidationFailed
from tamarind.journeys import services
from tamarind.journeys.models import Event, Program, Send, SendStatus, Step
from tamarind.journeys.tests.factories import contact, only_programs, program, small_account
from tamarind.surveys.models import SurveyInvitation
from tamarind.testing.factories import AccountFactory

pytestmark = pytest.mark.django_db

SINCE = dt.date(2026, 1, 31)


def _day(n: int) -> dt.date:
    return SINCE + dt.timedelta(days=n)


def test_run_queues_due_steps_for_reachable_contacts_with_the_personas() -> None:
    p = program()
    only_programs(p)
    account = small_account(SINCE)
    admin = contact(account, ("admin",))
    contact(account, ("billing",))  # not addressed
    contact(account, ("admin",), opted_out=True)  # opted out
    big = small_account(SINCE, arr=Decimal("120000"), engagement_model="high_touch")  # does not qualify
    contact(big, ("admin",))
    result = services.journey_run(day=_day(0))
    assert result["queued"] == 1
    send = Send.objects.get()
    assert (send.contact_id, send.step.day, send.occurrence, send.due_on, send.status) == (
        admin.pk,
        0,
        0,
        SINCE,
        "queued",
    )
    assert services.journey_run(day=_day(3))["queued"] == 0  # nothing due between steps
    # day 7 falls on 7 February (across the month end)
    assert services.journey_run(day=dt.date(2026, 2, 7))["queued"] == 1
    assert sorted(Send.objects.values_list("step__day", flat=True)) == [0, 7]


def test_never_twice_whatever_the_runs() -> None:
    p = program()
    only_programs(p)
    account = small_account(SINCE)
    contact(account)
    for n in (0, 0, 1, 2, 0):
        services.journey_run(day=_day(n))
    assert Send.objects.count() == 1
    Send.objects.update(status=SendStatus.SENT)
    assert services.journey_run(day=_day(1))["queued"] == 0


def test_catch_up_after_a_missed_run_and_recurring_occurrences() -> None:
    p = program(steps=[{"day": 90, "kind": "nps", "repeat_days": 182, "body": "Tell us: {{ survey_url }}"}])
    only_programs(p)
    account = small_account(SINCE)
    contact(account)
    assert services.journey_run(day=_day(91))["queued"] == 1  # the day-90 run was missed
    assert services.journey_run(day=_day(90 + 182))["queued"] == 1
    assert services.journey_run(day=_day(90 + 182 + 1))["queued"] == 0
    assert list(Send.objects.order_by("occurrence").values_list("occurrence", "due_on")) == [
        (0, _day(90)),
        (1, _day(272)),
    ]


def test_paused_program_sends_nothing() -> None:
    p = program(status="paused")
    only_programs(p)
    contact(small_account(SINCE))
    assert services.journey_run(day=_day(0))["queued"] == 0
    # queued before the pause: not delivered while paused
    p.status = "active"
    p.save(update_fields=["status"])
    services.journey_run(day=_day(0))
    services.program_set_status(actor=None, program=p, status="paused")
    assert services.sends_deliver() == {}
    assert mail.outbox == [] and Send.objects.get().status == "queued"


def test_opted_out_contact_gets_nothing_even_if_queued_before() -> None:
    p = program()
    only_programs(p)
    c = contact(small_account(SINCE))
    services.journey_run(day=_day(0))
    services.journey_contact_opt_out(contact=c, source="test")
    assert services.sends_deliver() == {"failed": 1}
    assert mail.outbox == []
    assert services.journey_run(day=_day(7))["queued"] == 0


def test_delivery_renders_merge_fields_tracking_and_unsubscribe(settings) -> None:  # type: ignore[no-untyped-def]
    settings.TAMARIND_BASE_URL = "https://tamarind.example"
    p = program()
    only_programs(p)
    account = small_account(SINCE, name="Acme Small")
    c = contact(account, name="Ann Lee")
    services.journey_run(day=_day(0))
    assert services.sends_deliver() == {"sent": 1}
    msg = mail.outbox[0]
    send = Send.objects.get()
    assert msg.to == [c.email] and msg.subject == "Hello Ann"
    assert "Hello Ann Lee of Acme Small" in msg.body
    assert f"https://tamarind.example/j/u/{send.token}/" in msg.body
    html = msg.alternatives[0][0]
    assert f"https://tamarind.example/j/o/{send.token}.gif" in html
    assert f"https://tamarind.example/j/c/{send.token}/?u=" in html
    assert send.status == "sent" and send.sent_at is not None and send.attempts == 1
    p.track = False
    p.save(update_fields=["track"])
    html = services.compose(send)[2]
    assert ".gif" not in html and "/j/c/" not in html and 'href="https://docs.example.com/start"' in html


def test_survey_step_invites_through_surveys_once(settings) -> None:  # type: ignore[no-untyped-def]
    settings.TAMARIND_BASE_URL = "https://tamarind.example"
    p = program(steps=[{"day": 0, "kind": "nps", "body": "Rate us"}])
    only_programs(p)
    c = contact(small_account(SINCE))
    services.journey_run(day=_day(0))
    services.sends_deliver()
    invitation = SurveyInvitation.objects.get()
    assert (invitation.contact_id, invitation.kind, invitation.source) == (c.pk, "nps", "journey")
    assert f"https://tamarind.example/s/{invitation.token}/" in mail.outbox[0].body
    assert Send.objects.get().survey_invitation_id == invitation.pk


def test_unsubscribe_opts_out_records_event_and_drops_queued() -> None:
    p = program(steps=[{"day": 0}, {"day": 1}])
    only_programs(p)
    c = contact(small_account(SINCE))
    services.journey_run(day=_day(1))  # both due within the catch-up days
    first, second = Send.objects.order_by("step__day")
    services.send_unsubscribe(send=first)
    c.refresh_from_db()
    assert c.opted_out and c.opted_out_at is not None
    second.refresh_from_db()
    assert second.status == "failed"
    assert Event.objects.filter(kind="unsubscribe").count() == 1
    assert (
        AuditEvent.objects.filter(object_type="contacts.contact", object_id=str(c.pk), source="unsubscribe").count()
        == 1
    )
    services.send_unsubscribe(send=first)  # twice: no second event
    assert Event.objects.filter(kind="unsubscribe").count() == 1


def test_opens_and_clicks_recorded_once_and_click_targets_signed() -> None:
    p = program()
    only_programs(p)
    contact(small_account(SINCE))
    services.journey_run(day=_day(0))
    send = Send.objects.select_related("step__program").get()
    services.send_record_open(send=send)
    services.send_record_open(send=send)
    assert Event.objects.filter(kind="open").count() == 1
    url = services.click_url(send, "https://docs.example.com/x")
    signed = url.split("?u=")[1]
    assert services.click_target(signed) == "https://docs.example.com/x"
    assert services.click_target(signed[:-2] + "xx") is None
    assert services.click_target("https://evil.example") is None
    services.send_record_click(send=send, url="https://docs.example.com/x")
    send.refresh_from_db()
    assert send.first_clicked_at is not None and send.opened_at is not None


def test_program_and_step_writes_validated_and_audited() -> None:
    p = services.program_create(
        actor=None,
        data={"key": "trial", "name": "Trial", "engagement_models": ["digital"], "personas": ["admin"]},
        source="test",
    )
    assert AuditEvent.objects.filter(object_type="journeys.program", object_id=str(p.pk), action="create").exists()
    with pytest.raises(ValidationFailed) as exc:
        services.program_create(actor=None, data={"key": "none", "name": "None"})
    assert "engagement_models" in exc.value.errors
    with pytest.raises(ValidationFailed) as exc:
        services.program_create(actor=None, data={"key": "b", "name": "B", "min_arr": "20000", "max_arr": "5000"})
    assert "max_arr" in exc.value.errors
    with pytest.raises(ValidationFailed) as exc:
        services.program_update(actor=None, program=p, data={"personas": ["nobody"]})
    assert "personas" in exc.value.errors
    step = services.step_create(
        actor=None, program=p, data={"name": "W", "day": 0, "subject": "Hi", "body": "{{ contact.name }}"}
    )
    with pytest.raises(ValidationFailed) as exc:
        services.step_update(actor=None, step=step, data={"body": "Hi {{ contact.shoe_size }}"})
    assert "contact.shoe_size" in exc.value.errors["body"][0]
    step.refresh_from_db()
    assert step.body == "{{ contact.name }}"  # nothing saved
    with pytest.raises(ValidationFailed):
        services.step_create(actor=None, program=p, data={"name": "X", "day": 0, "subject": "{{ nope }}", "body": "b"})
    assert Step.objects.filter(program=p).count() == 1
    services.step_update(actor=None, step=step, data={"day": "14"})
    assert AuditEvent.objects.filter(object_type="journeys.step", action="update").count() == 1


def test_qualification_by_model_or_band_restated() -> None:
    from tamarind.journeys.selectors import qualifies

    p = Program(key="q", name="Q", engagement_models=["pooled"], min_arr=Decimal("5000"), max_arr=Decimal("20000"))
    for arr, model, expected in [
        ("5000", "", True),
        ("20000", "high_touch", True),
        ("20000.01", "", False),
        ("4999.99", "pooled", True),
        ("90000", "digital", False),
    ]:
        a = AccountFactory.build(arr=Decimal(arr), engagement_model=model)
        assert qualifies(p, a) is expected, (arr, model)


def test_default_program_is_seeded() -> None:
    p = Program.objects.get(key="digital-onboarding")
    assert [s.day for s in p.steps.all()] == [0, 7, 14, 30, 60, 90, 90]
    nps = p.steps.get(kind="nps")  # 182 days, made 6 calendar months by migration 0005
    assert (nps.repeat_days, nps.repeat_months) == (None, 6)
    assert sorted(p.personas.values_list("key", flat=True)) == ["admin", "development-lead"]


def test_run_finds_exactly_the_due_steps_of_a_varied_book() -> None:
    """Accounts started on every few days over two years (month ends, a leap day): the run's sends are exactly the
    (step, occurrence) pairs the plain schedule restated per account says are due, windows or not."""
    from tamarind.journeys import schedule

    p = program(
        steps=[
            {"day": 0},
            {"day": 30},
            {"day": 90, "kind": "nps", "repeat_days": 182, "body": "x"},
            {"day": 3, "repeat_days": 7},
        ]
    )
    only_programs(p)
    day = dt.date(2026, 3, 1)
    accounts = [small_account(day - dt.timedelta(days=n)) for n in range(0, 800, 5)]
    for a in accounts:
        contact(a)
    services.journey_run(day=day)
    got = set(Send.objects.values_list("account_id", "step_id", "occurrence"))
    expected = set()
    for a in accounts:
        for step in p.steps.all():
            k = schedule.occurrence_due(since=a.customer_since, day=day, offset=step.day, repeat=step.repeat_days)
            if k is not None:
                expected.add((a.pk, step.pk, k))
    assert got == expected and len(expected) > 20
