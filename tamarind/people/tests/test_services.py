"""People services: admin-only writes, audited with before/after; a refused write leaves nothing behind."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from tamarind.audit.models import AuditEvent
from tamarind.core.context import request_id_scope
from tamarind.core.errors import ValidationFailed
from tamarind.people import services
from tamarind.people.models import ApiToken, Region, Role, User
from tamarind.testing.factories import UserFactory

pytestmark = pytest.mark.django_db


def events_for(obj):
    return list(AuditEvent.objects.for_object(obj._meta.label_lower, obj.pk))


# --- user_create -----------------------------------------------------------------------------------------


def test_user_create_records_audit_and_normalises_email(book):
    with request_id_scope("req-people-1"):
        person = services.user_create(
            actor=book.admin,
            email="  New.Person@Example.COM ",
            full_name=" Nora New ",
            role=Role.TAM,
            region=book.east,
            capacity_arr=Decimal("2000000"),
            password="a-long-enough-passphrase",
        )
    assert person.email == "new.person@example.com" and person.full_name == "Nora New"
    assert person.check_password("a-long-enough-passphrase")
    (event,) = events_for(person)
    assert event.action == "create" and event.actor_id == book.admin.pk and event.request_id == "req-people-1"
    assert event.before is None
    assert event.after == {
        "email": "new.person@example.com",
        "full_name": "Nora New",
        "role": "tam",
        "region": book.east.pk,
        "capacity_arr": "2000000",
        "is_active": True,
    }


def test_user_create_without_password_cannot_sign_in(book):
    person = services.user_create(actor=book.admin, email="np@example.com", full_name="No Pass", role=Role.SA)
    assert not person.has_usable_password()


@pytest.mark.parametrize("who", ["director", "manager", "tam", "sal", "sa"])
def test_user_create_refused_for_non_admins_writes_nothing(book, who):
    users, events = User.objects.count(), AuditEvent.objects.count()
    with pytest.raises(PermissionDenied):
        services.user_create(actor=getattr(book, who), email="x@example.com", full_name="X", role=Role.TAM)
    assert User.objects.count() == users and AuditEvent.objects.count() == events


def test_user_create_duplicate_email_is_a_validation_error(book):
    with pytest.raises(ValidationFailed) as exc:
        services.user_create(actor=book.admin, email="TAM@example.com", full_name="Dup", role=Role.TAM)
    assert "email" in exc.value.errors


def test_user_create_unknown_role_is_a_validation_error(book):
    with pytest.raises(ValidationFailed) as exc:
        services.user_create(actor=book.admin, email="r@example.com", full_name="R", role="wizard")
    assert "role" in exc.value.errors
    assert not User.objects.filter(email="r@example.com").exists()


# --- user_update -----------------------------------------------------------------------------------------


def test_user_update_records_only_changed_fields(book):
    changed = services.user_update(
        actor=book.admin,
        user=book.tam2,
        changes={"full_name": "Theo Tam", "region": book.west, "capacity_arr": Decimal("1500000.00")},
    )
    assert changed == ["region", "capacity_arr"]
    stored = User.objects.get(pk=book.tam2.pk)
    assert stored.region_id == book.west.pk and stored.capacity_arr == Decimal("1500000.00")
    (event,) = events_for(book.tam2)
    assert event.action == "update"
    assert event.before == {"region": book.east.pk, "capacity_arr": None}
    assert event.after == {"region": book.west.pk, "capacity_arr": "1500000.00"}


def test_user_update_unchanged_records_nothing(book):
    assert services.user_update(actor=book.admin, user=book.tam, changes={"full_name": "Tara Tam"}) == []
    assert events_for(book.tam) == []


def test_user_update_refused_for_non_admin_writes_nothing(book):
    with pytest.raises(PermissionDenied):
        services.user_update(actor=book.manager, user=book.tam, changes={"full_name": "Renamed"})
    assert User.objects.get(pk=book.tam.pk).full_name == "Tara Tam"
    assert events_for(book.tam) == []


def test_admin_cannot_demote_or_deactivate_themselves(book):
    with pytest.raises(ValidationFailed):
        services.user_update(actor=book.admin, user=book.admin, changes={"role": Role.TAM})
    with pytest.raises(ValidationFailed):
        services.user_update(actor=book.admin, user=book.admin, changes={"is_active": False})
    stored = User.objects.get(pk=book.admin.pk)
    assert stored.role == Role.ADMIN and stored.is_active
    assert events_for(book.admin) == []


def test_user_update_rejects_unknown_fields(book):
    with pytest.raises(ValidationFailed):
        services.user_update(actor=book.admin, user=book.tam, changes={"password": "x"})


# --- user_set_password -----------------------------------------------------------------------------------


def test_set_password_audits_without_the_hash(book):
    services.user_set_password(actor=book.admin, user=book.tam, password="another-long-passphrase")
    assert User.objects.get(pk=book.tam.pk).check_password("another-long-passphrase")
    (event,) = events_for(book.tam)
    assert event.before == {"password": "(set)"} and event.after == {"password": "(changed)"}
    assert "another" not in str(event.after)


def test_people_may_set_their_own_password_but_not_others(book):
    services.user_set_password(actor=book.tam, user=book.tam, password="my-own-passphrase-1")
    with pytest.raises(PermissionDenied):
        services.user_set_password(actor=book.tam, user=book.tam2, password="not-yours-passphrase")
    assert not User.objects.get(pk=book.tam2.pk).check_password("not-yours-passphrase")


# --- regions ---------------------------------------------------------------------------------------------


def test_region_create_with_manager_audits_both(book):
    lead = UserFactory(email="lead@example.com", full_name="Lee Lead", role=Role.MANAGER)
    region = services.region_create(actor=book.admin, name=" APAC ", manager=lead)
    assert region.name == "APAC" and region.manager_id == lead.pk
    created, manager_set = sorted(events_for(region), key=lambda e: e.pk)
    assert created.action == "create" and created.after == {"name": "APAC", "manager": None}
    assert manager_set.before == {"manager": None} and manager_set.after == {"manager": lead.pk}


def test_region_create_refused_for_non_admin(book):
    regions, events = Region.objects.count(), AuditEvent.objects.count()
    with pytest.raises(PermissionDenied):
        services.region_create(actor=book.director, name="LATAM")
    assert Region.objects.count() == regions and AuditEvent.objects.count() == events


def test_region_create_duplicate_name(book):
    with pytest.raises(ValidationFailed) as exc:
        services.region_create(actor=book.admin, name="EMEA")
    assert "name" in exc.value.errors


def test_region_update_renames_and_audits(book):
    assert services.region_update(actor=book.admin, region=book.east, name="AMER Northeast") == ["name"]
    (event,) = events_for(book.east)
    assert event.before == {"name": "AMER East"} and event.after == {"name": "AMER Northeast"}
    assert services.region_update(actor=book.admin, region=book.east, name="AMER Northeast") == []


def test_region_update_refused_for_manager(book):
    with pytest.raises(PermissionDenied):
        services.region_update(actor=book.manager, region=book.east, name="Mine")
    assert Region.objects.get(pk=book.east.pk).name == "AMER East"


def test_region_manager_is_unique(book):
    """A manager leads one region: moving them requires freeing their current region first."""
    with pytest.raises(ValidationFailed) as exc:
        services.region_set_manager(actor=book.admin, region=book.west, manager=book.manager)
    assert "already leads AMER East" in exc.value.errors["manager"][0]
    assert Region.objects.get(pk=book.west.pk).manager_id == book.other_manager.pk
    services.region_set_manager(actor=book.admin, region=book.east, manager=None)
    assert services.region_set_manager(actor=book.admin, region=book.west, manager=book.manager)
    assert Region.objects.get(pk=book.west.pk).manager_id == book.manager.pk


def test_region_manager_must_be_a_tam_manager(book):
    with pytest.raises(ValidationFailed):
        services.region_set_manager(actor=book.admin, region=book.east, manager=book.tam)
    assert Region.objects.get(pk=book.east.pk).manager_id == book.manager.pk


def test_region_set_manager_audits_and_is_idempotent(book):
    assert services.region_set_manager(actor=book.admin, region=book.east, manager=None)
    (event,) = events_for(book.east)
    assert event.before == {"manager": book.manager.pk} and event.after == {"manager": None}
    assert not services.region_set_manager(actor=book.admin, region=book.east, manager=None)
    assert len(events_for(book.east)) == 1


def test_region_set_manager_refused_for_non_admin(book):
    with pytest.raises(PermissionDenied):
        services.region_set_manager(actor=book.manager, region=book.east, manager=None)
    assert Region.objects.get(pk=book.east.pk).manager_id == book.manager.pk


# --- API tokens ------------------------------------------------------------------------------------------


def test_token_create_authenticate_revoke(book):
    token, raw = services.token_create(actor=book.tam, user=book.tam, name="CI")
    assert raw.startswith("tmd_") and token.prefix == raw[:10]
    stored = ApiToken.objects.get(pk=token.pk)
    assert raw not in (stored.key_hash, stored.prefix) and len(stored.key_hash) == 64
    (event,) = events_for(token)
    assert event.action == "create" and event.after == {"user": book.tam.pk, "name": "CI", "prefix": token.prefix}

    assert services.token_authenticate(raw) == book.tam
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None
    assert services.token_authenticate(raw + "x") is None
    assert services.token_authenticate("not-a-token") is None

    services.token_revoke(actor=book.tam, token=token)
    assert services.token_authenticate(raw) is None
    revoke = events_for(token)[0]
    assert revoke.before == {"revoked_at": None} and revoke.after["revoked_at"]
    services.token_revoke(actor=book.tam, token=token)  # already revoked: nothing more recorded
    assert len(events_for(token)) == 2


def test_token_of_an_inactive_user_does_not_authenticate(book):
    _, raw = services.token_create(actor=book.sal, user=book.sal, name="x")
    services.user_update(actor=book.admin, user=book.sal, changes={"is_active": False})
    assert services.token_authenticate(raw) is None


def test_token_blank_name_gets_a_default(book):
    token, _ = services.token_create(actor=book.tam, user=book.tam, name="   ")
    assert token.name == "API token"


def test_tokens_for_others_need_an_admin(book):
    tokens, events = ApiToken.objects.count(), AuditEvent.objects.count()
    with pytest.raises(PermissionDenied):
        services.token_create(actor=book.manager, user=book.tam, name="sneaky")
    assert ApiToken.objects.count() == tokens and AuditEvent.objects.count() == events
    token, _ = services.token_create(actor=book.admin, user=book.tam, name="for Tara")
    assert token.user_id == book.tam.pk
    with pytest.raises(PermissionDenied):
        services.token_revoke(actor=book.tam2, token=token)
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None
    services.token_revoke(actor=book.admin, token=token)
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
