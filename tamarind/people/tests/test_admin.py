"""People, regions and tokens in Django's admin: admins only; saves go through the audited services."""

import pytest
from django.urls import reverse

from tamarind.audit.models import AuditEvent
from tamarind.people import services
from tamarind.people.models import ApiToken, Region, User

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["people_user", "people_region", "people_apitoken"])
def test_admins_see_the_changelists(book, client_for, name):
    assert client_for(book.admin).get(reverse(f"admin:{name}_changelist")).status_code == 200


@pytest.mark.parametrize("who", ["director", "manager", "tam"])
def test_others_are_kept_out(book, client_for, who):
    response = client_for(getattr(book, who)).get(reverse("admin:people_user_changelist"))
    assert response.status_code == 302 and "/django-admin/login/" in response["Location"]


def test_admin_adds_a_person_through_the_service(book, client_for):
    response = client_for(book.admin).post(
        reverse("admin:people_user_add"),
        {
            "email": "Admin.Made@example.com",
            "full_name": "Admin Made",
            "role": "sa",
            "region": book.east.pk,
            "capacity_arr": "",
            "is_active": "on",
            "new_password": "made-in-the-admin-42",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    person = User.objects.get(email="admin.made@example.com")
    assert person.check_password("made-in-the-admin-42")
    sources = set(AuditEvent.objects.for_object("people.user", person.pk).values_list("source", flat=True))
    assert sources == {"admin"}


def test_admin_changes_a_person_through_the_service(book, client_for):
    url = reverse("admin:people_user_change", args=[book.tam2.pk])
    data = {"email": "tam2@example.com", "full_name": "Theodore Tam", "role": "tam", "region": book.east.pk}
    response = client_for(book.admin).post(url, {**data, "capacity_arr": "", "is_active": "on", "new_password": ""})
    assert response.status_code == 302
    event = AuditEvent.objects.for_object("people.user", book.tam2.pk).get()
    assert event.before == {"full_name": "Theo Tam"} and event.after == {"full_name": "Theodore Tam"}


def test_admin_cannot_change_own_role_in_the_admin(book, client_for):
    url = reverse("admin:people_user_change", args=[book.admin.pk])
    data = {"email": "admin@example.com", "full_name": "Ada Admin", "role": "tam", "is_active": ""}
    client_for(book.admin).post(url, {**data, "capacity_arr": "", "new_password": ""})
    stored = User.objects.get(pk=book.admin.pk)
    assert stored.role == "admin" and stored.is_active


def test_nothing_is_deleted_in_the_admin(book, client_for):
    client = client_for(book.admin)
    assert client.post(reverse("admin:people_user_delete", args=[book.sa.pk]), {"post": "yes"}).status_code == 403
    assert client.post(reverse("admin:people_region_delete", args=[book.east.pk]), {"post": "yes"}).status_code == 403
    assert User.objects.filter(pk=book.sa.pk).exists() and Region.objects.filter(pk=book.east.pk).exists()


def test_region_admin_goes_through_the_service(book, client_for):
    client = client_for(book.admin)
    response = client.post(reverse("admin:people_region_change", args=[book.west.pk]), {"name": "EMEA", "manager": ""})
    assert response.status_code == 302
    assert Region.objects.get(pk=book.west.pk).manager_id is None
    event = AuditEvent.objects.for_object("people.region", book.west.pk).get()
    assert event.source == "admin" and event.after == {"manager": None}
    response = client.post(reverse("admin:people_region_add"), {"name": "APAC", "manager": book.other_manager.pk})
    assert response.status_code == 302
    assert Region.objects.get(name="APAC").manager_id == book.other_manager.pk


def test_token_admin_is_read_only_with_a_revoke_action(book, client_for):
    token, raw = services.token_create(actor=book.tam, user=book.tam, name="CI")
    client = client_for(book.admin)
    assert client.get(reverse("admin:people_apitoken_add")).status_code == 403
    response = client.post(
        reverse("admin:people_apitoken_changelist"), {"action": "revoke", "_selected_action": [token.pk]}
    )
    assert response.status_code == 302
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    assert services.token_authenticate(raw) is None
