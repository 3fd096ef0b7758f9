"""Writes to people, regions and API tokens. Atomic, policy-checked, audited."""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone

from tamarind import policy
from tamarind.audit.models import AuditAction
from tamarind.audit.services import audit_record, snapshot
from tamarind.core.errors import ValidationFailed
from tamarind.core.resilience import bookkeeping_write
from tamarind.people.models import TOKEN_PREFIX, ApiToken, Region, Role, User, hash_token

USER_FIELDS = ("email", "full_name", "role", "region", "capacity_arr", "is_active")
REGION_FIELDS = ("name", "manager")
# A token's last use is recorded at most this often (seconds): a busy API client does not write on every read.
TOKEN_TOUCH_SECONDS = 60


def _require_admin(actor: User | None) -> None:
    # ``actor=None`` is the system itself (demo generator, first-run set-up); it acts as an admin.
    if actor is not None and not policy.can_manage_people(actor):
        raise PermissionDenied("Only admins manage people and regions.")


def _clean(obj: User | Region, *, exclude: list[str] | None = None) -> None:
    try:
        obj.full_clean(exclude=exclude)
    except DjangoValidationError as exc:
        raise ValidationFailed(exc.message_dict) from exc


@transaction.atomic
def user_create(
    *,
    actor: User | None,
    email: str,
    full_name: str,
    role: str,
    password: str | None = None,
    password_hash: str | None = None,
    region: Region | None = None,
    capacity_arr: Decimal | None = None,
    source: str = "web",
) -> User:
    """Create a person. Without a password they cannot sign in until an admin sets one.

    ``password_hash`` (from ``make_password``) lets bulk set-ups such as the demo hash a shared password
    once instead of once per person (hashing is deliberately slow).
    """
    _require_admin(actor)
    user = User(
        email=User.objects.normalize_email(email).strip().lower(),
        full_name=full_name.strip(),
        role=role,
        region=region,
        capacity_arr=capacity_arr,
    )
    if password_hash:
        user.password = password_hash
    elif password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    _clean(user, exclude=["password", "last_login"])
    user.save()
    audit_record(actor=actor, obj=user, action=AuditAction.CREATE, after=snapshot(user, USER_FIELDS), source=source)
    return user


@transaction.atomic
def user_update(*, actor: User | None, user: User, changes: dict[str, Any], source: str = "web") -> list[str]:
    """Change a person's fields (admin only); returns the fields that changed."""
    _require_admin(actor)
    unknown = {k.removesuffix("_id") for k in changes} - set(USER_FIELDS)
    if unknown:
        raise ValidationFailed({"__all__": [f"Unknown field(s): {', '.join(sorted(unknown))}."]})
    before = snapshot(user, USER_FIELDS)
    for key, value in changes.items():
        setattr(user, key, value)
    if "email" in changes:
        user.email = user.email.strip().lower()
    after = snapshot(user, USER_FIELDS)
    changed = [f for f in USER_FIELDS if before[f] != after[f]]
    if not changed:
        return []
    if actor is not None and user.pk == actor.pk and ("role" in changed or "is_active" in changed):
        user.refresh_from_db()
        raise ValidationFailed({"role": ["You cannot change your own role or deactivate yourself."]})
    _clean(user, exclude=["password", "last_login"])
    user.save(update_fields=[("region_id" if f == "region" else f) for f in changed])
    audit_record(
        actor=actor,
        obj=user,
        action=AuditAction.UPDATE,
        before={f: before[f] for f in changed},
        after={f: after[f] for f in changed},
        source=source,
    )
    return changed


@transaction.atomic
def user_set_password(*, actor: User | None, user: User, password: str, source: str = "web") -> None:
    if actor is None or actor.pk != user.pk:
        _require_admin(actor)
    user.set_password(password)
    user.save(update_fields=["password"])
    # The hash itself never goes into the trail; only that it changed.
    audit_record(
        actor=actor,
        obj=user,
        action=AuditAction.UPDATE,
        before={"password": "(set)"},
        after={"password": "(changed)"},
        source=source,
    )


@transaction.atomic
def region_create(*, actor: User | None, name: str, manager: User | None = None, source: str = "web") -> Region:
    _require_admin(actor)
    region = Region(name=name.strip())
    _clean(region, exclude=["manager"])
    region.save()
    audit_record(
        actor=actor,
        obj=region,
        action=AuditAction.CREATE,
        after=snapshot(region, REGION_FIELDS),
        source=source,
    )
    if manager is not None:
        region_set_manager(actor=actor, region=region, manager=manager, source=source)
    return region


@transaction.atomic
def region_update(*, actor: User | None, region: Region, name: str, source: str = "web") -> list[str]:
    _require_admin(actor)
    before = snapshot(region, REGION_FIELDS)
    region.name = name.strip()
    if before["name"] == region.name:
        return []
    _clean(region, exclude=["manager"])
    region.save(update_fields=["name"])
    audit_record(
        actor=actor,
        obj=region,
        action=AuditAction.UPDATE,
        before={"name": before["name"]},
        after={"name": region.name},
        source=source,
    )
    return ["name"]


@transaction.atomic
def region_set_manager(*, actor: User | None, region: Region, manager: User | None, source: str = "web") -> bool:
    """Make ``manager`` (a TAM Manager) lead ``region``; a manager leads one region at a time."""
    _require_admin(actor)
    if manager is not None and manager.role != Role.MANAGER:
        raise ValidationFailed({"manager": [f"{manager} is not a TAM Manager."]})
    if manager is not None:
        other = Region.objects.filter(manager=manager).exclude(pk=region.pk).first()
        if other is not None:
            raise ValidationFailed({"manager": [f"{manager} already leads {other}."]})
    before = region.manager_id
    if before == (manager.pk if manager else None):
        return False
    region.manager = manager
    region.save(update_fields=["manager"])
    audit_record(
        actor=actor,
        obj=region,
        action=AuditAction.UPDATE,
        before={"manager": before},
        after={"manager": region.manager_id},
        source=source,
    )
    return True


@transaction.atomic
def token_create(*, actor: User, user: User, name: str) -> tuple[ApiToken, str]:
    """A new API token for ``user`` (themselves, or anyone for an admin). Returns the token and its secret."""
    if actor.pk != user.pk:
        _require_admin(actor)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=(name.strip() or "API token")[:100], prefix=raw[:10], key_hash=hash_token(raw)
    )
    audit_record(
        actor=actor,
        obj=token,
        action=AuditAction.CREATE,
        after={"user": user.pk, "name": token.name, "prefix": token.prefix},
        source="web",
    )
    return token, raw


@transaction.atomic
def token_revoke(*, actor: User, token: ApiToken) -> None:
    if actor.pk != token.user_id:
        _require_admin(actor)
    if token.revoked_at is not None:
        return
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_record(
        actor=actor,
        obj=token,
        action=AuditAction.UPDATE,
        before={"revoked_at": None},
        after={"revoked_at": token.revoked_at.isoformat()},
        source="web",
    )


def token_authenticate(raw: str) -> User | None:
    """The active user behind a bearer token, or None. Touches ``last_used_at`` at most once a minute, and only
    when the database lets it at once (``core.resilience.bookkeeping_write``)."""
    if not raw or not raw.startswith(TOKEN_PREFIX):
        return None
    # The user comes with what the access policy reads (region, managed region), as for a session user.
    token = (
        ApiToken.objects.live()
        .select_related("user__region", "user__managed_region")
        .filter(key_hash=hash_token(raw))
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > TOKEN_TOUCH_SECONDS:
        # Bookkeeping on what may be a read: behind a long writer it is skipped (and logged), never a failed read.
        bookkeeping_write(
            lambda: ApiToken.objects.filter(pk=token.pk).update(last_used_at=now), what="the API token's last use"
        )
    return token.user
