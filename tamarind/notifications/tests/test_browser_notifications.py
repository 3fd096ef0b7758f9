"""The bell, the notifications page and the email settings in a real browser, with screenshots."""

from __future__ import annotations

import pytest

from tamarind.notifications.models import Notification
from tamarind.notifications.services import notify
from tamarind.testing.browser import login, screenshot
from tamarind.testing.factories import AccountFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def inbox(book):
    """Tara (TAM) has three unread notifications and one read one; Theo has one of his own."""
    northwind = AccountFactory(name="Northwind Traders", region=book.east, tam=book.tam)
    notify(
        recipients=[book.tam],
        kind="tam_assigned",
        title="You are the TAM of Northwind Traders",
        body="Onboarding starts today: book the kickoff call within two weeks.",
        url=f"/accounts/{northwind.pk}/",
        account=northwind,
        dedupe_key=f"onboarding:{northwind.pk}:{book.tam.pk}",
    )
    notify(
        recipients=[book.tam],
        kind="task_assigned",
        title="Follow up with Acme Corp on their renewal",
        body="Due Friday.",
        url=f"/accounts/{book.account.pk}/",
        account=book.account,
    )
    notify(
        recipients=[book.tam],
        kind="onboarding_overdue",
        title="Acme Corp: first value is 5 days past its target",
        account=book.account,
    )
    (old,) = notify(recipients=[book.tam], kind="general", title="Welcome to Tamarind")
    Notification.objects.filter(pk=old.pk).update(read_at=old.created_at)
    notify(recipients=[book.tam2], kind="general", title="Theo's own notification")
    return book


def bell_count(page):
    return page.locator("#notification-bell .bell-count")


def test_bell_count_list_mark_read(page, live_server, inbox):
    login(page, live_server, inbox.tam)
    # Any page: the bell loads its count over htmx.
    page.goto(f"{live_server.url}/accounts/")
    bell_count(page).wait_for()
    assert bell_count(page).inner_text() == "3"
    screenshot(page, "notifications-bell")

    page.click("#notification-bell")
    page.wait_for_url("**/notifications/")
    rows = page.locator(".notif-list li")
    assert rows.count() == 4
    assert "Theo's own notification" not in page.content()
    assert rows.nth(3).inner_text().startswith("Welcome to Tamarind")  # read ones last
    assert page.locator("#unread-summary").inner_text() == "3 unread"
    screenshot(page, "notifications-list")

    # Mark one read: the row, the page's count and the bell change in place.
    first = rows.filter(has_text="Follow up with Acme Corp")
    first.get_by_role("button", name="Mark read").click()
    page.wait_for_function("(document.querySelector('#notification-bell .bell-count') || {}).textContent === '2'")
    assert page.locator("#unread-summary").inner_text() == "2 unread"
    # The swapped-in row is read (htmx removes the old one once it has settled).
    page.wait_for_function("document.querySelectorAll('.notif-list li.unread').length === 2")
    assert page.locator(".notif-list li.unread", has_text="Follow up with Acme Corp").count() == 0
    screenshot(page, "notifications-marked-one")

    # Unread only, then everything read at once.
    page.click(".notif-tabs >> text=Unread")
    page.wait_for_url("**/notifications/?show=unread")
    page.wait_for_function("document.querySelectorAll('.notif-list li').length === 2")
    page.click("#mark-all-read")
    page.wait_for_selector(".empty strong")
    assert page.locator(".empty strong").inner_text() == "Nothing unread."
    assert page.locator(".notif-tabs a.active").inner_text() == "Unread"
    page.wait_for_function("document.querySelector('#notification-bell .bell-count') === null")
    assert page.locator("#unread-summary").inner_text() == "All caught up: nothing unread."
    screenshot(page, "notifications-all-read")
    assert Notification.objects.filter(recipient=inbox.tam, read_at__isnull=True).count() == 0
    assert Notification.objects.filter(recipient=inbox.tam2, read_at__isnull=True).count() == 1


def test_opening_a_notification_goes_to_its_account(page, live_server, inbox):
    login(page, live_server, inbox.tam)
    page.goto(f"{live_server.url}/notifications/")
    page.click("text=You are the TAM of Northwind Traders")
    page.wait_for_url("**/accounts/*/")
    assert "Northwind Traders" in page.locator("h1").inner_text()
    bell_count(page).wait_for()
    assert bell_count(page).inner_text() == "2"
    screenshot(page, "notifications-opened-account")


def test_choosing_the_daily_digest(page, live_server, inbox):
    login(page, live_server, inbox.tam)
    page.goto(f"{live_server.url}/notifications/")
    page.click("text=Email settings")
    page.wait_for_url("**/notifications/settings/")
    assert page.is_checked("input[value=immediate]")
    page.check("input[value=digest]")
    screenshot(page, "notifications-settings")
    page.click("button[type=submit] >> text=Save")
    page.wait_for_selector("text=Notification emails: Once a day, in a digest.")
    assert page.is_checked("input[value=digest]")
    inbox.tam.refresh_from_db()
    assert inbox.tam.email_notifications == "digest"
    screenshot(page, "notifications-settings-saved")
