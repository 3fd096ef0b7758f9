"""Account pages: the permission trio per route, behaviour, and query counts that do not grow with the book."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tamarind.accounts.models import Account, TamAssignment
from tamarind.audit.models import AuditEvent
from tamarind.people.models import Role
from tamarind.testing.factories import PASSWORD, AccountFactory, UserFactory, tier

pytestmark = pytest.mark.django_db


def detail(a):
    return reverse("accounts:detail", args=[a.pk])


def edit(a):
    return reverse("accounts:edit", args=[a.pk])


def set_tam(a):
    return reverse("accounts:set_tam", args=[a.pk])


# --- list ---------------------------------------------------------------------------------------------------


def test_list_shows_only_the_users_scope(book, client_for):
    body = client_for(book.manager).get(reverse("accounts:list")).content.decode()
    assert "Acme Corp" in body and "Globex" not in body
    body = client_for(book.director).get(reverse("accounts:list")).content.decode()
    assert "Acme Corp" in body and "Globex" in body


def test_list_requires_login(client):
    response = client.get(reverse("accounts:list"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_list_filters_and_sorts(book, client_for):
    AccountFactory(name="Small Co", region=book.east, arr=Decimal("9000"), segment="smb", tam=None)
    AccountFactory(name="Big Co", region=book.east, arr=Decimal("900000"), product_tier=tier("Gold"))
    c = client_for(book.admin)
    body = c.get(reverse("accounts:list"), {"arr_min": "100000", "sort": "-arr"}).content.decode()
    assert body.index("Big Co") < body.index("Acme Corp") and "Small Co" not in body
    body = c.get(reverse("accounts:list"), {"tam": "none"}).content.decode()
    assert "Small Co" in body and "Acme Corp" not in body
    # Tier filters match the rung: Ultimate finds the Gold account.
    body = c.get(reverse("accounts:list"), {"tier": tier("Ultimate").pk}).content.decode()
    assert "Big Co" in body and "Acme Corp" not in body
    body = c.get(reverse("accounts:list"), {"q": "small"}).content.decode()
    assert "Small Co" in body and "Big Co" not in body


def test_list_reports_bad_filter_values_without_failing(book, client_for):
    response = client_for(book.admin).get(reverse("accounts:list"), {"arr_min": "lots", "sort": "nope"})
    assert response.status_code == 200
    assert "arr_min must be an amount" in response.content.decode()


def test_list_htmx_returns_the_table_fragment(book, client_for):
    response = client_for(book.admin).get(
        reverse("accounts:list"), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="account-table"
    )
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body and 'id="accounts"' in body


def test_list_query_count_is_constant(book, client_for):
    c = client_for(book.admin)
    url = reverse("accounts:list")
    AccountFactory.create_batch(8, region=book.east, tam=book.tam, sal=book.sal)
    with CaptureQueriesContext(connection) as small:
        assert c.get(url).status_code == 200
    AccountFactory.create_batch(120, region=book.west, tam=book.other_tam, sa=book.sa)
    with CaptureQueriesContext(connection) as large:
        assert c.get(url).status_code == 200
    assert len(large) == len(small)


def scored(account, color, score):
    from tamarind.health.models import HealthScore

    HealthScore.objects.create(account=account, score=score, color=color, model_version=1)
    return account


def names_in(response):
    import re

    assert response.status_code == 200
    body = response.content.decode()
    table = body[body.index('id="accounts"') :] if 'id="accounts"' in body else ""
    return sorted(re.findall(r'<a href="/accounts/\d+/">([^<]+)</a>', table))


def test_tam_lands_on_my_accounts_after_login_and_on_home(book, client):
    AccountFactory(name="Colleague Co", region=book.east, tam=book.tam2)
    response = client.post(reverse("login"), {"username": "tam@example.com", "password": PASSWORD}, follow=True)
    assert response.redirect_chain and response.redirect_chain[-1][0] == reverse("accounts:list")
    body = response.content.decode()
    assert "<h1>My accounts</h1>" in body
    assert names_in(response) == ["Acme Corp"]
    home = client.get("/", follow=True)
    assert "<h1>My accounts</h1>" in home.content.decode() and names_in(home) == ["Acme Corp"]
    # "All accounts I can see" shows the region's book; the choice is kept by paging and sorting links.
    everything = client.get(reverse("accounts:list"), {"scope": "all"})
    assert names_in(everything) == ["Acme Corp", "Colleague Co"]
    assert "<h1>Accounts</h1>" in everything.content.decode()
    assert "scope=all" in everything.content.decode().split('id="accounts"')[1]  # paging and sorting keep it


def test_tam_with_no_accounts_is_told_how_to_see_the_book(book, client_for):
    from tamarind.people.models import Role

    newcomer = UserFactory(full_name="Nina New", role=Role.TAM, region=book.east)
    body = client_for(newcomer).get(reverse("accounts:list")).content.decode()
    assert "You own no accounts yet." in body and "?scope=all" in body


# A TAM Manager lands on My week (issue 12; tamarind/reviews/tests/test_views.py) and reads the accounts from there.
@pytest.mark.parametrize("who", ["admin", "director", "sal"])
def test_others_land_on_every_account_they_may_read(book, client_for, who):
    body = client_for(getattr(book, who)).get("/", follow=True).content.decode()
    assert "<h1>Accounts</h1>" in body and 'id="account-scope"' not in body


def test_list_filters_by_health_color_and_shows_it(book, client_for):
    scored(book.account, "red", 30)
    scored(AccountFactory(name="Fine Co", region=book.east), "green", 90)
    AccountFactory(name="New Co", region=book.east)  # not scored yet
    c = client_for(book.manager)
    response = c.get(reverse("accounts:list"))
    body = response.content.decode()
    assert '<span class="badge red" title="Health score 30">Red</span>' in body
    assert '<span class="muted" title="Not scored yet">—</span>' in body
    assert names_in(c.get(reverse("accounts:list"), {"health": "red"})) == ["Acme Corp"]
    assert names_in(c.get(reverse("accounts:list"), {"health": "none"})) == ["New Co"]
    assert names_in(c.get(f"{reverse('accounts:list')}?health=green&health=none")) == ["Fine Co", "New Co"]


def test_list_filters_by_renewal_date_range(book, client_for):
    import datetime as dt

    Account.objects.filter(pk=book.account.pk).update(next_renewal_date=dt.date(2027, 3, 1))
    AccountFactory(name="Later Co", region=book.east, next_renewal_date=dt.date(2027, 9, 1))
    AccountFactory(name="Undated Co", region=book.east, next_renewal_date=None)
    c = client_for(book.manager)
    url = reverse("accounts:list")
    assert names_in(c.get(url, {"renewal_from": "2027-01-01", "renewal_to": "2027-06-30"})) == ["Acme Corp"]
    assert names_in(c.get(url, {"renewal_from": "2027-03-02"})) == ["Later Co"]
    assert names_in(c.get(url, {"renewal_to": "2027-03-01"})) == ["Acme Corp"]  # inclusive
    # The calendar's ends are dates like any other.
    assert names_in(c.get(url, {"renewal_from": "0001-01-01", "renewal_to": "9999-12-31"})) == [
        "Acme Corp",
        "Later Co",
    ]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"health": "purple"}, "health must be one of green, yellow, red, none, got &#x27;purple&#x27;."),
        ({"renewal_from": "next week"}, "renewal_from must be a date (YYYY-MM-DD), got &#x27;next week&#x27;."),
        ({"renewal_to": "2027-02-30"}, "renewal_to must be a date (YYYY-MM-DD), got &#x27;2027-02-30&#x27;."),
        (
            {"renewal_from": "2000-06-01", "renewal_to": "2000-01-01"},
            "renewal_to (2000-01-01) is before renewal_from (2000-06-01).",
        ),
        ({"scope": "theirs"}, "scope must be mine or all, got &#x27;theirs&#x27;."),
        ({"renewal_from": "99999-01-01"}, "renewal_from must be a date (YYYY-MM-DD), got &#x27;99999-01-01&#x27;."),
    ],
)
def test_list_bad_new_filter_values_get_a_clear_message_not_a_500(book, client_for, params, message):
    response = client_for(book.manager).get(reverse("accounts:list"), params)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert names_in(response) == ["Acme Corp"]  # the bad value is ignored, the rest of the list stands


@pytest.mark.parametrize("params", [{"health": "RED"}, {"health": "red,none"}])
def test_list_odd_but_valid_new_filter_values_work(book, client_for, params):
    scored(book.account, "red", 30)
    response = client_for(book.manager).get(reverse("accounts:list"), params)
    assert names_in(response) == ["Acme Corp"]


def test_list_a_nul_in_a_new_filter_is_refused_naming_it(book, client_for):
    """NUL is refused before any view runs (core.middleware.RequestGuardMiddleware), naming the parameter."""
    response = client_for(book.manager).get(reverse("accounts:list"), {"renewal_from": "2000-01-01\x00"})
    assert response.status_code == 400
    assert "renewal_from" in response.content.decode()


@pytest.mark.parametrize("who", ["manager", "tam", "sal"])
def test_list_tam_filter_offers_only_the_tams_the_user_can_see(book, client_for, who):
    from tamarind.people.models import Role

    UserFactory(full_name="Wanda West", role=Role.TAM, region=book.west)
    body = client_for(getattr(book, who)).get(reverse("accounts:list"), {"scope": "all"}).content.decode()
    picker = body[body.index('id="id_tam"') : body.index("</select>", body.index('id="id_tam"'))]
    assert "Tara Tam" in picker
    assert "Olga Tam" not in picker and "Wanda West" not in picker


def test_list_tam_filter_offers_every_active_tam_to_admins(book, client_for):
    from tamarind.people.models import Role

    UserFactory(full_name="Wanda West", role=Role.TAM, region=book.west)
    UserFactory(full_name="Gone Tam", role=Role.TAM, region=book.west, is_active=False)
    body = client_for(book.admin).get(reverse("accounts:list")).content.decode()
    picker = body[body.index('id="id_tam"') : body.index("</select>", body.index('id="id_tam"'))]
    assert all(name in picker for name in ("Tara Tam", "Theo Tam", "Olga Tam", "Wanda West"))
    assert "Gone Tam" not in picker


def test_list_tam_filter_keeps_the_choice_and_escapes_names(book, client_for):
    from tamarind.people.models import Role

    odd = UserFactory(full_name="Ann <b>Bold</b>", role=Role.TAM, region=book.east)
    body = client_for(book.admin).get(reverse("accounts:list"), {"tam": [book.tam2.pk, odd.pk]}).content.decode()
    picker = body[body.index('id="id_tam"') : body.index("</select>", body.index('id="id_tam"'))]
    assert f'<option value="{book.tam2.pk}" selected>Theo Tam</option>' in picker
    assert f'<option value="{odd.pk}" selected>Ann &lt;b&gt;Bold&lt;/b&gt;</option>' in picker
    assert f'<option value="{book.tam.pk}">Tara Tam</option>' in picker


@pytest.mark.parametrize("who", ["admin", "manager", "tam"])
def test_list_query_count_is_constant_with_the_new_filters(book, client_for, who):
    from tamarind.people.models import Role

    c = client_for(getattr(book, who))
    url = reverse("accounts:list")
    params = {"health": ["red", "none"], "renewal_from": "2000-01-01", "sort": "tam", "scope": "all"}
    for account in AccountFactory.create_batch(4, region=book.east, tam=book.tam):
        scored(account, "red", 20)
    with CaptureQueriesContext(connection) as small:
        assert c.get(url, params).status_code == 200
    tams = UserFactory.create_batch(6, role=Role.TAM, region=book.east)
    for i, account in enumerate(AccountFactory.create_batch(60, region=book.east, tam=book.tam)):
        account.tam = tams[i % 6]
        account.save(update_fields=["tam"])
        if i % 2:
            scored(account, "red", 20)
    AccountFactory.create_batch(30, region=book.west, tam=book.other_tam)
    with CaptureQueriesContext(connection) as large:
        response = c.get(url, params)
    assert response.status_code == 200 and len(large) == len(small)
    assert len(names_in(response)) == 50


def _joins(ctx):
    return max(q["sql"].count(" JOIN ") for q in ctx.captured_queries)


@pytest.mark.parametrize("path", ["list", "detail", "api-list", "api-detail"])
def test_account_queries_join_few_tables(book, client_for, api_for, path):
    """PostgreSQL's planner weighs about three times more join orders per outer join: seven tables cost 20 ms to
    plan (more than the query takes to run), five cost 1 ms. Owners beyond region, tier, parent and TAM come in
    their own small queries."""
    account = AccountFactory(region=book.east, tam=book.tam, sal=book.sal, sa=book.sa, parent=book.account)
    scored(account, "green", 90)
    urls = {
        "list": (client_for(book.admin), reverse("accounts:list")),
        "detail": (client_for(book.admin), detail(account)),
        "api-list": (api_for(book.admin), "/api/v1/accounts/"),
        "api-detail": (api_for(book.admin), f"/api/v1/accounts/{account.pk}"),
    }
    c, url = urls[path]
    with CaptureQueriesContext(connection) as ctx:
        response = c.get(url)
    assert response.status_code == 200
    assert _joins(ctx) <= 5, max(ctx.captured_queries, key=lambda q: q["sql"].count(" JOIN "))["sql"]
    if path.startswith("api"):
        body = response.json()
        item = body["results"][0] if path == "api-list" else body
        assert item["sal"]["full_name"] == "Sam Sal" and item["sa"]["full_name"] == "Sasha Sa"


def test_list_sorted_through_a_join_pages_in_order(book, client_for):
    from tamarind.people.models import Role

    tams = [UserFactory(full_name=f"Tam {c}", role=Role.TAM, region=book.east) for c in "DCBA"]
    for i in range(60):
        AccountFactory(name=f"Co {i:02d}", region=book.east, tam=tams[i % 4])
    c = client_for(book.manager)
    seen = []
    for page in (1, 2):
        seen += names_in_order(c.get(reverse("accounts:list"), {"sort": "tam", "page": page}))
    expected = [
        name
        for name, _ in sorted(
            ((a.name, a.tam.full_name) for a in Account.objects.filter(region=book.east).select_related("tam")),
            key=lambda x: (x[1], x[0]),
        )
    ]
    assert seen == expected


def names_in_order(response):
    import re

    body = response.content.decode()
    return re.findall(r'<a href="/accounts/\d+/">([^<]+)</a>', body[body.index('id="accounts"') :])


# --- detail -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "director", "manager", "tam", "tam2", "sal", "sa"])
def test_detail_allowed(book, client_for, who):
    response = client_for(getattr(book, who)).get(detail(book.account))
    assert response.status_code == 200
    assert "Acme Corp" in response.content.decode()


@pytest.mark.parametrize("who", ["other_manager", "other_tam"])
def test_detail_outsider_gets_404(book, client_for, who):
    assert client_for(getattr(book, who)).get(detail(book.account)).status_code == 404


def test_detail_unknown_id_is_404(book, client_for):
    assert client_for(book.admin).get("/accounts/999999/").status_code == 404


def test_detail_shows_history(book, client_for):
    from tamarind.accounts.services import account_update

    account_update(actor=book.manager, account=book.account, changes={"arr": Decimal("150000")})
    body = client_for(book.manager).get(detail(book.account)).content.decode()
    assert "Mia Manager" in body and "120000.00" in body and "150000" in body


def test_detail_query_count_is_constant(book, client_for):
    from tamarind.accounts.services import account_update

    c = client_for(book.admin)
    with CaptureQueriesContext(connection) as small:
        c.get(detail(book.account))
    for i in range(15):
        account_update(actor=book.admin, account=book.account, changes={"licenses": 300 + i})
        AccountFactory(parent=book.account, region=book.east, tam=book.tam2)
    with CaptureQueriesContext(connection) as large:
        c.get(detail(book.account))
    assert len(large) == len(small)


@pytest.mark.parametrize("who", ["admin", "manager"])
def test_detail_query_count_is_constant_as_tams_grow(book, client_for, who):
    """The "Assign TAM" picker lists the region's TAMs in one query, however many there are."""
    c = client_for(getattr(book, who))
    with CaptureQueriesContext(connection) as small:
        assert c.get(detail(book.account)).status_code == 200
    UserFactory.create_batch(12, role=Role.TAM, region=book.east)
    UserFactory.create_batch(12, role=Role.TAM, region=book.west)
    with CaptureQueriesContext(connection) as large:
        assert c.get(detail(book.account)).status_code == 200
    assert len(large) == len(small)


def test_detail_tam_picker_offers_the_regions_tams_and_the_current_one(book, client_for):
    from tamarind.accounts.services import account_update

    east_tam = UserFactory(full_name="Erin <East>", role=Role.TAM, region=book.east)
    UserFactory(full_name="Wes West", role=Role.TAM, region=book.west)
    UserFactory(full_name="Ina Inactive", role=Role.TAM, region=book.east, is_active=False)
    body = client_for(book.manager).get(detail(book.account)).content.decode()
    picker = body[body.index('id="id_tam_assign"') : body.index("</select>", body.index('id="id_tam_assign"'))]
    assert "Erin &lt;East&gt;" in picker and "Theo Tam" in picker
    assert f'<option value="{book.tam.pk}" selected>Tara Tam</option>' in picker
    assert "Wes West" not in picker and "Ina Inactive" not in picker
    # A TAM from another region who owns the account is offered too, with their region.
    account_update(actor=book.admin, account=book.account, changes={"tam": book.other_tam})
    body = client_for(book.admin).get(detail(book.account)).content.decode()
    assert f'<option value="{book.other_tam.pk}" selected>Olga Tam (EMEA)</option>' in body
    assert str(east_tam.pk) in body


# --- edit ---------------------------------------------------------------------------------------------------


def test_manager_edits_account(book, client_for):
    c = client_for(book.manager)
    assert c.get(edit(book.account)).status_code == 200
    form = {
        "crm_id": book.account.crm_id,
        "name": "Acme Corporation",
        "parent": "",
        "segment": "enterprise",
        "arr": "130000",
        "currency": "usd",
        "product_tier": tier("Ultimate").pk,
        "licenses": "260",
        "priority": "1",
        "engagement_model": "high_touch",
        "tam": book.tam.pk,
        "sal": book.sal.pk,
        "sa": book.sa.pk,
        "customer_since": "2025-01-15",
        "next_renewal_date": "2027-01-15",
        "lifecycle_stage": "adoption",
        "collaboration_url": "",
    }
    response = c.post(edit(book.account), form)
    assert response.status_code == 302, response.content.decode()[:3000]
    book.account.refresh_from_db()
    assert book.account.name == "Acme Corporation" and book.account.arr == Decimal("130000")
    event = AuditEvent.objects.for_object("accounts.account", book.account.pk).first()
    assert set(event.after) == {"name", "arr", "product_tier", "licenses", "engagement_model"}


def test_tam_edit_form_offers_only_tam_owned_fields(book, client_for):
    c = client_for(book.tam)
    body = c.get(edit(book.account)).content.decode()
    assert 'name="priority"' in body and 'name="arr"' not in body and 'name="tam"' not in body
    response = c.post(edit(book.account), {"priority": "2", "lifecycle_stage": "adoption", "arr": "1"})
    assert response.status_code == 302
    book.account.refresh_from_db()
    assert book.account.priority == 2 and book.account.arr == Decimal("120000.00")  # arr ignored: not theirs


@pytest.mark.parametrize("who", ["tam2", "director", "sal", "sa"])
def test_read_only_user_gets_403_on_edit_and_nothing_changes(book, client_for, who):
    c = client_for(getattr(book, who))
    before = AuditEvent.objects.count()
    assert c.get(edit(book.account)).status_code == 403
    assert c.post(edit(book.account), {"priority": "4"}).status_code == 403
    assert Account.objects.get(pk=book.account.pk).priority == 1
    assert AuditEvent.objects.count() == before


def test_outsider_gets_404_on_edit(book, client_for):
    assert client_for(book.other_manager).post(edit(book.account), {"priority": "4"}).status_code == 404


def test_edit_with_bad_input_is_400_and_keeps_data(book, client_for):
    response = client_for(book.manager).post(edit(book.account), {"name": "", "arr": "-5", "segment": "huge"})
    assert response.status_code == 400
    book.account.refresh_from_db()
    assert book.account.name == "Acme Corp"


# --- set TAM ------------------------------------------------------------------------------------------------


def test_manager_sets_tam_inline(book, client_for):
    response = client_for(book.manager).post(set_tam(book.account), {"tam": book.tam2.pk}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Theo Tam" in response.content.decode()
    assert TamAssignment.objects.filter(account=book.account, to_tam=book.tam2).exists()


def test_tam_cannot_set_tam(book, client_for):
    assert client_for(book.tam).post(set_tam(book.account), {"tam": book.tam2.pk}).status_code == 403
    assert Account.objects.get(pk=book.account.pk).tam_id == book.tam.pk


@pytest.mark.parametrize("who", ["director", "tam2", "sal"])
def test_read_only_cannot_set_tam(book, client_for, who):
    assert client_for(getattr(book, who)).post(set_tam(book.account), {"tam": book.tam2.pk}).status_code == 403


def test_outsider_cannot_set_tam(book, client_for):
    assert client_for(book.other_manager).post(set_tam(book.account), {"tam": ""}).status_code == 404


def test_set_tam_rejects_unknown_person(book, client_for):
    response = client_for(book.manager).post(set_tam(book.account), {"tam": 999999}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert Account.objects.get(pk=book.account.pk).tam_id == book.tam.pk


# --- create -------------------------------------------------------------------------------------------------


def test_manager_creates_in_own_region_only(book, client_for):
    c = client_for(book.manager)
    assert c.get(reverse("accounts:create")).status_code == 200
    data = {
        "crm_id": "NEW-1",
        "name": "Initech",
        "region": book.west.pk,
        "segment": "mid_market",
        "arr": "75000",
        "currency": "USD",
        "licenses": "100",
        "priority": "1",
        "lifecycle_stage": "onboarding",
    }
    assert c.post(reverse("accounts:create"), data).status_code == 403
    assert not Account.objects.filter(crm_id="NEW-1").exists()
    data["region"] = book.east.pk
    response = c.post(reverse("accounts:create"), data)
    assert response.status_code == 302
    assert Account.objects.get(crm_id="NEW-1").name == "Initech"


def test_duplicate_crm_id_is_a_form_error(book, client_for):
    data = {
        "crm_id": book.account.crm_id,
        "name": "Dup",
        "region": book.east.pk,
        "segment": "smb",
        "arr": "1",
        "currency": "USD",
        "licenses": "1",
        "priority": "4",
        "lifecycle_stage": "onboarding",
    }
    response = client_for(book.admin).post(reverse("accounts:create"), data)
    assert response.status_code == 400 and "already exists" in response.content.decode()


@pytest.mark.parametrize("who", ["director", "tam", "sal", "sa"])
def test_create_forbidden_for_other_roles(book, client_for, who):
    assert client_for(getattr(book, who)).get(reverse("accounts:create")).status_code == 403
