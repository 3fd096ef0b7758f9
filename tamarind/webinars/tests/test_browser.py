"""A session's attendance page in a real browser: upload an attendee report, then match an unmatched attendee by
htmx."""

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
