"""Bad input through the web pages: dates at the calendar's ends, integers beyond 64 bits, NUL characters and
form posts over the upload limit are refused clearly (a form error, or a 400/413 page naming what was wrong),
never a 500, and nothing is saved."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.test import override_settings
from django.urls import reverse

from tamarind.timeline.models import TimelineEntry

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def test_forms_use_the_bounded_date_time_and_integer_fields():
    """Every form's date, date-time and integer fields are core.forms' (the product's years, 64 bits)."""
    offenders = []
    for path in ROOT.rglob("*.py"):
        if (
            "tests" in path.parts
            or "migrations" in path.parts
            or (path.name == "forms.py" and path.parent.name == "core")
        ):
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "forms"
                and node.func.attr in ("DateField", "DateTimeField", "IntegerField", "SplitDateTimeField")
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} forms.{node.func.attr}")
    assert not offenders, "\n".join(offenders)


def _account_form(book, **changes):
    account = book.account
    form = {
        "crm_id": account.crm_id,
        "name": account.name,
        "parent": "",
        "segment": account.segment,
        "arr": str(account.arr),
        "currency": account.currency,
        "product_tier": account.product_tier_id or "",
        "licenses": str(account.licenses),
        "priority": str(account.priority),
        "engagement_model": account.engagement_model,
        "tam": book.tam.pk,
        "sal": book.sal.pk,
        "sa": book.sa.pk,
        "customer_since": "",
        "next_renewal_date": "",
        "lifecycle_stage": account.lifecycle_stage,
        "collaboration_url": "",
    }
    form.update(changes)
    return form


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("next_renewal_date", "9999-12-31", "Must be between 1900-01-01 and 2999-12-31."),
        ("customer_since", "0001-01-01", "Must be between 1900-01-01 and 2999-12-31."),
        ("licenses", str(2**63), "Must be between"),
    ],
)
def test_account_form_refuses_values_out_of_range(book, client_for, field, value, message):
    edit = reverse("accounts:edit", args=[book.account.pk])
    before = (book.account.next_renewal_date, book.account.customer_since, book.account.licenses)
    response = client_for(book.manager).post(edit, _account_form(book, **{field: value}))
    assert response.status_code == 400
    assert message in response.content.decode()
    book.account.refresh_from_db()
    assert (book.account.next_renewal_date, book.account.customer_since, book.account.licenses) == before


@override_settings(TIME_ZONE="Pacific/Kiritimati")  # UTC+14: the first moment of year 1 is before UTC's calendar
@pytest.mark.parametrize("value", ["0001-01-01T00:00", "9999-12-31T23:59"])
def test_timeline_quick_entry_refuses_a_time_at_the_calendars_ends(book, client_for, value):
    url = reverse("timeline:create", args=[book.account.pk])
    response = client_for(book.tam).post(url, {"kind": "call", "occurred_at": value, "notes": "x"})
    assert response.status_code == 400
    assert "Must be between 1900-01-01 and 2999-12-31." in response.content.decode()
    assert not TimelineEntry.objects.filter(account=book.account).exists()


def test_nul_in_a_form_field_is_a_400_naming_it(book, client_for):
    edit = reverse("accounts:edit", args=[book.account.pk])
    response = client_for(book.manager).post(edit, _account_form(book, name="Ac\x00me"))
    assert response.status_code == 400
    page = response.content.decode()
    assert "<strong>name</strong>: Must not contain NUL characters." in page
    book.account.refresh_from_db()
    assert book.account.name == "Acme Corp"


@pytest.mark.parametrize("url_name", ["accounts:list", "onboarding:list", "triage:board", "dashboards:health"])
def test_nul_in_a_query_parameter_is_a_400_naming_it(book, client_for, url_name):
    response = client_for(book.admin).get(reverse(url_name), {"q": "a\x00b", "region": "1"})
    assert response.status_code == 400
    assert "<strong>q</strong>: Must not contain NUL characters." in response.content.decode()


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=4096)
def test_a_form_post_over_the_limit_is_a_413_page_naming_it(book, client_for):
    edit = reverse("accounts:edit", args=[book.account.pk])
    response = client_for(book.manager).post(edit, _account_form(book, name="x" * 5000))
    assert response.status_code == 413
    page = response.content.decode()
    assert "Too much at once" in page and "4,096 bytes" in page
    book.account.refresh_from_db()
    assert book.account.name == "Acme Corp"


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=4096)
def test_an_upload_form_whose_fields_are_over_the_limit_is_a_413_page(book, client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client_for(book.admin).post(
        reverse("imports:upload"),
        {"file": SimpleUploadedFile("a.csv", b"crm_id\n"), "mapping": "m" * 5000},
    )
    assert response.status_code == 413
    assert "4,096 bytes" in response.content.decode()


def test_an_upload_under_the_limit_is_not_refused_for_its_file_size(book, client_for, settings):
    """Files do not count towards DATA_UPLOAD_MAX_MEMORY_SIZE (they have their own limit)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096
    content = b"crm_id,name\n" + b"".join(b"C-%d,Name %d\n" % (i, i) for i in range(1000))
    assert len(content) > 4096
    response = client_for(book.admin).post(
        reverse("imports:upload"), {"file": SimpleUploadedFile("a.csv", content), "dry_run": "on"}
    )
    assert response.status_code in (200, 302)


FILTER_PARAMS = [
    "q", "region", "tam", "owner", "account", "page", "page_size", "priority", "segment", "tier", "status", "type",
    "from", "to", "date_from", "date_to", "period", "sort", "arr_min", "arr_max", "state", "scope", "job", "kind",
    "overdue", "severity", "risk_reason", "color", "indicator", "show", "unread", "actor", "action", "object_type",
    "renewal_from", "renewal_to", "version", "tab", "month",
]  # fmt: skip


@pytest.mark.parametrize(
    "bad", [2**63, -(2**63) - 1, 10**30, "9999-12-31", "0001-01-01", "0001-01-01T00:00:00+14:00", "12/31/9999"]
)
def test_every_page_survives_filters_out_of_range(book, client_for, tmp_path, settings, bad):
    """Every page a person opens, with every filter the pages read set to an integer beyond 64 bits or a date at
    the calendar's ends: an answer (the filter refused or ignored), never a 500."""
    from tamarind.tests.test_permission_matrix import ROWS, targets

    settings.MEDIA_ROOT = tmp_path / "media"
    t = targets(book, tmp_path)
    client = client_for(book.admin)
    client.raise_request_exception = False
    pages = [row for row in ROWS if row.method == "get" and not row.api and row.expect["admin"] == 200]
    assert len(pages) > 30
    failures = []
    for row in pages:
        response = client.get(row.path(book, t), dict.fromkeys(FILTER_PARAMS, str(bad)))
        if response.status_code >= 500:
            failures.append(f"{row.name} {row.path(book, t)}: {response.status_code}")
    assert not failures, "\n".join(failures)
