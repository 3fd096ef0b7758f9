"""The rules pages, the editor and its dry run, and New accounts to staff."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from tamarind.actions.models import Task, TaskStatus
from tamarind.assignment import services
from tamarind.assignment.models import Qualification, RuleSetVersion
from tamarind.onboarding.models import Onboarding
from tamarind.testing.factories import AccountFactory

pytestmark = pytest.mark.django_db


def editor_data(*rows: tuple[str, str, str], match: str = "all", note: str = "", remove: int | None = None) -> dict:
    data = {"match": match, "note": note, "c-TOTAL_FORMS": str(len(rows)), "c-INITIAL_FORMS": "0"}
    for i, (field, op, value) in enumerate(rows):
        data.update({f"c-{i}-field": field, f"c-{i}-op": op, f"c-{i}-value": value})
    if remove is not None:
        data[f"c-{remove}-remove"] = "on"
    return data


DEFAULT_ROWS = [("arr", "gt", "50000"), ("segment", "in", "Mid-Market, Enterprise"), ("tier", "gte", "Silver")]


# --- rules pages --------------------------------------------------------------------------------------------------


def test_rules_page_shows_the_live_rules_in_words(book, client_for):
    page = client_for(book.tam).get(reverse("assignment:rules"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "ARR is greater than 50000" in text
    assert "Segment is one of Enterprise, Mid-Market" in text
    assert "Product tier is at least Premium/Silver" in text
    assert "Edit rules" not in text  # not an admin


def test_rules_page_queries_do_not_grow_with_versions(book, client_for, django_assert_max_num_queries):
    client = client_for(book.admin)
    client.get(reverse("assignment:rules"))
    for n in range(5):
        RuleSetVersion.objects.create(version=n + 2, definition={"match": "all", "conditions": []})
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("assignment:rules"))
    for n in range(30):
        RuleSetVersion.objects.create(version=n + 7, definition={"match": "any", "conditions": []})
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("assignment:rules"))


def test_editor_shows_the_live_rules_as_words(book, client_for):
    page = client_for(book.admin).get(reverse("assignment:rules_edit"))
    assert page.status_code == 200
    text = page.content.decode()
    assert 'value="Enterprise, Mid-Market"' in text and 'value="Premium/Silver"' in text


def test_editor_saves_a_new_version_from_words(book, client_for):
    rows = [("arr", "gte", "75000"), ("segment", "in", "enterprise"), ("tier", "gte", "Gold")]
    response = client_for(book.admin).post(reverse("assignment:rules_edit"), editor_data(*rows, note="Tighter"))
    assert response.status_code == 302
    live = RuleSetVersion.objects.live()
    assert live.version == 2 and live.note == "Tighter"
    assert live.definition["conditions"] == [
        {"field": "arr", "op": "gte", "value": "75000"},
        {"field": "segment", "op": "in", "value": ["enterprise"]},
        {"field": "tier", "op": "gte", "value": 3},
    ]


def test_editor_removes_rows_and_skips_blank_ones(book, client_for):
    data = editor_data(*DEFAULT_ROWS, ("", "", ""), remove=2)
    response = client_for(book.admin).post(reverse("assignment:rules_edit"), data)
    assert response.status_code == 302
    assert [c["field"] for c in RuleSetVersion.objects.live().definition["conditions"]] == ["arr", "segment"]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (("arr", "gt", "lots"), "got &#x27;lots&#x27;"),
        (("segment", "in", "Giant"), "Unknown segment value(s): Giant."),
        (("segment", "gt", "1"), "Segment takes in, not_in"),
        (("tier", "gte", "Diamond"), "a rung value"),
        (("region", "in", "Atlantis"), "Region is one of needs region values"),
    ],
)
def test_editor_puts_each_error_on_its_row_and_saves_nothing(book, client_for, row, message):
    response = client_for(book.admin).post(reverse("assignment:rules_edit"), editor_data(DEFAULT_ROWS[0], row))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert RuleSetVersion.objects.count() == 1


def test_saving_unchanged_rules_says_so(book, client_for):
    response = client_for(book.admin).post(reverse("assignment:rules_edit"), editor_data(*DEFAULT_ROWS))
    assert response.status_code == 400
    assert "same as version 1" in response.content.decode()


def test_editor_refuses_non_admins(book, client_for):
    for person in (book.manager, book.director, book.tam):
        client = client_for(person)
        assert client.get(reverse("assignment:rules_edit")).status_code == 403
        assert client.post(reverse("assignment:rules_edit"), editor_data(("arr", "gt", "1"))).status_code == 403
        assert client.post(reverse("assignment:rules_dry_run"), editor_data(("arr", "gt", "1"))).status_code == 403
    assert RuleSetVersion.objects.count() == 1


def test_dry_run_shows_what_the_draft_would_change_and_writes_nothing(book, client_for):
    AccountFactory(name="Small Fry", region=book.east, arr=Decimal("30000"))
    AccountFactory(name="Whale", region=book.east, arr=Decimal("900000"))
    data = editor_data(("arr", "gt", "100000"), ("segment", "in", "Enterprise"))
    response = client_for(book.admin).post(reverse("assignment:rules_dry_run"), data)
    assert response.status_code == 200
    text = response.content.decode()
    # Acme Corp and Globex (120,000 each) and Whale qualify under both; Small Fry under neither.
    assert "Dry run over 4 accounts" in text
    assert "+0 / −0" in text
    data = editor_data(("arr", "gt", "500000"))
    text = client_for(book.admin).post(reverse("assignment:rules_dry_run"), data).content.decode()
    assert "+0 / −2" in text and "Acme Corp" in text and "Globex" in text
    assert RuleSetVersion.objects.count() == 1 and Qualification.objects.count() == 2  # the fixture's own


def test_dry_run_of_an_invalid_draft_says_so(book, client_for):
    response = client_for(book.admin).post(reverse("assignment:rules_dry_run"), editor_data(("arr", "gt", "x")))
    assert response.status_code == 400
    assert "not valid yet" in response.content.decode()


def test_dry_run_queries_do_not_grow_with_accounts(book, client_for, django_assert_max_num_queries):
    client = client_for(book.admin)
    data = editor_data(("arr", "gt", "500000"))
    AccountFactory.create_batch(5, region=book.east)
    with django_assert_max_num_queries(20) as few:
        client.post(reverse("assignment:rules_dry_run"), data)
    AccountFactory.create_batch(60, region=book.east)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.post(reverse("assignment:rules_dry_run"), data)


# --- New accounts to staff ----------------------------------------------------------------------------------------


def unstaffed(book, n: int, region=None):  # type: ignore[no-untyped-def]
    accounts = AccountFactory.create_batch(n, region=region or book.east, tam=None)
    services.qualification_refresh(actor=None, account_ids=[a.pk for a in accounts], source="test")
    return accounts


def test_staffing_lists_the_managers_region_only(book, client_for):
    mine = unstaffed(book, 2)
    theirs = unstaffed(book, 1, region=book.west)
    text = client_for(book.manager).get(reverse("assignment:staffing")).content.decode()
    assert all(a.name in text for a in mine) and theirs[0].name not in text
    text = client_for(book.director).get(reverse("assignment:staffing")).content.decode()
    assert all(a.name in text for a in mine + theirs)


def test_staffing_is_for_managers(book, client_for):
    for person in (book.tam, book.sal, book.sa):
        assert client_for(person).get(reverse("assignment:staffing")).status_code == 403


def test_staffing_queries_do_not_grow_with_accounts(book, client_for, django_assert_max_num_queries):
    client = client_for(book.manager)
    unstaffed(book, 3)
    with django_assert_max_num_queries(20) as few:
        client.get(reverse("assignment:staffing"))
    unstaffed(book, 40)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("assignment:staffing"))


def test_assign_from_the_list_staffs_the_account(book, client_for):
    (account,) = unstaffed(book, 1)
    account.lifecycle_stage = "onboarding"
    account.save(update_fields=["lifecycle_stage"])
    url = reverse("assignment:staffing_assign", args=[account.pk])
    response = client_for(book.manager).post(url, {"tam": book.tam2.pk}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert f"Assigned to {book.tam2.full_name}" in response.content.decode()
    account.refresh_from_db()
    assert account.tam == book.tam2
    assert Onboarding.objects.get(account=account).tam == book.tam2
    assert Task.objects.get(account=account).status == TaskStatus.DONE


def test_assign_needs_a_tam_and_an_active_one(book, client_for):
    (account,) = unstaffed(book, 1)
    url = reverse("assignment:staffing_assign", args=[account.pk])
    response = client_for(book.manager).post(url, {"tam": ""}, headers={"HX-Request": "true"})
    assert response.status_code == 400 and "Choose one of the region" in response.content.decode()
    response = client_for(book.manager).post(url, {"tam": book.sal.pk}, headers={"HX-Request": "true"})
    assert response.status_code == 400
    account.refresh_from_db()
    assert account.tam is None


def test_assign_trio(book, client_for):
    (account,) = unstaffed(book, 1)
    url = reverse("assignment:staffing_assign", args=[account.pk])
    assert client_for(book.tam).post(url, {"tam": book.tam.pk}).status_code == 403  # reads it, may not staff it
    assert client_for(book.other_manager).post(url, {"tam": book.tam.pk}).status_code == 404
    assert client_for(book.manager).post(url, {"tam": book.tam.pk}).status_code == 302


def test_account_page_explains_its_standing(book, client_for):
    text = client_for(book.tam).get(reverse("accounts:detail", args=[book.account.pk])).content.decode()
    assert "Qualification for a TAM" in text and "Qualifies" in text
    assert "✓ ARR is greater than 50000" in text
    small = AccountFactory(region=book.east, arr=Decimal("50000"))
    services.qualification_refresh(actor=None, account_ids=[small.pk], source="test")
    text = client_for(book.manager).get(reverse("accounts:detail", args=[small.pk])).content.decode()
    assert "Does not qualify" in text and "✗ ARR is greater than 50000" in text


def test_staffing_preview_is_the_lists_first_rows_and_its_length(book):
    """My week's "New accounts to staff": the first rows of ``staffing_list`` and its count, in two queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tamarind.assignment.selectors import staffing_list, staffing_preview

    unstaffed(book, 4)
    unstaffed(book, 2, region=book.west)
    for person in (book.manager, book.director, book.tam):
        for limit in (3, 10):
            with CaptureQueriesContext(connection) as ctx:
                rows, total = staffing_preview(person, limit=limit)
                assert all(q.account.region.name for q in rows)
            assert len(ctx.captured_queries) == 2
            full = staffing_list(person)
            assert total == full.count()
            assert [q.account_id for q in rows] == [q.account_id for q in full[:limit]]
    assert staffing_preview(book.sal) == ([], 0)
