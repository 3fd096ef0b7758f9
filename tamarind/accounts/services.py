"""Writes to the account book. Each service is atomic, checks the access policy and records audit events."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone

from tamarind import policy
from tamarind.accounts.models import ACCOUNT_FIELDS, Account, TamAssignment
from tamarind.assignment import services as assignment_services
from tamarind.audit.models import AuditAction
from tamarind.audit.services import audit_record, snapshot
from tamarind.core.errors import ValidationFailed
from tamarind.people.models import Role, User

AUDITED_FIELDS = ACCOUNT_FIELDS


FK_FIELDS = frozenset({"parent", "region", "product_tier", "tam", "sal", "sa"})
# Fields the qualification rules read, or whose change has consequences for assignment (the TAM, the region's
# manager): a change to any of them re-evaluates the account.
ASSIGNMENT_FIELDS = frozenset(
    {
        "arr",
        "segment",
        "product_tier",
        "region",
        "priority",
        "licenses",
        "engagement_model",
        "lifecycle_stage",
        "parent",
        "tam",
    }
)


def _fk_name(field: str) -> str:
    return field + "_id" if field in FK_FIELDS else field


def _field_name(key: str) -> str:
    """``tam_id`` -> ``tam``; ``crm_id`` stays ``crm_id`` (a plain field that merely ends in _id)."""
    return key[:-3] if key.endswith("_id") and key[:-3] in FK_FIELDS else key


def _validate(account: Account, *, fields: set[str] | None = None) -> None:
    """Model-level validation (choices, lengths, URL, constraints); raises ValidationFailed."""
    exclude = None if fields is None else [f.name for f in Account._meta.fields if f.name not in fields]
    try:
        account.full_clean(exclude=exclude, validate_unique=fields is None or "crm_id" in fields)
    except DjangoValidationError as exc:
        raise ValidationFailed(exc.message_dict) from exc
    for owner, role, label in (("tam", Role.TAM, "TAM"), ("sal", Role.SAL, "SAL / AE"), ("sa", Role.SA, "SA")):
        if getattr(account, f"{owner}_id") is None or (fields is not None and owner not in fields):
            continue
        person = getattr(account, owner)
        if person is None or person.role != role or not person.is_active:
            raise ValidationFailed({owner: [f"{person} is not an active {label}."]})
    if account.parent_id is not None and account.pk is not None and account.parent_id == account.pk:
        raise ValidationFailed({"parent": ["An account cannot be its own parent."]})
    if account.engagement_model and (fields is None or "engagement_model" in fields):
        from tamarind.accounts.selectors import engagement_model_choices

        if account.engagement_model not in dict(engagement_model_choices()):
            raise ValidationFailed({"engagement_model": [f"No active engagement model {account.engagement_model!r}."]})


def _placements_follow(actor: User, moves: list[tuple[int, str, str]], source: str) -> None:
    """A model changed on the account (form, API) is kept as a dated move (``engagement``; imported here, not at
    the top, because engagement builds on accounts)."""
    from django.apps import apps

    if moves and apps.is_installed("tamarind.engagement"):
        from tamarind.engagement.services import placements_record

        placements_record(actor=actor, moves=moves, reason="Changed on the account", source=source)


@transaction.atomic
def account_create(*, actor: User, data: dict[str, Any], source: str = "web") -> Account:
    """Create an account from field values (foreign keys as objects or ``<name>_id``)."""
    account = Account()
    for key, value in data.items():
        setattr(account, key, value)
    if not policy.can_create_account(actor, account.region if account.region_id else None):
        raise PermissionDenied("You may not create accounts in this region.")
    now = timezone.now()
    account.created_at = now
    account.updated_at = now
    _validate(account)
    account.save()
    audit_record(
        actor=actor,
        obj=account,
        action=AuditAction.CREATE,
        before=None,
        after=snapshot(account, AUDITED_FIELDS),
        source=source,
    )
    moves = []
    if account.tam_id is not None:
        TamAssignment.objects.create(account=account, from_tam=None, to_tam_id=account.tam_id, changed_by=actor)
        moves.append((account.pk, None, account.tam_id))
    assignment_services.qualification_refresh(actor=actor, account_ids=[account.pk], tam_changes=moves, source=source)
    _renewal_follows(account, None, source)
    return account


# A success plan's color and its rule tasks follow these (domain reference, section 5).
SUCCESS_FIELDS = frozenset({"priority", "segment", "tam", "customer_since"})


def _renewal_follows(account: Account, old_date: Any, source: str) -> None:
    """The account's renewal follows its next renewal date (``renewals.services``; imported here, not at the top,
    because renewals builds on accounts)."""
    from tamarind.renewals.services import renewal_follow_account_date

    renewal_follow_account_date(account=account, old_date=old_date, source=source)


@transaction.atomic
def account_update(*, actor: User, account: Account, changes: dict[str, Any], source: str = "web") -> list[str]:
    """Apply ``changes`` (field -> value) that the actor may make; returns the names of fields that changed.

    A change to a field the actor may not write raises PermissionDenied before anything is written.
    """
    names = {_field_name(k) for k in changes}
    unknown = names - set(ACCOUNT_FIELDS)
    if unknown:
        raise ValidationFailed({"__all__": [f"Unknown account field(s): {', '.join(sorted(unknown))}."]})
    allowed = policy.account_writable_fields(actor, account)
    before = snapshot(account, AUDITED_FIELDS)
    for key, value in changes.items():
        setattr(account, key, value)
    after = snapshot(account, AUDITED_FIELDS)
    changed = [f for f in AUDITED_FIELDS if before[f] != after[f]]
    if not changed:
        return []
    denied = set(changed) - allowed
    if denied:
        # Put the object back as it was so a caller that re-renders it shows stored values.
        account.refresh_from_db(fields=[_fk_name(f) for f in AUDITED_FIELDS])
        raise PermissionDenied(f"You may not change: {', '.join(sorted(denied))}.")
    if "region" in changed and not policy.can_create_account(actor, account.region):
        account.refresh_from_db(fields=[_fk_name(f) for f in AUDITED_FIELDS])
        raise PermissionDenied("You may not move accounts into that region.")
    _validate(account, fields=set(changed))
    account.updated_at = timezone.now()
    account.save(update_fields=[*(_fk_name(f) for f in changed), "updated_at"])
    audit_record(
        actor=actor,
        obj=account,
        action=AuditAction.UPDATE,
        before={f: before[f] for f in changed},
        after={f: after[f] for f in changed},
        source=source,
    )
    if "tam" in changed:
        TamAssignment.objects.create(
            account=account, from_tam_id=before["tam"], to_tam_id=after["tam"], changed_by=actor
        )
    if "next_renewal_date" in changed:
        _renewal_follows(account, before["next_renewal_date"], source)
    if "engagement_model" in changed:
        _placements_follow(actor, [(account.pk, before["engagement_model"], after["engagement_model"])], source)
    if ASSIGNMENT_FIELDS.intersection(changed):
        moves = [(account.pk, before["tam"], after["tam"])] if "tam" in changed else []
        assignment_services.qualification_refresh(
            actor=actor, account_ids=[account.pk], tam_changes=moves, source=source
        )
    if SUCCESS_FIELDS.intersection(changed):
        from tamarind.success.services import success_refresh_accounts

        success_refresh_accounts(account_ids=[account.pk], actor=actor, source=source, planned_only=True)
    return changed


def account_set_tam(*, actor: User, account: Account, tam: User | None, source: str = "web") -> bool:
    """Set or clear the account's TAM (manager of its region or admin only). Returns whether it changed."""
    if not policy.can_set_tam(actor, account):
        raise PermissionDenied("Only the region's TAM Manager or an admin sets the TAM.")
    return bool(account_update(actor=actor, account=account, changes={"tam": tam}, source=source))


@transaction.atomic
def account_delete(*, actor: User, account: Account, source: str = "web") -> None:
    """Delete an account (admin only). Children keep existing with no parent."""
    if not policy.can_delete_account(actor, account):
        raise PermissionDenied("Only admins delete accounts.")
    before = snapshot(account, AUDITED_FIELDS)
    audit_record(actor=actor, obj=account, action=AuditAction.DELETE, before=before, after=None, source=source)
    account.delete()
