"""The audit log page and its CSV export: admins only, filters, pagination, streaming, query counts."""

import csv
import datetime as dt
import io
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tamarind.accounts import services as account_services
from tamarind.audit.models import AuditAction, AuditEvent
from tamarind.audit.services import audit_record, build_event
from tamarind.core.context import request_id_scope
from tamarind.people import services as people_services

pytestmark = pytest.mark.django_db

NON_ADMINS = ["director", "manager", "other_manager", "tam", "tam2", "other_tam", "sal", "sa"]


@pytest.fixture
def trail(book):
    with request_id_scope("req-tam-change"):
        account_services.account_set_tam(actor=book.manager, account=book.account, tam=book.tam2)
    people_services.region_update(actor=book.admin, region=book.west, name="EMEA North")
    audit_record(actor=None, obj=book.sal, action=AuditAction.CREATE, after={"email": "=HYPERLINK(1)"}, source="cli")
    return book


def export_rows(response):
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def test_admin_reads_the_log(trail, client_for):
    response = client_for(trail.admin).get(reverse("audit:log"))
    assert response.status_code == 200
    body = response.content.decode()
    events = list(response.context["page"].object_list)
    assert [e.object_repr for e in events] == ["Sam Sal", "EMEA North", "Acme Corp"]
    # An account row links to the account page; a region row to the region page.
    assert f'href="{reverse("accounts:detail", args=[trail.account.pk])}"' in body
    assert f'href="{reverse("people:region_detail", args=[trail.west.pk])}"' in body
    assert "Mia Manager" in body and "EMEA North" in body
    # Changed fields, before -> after.
    assert 'class="before">EMEA</span> → <span class="after">EMEA North</span>' in body


@pytest.mark.parametrize("who", NON_ADMINS)
def test_non_admins_get_403(trail, client_for, who):
    client = client_for(getattr(trail, who))
    assert client.get(reverse("audit:log")).status_code == 403
    assert client.get(reverse("audit:export")).status_code == 403


def test_anonymous_is_sent_to_sign_in(client):
    for url in (reverse("audit:log"), reverse("audit:export")):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_log_cannot_be_written(trail, client_for):
    client = client_for(trail.admin)
    events = AuditEvent.objects.count()
    assert client.post(reverse("audit:log"), {"object_repr": "x"}).status_code == 405
    assert client.post(reverse("audit:export")).status_code == 405
    assert AuditEvent.objects.count() == events


def test_filters_by_query_string(trail, client_for):
    client = client_for(trail.admin)

    def shown(**params):
        return [e.object_repr for e in client.get(reverse("audit:log"), params).context["page"].object_list]

    assert shown(object_type="accounts.account") == ["Acme Corp"]
    assert shown(action="create") == ["Sam Sal"]
    assert shown(actor=trail.admin.pk) == ["EMEA North"]
    assert shown(actor="system") == ["Sam Sal"]
    assert shown(request_id="req-tam-change") == ["Acme Corp"]
    assert shown(q="north") == ["EMEA North"]
    today = dt.datetime.now(dt.UTC).date()
    assert len(shown(date_from=today.isoformat(), date_to=today.isoformat())) == 3
    assert shown(date_to=(today - dt.timedelta(days=1)).isoformat()) == []


def test_bad_filters_are_ignored_with_a_warning(trail, client_for):
    response = client_for(trail.admin).get(
        reverse("audit:log"), {"date_from": "yesterday", "actor": "999999", "action": "explode"}
    )
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 3
    assert "(filter ignored)" in response.content.decode()


def test_reversed_date_range_is_reported(trail, client_for):
    response = client_for(trail.admin).get(reverse("audit:log"), {"date_from": "2026-03-05", "date_to": "2026-03-01"})
    assert "end date is before the start date" in response.content.decode()


def test_empty_states(book, client_for):
    client = client_for(book.admin)
    assert "Nothing recorded yet" in client.get(reverse("audit:log")).content.decode()
    assert "No change matches" in client.get(reverse("audit:log"), {"q": "zzz"}).content.decode()


def test_pagination_is_50_per_page(book, client_for):
    AuditEvent.objects.bulk_create(
        build_event(actor=book.admin, obj=book.account, action=AuditAction.UPDATE, before={"n": i}, after={"n": i + 1})
        for i in range(120)
    )
    client = client_for(book.admin)
    first = client.get(reverse("audit:log"))
    assert len(first.context["page"].object_list) == 50 and first.context["page"].paginator.num_pages == 3
    last = client.get(reverse("audit:log"), {"page": 3})
    assert len(last.context["page"].object_list) == 20


def test_log_queries_do_not_grow(trail, client_for, django_assert_num_queries):
    client = client_for(trail.admin)
    url = reverse("audit:log")
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    small = len(ctx)
    # The same kinds of change as before, many times over: owners named by id, renamed regions, new people.
    tam_change = {"before": {"tam": trail.tam.pk}, "after": {"tam": trail.tam2.pk}}
    kinds = [
        (trail.account, tam_change),
        (trail.other_account, tam_change),
        (trail.east, {"before": {"name": "A"}, "after": {"name": "B"}}),
        (trail.tam, {"before": None, "after": {"email": "x@example.com"}}),
    ]
    AuditEvent.objects.bulk_create(
        build_event(actor=trail.manager, obj=obj, action=AuditAction.UPDATE, **change) for obj, change in kinds * 40
    )
    with django_assert_num_queries(small):
        response = client.get(url)
    assert len(response.context["page"].object_list) == 50


def test_export_streams_filtered_csv(trail, client_for):
    response = client_for(trail.admin).get(reverse("audit:export"), {"object_type": "accounts.account"})
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="tamarind-audit-')
    header, *rows = export_rows(response)
    assert header == [
        "at",
        "actor",
        "source",
        "request_id",
        "object_type",
        "object_id",
        "object",
        "action",
        "before",
        "after",
    ]
    (row,) = rows
    record = dict(zip(header, row, strict=True))
    assert record["actor"] == "Mia Manager" and record["request_id"] == "req-tam-change"
    assert record["object_type"] == "accounts.account" and record["object_id"] == str(trail.account.pk)
    assert record["object"] == "Acme Corp" and record["action"] == "update"
    assert json.loads(record["before"]) == {"tam": trail.tam.pk}
    assert json.loads(record["after"]) == {"tam": trail.tam2.pk}
    assert dt.datetime.fromisoformat(record["at"]).utcoffset() == dt.timedelta(0)


def test_export_all_and_guards_against_formulas(trail, client_for):
    rows = export_rows(client_for(trail.admin).get(reverse("audit:export")))
    assert len(rows) == 4
    system = rows[1]
    assert system[1] == "system" and system[8] == ""
    assert json.loads(system[9]) == {"email": "=HYPERLINK(1)"}  # inside JSON, so it starts with "{"


def test_export_quotes_names_that_look_like_formulas(book, client_for):
    people_services.region_update(actor=book.admin, region=book.east, name="=cmd|calc")
    rows = export_rows(client_for(book.admin).get(reverse("audit:export")))
    assert rows[1][6] == "'=cmd|calc"


def test_export_escapes_every_cell_through_the_shared_escape(book, client_for):
    """A name that already starts like an escape gets one more apostrophe, so unescaping gives it back exactly;
    every column goes through the one escape (core.csv_safe), not a chosen few."""
    from tamarind.core.csv_safe import unescape_cell

    people_services.region_update(actor=book.admin, region=book.east, name="'=cmd|calc")
    with request_id_scope("-req"):
        people_services.region_update(actor=book.admin, region=book.west, name="@west")
    rows = export_rows(client_for(book.admin).get(reverse("audit:export")))
    by_name = {unescape_cell(row[6]): row for row in rows[1:]}
    assert by_name["'=cmd|calc"][6] == "''=cmd|calc"
    assert by_name["@west"][6] == "'@west"
    assert by_name["@west"][3] == "'-req"
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for cell in row)
