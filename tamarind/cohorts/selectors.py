"""Reading cohorts: the list (scoped by the policy), the gated fetches (a cohort, one of its members or member
contacts), the members with their activity totals per kind, the recent activity and the accounts and contacts
that can be added. Each a fixed number of queries."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q, QuerySet, Sum
from django.http import Http404

from tamarind import policy
from tamarind.accounts.models import Account
from tamarind.cohorts.models import ActivityKind, Cohort, CohortActivity, CohortContact, CohortMember
from tamarind.contacts.models import Contact
from tamarind.people.models import User


def cohorts_for(user: User) -> QuerySet[Cohort]:
    """The cohorts ``user`` may read, with region and owners."""
    if not policy.can_view_cohorts(user):
        raise PermissionDenied("Cohorts are for TAMs, managers, directors and admins.")
    qs = Cohort.objects.for_list()
    scope = policy.cohort_scope(user)
    return (qs.filter(scope) if scope is not None else qs).distinct()


def cohort_for_user(user: User, cohort_id: int, *, write: bool = False) -> Cohort:
    """The gated fetch: out of scope -> 404; in scope but not managed by ``user`` and ``write`` -> 403. Sets
    ``cohort.can_manage`` for templates."""
    cohort = cohorts_for(user).filter(pk=cohort_id).first()
    if cohort is None:
        raise Http404("No such cohort.")
    owner_ids = {o.pk for o in cohort.owners.all()}
    cohort.can_manage = policy.can_manage_cohort(user, cohort, owner_ids)  # type: ignore[attr-defined]
    if write and not cohort.can_manage:  # type: ignore[attr-defined]
        raise PermissionDenied("You may read this cohort but not change it.")
    return cohort


def member_for_user(user: User, cohort_id: int, member_id: int, *, write: bool = False) -> CohortMember:
    cohort = cohort_for_user(user, cohort_id, write=write)
    member = CohortMember.objects.select_related("account").filter(cohort=cohort, pk=member_id).first()
    if member is None:
        raise Http404("No such member.")
    member.cohort = cohort
    return member


def member_by_account(user: User, cohort_id: int, account_id: int, *, write: bool = False) -> CohortMember:
    cohort = cohort_for_user(user, cohort_id, write=write)
    member = CohortMember.objects.select_related("account").filter(cohort=cohort, account_id=account_id).first()
    if member is None:
        raise Http404("No such member.")
    member.cohort = cohort
    return member


def contact_link_for_user(user: User, cohort_id: int, link_id: int, *, write: bool = False) -> CohortContact:
    cohort = cohort_for_user(user, cohort_id, write=write)
    link = (
        CohortContact.objects.select_related("member", "contact", "member__account")
        .filter(member__cohort=cohort, pk=link_id)
        .first()
    )
    if link is None:
        raise Http404("No such cohort contact.")
    link.member.cohort = cohort
    return link


def members(cohort: Cohort) -> list[CohortMember]:
    """Members (current first, then those that left) with their contacts and activity totals per kind
    (``member.totals``: kind -> count)."""
    sums = {kind: Sum("activities__count", filter=Q(activities__kind=kind)) for kind in ActivityKind.values}
    rows = list(
        CohortMember.objects.filter(cohort=cohort)
        .select_related("account", "account__region", "account__tam")
        .prefetch_related(
            Prefetch("contacts", queryset=CohortContact.objects.select_related("contact").order_by("contact__name"))
        )
        .annotate(**{f"n_{k}": v for k, v in sums.items()})
        .order_by("left_on", "account__name", "pk")
    )
    for m in rows:
        m.totals = {k: getattr(m, f"n_{k}") or 0 for k in ActivityKind.values}  # type: ignore[attr-defined]
    rows.sort(key=lambda m: (m.left_on is not None, m.account.name))
    return rows


def activity(cohort: Cohort) -> QuerySet[CohortActivity]:
    """The cohort's activity, newest first, with member account and contact."""
    return CohortActivity.objects.filter(member__cohort=cohort).select_related(
        "member__account", "contact", "recorded_by"
    )


def activity_totals(cohort: Cohort) -> dict[str, int]:
    rows = CohortActivity.objects.filter(member__cohort=cohort).values("kind").annotate(n=Sum("count"))
    out = dict.fromkeys(ActivityKind.values, 0)
    out.update({r["kind"]: r["n"] for r in rows})
    return out


def addable_accounts(user: User, cohort: Cohort, limit: int = 500) -> list[Account]:
    """Accounts the user reads that are not in the cohort (for the add-member picker)."""
    return list(
        Account.objects.visible_to(user)
        .exclude(cohort_memberships__cohort=cohort)
        .only("pk", "name", "crm_id")
        .order_by("name", "pk")[:limit]
    )


def addable_contacts(cohort: Cohort, limit: int = 500) -> list[Contact]:
    """Contacts at current member accounts not yet in the cohort."""
    return list(
        Contact.objects.filter(account__cohort_memberships__cohort=cohort, account__cohort_memberships__left_on=None)
        .exclude(cohort_links__member__cohort=cohort)
        .select_related("account")
        .order_by("account__name", "name", "pk")[:limit]
    )


def owner_choices() -> list[User]:
    from tamarind.people.models import Role

    return list(User.objects.filter(role=Role.TAM, is_active=True).order_by("full_name", "pk"))


def list_rows(user: User) -> list[Any]:
    """The list page's cohorts with member counts (one query for the counts)."""
    from django.db.models import Count

    return list(
        cohorts_for(user).annotate(n_members=Count("members", filter=Q(members__left_on__isnull=True), distinct=True))
    )


def member_totals(member: CohortMember) -> dict[str, int]:
    rows = CohortActivity.objects.filter(member=member).values("kind").annotate(n=Sum("count"))
    out = dict.fromkeys(ActivityKind.values, 0)
    out.update({r["kind"]: r["n"] for r in rows})
    return out


def contact_links(cohort: Cohort) -> list[CohortContact]:
    return list(
        CohortContact.objects.filter(member__cohort=cohort)
        .select_related("contact", "member")
        .order_by("member__account__name", "contact__name", "pk")
    )
