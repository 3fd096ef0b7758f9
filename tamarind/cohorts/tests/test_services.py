"""Cohort services: validation (a link that is not a URL is refused), members, contacts, activity, the policy
and the audit trail."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from tamarind.audit.models import AuditEvent
from tamarind.cohorts import services
from tamarind.cohorts.models import Cohort, CohortActivity, CohortMember
from tamarind.cohorts.tests.helpers import add, make_cohort
from tamarind.core.errors import ValidationFailed
from tamarind.testing.factories import ContactFactory

D = dt.date


def test_create_audited_with_owners(book: Any) -> None:
    cohort = make_cohort(book.manager, owners=[book.tam], space_url="https://community.example.com/c1")
    assert cohort.region_id == book.east.pk  # a manager's cohort is in their region
    assert list(cohort.owners.all()) == [book.tam]
    event = AuditEvent.objects.get(object_type="cohorts.cohort", object_id=str(cohort.pk))
    assert event.action == "create" and event.after["owners"] == [book.tam.pk]


@pytest.mark.parametrize("bad", ["not a url", "community.example.com", "javascript:alert(1)", "ftp://x.example.com"])
def test_bad_link_refused(book: Any, bad: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        make_cohort(book.admin, namespace_url=bad)
    assert "namespace_url" in exc.value.errors
    assert "is not a link" in exc.value.errors["namespace_url"][0]
    assert not Cohort.objects.exists()


def test_other_validation(book: Any) -> None:
    with pytest.raises(ValidationFailed) as exc:
        make_cohort(book.admin, name=" ", starts_on=D(2026, 2, 1), ends_on=D(2026, 1, 1), owners=[book.sal])
    assert set(exc.value.errors) >= {"name", "ends_on", "owner_ids"}
    make_cohort(book.admin, name="Pilot")
    with pytest.raises(ValidationFailed):
        make_cohort(book.admin, name="pilot")  # names are unique, whatever the case


def test_who_creates(book: Any) -> None:
    for user in (book.tam, book.director, book.sal):
        with pytest.raises(PermissionDenied):
            make_cohort(user)
    with pytest.raises(PermissionDenied):
        make_cohort(book.manager, region=book.west)


def test_update_records_only_changes(book: Any) -> None:
    cohort = make_cohort(book.admin, owners=[book.tam])
    count = AuditEvent.objects.count()
    services.cohort_update(actor=book.tam, cohort=cohort, changes={"name": "Pilot"})
    assert AuditEvent.objects.count() == count  # nothing changed
    services.cohort_update(
        actor=book.tam, cohort=cohort, changes={"scope": "SMB", "owner_ids": [book.tam.pk, book.tam2.pk]}
    )
    cohort.refresh_from_db()
    assert cohort.scope == "SMB" and {o.pk for o in cohort.owners.all()} == {book.tam.pk, book.tam2.pk}
    event = AuditEvent.objects.filter(object_type="cohorts.cohort").latest("pk")
    assert event.before["scope"] == "" and event.after["scope"] == "SMB"
    with pytest.raises(ValidationFailed):
        services.cohort_update(actor=book.tam, cohort=cohort, changes={"space_url": "nope"})
    with pytest.raises(PermissionDenied):
        services.cohort_update(actor=book.tam, cohort=cohort, changes={"region": book.west})
    with pytest.raises(PermissionDenied):
        services.cohort_update(actor=book.other_tam, cohort=cohort, changes={"scope": "x"})


def test_members_join_leave_rejoin(book: Any) -> None:
    cohort = make_cohort(book.admin, owners=[book.tam])
    member = add(book.tam, cohort, book.account, D(2026, 1, 5))
    with pytest.raises(ValidationFailed):
        add(book.tam, cohort, book.account)
    with pytest.raises(ValidationFailed):
        services.member_remove(actor=book.tam, member=member, left_on=D(2026, 1, 1))
    services.member_remove(actor=book.tam, member=member, left_on=D(2026, 2, 1))
    again = add(book.tam, cohort, book.account, D(2026, 3, 1))
    assert again.pk == member.pk and again.left_on is None and again.joined_on == D(2026, 1, 5)
    assert CohortMember.objects.count() == 1
    assert AuditEvent.objects.filter(object_type="cohorts.cohortmember").count() == 3


def test_member_must_be_readable(book: Any) -> None:
    cohort = make_cohort(book.admin, owners=[book.tam])
    with pytest.raises(ValidationFailed):
        add(book.tam, cohort, book.other_account)  # west: the TAM cannot read it


def test_contacts_and_activity(book: Any) -> None:
    cohort = make_cohort(book.admin, owners=[book.tam])
    member = add(book.tam, cohort, book.account)
    contact = ContactFactory(account=book.account)
    stranger = ContactFactory(account=book.other_account)
    link = services.contact_add(actor=book.tam, member=member, contact=contact)
    with pytest.raises(ValidationFailed):
        services.contact_add(actor=book.tam, member=member, contact=contact)
    with pytest.raises(ValidationFailed):
        services.contact_add(actor=book.tam, member=member, contact=stranger)
    a = services.activity_record(
        actor=book.tam, member=member, kind="post", day=D(2026, 2, 1), count=3, contact=contact
    )
    assert a.source == "manual" and a.recorded_by == book.tam
    for bad in ({"kind": "tweet"}, {"count": 0}, {"day": None}, {"contact": stranger}):
        kw: dict[str, Any] = {"kind": "post", "day": D(2026, 2, 1), "count": 1, **bad}
        with pytest.raises(ValidationFailed):
            services.activity_record(actor=book.tam, member=member, **kw)
    with pytest.raises(PermissionDenied):
        services.activity_record(actor=book.tam2, member=member, kind="post", day=D(2026, 2, 1))
    assert CohortActivity.objects.count() == 1
    assert AuditEvent.objects.filter(object_type="cohorts.cohortactivity", action="create").count() == 1
    services.contact_remove(actor=book.tam, link=link)
    assert not member.contacts.exists()


def test_delete(book: Any) -> None:
    cohort = make_cohort(book.manager, owners=[book.tam])
    with pytest.raises(PermissionDenied):
        services.cohort_delete(actor=book.tam, cohort=cohort)
    services.cohort_delete(actor=book.manager, cohort=cohort)
    assert not Cohort.objects.exists()
    assert AuditEvent.objects.filter(object_type="cohorts.cohort", action="delete").exists()
