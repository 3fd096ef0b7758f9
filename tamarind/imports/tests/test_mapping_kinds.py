"""The mapping page's usage and tickets tabs: the header names those imports read with a mapping (``usage.<field>``
/ ``tickets.<field>`` keys), validated, versioned and audited; the account tab keeps them; the permission trio;
constant query counts; and a usage import that reads the saved headers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tamarind.audit.models import AuditEvent
from tamarind.core.errors import ValidationFailed
from tamarind.imports import services
from tamarind.imports.kinds import is_kind_key, kind_columns
from tamarind.imports.models import ImportMapping, ImportStatus
from tamarind.imports.tests.test_views import mapping_post
from tamarind.usage.models import UsageDaily

pytestmark = pytest.mark.django_db


def url(mapping: ImportMapping, kind: str) -> str:
    return reverse("imports:mapping_kind", args=[mapping.pk, kind])


def test_url_and_columns_follow_the_importer():
    assert url(ImportMapping(pk=3), "usage") == "/imports/mappings/3/usage/"
    assert [c.key for c in kind_columns("usage")] == ["usage.account", "usage.day", "usage.metric", "usage.value"]
    assert [c.field for c in kind_columns("tickets")][:3] == ["account", "external_id", "opened_at"]
    assert is_kind_key("tickets.status") and not is_kind_key("name") and not is_kind_key("usage")


# --- Service -------------------------------------------------------------------------------------------------------


def test_service_sets_one_kind_bumps_the_version_and_audits(book):
    mapping = ImportMapping.objects.get()
    accounts = dict(mapping.headers)
    changed = services.import_mapping_set_kind_headers(
        actor=book.admin, mapping=mapping, kind="usage", headers={"day": [" When ", "When", "Day of use"]}
    )
    mapping.refresh_from_db()
    assert changed and mapping.version == 2
    assert mapping.headers == {**accounts, "usage.day": ["When", "Day of use"]}
    event = AuditEvent.objects.filter(object_type="imports.importmapping").latest("pk")
    assert event.before == {"headers": {}, "version": 1}
    assert event.after == {"headers": {"usage.day": ["When", "Day of use"]}, "version": 2}
    # The same again changes nothing; another kind leaves this one alone; emptying a field drops its key.
    assert not services.import_mapping_set_kind_headers(
        actor=book.admin, mapping=mapping, kind="usage", headers={"day": ["When", "Day of use"]}
    )
    services.import_mapping_set_kind_headers(
        actor=book.admin, mapping=mapping, kind="tickets", headers={"external_id": ["Case Number"]}
    )
    services.import_mapping_set_kind_headers(actor=book.admin, mapping=mapping, kind="usage", headers={"day": []})
    mapping.refresh_from_db()
    assert mapping.headers == {**accounts, "tickets.external_id": ["Case Number"]} and mapping.version == 4


@pytest.mark.parametrize(
    ("kind", "headers", "field", "message"),
    [
        ("usage", {"day": ["Account ID"]}, "day", "“Account ID” is already a header of Account (CRM id)."),
        ("usage", {"day": ["When"], "value": ["when"]}, "value", "“when” is already a header of Date."),
        ("tickets", {"status": ["x" * 101]}, "status", "longer than 100 characters"),
        ("tickets", {"status": [f"S{i}" for i in range(21)]}, "status", "At most 20 header names."),
        ("usage", {"colour": ["Hue"]}, "__all__", "Product usage files have no field colour."),
        ("accounts", {"name": ["Company"]}, "__all__", "Unknown file kind 'accounts'."),
    ],
)
def test_service_refuses_bad_headers(book, kind, headers, field, message):
    mapping = ImportMapping.objects.get()
    with pytest.raises(ValidationFailed) as caught:
        services.import_mapping_set_kind_headers(actor=book.admin, mapping=mapping, kind=kind, headers=headers)
    assert any(message in m for m in caught.value.errors[field]), caught.value.errors
    mapping.refresh_from_db()
    assert mapping.version == 1 and not AuditEvent.objects.filter(object_type="imports.importmapping").exists()


def test_service_is_for_admins(book):
    with pytest.raises(PermissionDenied):
        services.import_mapping_set_kind_headers(
            actor=book.manager, mapping=ImportMapping.objects.get(), kind="usage", headers={"day": ["When"]}
        )


def test_saving_the_account_tab_keeps_the_other_kinds(book, client_for):
    mapping = ImportMapping.objects.get()
    services.import_mapping_set_kind_headers(actor=book.admin, mapping=mapping, kind="usage", headers={"day": ["When"]})
    mapping.refresh_from_db()
    data = mapping_post(mapping, synonyms_product_tier="Platinum = Ultimate")
    response = client_for(book.admin).post(reverse("imports:mapping_edit", args=[mapping.pk]), data)
    assert response.status_code == 302
    mapping.refresh_from_db()
    assert mapping.headers["usage.day"] == ["When"] and mapping.synonyms["product_tier"] == {"Platinum": "Ultimate"}


# --- Page: the permission trio, saving, errors -----------------------------------------------------------------------


def test_admin_sees_the_tabs_and_a_kind_s_fields(book, client_for):
    mapping = ImportMapping.objects.get()
    client = client_for(book.admin)
    page = client.get(reverse("imports:mapping_edit", args=[mapping.pk])).content.decode()
    assert f'href="{url(mapping, "usage")}"' in page and f'href="{url(mapping, "tickets")}"' in page
    body = client.get(url(mapping, "tickets")).content.decode()
    assert 'name="external_id"' in body and 'name="opened_at"' in body and "Built in: Ticket ID" in body
    assert 'data-kind="tickets" class="active"' in body


def test_admin_saves_headers_and_is_sent_back_to_the_tab(book, client_for):
    mapping = ImportMapping.objects.get()
    client = client_for(book.admin)
    response = client.post(url(mapping, "usage"), {"account": "Customer\nTenant", "day": "When"})
    assert response.status_code == 302 and response["Location"] == url(mapping, "usage")
    mapping.refresh_from_db()
    assert mapping.headers["usage.account"] == ["Customer", "Tenant"] and mapping.headers["usage.day"] == ["When"]
    page = client.get(url(mapping, "usage")).content.decode()
    assert "Product usage headers of “Salesforce account report” saved (version 2)." in page
    assert "Customer\nTenant" in page
    assert client.post(url(mapping, "usage"), {"account": "Customer\nTenant", "day": "When"}).status_code == 302
    assert "Nothing changed." in client.get(url(mapping, "usage")).content.decode()


def test_bad_headers_are_400_with_the_field_marked(book, client_for):
    mapping = ImportMapping.objects.get()
    response = client_for(book.admin).post(url(mapping, "usage"), {"day": "Metric"})
    assert response.status_code == 400
    assert "“Metric” is already a header of Metric." in response.content.decode()
    mapping.refresh_from_db()
    assert mapping.version == 1


def test_unknown_kind_is_404(book, client_for):
    mapping = ImportMapping.objects.get()
    client = client_for(book.admin)
    assert client.get(url(mapping, "accounts")).status_code == 404
    assert client.get(f"/imports/mappings/{mapping.pk}/gremlins/").status_code == 404
    assert client.get(url(ImportMapping(pk=mapping.pk + 99), "usage")).status_code == 404


@pytest.mark.parametrize("who", ["manager", "director", "tam", "sal"])
def test_non_admins_get_404_and_write_nothing(book, client_for, who):
    mapping = ImportMapping.objects.get()
    client = client_for(getattr(book, who))
    assert client.get(url(mapping, "usage")).status_code == 404
    assert client.post(url(mapping, "usage"), {"day": "When"}).status_code == 404
    mapping.refresh_from_db()
    assert mapping.version == 1 and "usage.day" not in mapping.headers


def test_anonymous_is_sent_to_sign_in(client):
    assert client.get("/imports/mappings/1/usage/").status_code == 302


def test_query_count_does_not_grow(book, client_for):
    mapping = ImportMapping.objects.get()
    client = client_for(book.admin)
    client.get(url(mapping, "tickets"))
    with CaptureQueriesContext(connection) as small:
        assert client.get(url(mapping, "tickets")).status_code == 200
    for i in range(30):
        ImportMapping.objects.create(name=f"Other {i}", headers={"usage.day": [f"D{i}"]})
    headers = {c.field: [f"{c.field} {i}" for i in range(20)] for c in kind_columns("tickets")}
    services.import_mapping_set_kind_headers(actor=book.admin, mapping=mapping, kind="tickets", headers=headers)
    with CaptureQueriesContext(connection) as large:
        assert client.get(url(mapping, "tickets")).status_code == 200
    assert len(large) == len(small), [q["sql"][:100] for q in large.captured_queries]
    with CaptureQueriesContext(connection) as saving:
        assert client.post(url(mapping, "tickets"), {"status": "State"}).status_code == 302
    assert len(saving) <= len(small) + 6


# --- The import reads what the tab saved ----------------------------------------------------------------------------


def test_a_usage_import_reads_the_saved_headers(book, client_for, tmp_path: Path):
    mapping = ImportMapping.objects.get()
    client_for(book.admin).post(url(mapping, "usage"), {"account": "Customer", "day": "When"})
    mapping.refresh_from_db()
    path = tmp_path / "usage.csv"
    path.write_text(f"Customer,When,Metric,Value\n{book.account.crm_id},2026-03-01,active_users,7\n")
    job = services.import_job_create_from_path(actor=book.admin, path=path, kind="usage", mapping=mapping)
    job = services.import_job_run(job_id=job.pk)
    assert job.status == ImportStatus.SUCCEEDED, job.errors
    assert job.columns["matched"][:2] == [["account", "Customer"], ["day", "When"]]
    assert UsageDaily.objects.get().value == 7


def test_opportunity_and_arr_history_imports_read_the_saved_headers(book, client_for, tmp_path: Path):
    """The *CRM renewal opportunities* and *ARR history* tabs: header names a CRM report uses, saved on the mapping
    and read by those imports (without them the same files are refused for their missing columns)."""
    import datetime as dt

    from tamarind.renewals.models import ArrSnapshot, Renewal

    assert [c.field for c in kind_columns("opportunities")][:4] == ["opportunity", "account", "close_date", "amount"]
    assert [c.key for c in kind_columns("arr_history")] == [
        "arr_history.account",
        "arr_history.month",
        "arr_history.arr",
    ]
    mapping = ImportMapping.objects.get()
    opp = tmp_path / "opps.csv"
    opp.write_text(f"Deal,Customer,Expected Close,Value\nD-1,{book.account.crm_id},2027-02-01,99000\n")
    history = tmp_path / "history.csv"
    history.write_text(f"Customer,Period,Recurring\n{book.account.crm_id},2026-05-01,98000\n")

    def run(path: Path, kind: str) -> Any:
        job = services.import_job_create_from_path(actor=book.admin, path=path, kind=kind, mapping=mapping)
        return services.import_job_run(job_id=job.pk)

    assert run(opp, "opportunities").status == ImportStatus.FAILED  # "Deal" etc. are not known yet
    admin = client_for(book.admin)
    tab = admin.get(url(mapping, "opportunities"))
    assert tab.status_code == 200 and "Close date" in tab.content.decode()
    admin.post(
        url(mapping, "opportunities"),
        {"opportunity": "Deal", "account": "Customer", "close_date": "Expected Close", "amount": "Value"},
    )
    admin.post(url(mapping, "arr_history"), {"account": "Customer", "month": "Period", "arr": "Recurring"})
    mapping.refresh_from_db()
    assert mapping.headers["opportunities.close_date"] == ["Expected Close"]
    job = run(opp, "opportunities")
    assert job.status == ImportStatus.SUCCEEDED, job.errors
    assert Renewal.objects.get(crm_opportunity_id="D-1").renewal_date == dt.date(2027, 2, 1)
    job = run(history, "arr_history")
    assert job.status == ImportStatus.SUCCEEDED, job.errors
    assert ArrSnapshot.objects.get(account=book.account, month=dt.date(2026, 5, 1)).arr == 98000
