"""A session's attendance page in a real browser: upload an attendee report, then match an unmatched attendee by
htmx; a report with registrants who did not attend shows them apart, matched and unmatched."""

import pytest

from tamarind.testing.browser import login, screenshot
from tamarind.testing.factories import ContactFactory
from tamarind.webinars.models import Attendance, UnmatchedAttendee
from tamarind.webinars.tests.factories import csv_bytes, make_session

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_upload_report_and_match_an_attendee(page, live_server, book, tmp_path):
    session = make_session(title="CI/CD for new admins")
    ContactFactory(account=book.account, email="ann@customer.example", name="Ann Admin")
    bob = ContactFactory(account=book.account, email="bob@customer.example", name="Bob Builder")
    report = tmp_path / "attendees.csv"
    report.write_bytes(
        csv_bytes(
            [
                ("ann@customer.example", "Ann", 0, 30, ""),
                ("ann@customer.example", "Ann", 25, 60, "5"),
                ("bobby@customer.example", "Bob", 3, 58, "4"),
            ]
        )
    )
    login(page, live_server, book.manager)
    page.goto(f"{live_server.url}/webinars/sessions/{session.pk}/")
    page.set_input_files("#id_report", str(report))
    page.click("#report-form button[type=submit]")
    page.wait_for_selector("#attendance-table >> text=Ann Admin")
    assert "60" in page.locator("#attendance-table").inner_text()
    assert "bobby@customer.example" in page.locator("#unmatched-table").inner_text()
    screenshot(page, "webinars-session-imported")

    row = UnmatchedAttendee.objects.get(session=session)
    page.select_option(f"#match-{row.pk}", str(bob.pk))
    page.click(f"#unmatched-{row.pk} button[type=submit]")
    page.wait_for_selector(f"#unmatched-{row.pk} >> text=matched")
    assert Attendance.objects.filter(session=session, contact=bob, minutes_attended=55).exists()
    screenshot(page, "webinars-session-matched")


def test_registrants_who_did_not_attend_are_shown_apart(page, live_server, book, tmp_path):
    session = make_session(title="GitOps for new admins")
    ContactFactory(account=book.account, email="ann@customer.example", name="Ann Admin")
    ContactFactory(account=book.account, email="nora@customer.example", name="Nora Noshow")
    report = tmp_path / "zoom-attendees.csv"
    report.write_text(
        "Attended,User Name (Original Name),Email,Join Time,Leave Time,Time in Session (minutes)\n"
        "Yes,Ann,ann@customer.example,2026-03-10T16:00:00Z,2026-03-10T16:30:00Z,30\n"
        "No,Ann,ann@customer.example,--,--,--\n"
        "Yes,Ann,ann@customer.example,2026-03-10T16:25:00Z,2026-03-10T17:00:00Z,35\n"
        "No,Nora,nora@customer.example,--,--,--\n"
        "No,Guest,guest@personal.example,--,--,--\n"
    )
    login(page, live_server, book.manager)
    page.goto(f"{live_server.url}/webinars/sessions/{session.pk}/")
    page.set_input_files("#id_report", str(report))
    page.click("#report-form button[type=submit]")
    page.wait_for_selector("#attendance-table >> text=Ann Admin")
    nora = Attendance.objects.get(session=session, email="nora@customer.example")
    assert not nora.attended
    no_show = page.locator(f'tr[data-no-show="{nora.contact_id}"]')
    assert "Nora Noshow" in no_show.inner_text() and "registered, did not attend" in no_show.inner_text()
    assert "1 attended, 1 registered but did not attend" in page.locator("#attendance-panel h2").inner_text()
    ann = page.locator("#attendance-table tr", has_text="Ann Admin").inner_text()
    assert "60" in ann and "registered, did not attend" not in ann
    assert "registered, did not attend" in page.locator("#unmatched-table").inner_text()
    assert "showed up" in page.locator("#session-metrics").inner_text()
    screenshot(page, "webinars-session-no-shows")
