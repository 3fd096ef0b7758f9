"""Writes to engagement: the models (criteria checked against each other), placing accounts (by the rules or by
hand with a reason, every move dated), the capacity targets and iterations. Atomic, policy-checked, audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from tamarind import policy
from tamarind.accounts.models import Account
from tamarind.assignment.rules import RuleError
from tamarind.audit.models import AuditAction
from tamarind.audit.services import audit_record, audit_record_many, build_event, snapshot
from tamarind.core.bulk import chunks
from tamarind.core.errors import ValidationFailed
from tamarind.core.values import clean_date, clean_text
from tamarind.engagement import selectors
from tamarind.engagement.models import (
    INDICATORS,
    METRICS,
    CapacitySettings,
    EngagementModel,
    Iteration,
    IterationAccount,
    Placement,
    PlacementSource,
)
from tamarind.engagement.placement import ModelRule, conflicts, parse_criteria, place
from tamarind.people.models import User

MODEL_FIELDS = (
    "key",
    "name",
    "description",
    "tam_managed",
    "criteria",
    "precedence",
    "cadence_days",
    "services",
    "metrics",
    "indicators",
    "is_active",
)
EDITABLE = frozenset(MODEL_FIELDS) - {"key"}
ITERATION_FIELDS = ("name", "starts_on", "ends_on", "notes")


def _list_of(value: Any, label: str, *, allowed: dict[str, str] | None = None) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValidationFailed({label: ["A list of non-empty texts."]})
    items = [v.strip() for v in value]
    if allowed is not None:
        bad = sorted(set(items) - set(allowed))
        if bad:
            raise ValidationFailed({label: [f"Not in the catalogue: {', '.join(bad)}; one of {', '.join(allowed)}."]})
    return list(dict.fromkeys(items))


def _cadence(value: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        raise ValidationFailed({"cadence_days": ['An object of priority -> days, e.g. {"1": 30, "2": 60}.']})
    out: dict[str, int] = {}
    for k, v in value.items():
        if str(k) not in ("1", "2", "3", "4"):
            raise ValidationFailed({"cadence_days": [f"Priority {k!r} is not 1 to 4."]})
        if isinstance(v, bool) or not isinstance(v, int | str):
            raise ValidationFailed({"cadence_days": [f"Priority {k}: a whole number of days."]})
        try:
            days = int(v)
        except ValueError:
            raise ValidationFailed({"cadence_days": [f"Priority {k}: a whole number of days."]}) from None
        if not 1 <= days <= 365:
            raise ValidationFailed({"cadence_days": [f"Priority {k}: between 1 and 365 days."]})
        out[str(k)] = days
    return dict(sorted(out.items()))


def clean_criteria(value: Any) -> dict[str, Any]:
    """Qualification criteria validated (``placement.parse_criteria``) and normalised, or ``ValidationFailed``
    naming each bad place under ``criteria.``; shared by the models and the Service Desk pools."""
    try:
        spec = parse_criteria(value, choices=selectors.criteria_choices())
    except RuleError as exc:
        raise ValidationFailed({f"criteria.{k}": v for k, v in exc.errors.items()}) from None
    return spec.to_json()


def _clean_model(data: dict[str, Any], row: EngagementModel) -> None:
    """Apply ``data`` onto ``row`` with each value validated (criteria parsed, catalogues checked)."""
    for name, value in data.items():
        if name in ("name", "description"):
            setattr(
                row, name, clean_text(value, name, required=name == "name", max_length=80 if name == "name" else 2000)
            )
        elif name in ("tam_managed", "is_active"):
            if not isinstance(value, bool):
                raise ValidationFailed({name: ["true or false."]})
            setattr(row, name, value)
        elif name == "criteria":
            row.criteria = clean_criteria(value)
        elif name == "precedence":
            if value in (None, ""):
                row.precedence = None
            elif isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().isdigit():
                raise ValidationFailed({"precedence": ["A whole number (lower wins), or empty."]})
            else:
                row.precedence = int(value)
                if not 0 <= row.precedence <= 32767:
                    raise ValidationFailed({"precedence": ["Between 0 and 32767."]})
        elif name == "cadence_days":
            row.cadence_days = _cadence(value)
        elif name == "services":
            row.services = _list_of(value, "services")
        elif name == "metrics":
            row.metrics = _list_of(value, "metrics", allowed=METRICS)
        elif name == "indicators":
            row.indicators = _list_of(value, "indicators", allowed=INDICATORS)


def _check_conflicts(row: EngagementModel) -> None:
    """Refuse criteria that overlap another active model's without distinct precedences."""
    if not row.is_active:
        return
    others = [m for m in EngagementModel.objects.active().exclude(pk=row.pk) if m.key != row.key]
    mine = ModelRule(row.key, row.precedence, parse_criteria(row.criteria))
    taken = [m.name for m in others if row.precedence is not None and m.precedence == row.precedence]
    if taken:
        raise ValidationFailed({"precedence": [f"Precedence {row.precedence} is already {taken[0]}'s."]})
    theirs = [ModelRule(m.key, m.precedence, parse_criteria(m.criteria)) for m in others]
    clash = conflicts(mine, theirs)
    if clash:
        names = {m.key: m.name for m in others}
        raise ValidationFailed(
            {
                "criteria": [
                    "These criteria overlap "
                    + ", ".join(names[k] for k in clash)
                    + " without a precedence that says which wins: give both a precedence (lower wins), or "
                    "narrow the criteria so they do not overlap."
                ]
            }
        )


@transaction.atomic
def engagement_model_save(
    *, actor: User, data: dict[str, Any], model: EngagementModel | None = None, source: str = "web"
) -> EngagementModel:
    """Create a model (``model`` None; ``data`` needs ``name``, ``key`` defaults to its slug) or change one."""
    if not policy.can_edit_engagement_models(actor):
        raise PermissionDenied("Only admins change engagement models.")
    unknown = set(data) - set(MODEL_FIELDS)
    if unknown:
        raise ValidationFailed({"__all__": [f"Unknown field(s): {', '.join(sorted(unknown))}."]})
    created = model is None
    if created:
        row = EngagementModel()
        if not isinstance(data.get("name"), str) or not data["name"].strip():
            raise ValidationFailed({"name": ["Required."]})
        key = data.get("key") or slugify(str(data.get("name", ""))).replace("-", "_")
        if not isinstance(key, str) or not key or slugify(key).replace("-", "_") != key or len(key) > 40:
            raise ValidationFailed({"key": ["Lower-case letters, digits and underscores, at most 40."]})
        if EngagementModel.objects.filter(key=key).exists():
            raise ValidationFailed({"key": [f"A model with key {key!r} exists."]})
        row.key = key
    else:
        assert model is not None
        row = EngagementModel.objects.select_for_update().get(pk=model.pk)
        if "key" in data and data["key"] != row.key:
            raise ValidationFailed({"key": ["A model's key never changes (accounts store it)."]})
    before = None if created else snapshot(row, MODEL_FIELDS)
    _clean_model({k: v for k, v in data.items() if k != "key"}, row)
    if EngagementModel.objects.filter(name=row.name).exclude(pk=row.pk).exists():
        raise ValidationFailed({"name": [f"A model named {row.name!r} exists."]})
    _check_conflicts(row)
    row.updated_at = timezone.now()
    after = snapshot(row, MODEL_FIELDS)
    if created:
        row.save(force_insert=True)
    else:
        changed = [f for f in MODEL_FIELDS if before is not None and before[f] != after[f]]
        if not changed:
            return row
        row.save(update_fields=[*changed, "updated_at"])
    audit_record(
        actor=actor,
        obj=row,
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        before=before,
        after=after,
        source=source,
    )
    return row


@transaction.atomic
def account_place(
    *, actor: User, account: Account, model_key: str, reason: str, on: dt.date | None = None, source: str = "web"
) -> Placement:
    """Move ``account`` into a model by hand, with a reason: the account is pinned there (the rules leave it)."""
    if not policy.can_place_account(actor, account):
        raise PermissionDenied("You may not change this account's engagement model.")
    reason = clean_text(reason, "reason", required=True, max_length=500)
    if model_key and not EngagementModel.objects.filter(key=model_key).exists():
        raise ValidationFailed({"model": [f"No engagement model {model_key!r}."]})
    account = Account.objects.select_for_update().get(pk=account.pk)
    return _move(
        actor=actor,
        account=account,
        to_model=model_key,
        source_kind=PlacementSource.MANUAL,
        reason=reason,
        on=on or timezone.localdate(),
        source=source,
    )


def _move(
    *, actor: User | None, account: Account, to_model: str, source_kind: str, reason: str, on: dt.date, source: str
) -> Placement:
    before = {"engagement_model": account.engagement_model}
    placement = Placement.objects.create(
        account=account,
        from_model=account.engagement_model,
        to_model=to_model,
        source=source_kind,
        reason=reason,
        placed_on=on,
        placed_by=actor,
    )
    if account.engagement_model != to_model:
        account.engagement_model = to_model
        account.updated_at = timezone.now()
        account.save(update_fields=["engagement_model", "updated_at"])
        audit_record(
            actor=actor,
            obj=account,
            action=AuditAction.UPDATE,
            before=before,
            after={"engagement_model": to_model, "reason": reason or "by the rules"},
            source=source,
        )
    return placement


@transaction.atomic
def placements_record(
    *, actor: User | None, moves: Sequence[tuple[int, str, str]], reason: str, source: str = "system"
) -> int:
    """Dated moves for accounts whose model was changed where accounts are written (the account form, the API, a
    CRM import): ``moves`` are (account id, from, to), the accounts already hold their new model (and that change
    is audited there). Each is a move by hand: it pins the account, as ``account_place`` does. One insert."""
    today, now = timezone.localdate(), timezone.now()
    rows = [
        Placement(
            account_id=pk,
            from_model=old or "",
            to_model=new or "",
            source=PlacementSource.MANUAL,
            reason=f"{reason} ({source})"[:500],
            placed_on=today,
            placed_at=now,
            placed_by=actor,
        )
        for pk, old, new in moves
        if (old or "") != (new or "")
    ]
    Placement.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


@transaction.atomic
def account_release(*, actor: User, account: Account, source: str = "web") -> Placement:
    """Give an account placed by hand back to the rules, which place it at once."""
    if not policy.can_place_account(actor, account):
        raise PermissionDenied("You may not change this account's engagement model.")
    account = Account.objects.select_for_update().get(pk=account.pk)
    rules = selectors.live_rules()
    row = selectors.fact_rows().filter(pk=account.pk).first()
    target = place(rules, selectors.facts_of_row(row)) if row else ""
    return _move(
        actor=actor,
        account=account,
        to_model=target,
        source_kind=PlacementSource.RULES,
        reason="Released to the rules",
        on=timezone.localdate(),
        source=source,
    )


@transaction.atomic
def placements_apply_rules(*, actor: User | None, on: dt.date | None = None, source: str = "system") -> int:
    """Place every account that is not pinned by the live rules; records a dated move for each that changes.
    Returns how many moved. Idempotent: a second run moves nothing."""
    if actor is not None and not policy.can_edit_engagement_models(actor):
        raise PermissionDenied("Only admins apply the engagement rules to the whole book.")
    rules = selectors.live_rules()
    pinned = selectors.pinned_account_ids()
    day = on or timezone.localdate()
    now = timezone.now()
    moves: list[tuple[int, str, str]] = []
    for r in selectors.fact_rows().iterator(chunk_size=5000):
        if r[0] in pinned:
            continue
        target = place(rules, selectors.facts_of_row(r))
        if target != r[7]:
            moves.append((r[0], r[7], target))
    Placement.objects.bulk_create(
        [
            Placement(
                account_id=pk,
                from_model=old,
                to_model=new,
                source=PlacementSource.RULES,
                placed_on=day,
                placed_at=now,
                placed_by=actor,
            )
            for pk, old, new in moves
        ],
        batch_size=2000,
    )
    by_target: dict[str, list[int]] = {}
    for pk, _old, new in moves:
        by_target.setdefault(new, []).append(pk)
    for target, ids in by_target.items():
        for part in chunks(ids, 2000):
            Account.objects.filter(pk__in=part).update(engagement_model=target, updated_at=now)
    accounts = {a.pk: a for a in Account.objects.filter(pk__in=[m[0] for m in moves])} if len(moves) < 5000 else {}
    events = [
        build_event(
            actor=actor,
            obj=accounts[pk],
            action=AuditAction.UPDATE,
            before={"engagement_model": old},
            after={"engagement_model": new, "reason": "by the rules"},
            source=source,
        )
        for pk, old, new in moves
        if pk in accounts
    ]
    audit_record_many(events)
    return len(moves)


def capacity_settings_update(*, actor: User, changes: dict[str, Any], source: str = "web") -> CapacitySettings:
    """Admins change the capacity targets: ARR per TAM (positive) and the priority 1 share (0 to 1)."""
    if not policy.can_edit_engagement_models(actor):
        raise PermissionDenied("Only admins change the capacity targets.")
    fields = ("target_arr_per_tam", "target_p1_share")
    unknown = set(changes) - set(fields)
    if unknown:
        raise ValidationFailed({"__all__": [f"Unknown setting(s): {', '.join(sorted(unknown))}."]})
    with transaction.atomic():
        row = CapacitySettings.objects.select_for_update().filter(pk=CapacitySettings.SINGLETON_PK).first()
        created = row is None
        row = row or CapacitySettings()
        before = snapshot(row, fields)
        for name, value in changes.items():
            try:
                number = Decimal(str(value).strip())
            except InvalidOperation:
                raise ValidationFailed({name: ["A number."]}) from None
            if not number.is_finite():
                raise ValidationFailed({name: ["A number."]})
            if name == "target_arr_per_tam" and not Decimal(0) < number < Decimal("1e12"):
                raise ValidationFailed({name: ["More than 0."]})
            if name == "target_p1_share" and not Decimal(0) <= number <= 1:
                raise ValidationFailed({name: ["A share between 0 and 1 (one third is 0.333)."]})
            setattr(row, name, number.quantize(Decimal("0.01") if name == "target_arr_per_tam" else Decimal("0.001")))
        row.updated_at = timezone.now()
        row.updated_by = actor
        if created:
            row.save(force_insert=True)
        else:
            row.save(update_fields=[*fields, "updated_at", "updated_by"])
        audit_record(
            actor=actor,
            obj=row,
            action=AuditAction.CREATE if created else AuditAction.UPDATE,
            before=None if created else before,
            after=snapshot(row, fields),
            source=source,
        )
    return row


@transaction.atomic
def iteration_create(*, actor: User, data: dict[str, Any], source: str = "web") -> Iteration:
    """Record an iteration: its dates (never overlapping another's), the models' settings as they are, and each
    account's model on the iteration's first day (the accounts in each model)."""
    if not policy.can_edit_engagement_models(actor):
        raise PermissionDenied("Only admins record iterations.")
    unknown = set(data) - set(ITERATION_FIELDS)
    if unknown:
        raise ValidationFailed({"__all__": [f"Unknown field(s): {', '.join(sorted(unknown))}."]})
    name = clean_text(data.get("name"), "name", required=True, max_length=120)
    starts_on = clean_date(data.get("starts_on"), "starts_on")
    ends_on = clean_date(data.get("ends_on"), "ends_on")
    notes = clean_text(data.get("notes"), "notes", max_length=5000)
    if starts_on is None or ends_on is None:
        raise ValidationFailed({"starts_on" if starts_on is None else "ends_on": ["Required."]})
    if ends_on < starts_on:
        raise ValidationFailed({"ends_on": ["The end is on or after the start."]})
    # Lock the table's rows so two iterations saved at once cannot both pass the overlap check.
    clash = list(Iteration.objects.select_for_update().filter(starts_on__lte=ends_on, ends_on__gte=starts_on))
    if clash:
        raise ValidationFailed(
            {"starts_on": [f"The dates overlap {clash[0].name} ({clash[0].starts_on} to {clash[0].ends_on})."]}
        )
    if Iteration.objects.filter(name=name).exists():
        raise ValidationFailed({"name": [f"An iteration named {name!r} exists."]})
    iteration = Iteration.objects.create(
        name=name,
        starts_on=starts_on,
        ends_on=ends_on,
        notes=notes,
        models_snapshot=[m.settings_snapshot() for m in EngagementModel.objects.all()],
        created_by=actor,
    )
    _snapshot_members(iteration)
    audit_record(
        actor=actor,
        obj=iteration,
        action=AuditAction.CREATE,
        after=snapshot(iteration, ITERATION_FIELDS),
        source=source,
    )
    return iteration


def _snapshot_members(iteration: Iteration, account_ids: Iterable[int] | None = None) -> None:
    on_day = selectors.models_on_day(iteration.starts_on)
    facts = Account.objects.values_list("pk", "tam_id", "arr", "priority")
    rows = [
        IterationAccount(
            iteration=iteration, account_id=pk, model_key=on_day[pk], tam_id=tam_id, arr=arr, priority=priority
        )
        for pk, tam_id, arr, priority in facts.iterator(chunk_size=5000)
        if on_day.get(pk)
    ]
    IterationAccount.objects.bulk_create(rows, batch_size=5000)
