"""Writes of customer cohorts: a cohort (create, update, delete), its members and member contacts, and activity
recorded by hand or through the API (the CSV import is ``csv_import``). Keyword-only, atomic, policy-checked and
audited with before and after."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from tamarind import policy
from tamarind.accounts.models import Account
from tamarind.audit.models import AuditAction
from tamarind.audit.services import audit_record, snapshot
from tamarind.cohorts.models import (
    ActivityKind,
    ActivitySource,
    Cohort,
    CohortActivity,
    CohortContact,
    CohortMember,
    CohortStatus,
)
from tamarind.contacts.models import Contact
from tamarind.core.errors import ValidationFailed
from tamarind.people.models import Region, Role, User

COHORT_FIELDS = (
    "name",
    "space_url",
    "namespace_url",
    "target_size",
    "engagement_rules",
    "scope",
    "starts_on",
    "ends_on",
    "status",
    "region",
)
EDITABLE = frozenset(COHORT_FIELDS) | {"owner_ids"}
MEMBER_FIELDS = ("cohort", "account", "joined_on", "left_on")
ACTIVITY_FIELDS = ("member", "contact", "kind", "day", "count", "notes", "source")
TEXT_MAX = 20_000
NOTES_MAX = 2000
COUNT_MAX = 100_000
_url = URLValidator(schemes=["http", "https"])


def _cohort_snapshot(cohort: Cohort) -> dict[str, Any]:
    out = snapshot(cohort, COHORT_FIELDS)
    out["owners"] = sorted(cohort.owners.values_list("pk", flat=True)) if cohort.pk else []
    return out


def _check_url(errors: dict[str, list[str]], field: str, value: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    if len(value) > 500:
        errors.setdefault(field, []).append("The link is longer than 500 characters.")
        return value
    try:
        _url(value)
    except ValidationError:
        errors.setdefault(field, []).append(f'"{value[:80]}" is not a link: give a full URL such as https://…')
    return value


def _owners(ids: Iterable[int], errors: dict[str, list[str]]) -> list[User]:
    wanted = sorted(set(ids))
    found = list(User.objects.filter(pk__in=wanted, role=Role.TAM, is_active=True))
    if len(found) != len(wanted):
        errors.setdefault("owner_ids", []).append("Owners must be active TAMs.")
    return found


def _validate(data: dict[str, Any], errors: dict[str, list[str]]) -> None:
    name = str(data.get("name", "")).strip()
    if not name:
        errors.setdefault("name", []).append("A cohort needs a name.")
    elif len(name) > 200:
        errors.setdefault("name", []).append("At most 200 characters.")
    data["name"] = name
    for field in ("space_url", "namespace_url"):
        data[field] = _check_url(errors, field, str(data.get(field) or ""))
    for field in ("engagement_rules", "scope"):
        data[field] = str(data.get(field) or "")
        if len(data[field]) > TEXT_MAX:
            errors.setdefault(field, []).append(f"At most {TEXT_MAX} characters.")
    size = data.get("target_size")
    if size is not None and (not isinstance(size, int) or size < 1 or size > 100_000):
        errors.setdefault("target_size", []).append("A whole number of accounts from 1 to 100,000.")
    starts, ends = data.get("starts_on"), data.get("ends_on")
    if not isinstance(starts, dt.date):
        errors.setdefault("starts_on", []).append("A cohort needs a start date.")
    elif isinstance(ends, dt.date) and ends < starts:
        errors.setdefault("ends_on", []).append("The end cannot be before the start.")
    if data.get("status", CohortStatus.PLANNED) not in CohortStatus.values:
        errors.setdefault("status", []).append("Planned, running or ended.")


def _region_for(actor: User, region: Region | None) -> Region | None:
    """Managers create cohorts in their own region; admins anywhere (or company-wide)."""
    if actor.role == Role.ADMIN:
        return region
    own = policy.managed_region(actor)
    if region is not None and own is not None and region.pk != own.pk:
        raise PermissionDenied("A manager creates cohorts in their own region.")
    return own


@transaction.atomic
def cohort_create(
    *,
    actor: User,
    name: str,
    starts_on: dt.date | None,
    ends_on: dt.date | None = None,
    space_url: str = "",
    namespace_url: str = "",
    target_size: int | None = None,
    engagement_rules: str = "",
    scope: str = "",
    status: str = CohortStatus.PLANNED,
    region: Region | None = None,
    owner_ids: Iterable[int] = (),
    source: str = "web",
) -> Cohort:
    """Create a cohort. Links must be URLs (http or https); the end not before the start; owners active TAMs."""
    if not policy.can_create_cohort(actor):
        raise PermissionDenied("Admins and TAM Managers create cohorts.")
    data: dict[str, Any] = {
        "name": name,
        "starts_on": starts_on,
        "ends_on": ends_on,
        "space_url": space_url,
        "namespace_url": namespace_url,
        "target_size": target_size,
        "engagement_rules": engagement_rules,
        "scope": scope,
        "status": status,
    }
    errors: dict[str, list[str]] = {}
    _validate(data, errors)
    owners = _owners(owner_ids, errors)
    if not errors and Cohort.objects.filter(name__iexact=data["name"]).exists():
        errors["name"] = ["A cohort with this name exists."]
    if errors:
        raise ValidationFailed(errors)
    now = timezone.now()
    cohort = Cohort.objects.create(**data, region=_region_for(actor, region), created_at=now, updated_at=now)
    cohort.owners.set(owners)
    audit_record(actor=actor, obj=cohort, action=AuditAction.CREATE, after=_cohort_snapshot(cohort), source=source)
    return cohort


@transaction.atomic
def cohort_update(*, actor: User, cohort: Cohort, changes: dict[str, Any], source: str = "web") -> Cohort:
    """Change some of a cohort's fields (``EDITABLE``; ``owner_ids`` replaces the owners). Writes nothing, and
    records nothing, when nothing changed. Only admins move a cohort between regions."""
    if not policy.can_manage_cohort(actor, cohort):
        raise PermissionDenied("You may read this cohort but not change it.")
    unknown = set(changes) - EDITABLE
    if unknown:
        raise ValidationFailed({k: ["Not a field of a cohort."] for k in sorted(unknown)})
    if "region" in changes and actor.role != Role.ADMIN:
        new = changes["region"]
        if (new.pk if new is not None else None) != cohort.region_id:
            raise PermissionDenied("Only admins move a cohort to another region.")
    before = _cohort_snapshot(cohort)
    data = {f: getattr(cohort, f) for f in COHORT_FIELDS if f != "region"}
    data.update({k: v for k, v in changes.items() if k not in ("owner_ids", "region")})
    errors: dict[str, list[str]] = {}
    _validate(data, errors)
    owners = _owners(changes["owner_ids"], errors) if "owner_ids" in changes else None
    if (
        not errors
        and data["name"] != cohort.name
        and Cohort.objects.filter(name__iexact=data["name"]).exclude(pk=cohort.pk).exists()
    ):
        errors["name"] = ["A cohort with this name exists."]
    if errors:
        raise ValidationFailed(errors)
    fields = [f for f in data if getattr(cohort, f) != data[f]]
    for f in fields:
        setattr(cohort, f, data[f])
    if "region" in changes and (changes["region"].pk if changes["region"] else None) != cohort.region_id:
        cohort.region = changes["region"]
        fields.append("region")
    if fields:
        cohort.updated_at = timezone.now()
        cohort.save(update_fields=[*fields, "updated_at"])
    if owners is not None and {o.pk for o in owners} != set(before["owners"]):
        cohort.owners.set(owners)
        fields.append("owners")
    if fields:
        audit_record(
            actor=actor,
            obj=cohort,
            action=AuditAction.UPDATE,
            before=before,
            after=_cohort_snapshot(cohort),
            source=source,
        )
    return cohort


@transaction.atomic
def cohort_delete(*, actor: User, cohort: Cohort, source: str = "web") -> None:
    """Delete a cohort with its members, contacts and activity (admins and the region's manager)."""
    if not policy.can_delete_cohort(actor, cohort):
        raise PermissionDenied("Admins and the region's manager delete cohorts.")
    before = _cohort_snapshot(cohort)
    audit_record(actor=actor, obj=cohort, action=AuditAction.DELETE, before=before, source=source)
    cohort.delete()


def _manage(actor: User, cohort: Cohort) -> None:
    if not policy.can_manage_cohort(actor, cohort):
        raise PermissionDenied("You may read this cohort but not change it.")


@transaction.atomic
def member_add(
    *, actor: User, cohort: Cohort, account: Account, joined_on: dt.date | None = None, source: str = "web"
) -> CohortMember:
    """Add an account the actor may read. An account that left comes back (``left_on`` cleared); one already in
    is refused."""
    _manage(actor, cohort)
    if not Account.objects.visible_to(actor).filter(pk=account.pk).exists():
        raise ValidationFailed({"account": ["No such account."]})
    joined_on = joined_on or timezone.localdate()
    existing = CohortMember.objects.select_for_update().filter(cohort=cohort, account=account).first()
    if existing is not None:
        if existing.left_on is None:
            raise ValidationFailed({"account": [f"{account.name} is already a member."]})
        before = snapshot(existing, MEMBER_FIELDS)
        existing.left_on = None
        existing.joined_on = min(existing.joined_on, joined_on)
        existing.save(update_fields=["left_on", "joined_on"])
        after = snapshot(existing, MEMBER_FIELDS)
        audit_record(actor=actor, obj=existing, action=AuditAction.UPDATE, before=before, after=after, source=source)
        return existing
    member = CohortMember.objects.create(cohort=cohort, account=account, joined_on=joined_on)
    audit_record(
        actor=actor, obj=member, action=AuditAction.CREATE, after=snapshot(member, MEMBER_FIELDS), source=source
    )
    return member


@transaction.atomic
def member_remove(*, actor: User, member: CohortMember, left_on: dt.date | None = None, source: str = "web") -> None:
    """A member leaves: ``left_on`` is set (its activity and the report's history stay)."""
    _manage(actor, member.cohort)
    if member.left_on is not None:
        raise ValidationFailed({"member": ["This account already left the cohort."]})
    left_on = left_on or timezone.localdate()
    if left_on < member.joined_on:
        raise ValidationFailed({"left_on": ["An account cannot leave before it joined."]})
    before = snapshot(member, MEMBER_FIELDS)
    member.left_on = left_on
    member.save(update_fields=["left_on"])
    audit_record(
        actor=actor,
        obj=member,
        action=AuditAction.UPDATE,
        before=before,
        after=snapshot(member, MEMBER_FIELDS),
        source=source,
    )


@transaction.atomic
def contact_add(*, actor: User, member: CohortMember, contact: Contact, source: str = "web") -> CohortContact:
    """A contact of the member's account joins the cohort (once)."""
    _manage(actor, member.cohort)
    if contact.account_id != member.account_id:
        raise ValidationFailed({"contact": ["The contact must be at the member's account."]})
    if CohortContact.objects.filter(member=member, contact=contact).exists():
        raise ValidationFailed({"contact": [f"{contact.name} is already in the cohort."]})
    link = CohortContact.objects.create(member=member, contact=contact)
    audit_record(
        actor=actor,
        obj=link,
        action=AuditAction.CREATE,
        after=snapshot(link, ("member", "contact", "added_on")),
        source=source,
    )
    return link


@transaction.atomic
def contact_remove(*, actor: User, link: CohortContact, source: str = "web") -> None:
    _manage(actor, link.member.cohort)
    before = snapshot(link, ("member", "contact", "added_on"))
    audit_record(actor=actor, obj=link, action=AuditAction.DELETE, before=before, source=source)
    link.delete()


def validate_activity(kind: str, day: dt.date | None, count: int, notes: str) -> dict[str, list[str]]:
    """The problems of one activity (shared with the CSV import)."""
    errors: dict[str, list[str]] = {}
    if kind not in ActivityKind.values:
        errors["kind"] = ["post, answer or session."]
    if not isinstance(day, dt.date):
        errors["day"] = ["A date is required."]
    elif day > timezone.localdate() + dt.timedelta(days=1):
        errors["day"] = ["Activity cannot be in the future."]
    if not isinstance(count, int) or isinstance(count, bool) or count < 1 or count > COUNT_MAX:
        errors["count"] = [f"A whole number from 1 to {COUNT_MAX:,}."]
    if len(notes or "") > NOTES_MAX:
        errors["notes"] = [f"At most {NOTES_MAX} characters."]
    return errors


@transaction.atomic
def activity_record(
    *,
    actor: User,
    member: CohortMember,
    kind: str,
    day: dt.date | None,
    count: int = 1,
    notes: str = "",
    contact: Contact | None = None,
    source: str = ActivitySource.MANUAL,
) -> CohortActivity:
    """Record a member's activity by hand (``source="manual"``) or through the API (``"api"``)."""
    _manage(actor, member.cohort)
    errors = validate_activity(kind, day, count, notes)
    if contact is not None and contact.account_id != member.account_id:
        errors["contact"] = ["The contact must be at the member's account."]
    if source not in (ActivitySource.MANUAL, ActivitySource.API):
        errors["source"] = ["By hand or through the API (files go through the import)."]
    if errors or day is None:
        raise ValidationFailed(errors)
    activity = CohortActivity.objects.create(
        member=member, contact=contact, kind=kind, day=day, count=count, notes=notes, source=source, recorded_by=actor
    )
    audit_record(
        actor=actor,
        obj=activity,
        action=AuditAction.CREATE,
        after=snapshot(activity, ACTIVITY_FIELDS),
        source="api" if source == ActivitySource.API else "web",
    )
    return activity
