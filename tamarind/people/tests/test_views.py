"""People pages: the permission trio for every route, forms and service errors, and query counts."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tamarind.audit.models import AuditEvent
from tamarind.people import services
from tamarind.people.models import ApiToken, Region, Role, User
from tamarind.testing.factories import AccountFactory, RegionFactory, UserFactory

pytestmark = pytest.mark.django_db

NON_ADMINS = ["director", "manager", "other_manager", "tam", "tam2", "other_tam", "sal", "sa"]


def count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(ctx)


def grow(book, n=30):
    """Many more people and accounts around the standard cast (for the query-count checks)."""
    region = RegionFactory(name="LATAM")
    for i in range(n):
        tam = UserFactory(email=f"grow-tam{i}@example.com", full_name=f"Grow Tam {i}", role=Role.TAM, region=region)
        AccountFactory(region=region, tam=tam, sal=book.sal, arr=Decimal(10_000 + i))
        AccountFactory(region=book.east, tam=book.tam, sa=book.sa)
        UserFactory(email=f"grow-sal{i}@example.com", full_name=f"Grow Sal {i}", role=Role.SAL, region=book.east)


def anonymous_redirects(client, url):
    response = client.get(url)
    return response.status_code == 302 and "/login/" in response["Location"]


# --- people list -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", *NON_ADMINS])
def test_people_list_open_to_everyone(book, client_for, who):
    response = client_for(getattr(book, who)).get(reverse("people:list"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Tara Tam" in body and "tam@example.com" in body
    assert ("Add person" in body) == (who == "admin")


def test_people_list_requires_sign_in(client):
    assert anonymous_redirects(client, reverse("people:list"))


def test_people_list_filters_and_book_columns(book, client_for):
    client = client_for(book.manager)
    response = client.get(reverse("people:list"), {"role": "tam", "region": book.east.pk})
    people = list(response.context["page"].object_list)
    assert [p.full_name for p in people] == ["Tara Tam", "Theo Tam"]
    assert people[0].book_count == 1 and people[0].capacity.arr == Decimal("120000.00")
    assert "$120,000" in response.content.decode()
    response = client.get(reverse("people:list"), {"q": "sasha"})
    assert [p.full_name for p in response.context["page"].object_list] == ["Sasha Sa"]


def test_people_list_bad_filters_are_ignored_not_errors(book, client_for):
    response = client_for(book.tam).get(reverse("people:list"), {"role": "wizard", "region": "x", "page": "zz"})
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 9
    assert "(ignored)" in response.content.decode()


def test_people_list_empty_state(book, client_for):
    response = client_for(book.tam).get(reverse("people:list"), {"q": "nobody-by-this-name"})
    assert "No one matches these filters" in response.content.decode()


def test_people_list_htmx_returns_the_table_only(book, client_for):
    response = client_for(book.tam).get(
        reverse("people:list"), {"role": "sal"}, headers={"HX-Request": "true", "HX-Target": "people-table"}
    )
    body = response.content.decode()
    assert "Sam Sal" in body and "<html" not in body


def test_people_list_queries_do_not_grow(book, client_for, django_assert_num_queries):
    client = client_for(book.director)
    url = reverse("people:list")
    small = count_queries(client, url)
    grow(book)
    with django_assert_num_queries(small):
        response = client.get(url)
    assert response.context["page"].paginator.count > 50  # a full page of 50 rendered with the same queries


# --- person detail ---------------------------------------------------------------------------------------


def test_person_detail_shows_accounts_the_viewer_may_read(book, client_for):
    AccountFactory(name="West Deal", region=book.west, tam=book.other_tam, sal=book.sal)
    body = client_for(book.admin).get(reverse("people:detail", args=[book.sal.pk])).content.decode()
    assert "Acme Corp" in body and "West Deal" in body
    response = client_for(book.manager).get(reverse("people:detail", args=[book.sal.pk]))
    body = response.content.decode()
    assert "Acme Corp" in body and "West Deal" not in body
    assert response.context["hidden_count"] == 1 and "1 more outside your view" in body


def test_person_detail_capacity_for_tams(book, client_for):
    response = client_for(book.sal).get(reverse("people:detail", args=[book.tam.pk]))
    assert response.status_code == 200
    assert response.context["capacity"].arr == Decimal("120000.00")
    assert 'id="capacity"' in response.content.decode()
    response = client_for(book.sal).get(reverse("people:detail", args=[book.manager.pk]))
    assert response.context["capacity"] is None and 'id="capacity"' not in response.content.decode()


def test_person_detail_unknown_is_404(book, client_for):
    assert client_for(book.admin).get(reverse("people:detail", args=[987654])).status_code == 404


def test_person_detail_edit_link_for_admins_only(book, client_for):
    edit = reverse("people:edit", args=[book.tam.pk])
    assert edit in client_for(book.admin).get(reverse("people:detail", args=[book.tam.pk])).content.decode()
    assert edit not in client_for(book.manager).get(reverse("people:detail", args=[book.tam.pk])).content.decode()


def test_person_detail_queries_do_not_grow(book, client_for, django_assert_num_queries):
    client = client_for(book.manager)
    url = reverse("people:detail", args=[book.tam.pk])
    small = count_queries(client, url)
    grow(book)
    with django_assert_num_queries(small):
        response = client.get(url)
    assert len(response.context["owned"]) == 31


# --- person create / edit --------------------------------------------------------------------------------

PERSON = {
    "email": "Nina.New@example.com",
    "full_name": "Nina New",
    "role": "tam",
    "capacity_arr": "2500000",
    "password": "a-long-enough-passphrase",
}


def test_admin_creates_a_person(book, client_for):
    client = client_for(book.admin)
    assert client.get(reverse("people:create")).status_code == 200
    response = client.post(reverse("people:create"), {**PERSON, "region": book.east.pk})
    person = User.objects.get(email="nina.new@example.com")
    assert response.status_code == 302 and response["Location"] == reverse("people:detail", args=[person.pk])
    assert person.region_id == book.east.pk and person.capacity_arr == Decimal("2500000")
    assert person.check_password(PERSON["password"])
    assert AuditEvent.objects.for_object("people.user", person.pk).get().actor_id == book.admin.pk


def test_add_person_form_is_prefilled_from_the_link(book, client_for):
    """An import lists the owners Tamarind lacks with a link to add each, carrying what the file says about them."""
    client = client_for(book.admin)
    form = client.get(reverse("people:create"), {"role": "sal", "email": "sid@new.example.com"}).context["form"]
    assert (form["role"].value(), form["email"].value()) == ("sal", "sid@new.example.com")
    form = client.get(reverse("people:create"), {"role": "sa", "full_name": "Nina Nobody"}).context["form"]
    assert (form["role"].value(), form["full_name"].value(), form["email"].value()) == ("sa", "Nina Nobody", None)
    form = client.get(reverse("people:create"), {"role": "emperor"}).context["form"]
    assert form["role"].value() == "tam"  # not a role: the usual default


@pytest.mark.parametrize("who", NON_ADMINS)
def test_non_admins_cannot_create_people(book, client_for, who):
    client = client_for(getattr(book, who))
    users, events = User.objects.count(), AuditEvent.objects.count()
    assert client.get(reverse("people:create")).status_code == 403
    assert client.post(reverse("people:create"), PERSON).status_code == 403
    assert User.objects.count() == users and AuditEvent.objects.count() == events


def test_create_person_invalid_input_is_400(book, client_for):
    client = client_for(book.admin)
    response = client.post(reverse("people:create"), {**PERSON, "email": "not-an-email", "password": "short"})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"email", "password"}
    assert not User.objects.filter(full_name="Nina New").exists()


def test_create_person_service_error_shows_on_the_form(book, client_for):
    # The form accepts the address; the service finds it taken (case-insensitively) and says so on the field.
    response = client_for(book.admin).post(reverse("people:create"), {**PERSON, "email": "TAM@example.com"})
    assert response.status_code == 400
    assert "email" in response.context["form"].errors
    assert User.objects.filter(email="tam@example.com").count() == 1


def test_admin_edits_a_person(book, client_for):
    client = client_for(book.admin)
    url = reverse("people:edit", args=[book.tam2.pk])
    assert client.get(url).status_code == 200
    data = {
        "email": "tam2@example.com",
        "full_name": "Theo Tam",
        "role": "tam",
        "region": book.west.pk,
        "capacity_arr": "",
        "is_active": "on",
        "password": "",
    }
    response = client.post(url, data)
    assert response.status_code == 302
    stored = User.objects.get(pk=book.tam2.pk)
    assert stored.region_id == book.west.pk and stored.check_password("correct-horse-battery")
    event = AuditEvent.objects.for_object("people.user", book.tam2.pk).get()
    assert event.before == {"region": book.east.pk} and event.after == {"region": book.west.pk}


def test_admin_sets_a_password_and_deactivates(book, client_for):
    url = reverse("people:edit", args=[book.sal.pk])
    data = {"email": "sal@example.com", "full_name": "Sam Sal", "role": "sal", "password": "fresh-long-passphrase"}
    assert client_for(book.admin).post(url, data).status_code == 302
    stored = User.objects.get(pk=book.sal.pk)
    assert not stored.is_active and stored.check_password("fresh-long-passphrase")
    assert AuditEvent.objects.for_object("people.user", book.sal.pk).count() == 2


def test_admin_cannot_demote_themselves_via_the_form(book, client_for):
    url = reverse("people:edit", args=[book.admin.pk])
    data = {
        "email": "admin@example.com",
        "full_name": "Ada Admin",
        "role": "tam",
        "is_active": "on",
        "password": "would-be-new-passphrase",
    }
    response = client_for(book.admin).post(url, data)
    assert response.status_code == 400
    assert "role" in response.context["form"].errors
    stored = User.objects.get(pk=book.admin.pk)
    assert stored.role == Role.ADMIN and not stored.check_password("would-be-new-passphrase")
    assert not AuditEvent.objects.for_object("people.user", book.admin.pk).exists()


@pytest.mark.parametrize("who", NON_ADMINS)
def test_non_admins_cannot_edit_people(book, client_for, who):
    client = client_for(getattr(book, who))
    url = reverse("people:edit", args=[book.tam.pk])
    assert client.get(url).status_code == 403
    data = {"email": "tam@example.com", "full_name": "Hacked", "role": "admin", "is_active": "on"}
    assert client.post(url, data).status_code == 403
    stored = User.objects.get(pk=book.tam.pk)
    assert stored.full_name == "Tara Tam" and stored.role == Role.TAM
    assert not AuditEvent.objects.exists()


def test_edit_unknown_person_is_404(book, client_for):
    assert client_for(book.admin).get(reverse("people:edit", args=[424242])).status_code == 404
    assert client_for(book.tam).post(reverse("people:edit", args=[424242]), {}).status_code == 404


# --- regions ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", *NON_ADMINS])
def test_region_list_and_detail_open_to_everyone(book, client_for, who):
    client = client_for(getattr(book, who))
    body = client.get(reverse("people:regions")).content.decode()
    assert "AMER East" in body and "Mia Manager" in body
    response = client.get(reverse("people:region_detail", args=[book.east.pk]))
    assert response.status_code == 200
    assert [t.full_name for t in response.context["tams"]] == ["Tara Tam", "Theo Tam"]


def test_region_list_totals(book, client_for):
    response = client_for(book.tam).get(reverse("people:regions"))
    assert response.context["totals"] == {"tams": 3, "accounts": 2, "arr": Decimal("240000.00")}


def test_region_list_empty(db, client_for):
    admin = UserFactory(email="solo@example.com", full_name="Solo Admin", role=Role.ADMIN)
    body = client_for(admin).get(reverse("people:regions")).content.decode()
    assert "No regions yet" in body and reverse("people:region_create") in body


def test_region_detail_unknown_is_404(book, client_for):
    assert client_for(book.tam).get(reverse("people:region_detail", args=[999])).status_code == 404


def test_region_list_queries_do_not_grow(book, client_for, django_assert_num_queries):
    client = client_for(book.tam)
    url = reverse("people:regions")
    small = count_queries(client, url)
    grow(book)
    for i in range(10):
        RegionFactory(name=f"Extra {i}")
    with django_assert_num_queries(small):
        response = client.get(url)
    assert len(response.context["regions"]) == 13


def test_region_detail_queries_do_not_grow(book, client_for, django_assert_num_queries):
    client = client_for(book.tam)
    url = reverse("people:region_detail", args=[book.east.pk])
    small = count_queries(client, url)
    grow(book)
    for i in range(10):
        UserFactory(email=f"east-tam{i}@example.com", role=Role.TAM, region=book.east)
    with django_assert_num_queries(small):
        client.get(url)


def test_admin_creates_a_region_with_a_manager(book, client_for):
    lead = UserFactory(email="lead@example.com", full_name="Lee Lead", role=Role.MANAGER)
    client = client_for(book.admin)
    assert client.get(reverse("people:region_create")).status_code == 200
    response = client.post(reverse("people:region_create"), {"name": "APAC", "manager": lead.pk})
    region = Region.objects.get(name="APAC")
    assert response.status_code == 302 and response["Location"] == reverse("people:region_detail", args=[region.pk])
    assert region.manager_id == lead.pk
    assert AuditEvent.objects.for_object("people.region", region.pk).count() == 2


def test_region_create_duplicate_name_is_400(book, client_for):
    response = client_for(book.admin).post(reverse("people:region_create"), {"name": "EMEA"})
    assert response.status_code == 400 and "name" in response.context["form"].errors


def test_region_create_manager_who_leads_elsewhere_is_400_and_writes_nothing(book, client_for):
    response = client_for(book.admin).post(
        reverse("people:region_create"), {"name": "APAC", "manager": book.manager.pk}
    )
    assert response.status_code == 400
    assert "already leads AMER East" in str(response.context["form"].errors["manager"])
    assert not Region.objects.filter(name="APAC").exists()
    assert not AuditEvent.objects.exists()


def test_region_form_manager_choices_are_tam_managers(book, client_for):
    response = client_for(book.admin).get(reverse("people:region_edit", args=[book.east.pk]))
    field = response.context["form"].fields["manager"]
    labels = [label for _, label in field.choices]
    assert labels == ["— No manager —", "Mia Manager", "Otto Manager (leads EMEA)"]
    response = client_for(book.admin).post(
        reverse("people:region_edit", args=[book.east.pk]), {"name": "AMER East", "manager": book.tam.pk}
    )
    assert response.status_code == 400  # not a TAM Manager: not a valid choice


def test_admin_edits_a_region(book, client_for):
    url = reverse("people:region_edit", args=[book.west.pk])
    response = client_for(book.admin).post(url, {"name": "EMEA North", "manager": ""})
    assert response.status_code == 302
    stored = Region.objects.get(pk=book.west.pk)
    assert stored.name == "EMEA North" and stored.manager_id is None
    assert AuditEvent.objects.for_object("people.region", book.west.pk).count() == 2


def test_region_edit_failure_rolls_back_the_rename(book, client_for):
    url = reverse("people:region_edit", args=[book.west.pk])
    response = client_for(book.admin).post(url, {"name": "EMEA North", "manager": book.manager.pk})
    assert response.status_code == 400
    stored = Region.objects.get(pk=book.west.pk)
    assert stored.name == "EMEA" and stored.manager_id == book.other_manager.pk
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("who", NON_ADMINS)
def test_non_admins_cannot_create_or_edit_regions(book, client_for, who):
    client = client_for(getattr(book, who))
    assert client.get(reverse("people:region_create")).status_code == 403
    assert client.post(reverse("people:region_create"), {"name": "Mine"}).status_code == 403
    url = reverse("people:region_edit", args=[book.east.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"name": "Mine", "manager": ""}).status_code == 403
    assert not Region.objects.filter(name="Mine").exists()
    assert Region.objects.get(pk=book.east.pk).manager_id == book.manager.pk
    assert not AuditEvent.objects.exists()


def test_edit_unknown_region_is_404(book, client_for):
    assert client_for(book.admin).get(reverse("people:region_edit", args=[31337])).status_code == 404


# --- API tokens ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", *NON_ADMINS])
def test_everyone_manages_their_own_tokens(book, client_for, who):
    user = getattr(book, who)
    client = client_for(user)
    assert client.get(reverse("people:tokens")).status_code == 200
    response = client.post(reverse("people:tokens"), {"name": "Laptop script"})
    assert response.status_code == 200
    token = ApiToken.objects.get(user=user, name="Laptop script")
    secret = response.context["secret"]
    assert secret.startswith(token.prefix) and secret in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert services.token_authenticate(secret) == user
    # The secret is shown once: the next visit lists the token by its prefix only.
    body = client.get(reverse("people:tokens")).content.decode()
    assert secret not in body and token.prefix in body
    response = client.post(reverse("people:token_revoke", args=[token.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("people:tokens")
    assert services.token_authenticate(secret) is None


def test_token_name_too_long_is_400(book, client_for):
    response = client_for(book.tam).post(reverse("people:tokens"), {"name": "x" * 101})
    assert response.status_code == 400 and not ApiToken.objects.exists()


def test_tokens_page_lists_only_your_tokens(book, client_for):
    services.token_create(actor=book.tam2, user=book.tam2, name="Theo's token")
    body = client_for(book.tam).get(reverse("people:tokens")).content.decode()
    assert "Theo&#x27;s token" not in body and "No API tokens yet" in body


def test_revoking_someone_elses_token_is_404_and_writes_nothing(book, client_for):
    token, _ = services.token_create(actor=book.tam2, user=book.tam2, name="Theo's token")
    events = AuditEvent.objects.count()
    for who in ("tam", "manager", "director"):
        assert client_for(getattr(book, who)).post(reverse("people:token_revoke", args=[token.pk])).status_code == 404
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None
    assert AuditEvent.objects.count() == events
    assert client_for(book.tam).post(reverse("people:token_revoke", args=[777])).status_code == 404


def test_admin_may_revoke_anyones_token(book, client_for):
    token, _ = services.token_create(actor=book.tam2, user=book.tam2, name="Theo's token")
    assert client_for(book.admin).post(reverse("people:token_revoke", args=[token.pk])).status_code == 302
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None


def test_revoke_is_post_only_and_idempotent(book, client_for):
    token, _ = services.token_create(actor=book.tam, user=book.tam, name="t")
    client = client_for(book.tam)
    assert client.get(reverse("people:token_revoke", args=[token.pk])).status_code == 405
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None
    client.post(reverse("people:token_revoke", args=[token.pk]))
    response = client.post(reverse("people:token_revoke", args=[token.pk]), follow=True)
    assert "already revoked" in response.content.decode()


def test_tokens_page_queries_do_not_grow(book, client_for, django_assert_num_queries):
    client = client_for(book.tam)
    url = reverse("people:tokens")
    services.token_create(actor=book.tam, user=book.tam, name="first")
    small = count_queries(client, url)
    for i in range(20):
        services.token_create(actor=book.tam, user=book.tam, name=f"t{i}")
    with django_assert_num_queries(small):
        client.get(url)


@pytest.mark.parametrize(
    "url",
    [
        reverse("people:list"),
        reverse("people:create"),
        reverse("people:detail", args=[1]),
        reverse("people:edit", args=[1]),
        reverse("people:regions"),
        reverse("people:region_create"),
        reverse("people:region_detail", args=[1]),
        reverse("people:region_edit", args=[1]),
        reverse("people:tokens"),
    ],
)
def test_every_page_requires_sign_in(client, url):
    assert anonymous_redirects(client, url)


@pytest.mark.parametrize(
    ("url", "current"), [("people:list", "People"), ("people:regions", "Regions"), ("people:tokens", "API tokens")]
)
def test_navigation_marks_one_current_section(book, client_for, url, current):
    response = client_for(book.tam).get(reverse(url))
    active = [i["label"] for g in response.context["nav"] for i in g["items"] if i["active"]]
    assert active == [current]
