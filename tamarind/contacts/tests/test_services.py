"""Contact writes: validation, lower-cased unique emails, personas, audit before/after, idempotent opt-out."""

from __future__ import annotations

import pytest

from tamarind.audit.models import AuditEvent
from tamarind.conftest import Book
from tamarind.contacts import services
from tamarind.contacts.models import Contact
from tamarind.core.errors import ValidationFailed
from tamarind.testing.factories import ContactFactory

pytestmark = pytest.mark.django_db


def _events(contact: Contact) -> list[AuditEvent]:
    return list(AuditEvent.objects.for_object("contacts.contact", contact.pk).order_by("id"))


def test_create_lower_cases_the_email_sets_personas_and_audits(book: Book) -> None:
    contact = services.contact_create(
        actor=book.tam, account=book.account, name=" Ada Lovelace ", email=" Ada@Example.COM ",
        title="CTO", personas=["admin", "security-lead"],
    )  # fmt: skip
    contact.refresh_from_db()
    assert (contact.name, contact.email, contact.title) == ("Ada Lovelace", "ada@example.com", "CTO")
    assert sorted(p.key for p in contact.personas.all()) == ["admin", "security-lead"]
    [event] = _events(contact)
    assert event.action == "create" and event.actor == book.tam
    assert event.after["email"] == "ada@example.com" and event.after["personas"] == ["admin", "security-lead"]


@pytest.mark.parametrize("email", ["", "not-an-email", "a@", "x" * 250 + "@example.com"])
def test_create_refuses_a_bad_email(book: Book, email: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        services.contact_create(actor=book.tam, account=book.account, name="Ada", email=email)
    assert "email" in exc.value.errors
    assert not Contact.objects.exists() and not AuditEvent.objects.filter(object_type="contacts.contact").exists()


def test_a_duplicate_email_on_the_same_account_is_a_clear_error(book: Book) -> None:
    services.contact_create(actor=book.tam, account=book.account, name="Ada", email="ada@example.com")
    with pytest.raises(ValidationFailed) as exc:
        services.contact_create(actor=book.tam, account=book.account, name="Ada 2", email="ADA@example.com")
    assert exc.value.errors["email"] == ["ada@example.com is already a contact of Acme Corp."]
    # another account may know the same person
    services.contact_create(actor=book.admin, account=book.other_account, name="Ada", email="ada@example.com")
    assert Contact.objects.count() == 2


def test_unknown_persona_and_missing_name_are_refused(book: Book) -> None:
    with pytest.raises(ValidationFailed) as exc:
        services.contact_create(actor=book.tam, account=book.account, name="", email="a@b.co", personas=["wizard"])
    assert set(exc.value.errors) == {"name", "personas"}
    assert "wizard" in exc.value.errors["personas"][0]


def test_update_records_only_what_changed_and_nothing_when_nothing_did(book: Book) -> None:
    contact = ContactFactory(account=book.account, name="Ada", email="ada@example.com", personas=["billing"])
    changed = services.contact_update(
        actor=book.tam, contact=contact, changes={"name": "Ada", "title": "VP", "personas": ["admin"]}
    )
    assert changed == ["title", "personas"]
    [event] = _events(contact)
    assert event.before == {"title": "Platform lead", "personas": ["billing"]}
    assert event.after == {"title": "VP", "personas": ["admin"]}
    assert (
        services.contact_update(actor=book.tam, contact=contact, changes={"title": "VP", "personas": ["admin"]}) == []
    )
    assert len(_events(contact)) == 1


def test_update_refuses_an_email_another_contact_has(book: Book) -> None:
    ContactFactory(account=book.account, email="taken@example.com")
    contact = ContactFactory(account=book.account, email="free@example.com")
    with pytest.raises(ValidationFailed) as exc:
        services.contact_update(actor=book.tam, contact=contact, changes={"email": "Taken@Example.com"})
    assert "already a contact" in exc.value.errors["email"][0]
    services.contact_update(actor=book.tam, contact=contact, changes={"email": "FREE@example.com"})
    contact.refresh_from_db()
    assert contact.email == "free@example.com"


def test_update_refuses_unknown_fields(book: Book) -> None:
    contact = ContactFactory(account=book.account)
    with pytest.raises(ValidationFailed):
        services.contact_update(actor=book.tam, contact=contact, changes={"account": book.other_account.pk})


def test_opt_out_is_idempotent_and_opt_in_takes_it_back(book: Book) -> None:
    contact = ContactFactory(account=book.account)
    assert services.contact_opt_out(contact=contact) is True
    contact.refresh_from_db()
    assert contact.opted_out and contact.opted_out_at is not None
    first_at = contact.opted_out_at
    assert services.contact_opt_out(contact=contact, actor=book.tam, source="web") is False
    contact.refresh_from_db()
    assert contact.opted_out_at == first_at
    events = _events(contact)
    assert len(events) == 1 and events[0].source == "unsubscribe" and events[0].actor is None
    assert events[0].before == {"opted_out": False, "opted_out_at": None}
    assert services.contact_opt_in(actor=book.tam, contact=contact) is True
    assert services.contact_opt_in(actor=book.tam, contact=contact) is False
    contact.refresh_from_db()
    assert not contact.opted_out and contact.opted_out_at is None
    assert len(_events(contact)) == 2


def test_delete_keeps_what_it_was_in_the_audit(book: Book) -> None:
    contact = ContactFactory(account=book.account, email="gone@example.com", personas=["admin"])
    pk = contact.pk
    services.contact_delete(actor=book.tam, contact=contact)
    assert not Contact.objects.filter(pk=pk).exists()
    [event] = AuditEvent.objects.for_object("contacts.contact", pk)
    assert event.action == "delete" and event.before["email"] == "gone@example.com"
    assert event.before["personas"] == ["admin"]
