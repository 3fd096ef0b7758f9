"""The back-test settings page (/signals/settings/) and its Django admin: read by whoever reads the back-test,
changed by admins only through the audited service; bad values refused with a clear message, nothing changed."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tamarind.audit.models import AuditEvent
from tamarind.core.errors import ValidationFailed
from tamarind.signals import services
from tamarind.signals.models import BacktestSettings

pytestmark = pytest.mark.django_db
URL = "/signals/settings/"
GOOD = {
    "min_outcomes": "12",
    "horizons": "365, 90 180",
    "contraction_share": "0.15",
    "auc_months": "6",
    "trust_min_lift": "2.5",
    "trust_min_outcomes": "40",
}


def test_admin_changes_the_settings_audited_with_before_and_after(book, client_for) -> None:  # type: ignore[no-untyped-def]
    client = client_for(book.admin)
    page = client.get(URL)
    assert page.status_code == 200 and 'id="signals-settings-form"' in page.content.decode()
    assert "Never changed" in page.content.decode()
    response = client.post(URL, GOOD)
    assert response.status_code == 302 and response["Location"] == URL
    row = BacktestSettings.load()
    assert row.horizon_days == [90, 180, 365] and row.min_outcomes == 12 and row.auc_months == 6
    assert row.contraction_share == Decimal("0.15") and row.trust_min_lift == Decimal("2.5")
    assert row.trust_min_outcomes == 40
    event = AuditEvent.objects.get(object_type="signals.backtestsettings")
    assert event.actor == book.admin and event.source == "web"
    assert event.before["min_outcomes"] == 10 and event.after["min_outcomes"] == 12
    assert event.before["trust_min_lift"] == "2.00" and event.after["trust_min_lift"] == "2.50"
    body = client.get(URL).content.decode()
    assert "min_outcomes</strong>: 10 → 12" in body
    # The same values again change nothing and record nothing.
    assert client.post(URL, GOOD).status_code == 302
    assert AuditEvent.objects.filter(object_type="signals.backtestsettings").count() == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("horizons", "ninety", "Whole numbers of days"),
        ("horizons", "0, 90", "each between 1 and 1095"),
        ("horizons", "5000", "each between 1 and 1095"),
        ("horizons", "1,2,3,4,5,6,7", "At most 6 horizons"),
        ("horizons", "", "This field is required"),
        ("contraction_share", "1", "Ensure this value is less than or equal to 0.999"),
        ("contraction_share", "0", "greater than or equal to 0.001"),
        ("contraction_share", "NaN", "Enter a number"),
        ("trust_min_lift", "0.5", "greater than or equal to 1"),
        ("min_outcomes", "0", "greater than or equal to 1"),
        ("min_outcomes", "99999999999999999999999", "less than or equal to"),
        ("auc_months", "-3", "greater than or equal to 1"),
    ],
)
def test_bad_values_are_refused_with_a_message_and_nothing_changes(
    book,  # type: ignore[no-untyped-def]
    client_for,
    field: str,
    value: str,
    message: str,
) -> None:
    before = BacktestSettings.load()
    response = client_for(book.admin).post(URL, {**GOOD, field: value})
    assert response.status_code == 400
    assert message in response.content.decode()
    after = BacktestSettings.objects.get()
    assert (after.horizon_days, after.min_outcomes, after.contraction_share) == (
        before.horizon_days,
        before.min_outcomes,
        before.contraction_share,
    )
    assert not AuditEvent.objects.filter(object_type="signals.backtestsettings").exists()


def test_service_refuses_what_the_form_would(book) -> None:  # type: ignore[no-untyped-def]
    for bad in (
        {"horizons": ["x"]},
        {"horizons": []},
        {"contraction_share": "abc"},
        {"contraction_share": "0.1234"},
        {"trust_min_lift": "0.9"},
        {"min_outcomes": 2.5},
        {"auc_months": "Infinity"},
    ):
        with pytest.raises(ValidationFailed):
            services.backtest_settings_update(actor=book.admin, **bad)
    assert not AuditEvent.objects.filter(object_type="signals.backtestsettings").exists()


def test_others_read_the_settings_but_may_not_change_them(book, client_for) -> None:  # type: ignore[no-untyped-def]
    for user in (book.tam, book.manager, book.director):
        client = client_for(user)
        page = client.get(URL).content.decode()
        assert 'id="signals-settings"' in page and 'id="signals-settings-form"' not in page
        assert "lift above 2.00 with at least 30" in page
        assert client.post(URL, GOOD).status_code == 403
    assert client_for(book.sal).get(URL).status_code == 403
    assert BacktestSettings.load().min_outcomes == 10


def test_settings_is_not_taken_for_a_signal_key(book, client_for) -> None:  # type: ignore[no-untyped-def]
    assert "Back-test settings" in client_for(book.admin).get(URL).content.decode()
    assert 'href="/signals/settings/"' in client_for(book.admin).get("/signals/").content.decode()


def test_django_admin_saves_through_the_audited_service(book, client_for) -> None:  # type: ignore[no-untyped-def]
    BacktestSettings.load()
    client = client_for(book.admin)
    path = "/django-admin/signals/backtestsettings/1/change/"
    assert client.get(path).status_code == 200
    data = {
        "min_outcomes": "8",
        "contraction_share": "0.2",
        "horizons": "[60, 120]",
        "auc_months": "3",
        "trust_min_lift": "3",
        "trust_min_outcomes": "30",
    }
    assert client.post(path, data).status_code == 302
    assert BacktestSettings.load().horizon_days == [60, 120]
    event = AuditEvent.objects.get(object_type="signals.backtestsettings")
    assert event.source == "admin" and event.after["min_outcomes"] == 8
    refused = client.post(path, {**data, "horizons": "[0]", "trust_min_lift": "0.5"})
    assert refused.status_code == 200 and "between 1 and 1095" in refused.content.decode()
    assert BacktestSettings.load().horizon_days == [60, 120]
    assert client.get("/django-admin/signals/backtestsettings/add/").status_code == 403
    assert client_for(book.manager).get(path).status_code in (302, 403)


def test_query_count_constant_as_changes_accumulate(book, client_for) -> None:  # type: ignore[no-untyped-def]
    client = client_for(book.admin)
    client.post(URL, GOOD)
    with CaptureQueriesContext(connection) as small:
        client.get(URL)
    for n in range(15):
        services.backtest_settings_update(actor=book.admin, min_outcomes=20 + n)
    with CaptureQueriesContext(connection) as large:
        client.get(URL)
    assert len(large) == len(small)
