"""Reads of people and regions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import Count, DecimalField, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404

from tamarind import policy
from tamarind.people.models import ApiToken, Region, Role, User, UserQuerySet

if TYPE_CHECKING:
    from tamarind.accounts.models import Account
    from tamarind.accounts.selectors import BookScope

# A book above this share of its target is "near capacity"; above 100% it is over.
NEAR_CAPACITY_PCT = Decimal(90)


def people_list(
    *, user: User, q: str = "", role: str = "", region_id: int | None = None, active: bool | None = None
) -> UserQuerySet:
    """The people directory, filtered by text (name or email), role, region (member or manager) and status."""
    if not policy.can_read_people(user):
        return User.objects.get_queryset().none()
    qs = User.objects.with_region().order_by("full_name", "id")
    if q:
        qs = qs.filter(Q(full_name__icontains=q) | Q(email__icontains=q))
    if role:
        qs = qs.filter(role=role)
    if region_id:
        qs = qs.filter(Q(region_id=region_id) | Q(managed_region__id=region_id))
    if active is not None:
        qs = qs.filter(is_active=active)
    return qs


def person_for_user(user: User, person_id: int | str, *, write: bool = False) -> User:
    """The permission-gated fetch of a person: 404 when unreadable, 403 when ``write`` and not admin."""
    try:
        pk = int(person_id)
    except (TypeError, ValueError):
        raise Http404("No such person.") from None
    person = User.objects.with_region().filter(pk=pk).first()
    if person is None or not policy.can_read_people(user):
        raise Http404("No such person.")
    if write and not policy.can_manage_people(user):
        raise PermissionDenied("Only admins change people.")
    return person


def region_list(*, user: User) -> list[Region]:
    """Regions with their manager, member and account counts, and book ARR, in one query."""
    if not policy.can_read_people(user):
        return []
    from tamarind.accounts.models import Account

    # Subqueries, not joins: joining members and accounts together would multiply the sums.
    per_region = Account.objects.filter(region=OuterRef("pk")).order_by().values("region")
    return list(
        Region.objects.select_related("manager")
        .annotate(
            tam_count=Subquery(
                User.objects.filter(region=OuterRef("pk"), role="tam", is_active=True)
                .order_by()
                .values("region")
                .annotate(n=Count("id"))
                .values("n"),
                output_field=IntegerField(),
            ),
            account_count=Coalesce(
                Subquery(per_region.annotate(n=Count("id")).values("n"), output_field=IntegerField()),
                Value(0),
            ),
            book_arr=Coalesce(
                Subquery(per_region.annotate(s=Sum("arr")).values("s"), output_field=DecimalField()),
                Value(0, output_field=DecimalField()),
            ),
        )
        .order_by("name")
    )


def region_for_user(user: User, region_id: int | str, *, write: bool = False) -> Region:
    """The permission-gated fetch of a region: 404 when unreadable, 403 when ``write`` and not admin."""
    try:
        pk = int(region_id)
    except (TypeError, ValueError):
        raise Http404("No such region.") from None
    region = Region.objects.select_related("manager").filter(pk=pk).first()
    if region is None or not policy.can_read_people(user):
        raise Http404("No such region.")
    if write and not policy.can_manage_people(user):
        raise PermissionDenied("Only admins change regions.")
    return region


def tokens_for(*, user: User) -> list[ApiToken]:
    return list(ApiToken.objects.filter(user=user).order_by("-created_at"))


def user_with_scope(user_id: int) -> User | None:
    """A user with what the access policy reads (region, managed region) loaded in one query."""
    return User.objects.with_region().filter(pk=user_id).first()


# --- TAM books and capacity -------------------------------------------------------------------------


def with_tam_book(qs: UserQuerySet) -> UserQuerySet:
    """Annotate each person with the accounts they own as TAM: ``book_count`` and ``book_arr``.

    Subqueries, not a join and GROUP BY: the list stays one row per person and one query whatever its size.
    These are directory figures (like ``region_list``'s book ARR): the whole book, not the viewer's slice.
    """
    from tamarind.accounts.models import Account

    per_tam = Account.objects.filter(tam=OuterRef("pk")).order_by().values("tam")
    return qs.annotate(
        book_count=Coalesce(
            Subquery(per_tam.annotate(n=Count("id")).values("n"), output_field=IntegerField()),
            Value(0),
        ),
        book_arr=Coalesce(
            Subquery(per_tam.annotate(s=Sum("arr")).values("s"), output_field=DecimalField()),
            Value(0, output_field=DecimalField()),
        ),
    )


@dataclass(frozen=True)
class Capacity:
    """A TAM's book against their capacity target."""

    count: int
    arr: Decimal
    target: Decimal

    @property
    def pct(self) -> int:
        if not self.target:
            return 0 if not self.arr else 999
        return int((Decimal(self.arr) * 100 / self.target).to_integral_value())

    @property
    def room(self) -> Decimal:
        """ARR the TAM can still take on before reaching the target (never negative)."""
        return max(Decimal(0), self.target - self.arr)

    @property
    def bar_pct(self) -> int:
        """The width of a progress bar: the share, capped at a full bar."""
        return max(0, min(self.pct, 100))

    @property
    def state(self) -> str:
        """``over`` (above target), ``near`` (at least 90%) or ``ok``; drives the colour of the bar."""
        if self.pct > 100:
            return "over"
        if self.pct >= NEAR_CAPACITY_PCT:
            return "near"
        return "ok"


def carries_book(person: User) -> bool:
    """Whether capacity applies to ``person``: TAMs carry a book sized against a target. Data shape, not access."""
    return person.role == Role.TAM


def attach_capacity(people: Iterable[User]) -> None:
    """Set ``person.capacity`` (a Capacity, or None for non-TAMs) from the ``with_tam_book`` annotations."""
    for person in people:
        person.capacity = (  # type: ignore[attr-defined]
            Capacity(count=person.book_count, arr=Decimal(person.book_arr), target=person.effective_capacity())  # type: ignore[attr-defined]
            if carries_book(person)
            else None
        )


def person_capacity(person: User) -> Capacity | None:
    """The whole book ``person`` carries as TAM against their target (None for non-TAMs), in one query."""
    if not carries_book(person):
        return None
    from tamarind.accounts.models import Account

    totals = Account.objects.filter(tam=person).aggregate(n=Count("id"), arr=Sum("arr"))
    return Capacity(count=totals["n"], arr=Decimal(totals["arr"] or 0), target=person.effective_capacity())


@dataclass(frozen=True)
class OwnedAccount:
    """An account a person owns, and as what (TAM, SAL / AE, SA; possibly several)."""

    account: Account
    roles: tuple[str, ...]


def person_accounts(*, viewer: User, person: User) -> list[OwnedAccount]:
    """The accounts ``person`` owns as TAM, SAL/AE or SA that ``viewer`` may read, largest ARR first."""
    from tamarind.accounts.models import Account

    accounts = (
        Account.objects.visible_to(viewer)
        .filter(Q(tam=person) | Q(sal=person) | Q(sa=person))
        .select_related("region", "product_tier")
        .order_by("-arr", "name", "id")
    )
    out = []
    for account in accounts:
        roles = tuple(
            label
            for label, owner_id in (("TAM", account.tam_id), ("SAL / AE", account.sal_id), ("SA", account.sa_id))
            if owner_id == person.pk
        )
        out.append(OwnedAccount(account=account, roles=roles))
    return out


def person_owned_count(person: User) -> int:
    """How many accounts ``person`` owns in any role, regardless of who is looking (to say how many are hidden)."""
    from tamarind.accounts.models import Account

    return Account.objects.filter(Q(tam=person) | Q(sal=person) | Q(sa=person)).count()


# --- Regions --------------------------------------------------------------------------------------------


def region_tams(*, region: Region) -> list[User]:
    """The active TAMs of ``region`` with their book size and capacity, in one query."""
    people = list(with_tam_book(User.objects.tams().active().filter(region=region)).order_by("full_name", "id"))
    attach_capacity(people)
    return people


def region_members(*, region: Region) -> list[User]:
    """Everyone else who belongs to ``region`` (SAL/AE, SA, inactive TAMs), for the region page."""
    return list(
        User.objects.filter(region=region).exclude(Q(role=Role.TAM) & Q(is_active=True)).order_by("full_name", "id")
    )


@dataclass(frozen=True)
class RegionTotals:
    account_count: int
    book_arr: Decimal
    unassigned_count: int
    scope: BookScope  # the same book counted by ``accounts.selectors.book_scope``, for the page's caption


def region_totals(*, region: Region) -> RegionTotals:
    """The region's whole book: accounts, ARR, accounts without a TAM and what health reporting leaves out, in one
    query (``accounts.selectors.book_scope``, the count every page captions)."""
    from tamarind.accounts.models import Account
    from tamarind.accounts.selectors import book_scope

    scope = book_scope(Account.objects.filter(region=region))
    return RegionTotals(
        account_count=scope.accounts, book_arr=scope.arr, unassigned_count=scope.without_tam, scope=scope
    )


def manager_choices() -> UserQuerySet:
    """Active TAM Managers, each with the region they lead now (for the region form's chooser)."""
    return User.objects.active().filter(role=Role.MANAGER).select_related("managed_region").order_by("full_name")


def region_choices() -> list[Region]:
    return list(Region.objects.order_by("name"))


# --- API tokens -----------------------------------------------------------------------------------------


def token_for_user(user: User, token_id: int | str) -> ApiToken:
    """The gated fetch of an API token: your own, or anyone's for an admin; otherwise it does not exist (404)."""
    try:
        pk = int(token_id)
    except (TypeError, ValueError):
        raise Http404("No such token.") from None
    token = ApiToken.objects.select_related("user").filter(pk=pk).first()
    if token is None or not (token.user_id == user.pk or policy.can_manage_people(user)):
        raise Http404("No such token.")
    return token


# --- Who to sign in as -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TamBook:
    """A TAM's book at a glance: how many accounts, the health colors in it, onboardings under way, open triage
    cases. ``tamarind logins`` prints the TAMs whose book shows the most of the product first."""

    tam: User
    accounts: int
    colors: tuple[str, ...]
    onboarding: int
    triage: int

    @property
    def rank(self) -> tuple[int, int, int]:
        """Bigger is more representative: what the book has to show (onboarding, triage, a mix of colors with some
        green), then its size (up to a normal book's, so a TAM with one huge account never comes first)."""
        shows = (self.onboarding > 0) + (self.triage > 0) + ("green" in self.colors) + (len(self.colors) >= 2)
        return (shows, min(self.accounts, 25), -self.tam.pk)

    @property
    def summary(self) -> str:
        parts = [f"{self.accounts} account{'' if self.accounts == 1 else 's'}"]
        if self.colors:
            parts[0] += f" ({', '.join(self.colors)})"
        if self.onboarding:
            parts.append(f"{self.onboarding} onboarding")
        if self.triage:
            parts.append(f"{self.triage} triage case{'' if self.triage == 1 else 's'}")
        return " · ".join(parts)


def representative_tams(*, limit: int = 3) -> list[TamBook]:
    """The active TAMs whose books show the most (``TamBook.rank``), one per region first, then the next best.
    Four grouped queries, whatever the book."""
    from tamarind.accounts.models import Account
    from tamarind.onboarding.models import Onboarding
    from tamarind.triage.models import TriageCase

    tams = list(User.objects.active().filter(role=Role.TAM).select_related("region").order_by("pk"))
    if not tams:
        return []
    counts: dict[int, int] = {}
    colors: dict[int, set[str]] = {}
    for tam_id, color, n in (
        Account.objects.filter(tam__in=tams).values_list("tam_id", "health__color").annotate(n=Count("pk")).order_by()
    ):
        counts[tam_id] = counts.get(tam_id, 0) + n
        if color:
            colors.setdefault(tam_id, set()).add(color)
    onboarding = dict(
        Onboarding.objects.open().filter(tam__in=tams).values_list("tam_id").annotate(n=Count("pk")).order_by()
    )
    triage = dict(
        TriageCase.objects.open()
        .filter(account__tam__in=tams)
        .values_list("account__tam_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    order = ("green", "yellow", "red")
    books = sorted(
        (
            TamBook(
                tam=t,
                accounts=counts.get(t.pk, 0),
                colors=tuple(c for c in order if c in colors.get(t.pk, set())),
                onboarding=onboarding.get(t.pk, 0),
                triage=triage.get(t.pk, 0),
            )
            for t in tams
        ),
        key=lambda b: b.rank,
        reverse=True,
    )
    chosen: list[TamBook] = []
    regions: set[int | None] = set()
    for book in books:  # the best of each region first, so the logins show different books
        if len(chosen) < limit and book.tam.region_id not in regions:
            chosen.append(book)
            regions.add(book.tam.region_id)
    chosen += [b for b in books if b not in chosen][: limit - len(chosen)]
    return sorted(chosen, key=lambda b: b.rank, reverse=True)
