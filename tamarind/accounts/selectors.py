"""Reads of the account book. Every fetch goes through the access policy."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, overload

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404

from tamarind import policy
from tamarind.accounts.models import Account, AccountQuerySet, LifecycleStage, Segment, TamAssignment
from tamarind.audit.models import AuditEvent
from tamarind.core.params import getlist
from tamarind.people.models import Role, User

# Sort keys offered to users -> ORM ordering. The id tie-breaker keeps pagination stable.
SORTS: dict[str, tuple[str, ...]] = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "arr": ("arr", "id"),
    "-arr": ("-arr", "-id"),
    "renewal": ("next_renewal_date", "id"),
    "-renewal": ("-next_renewal_date", "-id"),
    "region": ("region__name", "name", "id"),
    "-region": ("-region__name", "name", "id"),
    "tam": ("tam__full_name", "name", "id"),
    "-tam": ("-tam__full_name", "name", "id"),
    "priority": ("priority", "name", "id"),
    "-priority": ("-priority", "name", "id"),
}
DEFAULT_SORT = "name"
MAX_ID = 2**63 - 1
# The health filter's values: a color of the current score, or "none" for accounts not scored yet.
HEALTH_CHOICES: tuple[tuple[str, str], ...] = (
    ("green", "Green"),
    ("yellow", "Yellow"),
    ("red", "Red"),
    ("none", "Not scored"),
)
# Which accounts the list shows: "all" the user may read, or "mine" (the accounts they own as TAM).
SCOPES: tuple[tuple[str, str], ...] = (("mine", "My accounts"), ("all", "All accounts I can see"))


@dataclass
class AccountFilters:
    """The filters of the account list, shared by the web page, the API and the export."""

    q: str = ""
    region: list[int] = field(default_factory=list)
    segment: list[str] = field(default_factory=list)
    tier: list[int] = field(default_factory=list)
    tam: list[int] = field(default_factory=list)
    unassigned: bool = False
    priority: list[int] = field(default_factory=list)
    arr_min: Decimal | None = None
    arr_max: Decimal | None = None
    health: list[str] = field(default_factory=list)
    renewal_from: dt.date | None = None
    renewal_to: dt.date | None = None
    scope: str = "all"
    sort: str = DEFAULT_SORT
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_params(cls, params: Any, *, default_scope: str = "all") -> AccountFilters:
        """Parse a QueryDict (or dict of lists); bad values are dropped and reported in ``errors``.

        ``default_scope`` is the list shown when the parameters do not say (``policy.account_default_list``)."""
        f = cls()
        # NUL cannot occur in stored text, and PostgreSQL refuses it in a query: drop it.
        f.q = (params.get("q") or "").replace("\x00", "").strip()[:200]
        f.region = _ints(params, "region", f.errors)
        f.tier = _ints(params, "tier", f.errors)
        f.priority = _ints(params, "priority", f.errors)
        tams = getlist(params, "tam")
        f.unassigned = "none" in tams
        f.tam = _ints({"tam": [t for t in tams if t != "none"]}, "tam", f.errors)
        valid_segments = set(Segment.values)
        for seg in getlist(params, "segment"):
            if seg in valid_segments:
                f.segment.append(seg)
            elif seg:
                f.errors["segment"] = f"Unknown segment {seg!r}."
        f.arr_min = _decimal(params.get("arr_min"), "arr_min", f.errors)
        f.arr_max = _decimal(params.get("arr_max"), "arr_max", f.errors)
        colors = dict(HEALTH_CHOICES)
        for color in getlist(params, "health"):
            if color.lower() in colors:
                f.health.append(color.lower())
            else:
                f.errors["health"] = f"health must be one of {', '.join(colors)}, got {color!r}."
        f.renewal_from = _date(params.get("renewal_from"), "renewal_from", f.errors)
        f.renewal_to = _date(params.get("renewal_to"), "renewal_to", f.errors)
        if f.renewal_from and f.renewal_to and f.renewal_from > f.renewal_to:
            f.errors["renewal_to"] = (
                f"renewal_to ({f.renewal_to.isoformat()}) is before renewal_from ({f.renewal_from.isoformat()})."
            )
            f.renewal_to = None
        scope = _text(params.get("scope")) or default_scope
        if scope in dict(SCOPES):
            f.scope = scope
        else:
            f.errors["scope"] = f"scope must be mine or all, got {scope!r}."
            f.scope = default_scope
        sort = params.get("sort") or DEFAULT_SORT
        if sort in SORTS:
            f.sort = sort
        else:
            f.errors["sort"] = f"Unknown sort {sort!r}."
        return f

    def apply(self, qs: AccountQuerySet) -> AccountQuerySet:
        if self.q:
            qs = qs.filter(Q(name__icontains=self.q) | Q(crm_id__iexact=self.q))
        if self.region:
            qs = qs.filter(region_id__in=self.region)
        if self.segment:
            qs = qs.filter(segment__in=self.segment)
        if self.tier:
            # A tier filter matches the rung, so "Gold" also finds "Ultimate" accounts.
            qs = qs.filter(product_tier__rung__in=_rungs_of(self.tier))
        if self.tam or self.unassigned:
            cond = Q(tam_id__in=self.tam) if self.tam else Q(pk__in=[])
            if self.unassigned:
                cond |= Q(tam__isnull=True)
            qs = qs.filter(cond)
        if self.priority:
            qs = qs.filter(priority__in=self.priority)
        if self.arr_min is not None:
            qs = qs.filter(arr__gte=self.arr_min)
        if self.arr_max is not None:
            qs = qs.filter(arr__lte=self.arr_max)
        if self.health:
            cond = Q(health__color__in=[c for c in self.health if c != "none"])
            if "none" in self.health:
                # Not scored: no score row yet, or a row without a color (no measure had data).
                cond |= Q(health__isnull=True) | Q(health__color="")
            qs = qs.filter(cond)
        if self.renewal_from is not None:
            qs = qs.filter(next_renewal_date__gte=self.renewal_from)
        if self.renewal_to is not None:
            qs = qs.filter(next_renewal_date__lte=self.renewal_to)
        return qs.order_by(*SORTS[self.sort])

    @property
    def active(self) -> bool:
        return bool(
            self.q
            or self.region
            or self.segment
            or self.tier
            or self.tam
            or self.unassigned
            or self.priority
            or self.arr_min is not None
            or self.arr_max is not None
            or self.health
            or self.renewal_from is not None
            or self.renewal_to is not None
        )


def engagement_model_choices(*, keep: str = "") -> list[tuple[str, str]]:
    """(key, name) of the engagement models an account may be put in: the active models of
    ``tamarind.engagement`` (admins add more than the five built in), else the built-in five. ``keep``: a key to
    list even if its model was since deactivated (an account still in it). One query."""
    from django.apps import apps

    from tamarind.accounts.models import EngagementModel as BuiltIn

    if not apps.is_installed("tamarind.engagement"):
        return list(BuiltIn.choices)
    model = apps.get_model("engagement", "EngagementModel")
    rows = model.objects.filter(Q(is_active=True) | Q(key=keep) if keep else Q(is_active=True))
    return [(key, name) for key, name in rows.order_by("name").values_list("key", "name")]


def _ints(params: Any, key: str, errors: dict[str, str]) -> list[int]:
    out = []
    for raw in getlist(params, key):
        try:
            value = int(raw)
        except ValueError:
            errors[key] = f"{key} must be a number, got {raw!r}."
            continue
        # Beyond a 64-bit id, SQLite raises on ``__in`` instead of matching nothing.
        if abs(value) > MAX_ID:
            errors[key] = f"{key} is out of range, got {raw!r}."
        else:
            out.append(value)
    return out


def _decimal(raw: Any, key: str, errors: dict[str, str]) -> Decimal | None:
    if raw in (None, ""):
        return None
    try:
        value = Decimal(str(raw).replace(",", "").strip())
    except InvalidOperation:
        errors[key] = f"{key} must be an amount, got {raw!r}."
        return None
    if not value.is_finite():
        errors[key] = f"{key} must be an amount, got {raw!r}."
        return None
    return value


def _text(raw: Any) -> str:
    if isinstance(raw, list):
        raw = raw[0] if raw else ""
    return str(raw or "").replace("\x00", "").strip()[:100]


def _date(raw: Any, key: str, errors: dict[str, str]) -> dt.date | None:
    value = _text(raw)
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        errors[key] = f"{key} must be a date (YYYY-MM-DD), got {value!r}."
        return None


def _rungs_of(tier_ids: list[int]) -> list[int]:
    from tamarind.accounts.models import ProductTier

    return list(ProductTier.objects.filter(pk__in=tier_ids).values_list("rung", flat=True).distinct())


def account_list(*, user: User, filters: AccountFilters) -> AccountQuerySet:
    """The accounts ``user`` may read ("mine": those they own as TAM), filtered and sorted; nothing loaded beside
    them (``AccountRows`` pages it)."""
    qs = Account.objects.visible_to(user)
    if filters.scope == "mine":
        qs = qs.filter(tam_id=user.pk)
    return filters.apply(qs)


class AccountRows:
    """An account list as a paginator reads it (``count()`` and a slice), fetched in two steps: the page's ids
    under the list's filters and order, then those accounts with what their rows show (``load``: owners and the
    health color). The first step sorts only the keys, so a sort through a join (TAM, region) keeps the cheap
    top-N sort instead of sorting every matching row whole, and the second joins only the page's rows."""

    ordered = True

    def __init__(self, qs: AccountQuerySet, *, owners: bool = False) -> None:
        self.qs = qs
        self.owners = owners

    def count(self) -> int:
        return self.qs.count()

    def __len__(self) -> int:
        return self.count()

    def __iter__(self) -> Iterator[Account]:
        return iter(self[:])

    @overload
    def __getitem__(self, key: int) -> Account: ...

    @overload
    def __getitem__(self, key: slice) -> list[Account]: ...

    def __getitem__(self, key: int | slice) -> Account | list[Account]:
        if isinstance(key, int):
            one = self[key : key + 1]
            if not one:
                raise IndexError(key)
            return one[0]
        ids = list(self.qs.values_list("pk", flat=True)[key])
        if not ids:
            return []
        rows = Account.objects.filter(pk__in=ids).with_health()
        rows = rows.with_owners() if self.owners else rows.for_rows()
        found = {a.pk: a for a in rows.order_by()}
        return [found[pk] for pk in ids if pk in found]


def tam_choices(user: User) -> list[tuple[int, str]]:
    """The TAMs ``user`` may filter the account list by, as (id, name): the active TAMs who own an account they may
    read (a TAM also sees themselves), by name. Plain rows: an admin's list offers some 2,000 at 100,000 accounts."""
    scope = policy.tam_filter_scope(user)
    qs = User.objects.active().filter(role=Role.TAM)
    if scope is not None:
        qs = qs.filter(scope)
    return list(qs.order_by("full_name", "pk").values_list("pk", "full_name"))


def tam_picker(account: Account) -> list[tuple[int, str, str | None]]:
    """The TAMs the account page's "Assign TAM" offers, as (id, name, region name): the active TAMs of the
    account's region (the ones its TAM Manager leads, as on the dashboards' pickers), and its current TAM wherever
    they are, by name. One query, plain rows (a region may have hundreds of TAMs)."""
    wanted = Q(role=Role.TAM, is_active=True, region_id=account.region_id)
    if account.tam_id is not None:
        wanted |= Q(pk=account.tam_id)
    return list(User.objects.filter(wanted).order_by("full_name", "pk").values_list("pk", "full_name", "region__name"))


def account_for_user(user: User, account_id: int | str, *, write: bool = False) -> Account:
    """The one permission-gated fetch: 404 when out of scope, 403 when ``write`` and read-only."""
    try:
        pk = int(account_id)
    except (TypeError, ValueError):
        raise Http404("No such account.") from None
    # Region, tier, parent and TAM joined; the SAL/AE and the SA are read where a page shows them (one small query
    # each), rather than by every page that fetches an account.
    account = Account.objects.for_rows().with_health().filter(pk=pk).first()
    if account is None or not policy.can_read_account(user, account):
        raise Http404("No such account.")
    if write and not policy.can_write_account(user, account):
        raise PermissionDenied("You may read this account but not change it.")
    return account


_REF_FIELDS: dict[str, str] = {
    "tam": "user",
    "sal": "user",
    "sa": "user",
    "region": "region",
    "product_tier": "tier",
    "parent": "account",
}


def account_history(*, account: Account, limit: int = 200) -> list[AuditEvent]:
    """The account's audit events, newest first, each with ``changes``: (label, before, after) for people.

    Foreign keys are stored as ids in the trail; they are shown by name, looked up in one query per kind.
    """
    from tamarind.accounts.models import ProductTier
    from tamarind.people.models import Region

    events = list(AuditEvent.objects.for_object("accounts.account", account.pk)[:limit])
    wanted: dict[str, set[Any]] = {"user": set(), "region": set(), "tier": set(), "account": set()}
    for event in events:
        for name, before, after in event.changed_fields():
            if name in _REF_FIELDS:
                wanted[_REF_FIELDS[name]].update(v for v in (before, after) if v is not None)
    names: dict[str, dict[Any, str]] = {
        "user": dict(User.objects.filter(pk__in=wanted["user"]).values_list("pk", "full_name"))
        if wanted["user"]
        else {},
        "region": dict(Region.objects.filter(pk__in=wanted["region"]).values_list("pk", "name"))
        if wanted["region"]
        else {},
        "tier": dict(ProductTier.objects.filter(pk__in=wanted["tier"]).values_list("pk", "name"))
        if wanted["tier"]
        else {},
        "account": dict(Account.objects.filter(pk__in=wanted["account"]).values_list("pk", "name"))
        if wanted["account"]
        else {},
    }
    labels = {f.name: str(f.verbose_name) for f in Account._meta.fields}
    for event in events:
        changes = []
        for name, before, after in event.changed_fields():
            kind = _REF_FIELDS.get(name)
            if kind:
                before = names[kind].get(before, f"#{before}") if before is not None else None
                after = names[kind].get(after, f"#{after}") if after is not None else None
            changes.append((labels.get(name, name), before, after))
        event.changes = changes  # type: ignore[attr-defined]
    return events


def account_tam_history(*, account: Account) -> list[TamAssignment]:
    return list(account.tam_history.select_related("from_tam", "to_tam", "changed_by"))


def account_children(*, user: User, account: Account) -> AccountQuerySet:
    return Account.objects.visible_to(user).filter(parent=account).select_related("tam", "region").order_by("name")


# --- Counting a book, and saying what a count leaves out -----------------------------------------------------------


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


@dataclass(frozen=True)
class BookScope:
    """A book of accounts counted once, with what each page's count leaves out of it (``book_scope``).

    The pages that count accounts disagreed without saying why (issue 9): the health dashboard leaves will-churn
    accounts out (domain section 6), a TAM's dashboards count the accounts they own while *Accounts* lists their
    region's book, and most accounts without a TAM do not qualify for one. Each page captions its count from one
    of these, so the figures can be checked against each other.
    """

    label: str
    accounts: int
    without_tam: int
    will_churn: int
    will_churn_without_tam: int
    qualifying_without_tam: int
    arr: Decimal = Decimal(0)

    @property
    def in_health_reporting(self) -> int:
        return self.accounts - self.will_churn

    @property
    def in_health_reporting_without_tam(self) -> int:
        return self.without_tam - self.will_churn_without_tam

    def _labelled(self, parts: list[str]) -> list[str]:
        if self.label:
            parts[0] = f"{self.label}: {parts[0]}"
        return parts

    def _churn(self) -> list[str]:
        return [f"{self.will_churn:,} will churn (out of health reporting)"] if self.will_churn else []

    @property
    def book_parts(self) -> list[str]:
        """*Accounts*, a region's page: the whole book, with its will-churn accounts named."""
        return self._labelled([_n(self.accounts, "account"), f"{self.without_tam:,} without a TAM", *self._churn()])

    def regions_parts(self, regions: int) -> list[str]:
        """The Regions page: every account sits in one region, so the regions' sum is the book."""
        head = f"{_n(self.accounts, 'account')} in {_n(regions, 'region')}"
        return self._labelled([head, f"{self.without_tam:,} without a TAM", *self._churn()])

    @property
    def health_parts(self) -> list[str]:
        """The health dashboard: the accounts in health reporting, and the will-churn ones it leaves out."""
        parts = [
            f"{_n(self.in_health_reporting, 'account')} in health reporting",
            f"{self.in_health_reporting_without_tam:,} without a TAM",
        ]
        if self.will_churn:
            verb = "is" if self.will_churn == 1 else "are"
            parts.append(
                f"{_n(self.will_churn, 'will-churn account')} {verb} out of health reporting "
                f"({self.accounts:,} in this book)"
            )
        return self._labelled(parts)

    @property
    def staffing_parts(self) -> list[str]:
        """The onboarding dashboard: how many of the accounts without a TAM qualify for one (the rest are pooled
        and digital customers, domain section 10, and never appear as unassigned)."""
        return self._labelled(
            [
                _n(self.accounts, "account"),
                f"{self.without_tam:,} without a TAM, {self.qualifying_without_tam:,} of them "
                f"{'qualifies' if self.qualifying_without_tam == 1 else 'qualify'} for one (Accounts to staff)",
            ]
        )


def book_scope(accounts: AccountQuerySet | Any, *, label: str = "") -> BookScope:
    """Count ``accounts`` (a scope, before any page's own exclusion) and what the pages leave out. One query."""
    from django.db.models import Count, Sum

    churn = Q(lifecycle_stage=LifecycleStage.WILL_CHURN)
    free = Q(tam__isnull=True)
    row = accounts.order_by().aggregate(
        accounts=Count("pk"),
        without_tam=Count("pk", filter=free),
        will_churn=Count("pk", filter=churn),
        will_churn_without_tam=Count("pk", filter=churn & free),
        qualifying_without_tam=Count("pk", filter=free & Q(qualification__qualifies=True)),
        arr=Sum("arr"),
    )
    return BookScope(
        label=label,
        accounts=row["accounts"],
        without_tam=row["without_tam"],
        will_churn=row["will_churn"],
        will_churn_without_tam=row["will_churn_without_tam"],
        qualifying_without_tam=row["qualifying_without_tam"],
        arr=Decimal(row["arr"] or 0),
    )


def book_scope_for(user: User, *, own_only: bool = False) -> BookScope:
    """``book_scope`` of what ``user`` reads on *Accounts* (``Account.objects.visible_to``); ``own_only``: of the
    accounts they own as TAM (*My accounts*)."""
    accounts = Account.objects.visible_to(user)
    if own_only:
        accounts = accounts.filter(tam=user)
    return book_scope(accounts, label=policy.account_scope_label(user, own_only=own_only))
