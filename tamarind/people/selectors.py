"""Reads of people and regions."""

from __future__ import annotations

from django.db.models import Count, DecimalField, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404

from tamarind import policy
from tamarind.people.models import ApiToken, Region, User, UserQuerySet


def people_list(*, user: User, q: str = "", role: str = "", region_id: int | None = None) -> UserQuerySet:
    if not policy.can_read_people(user):
        return User.objects.none()
    qs = User.objects.with_region().order_by("full_name", "id")
    if q:
        qs = qs.filter(Q(full_name__icontains=q) | Q(email__icontains=q))
    if role:
        qs = qs.filter(role=role)
    if region_id:
        qs = qs.filter(Q(region_id=region_id) | Q(managed_region__id=region_id))
    return qs


def person_for_user(user: User, person_id: int | str, *, write: bool = False) -> User:
    """The permission-gated fetch of a person: 404 when unreadable, 403 when ``write`` and not admin."""
    from django.core.exceptions import PermissionDenied

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
    from django.core.exceptions import PermissionDenied

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
