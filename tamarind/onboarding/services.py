"""Writes to onboarding records. Each service is atomic, checks the access policy and records audit events.

An onboarding starts when an account gets its TAM (``onboarding_start``, called from the account-change hook;
``onboarding_start_many`` for imports), follows the TAM when it changes, and becomes unassigned when the TAM is
cleared (``onboarding_unassign``). The TAM records dates, steps and notes (``onboarding_update``); completing
moves the account to Adoption. Actor ``None`` is the system (rules, imports run by the worker, the scheduler).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from tamarind import policy
from tamarind.accounts.models import Account
from tamarind.audit.models import AuditAction, AuditEvent
from tamarind.audit.services import audit_record, audit_record_many, build_event, snapshot
from tamarind.core.errors import ValidationFailed
from tamarind.notifications.models import NotificationKind
from tamarind.notifications.services import NotificationDraft, notify, notify_many
from tamarind.onboarding.models import ONBOARDING_FIELDS, Onboarding, OnboardingStatus
from tamarind.people.models import Role, User

BATCH = 500


def onboarding_url(onboarding: Onboarding) -> str:
    return reverse("onboarding:detail", args=[onboarding.pk])


def _today() -> dt.date:
    return timezone.localdate()


def _chunks(items: Sequence[Any], size: int = BATCH) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _check_tam(tam: User) -> None:
    if tam.role != Role.TAM or not tam.is_active:
        raise ValidationFailed({"tam": [f"{tam} is not an active TAM."]})


def _assigned_title(account_name: str) -> str:
    return f"You are onboarding {account_name}"


def _assigned_body(account_name: str) -> str:
    return (
        f"{account_name} has you as its TAM. Start with the internal handoff with the SAL/AE and SA, "
        "send the welcome email and hold the kickoff call."
    )


def _dedupe_key(onboarding_id: int, tam_id: int) -> str:
    return f"onboarding:{onboarding_id}:{tam_id}"


def _notify_assigned(onboarding: Onboarding, tam: User, account: Account) -> None:
    notify(
        recipients=[tam],
        kind=NotificationKind.TAM_ASSIGNED,
        title=_assigned_title(account.name),
        body=_assigned_body(account.name),
        url=onboarding_url(onboarding),
        account=account,
        dedupe_key=_dedupe_key(onboarding.pk, tam.pk),
    )


def _new_record(*, account: Account, tam_id: int | None, today: dt.date, now: dt.datetime) -> Onboarding:
    return Onboarding(
        account=account,
        tam_id=tam_id,
        status=OnboardingStatus.NOT_STARTED,
        contract_start=account.customer_since or today,
        onboarding_start=today,
        created_at=now,
        updated_at=now,
    )


@transaction.atomic
def onboarding_start(*, actor: User | None, account: Account, tam: User, source: str = "web") -> Onboarding | None:
    """Start the account's onboarding with ``tam``, or hand the open one to ``tam``. Idempotent.

    - no onboarding yet: creates one (not started; contract start = the account's customer-since date or today;
      onboarding start = today) and notifies the TAM;
    - an onboarding not completed: reassigns it to ``tam`` when it has another TAM (or none), notifying ``tam``;
      with the same TAM nothing changes;
    - only completed onboardings: the account is onboarded already; nothing is created and ``None`` is returned.

    The actor must be allowed to set the account's TAM (its region's manager, an admin); ``None`` is the system.
    """
    if actor is not None and not policy.can_start_onboarding(actor, account):
        raise PermissionDenied("Only the region's TAM Manager or an admin starts an onboarding.")
    _check_tam(tam)
    records = list(Onboarding.objects.select_for_update().filter(account=account).order_by("-id"))
    current = next((o for o in records if o.is_open), None)
    if current is None and records:
        return None
    now = timezone.now()
    if current is None:
        onboarding = _new_record(account=account, tam_id=tam.pk, today=_today(), now=now)
        try:
            with transaction.atomic():
                onboarding.save()
        except IntegrityError:
            # Another transaction started it between our read and this insert: treat that one as current.
            current = Onboarding.objects.select_for_update().filter(account=account).open().first()
            if current is None:
                raise
        else:
            audit_record(
                actor=actor,
                obj=onboarding,
                action=AuditAction.CREATE,
                before=None,
                after=snapshot(onboarding, ONBOARDING_FIELDS),
                source=source,
            )
            _notify_assigned(onboarding, tam, account)
            return onboarding
    if current.tam_id == tam.pk:
        return current
    before = current.tam_id
    current.tam = tam
    current.updated_at = now
    current.save(update_fields=["tam", "updated_at"])
    audit_record(
        actor=actor,
        obj=current,
        action=AuditAction.UPDATE,
        before={"tam": before},
        after={"tam": tam.pk},
        source=source,
    )
    _notify_assigned(current, tam, account)
    return current


@transaction.atomic
def onboarding_start_many(*, actor: User | None, pairs: Iterable[tuple[int, int]], source: str = "import") -> int:
    """``onboarding_start`` for many (account id, TAM id) pairs at once (imports); returns records created or
    reassigned. A constant number of queries per batch of 500 accounts; audit events and notifications in bulk.

    A pair repeated for one account counts once (the last TAM wins). The TAMs must be active TAMs; the actor,
    when there is one, must be allowed to set each account's TAM.
    """
    wanted: dict[int, int] = {}
    for account_id, tam_id in pairs:
        wanted[int(account_id)] = int(tam_id)
    if not wanted:
        return 0
    tams = {u.pk: u for u in User.objects.filter(pk__in=set(wanted.values()))}
    for tam_id in set(wanted.values()):
        tam = tams.get(tam_id)
        if tam is None:
            raise ValidationFailed({"tam": [f"No person with id {tam_id}."]})
        _check_tam(tam)
    today, now = _today(), timezone.now()
    events: list[AuditEvent] = []
    drafts: list[NotificationDraft] = []
    changed = 0
    for chunk in _chunks(sorted(wanted)):
        accounts = {a.pk: a for a in Account.objects.filter(pk__in=chunk).select_related("region")}
        missing = set(chunk) - set(accounts)
        if missing:
            raise ValidationFailed({"account": [f"No account with id {min(missing)}."]})
        if actor is not None:
            denied = [a for a in accounts.values() if not policy.can_start_onboarding(actor, a)]
            if denied:
                raise PermissionDenied(f"You may not start the onboarding of {denied[0]}.")
        records: dict[int, list[Onboarding]] = {}
        for record in Onboarding.objects.select_for_update().filter(account_id__in=chunk).order_by("-id"):
            records.setdefault(record.account_id, []).append(record)
        created: list[Onboarding] = []
        moved: list[tuple[Onboarding, int | None]] = []
        for account_id in chunk:
            tam_id = wanted[account_id]
            existing = records.get(account_id, [])
            current = next((o for o in existing if o.is_open), None)
            if current is None and not existing:
                created.append(_new_record(account=accounts[account_id], tam_id=tam_id, today=today, now=now))
            elif current is not None and current.tam_id != tam_id:
                moved.append((current, current.tam_id))
                current.tam_id = tam_id
                current.updated_at = now
        Onboarding.objects.bulk_create(created, batch_size=BATCH)
        if moved:
            Onboarding.objects.bulk_update([o for o, _ in moved], ["tam", "updated_at"], batch_size=BATCH)
        for o in created:
            events.append(
                build_event(
                    actor=actor,
                    obj=o,
                    action=AuditAction.CREATE,
                    before=None,
                    after=snapshot(o, ONBOARDING_FIELDS),
                    source=source,
                    at=now,
                )
            )
        for o, before in moved:
            events.append(
                build_event(
                    actor=actor,
                    obj=o,
                    action=AuditAction.UPDATE,
                    before={"tam": before},
                    after={"tam": o.tam_id},
                    source=source,
                    at=now,
                )
            )
        for o in [*created, *(o for o, _ in moved)]:
            assert o.tam_id is not None
            name = accounts[o.account_id].name
            drafts.append(
                NotificationDraft(
                    recipient_id=o.tam_id,
                    kind=NotificationKind.TAM_ASSIGNED,
                    title=_assigned_title(name),
                    body=_assigned_body(name),
                    url=onboarding_url(o),
                    account_id=o.account_id,
                    dedupe_key=_dedupe_key(o.pk, o.tam_id),
                )
            )
        changed += len(created) + len(moved)
    audit_record_many(events)
    notify_many(drafts)
    return changed


@transaction.atomic
def onboarding_unassign(*, actor: User | None, account: Account, source: str = "web") -> int:
    """The account's TAM was cleared: its open onboarding keeps going without a TAM ("unassigned").

    Returns 1 when a record lost its TAM, else 0. The actor must be allowed to set the account's TAM.
    """
    if actor is not None and not policy.can_start_onboarding(actor, account):
        raise PermissionDenied("Only the region's TAM Manager or an admin changes who onboards an account.")
    records = list(Onboarding.objects.select_for_update().filter(account=account, tam__isnull=False).open())
    now = timezone.now()
    for record in records:
        before = record.tam_id
        record.tam = None
        record.updated_at = now
        record.save(update_fields=["tam", "updated_at"])
        audit_record(
            actor=actor,
            obj=record,
            action=AuditAction.UPDATE,
            before={"tam": before},
            after={"tam": None},
            source=source,
        )
    return len(records)
