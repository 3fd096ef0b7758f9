"""The access policy, in one place. Every view, API route, CLI write and import goes through it.

| role        | reads                                   | writes                                                   |
|-------------|-----------------------------------------|----------------------------------------------------------|
| admin       | everything                              | everything; people, regions, imports, audit export       |
| director    | everything                              | nothing                                                  |
| TAM Manager | accounts of the region they manage      | those accounts, including the TAM (not moving regions)   |
| TAM         | accounts of their region                | the TAM-owned fields of accounts they own                |
| SAL/AE, SA  | accounts where they are the SAL/AE / SA | nothing                                                  |

Out-of-scope reads answer 404 (the object "does not exist" for that user); in-scope but forbidden writes
answer 403. Functions here are pure over the user and the object: no queries beyond attributes already
loaded (``user.managed_region`` is cached by ``people.selectors.user_with_scope``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q

from tamarind.people.models import Role

if TYPE_CHECKING:
    from tamarind.accounts.models import Account
    from tamarind.people.models import Region, User

# Fields a TAM may change on an account they own: the ones that describe their engagement.
TAM_OWNED_FIELDS: frozenset[str] = frozenset({"priority", "engagement_model", "lifecycle_stage", "collaboration_url"})

# Everything a manager may change on an account of their region. Moving an account to another region
# takes it out of the manager's hands, so that stays with admins.
MANAGER_FIELDS: frozenset[str] = frozenset(
    {
        "crm_id",
        "name",
        "parent",
        "segment",
        "arr",
        "currency",
        "product_tier",
        "licenses",
        "priority",
        "engagement_model",
        "tam",
        "sal",
        "sa",
        "customer_since",
        "next_renewal_date",
        "lifecycle_stage",
        "collaboration_url",
    }
)
ALL_FIELDS: frozenset[str] = MANAGER_FIELDS | {"region"}


def _active(user: User | None) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def managed_region_id(user: User) -> int | None:
    region = getattr(user, "managed_region", None) if user.role == Role.MANAGER else None
    return region.pk if region is not None else None


def managed_region(user: User) -> Region | None:
    """The region a TAM Manager leads (their default region for new accounts), else None."""
    return getattr(user, "managed_region", None) if user.role == Role.MANAGER else None


def can_delete_account(user: User, account: Account) -> bool:
    return _active(user) and user.role == Role.ADMIN and can_read_account(user, account)


def account_scope(user: User) -> Q | None:
    """A filter for the accounts ``user`` may read; ``None`` means every account."""
    if not _active(user):
        return Q(pk__in=[])
    if user.role in (Role.ADMIN, Role.DIRECTOR):
        return None
    if user.role == Role.MANAGER:
        rid = managed_region_id(user)
        return Q(region_id=rid) if rid is not None else Q(pk__in=[])
    if user.role == Role.TAM:
        # A TAM reads their region's book, and any account they own even if it sits elsewhere.
        return Q(region_id=user.region_id) | Q(tam_id=user.pk) if user.region_id else Q(tam_id=user.pk)
    if user.role == Role.SAL:
        return Q(sal_id=user.pk)
    if user.role == Role.SA:
        return Q(sa_id=user.pk)
    return Q(pk__in=[])


def account_scope_label(user: User, *, own_only: bool = False) -> str:
    """``account_scope`` in words, for the pages that count a book; ``own_only``: a dashboard that reviews the
    accounts a TAM owns (``_dashboard_scope``) rather than the region's book they read on *Accounts*."""
    if user.role in (Role.ADMIN, Role.DIRECTOR):
        return "The whole book"
    if user.role == Role.MANAGER:
        region = managed_region(user)
        return f"{region.name}'s book" if region is not None else "No region's book"
    if user.role == Role.TAM and user.region_id and not own_only:
        return f"{user.region.name}'s book and the accounts you own elsewhere"  # type: ignore[union-attr]
    return "The accounts you own"


def account_default_list(user: User) -> str:
    """Which account list a person lands on: a TAM the accounts they own ("mine"), others all they may read."""
    return "mine" if user.role == Role.TAM else "all"


def tam_filter_scope(user: User) -> Q | None:
    """A filter on User for the TAMs ``user`` may filter the account list by (``None``: every TAM): those who own
    an account ``user`` may read, and a TAM themselves."""
    scope = account_scope(user)
    if scope is None:
        return None
    from tamarind.accounts.models import Account

    owners = Q(pk__in=Account.objects.filter(scope, tam__isnull=False).values("tam_id"))
    return owners | Q(pk=user.pk) if user.role == Role.TAM else owners


def can_read_account(user: User, account: Account) -> bool:
    if not _active(user):
        return False
    if user.role in (Role.ADMIN, Role.DIRECTOR):
        return True
    if user.role == Role.MANAGER:
        return account.region_id == managed_region_id(user)
    if user.role == Role.TAM:
        return account.region_id == user.region_id or account.tam_id == user.pk
    if user.role == Role.SAL:
        return account.sal_id == user.pk
    if user.role == Role.SA:
        return account.sa_id == user.pk
    return False


def _account_team(user: User, account: Account) -> bool:
    """The people who act for an account: its TAM, its region's manager (who reads it), admins."""
    if not can_read_account(user, account):
        return False
    if user.role in (Role.ADMIN, Role.MANAGER):
        return True
    return user.role == Role.TAM and account.tam_id == user.pk


def account_writable_fields(user: User, account: Account) -> frozenset[str]:
    """The fields of ``account`` that ``user`` may change (empty: read-only)."""
    if not can_read_account(user, account):
        return frozenset()
    if user.role == Role.ADMIN:
        return ALL_FIELDS
    if user.role == Role.MANAGER:
        return MANAGER_FIELDS
    if user.role == Role.TAM and account.tam_id == user.pk:
        return TAM_OWNED_FIELDS
    return frozenset()


def can_write_account(user: User, account: Account) -> bool:
    return bool(account_writable_fields(user, account))


def can_set_tam(user: User, account: Account) -> bool:
    """Only the TAM Manager of the account's region, or an admin, sets or changes its TAM."""
    return "tam" in account_writable_fields(user, account)


def can_create_account(user: User, region: Region | None = None) -> bool:
    if not _active(user):
        return False
    if user.role == Role.ADMIN:
        return True
    if user.role == Role.MANAGER:
        return region is None or region.pk == managed_region_id(user)
    return False


def creatable_fields(user: User) -> frozenset[str]:
    if user.role == Role.ADMIN:
        return ALL_FIELDS
    if user.role == Role.MANAGER:
        return ALL_FIELDS  # the region is checked to be theirs by can_create_account
    return frozenset()


def can_read_people(user: User) -> bool:
    """The directory of people and regions is open to everyone signed in."""
    return _active(user)


def can_manage_people(user: User) -> bool:
    return _active(user) and user.role == Role.ADMIN


def can_import(user: User) -> bool:
    return _active(user) and user.role == Role.ADMIN


def can_export_accounts(user: User) -> bool:
    return _active(user) and user.role in (Role.ADMIN, Role.DIRECTOR, Role.MANAGER)


def can_view_audit_log(user: User) -> bool:
    return _active(user) and user.role == Role.ADMIN


def can_read_account_history(user: User, account: Account) -> bool:
    return can_read_account(user, account)


# --- Notifications ------------------------------------------------------------------------------------------
# A notification belongs to its recipient alone: they see it and mark it read; for everyone else, admins
# included, it does not exist (404). A person chooses their own email preference; admins may set anyone's.

if TYPE_CHECKING:
    from tamarind.notifications.models import Notification


def notification_scope(user: User) -> Q:
    """A filter for the notifications ``user`` may read: their own."""
    return Q(recipient_id=user.pk) if _active(user) else Q(pk__in=[])


def can_read_notification(user: User, notification: Notification) -> bool:
    return _active(user) and notification.recipient_id == user.pk


def can_set_email_notifications(user: User, person: User) -> bool:
    return _active(user) and (person.pk == user.pk or user.role == Role.ADMIN)


# --- Tasks (actions) ----------------------------------------------------------------------------------------
# A task belongs to its owner. The owner's TAM Manager (the manager of the region the owning TAM belongs to)
# and admins may change it too; directors read every task and change only their own; everyone else does not
# see it (404). "Team tasks" is the list of the tasks a manager, director or admin oversees.

if TYPE_CHECKING:
    from tamarind.actions.models import Task


def _manages_owner(user: User, owner: User) -> bool:
    """``user`` is the TAM Manager of ``owner``'s region and ``owner`` is a TAM there."""
    rid = managed_region_id(user)
    return rid is not None and owner.role == Role.TAM and owner.region_id == rid


def task_scope(user: User) -> Q | None:
    """A filter for the tasks ``user`` may read; ``None`` means every task."""
    if not _active(user):
        return Q(pk__in=[])
    if user.role in (Role.ADMIN, Role.DIRECTOR):
        return None
    rid = managed_region_id(user)
    if rid is not None:
        return Q(owner_id=user.pk) | Q(owner__region_id=rid, owner__role=Role.TAM)
    return Q(owner_id=user.pk)


def can_read_task(user: User, task: Task) -> bool:
    if not _active(user):
        return False
    if user.role in (Role.ADMIN, Role.DIRECTOR) or task.owner_id == user.pk:
        return True
    return _manages_owner(user, task.owner)


def can_change_task(user: User, task: Task) -> bool:
    """The owner, the owner's region manager, and admins change a task (status, snooze, due date, notes)."""
    if not _active(user):
        return False
    return user.role == Role.ADMIN or task.owner_id == user.pk or _manages_owner(user, task.owner)


def can_assign_task_to(user: User, owner: User) -> bool:
    """Whom ``user`` may hand a task to: themselves; a manager, their region's TAMs; an admin, anyone active."""
    if not _active(user) or not owner.is_active:
        return False
    return user.role == Role.ADMIN or owner.pk == user.pk or _manages_owner(user, owner)


def can_read_team_tasks(user: User) -> bool:
    return _active(user) and user.role in (Role.ADMIN, Role.DIRECTOR, Role.MANAGER)


def task_owner_scope(user: User) -> Q | None:
    """A filter on people whose tasks ``user`` reads (``None``: everyone)."""
    if not _active(user):
        return Q(pk__in=[])
    if user.role in (Role.ADMIN, Role.DIRECTOR):
        return None
    rid = managed_region_id(user)
    if rid is not None:
        return Q(pk=user.pk) | Q(region_id=rid, role=Role.TAM)
    return Q(pk=user.pk)


def task_assignee_scope(user: User) -> Q | None:
    """A filter on people ``user`` may give a task to, the query form of ``can_assign_task_to``."""
    if _active(user) and user.role == Role.ADMIN:
        return Q(is_active=True)
    scope = task_owner_scope(user)
    return Q(pk=user.pk) if scope is None else scope & Q(is_active=True)


# --- Scheduler (periodic jobs and their runs) ---------------------------------------------------------------
# Background machinery: admins see the jobs and their runs, change a job's interval or switch it off, and run one
# now. For everyone else the pages answer 403 and a job or run "does not exist" (404).


def can_view_scheduler(user: User) -> bool:
    return _active(user) and user.role == Role.ADMIN


def can_manage_scheduler(user: User) -> bool:
    return _active(user) and user.role == Role.ADMIN


# --- Onboarding and the account timeline (issue 3) --------------------------------------------------------------
# Who reads an account reads its onboarding records and its timeline. The account's TAM, its region's manager and
# admins write onboarding; directors read. The account's team (its TAM, SAL/AE, SA), the region's manager and
# admins log timeline entries.

if TYPE_CHECKING:
    from tamarind.onboarding.models import Onboarding


def _under(prefix: str, q: Q) -> Q:
    """``q`` rewritten to filter a related model through ``prefix`` (``region_id`` -> ``account__region_id``)."""
    out = Q()
    out.connector = q.connector
    out.negated = q.negated
    for child in q.children:
        if isinstance(child, Q):
            out.children.append(_under(prefix, child))
        else:
            lookup, value = child  # type: ignore[misc]
            out.children.append((f"{prefix}{lookup}", value))
    return out


def onboarding_scope(user: User) -> Q | None:
    """A filter on Onboarding for the records ``user`` may read; ``None`` means every record."""
    scope = account_scope(user)
    return None if scope is None else _under("account__", scope)


def can_read_onboarding(user: User, onboarding: Onboarding) -> bool:
    return can_read_account(user, onboarding.account)


def can_write_onboarding(user: User, onboarding: Onboarding) -> bool:
    """The record's (or the account's) TAM, the account's region manager, admins."""
    if not can_read_account(user, onboarding.account):
        return False
    if user.role in (Role.ADMIN, Role.MANAGER):
        return True
    return user.role == Role.TAM and user.pk in (onboarding.tam_id, onboarding.account.tam_id)


def can_start_onboarding(user: User, account: Account) -> bool:
    """Starting or reassigning an onboarding follows setting the TAM: the region's manager or an admin."""
    return can_set_tam(user, account)


def can_edit_onboarding_targets(user: User) -> bool:
    return _active(user) and user.role == Role.ADMIN


def onboarding_default_list(user: User) -> str:
    """Which onboarding list a person lands on: a TAM their own records ("mine"), others all they may read."""
    return "mine" if user.role == Role.TAM else "all"


def timeline_scope(user: User) -> Q | None:
    """A filter on TimelineEntry for the entries ``user`` may read; ``None`` means every entry."""
    scope = account_scope(user)
    return None if scope is None else _under("account__", scope)


def can_read_timeline(user: User, account: Account) -> bool:
    return can_read_account(user, account)


def can_log_timeline(user: User, account: Account) -> bool:
    """The account's TAM, SAL/AE and SA, its region's manager and admins log calls, meetings, emails and notes."""
    if not can_read_account(user, account):
        return False
    if user.role in (Role.ADMIN, Role.MANAGER):
        return True
    owner = {Role.TAM: account.tam_id, Role.SAL: account.sal_id, Role.SA: account.sa_id}.get(Role(user.role))
    return owner is not None and owner == user.pk


# --- Assignment (qualification rules, accounts to staff) ----------------------------------------------------
# Everyone signed in may read the rules (they explain tasks and lists); only admins (CS Operations) change them.
# "New accounts to staff" is the TAM Managers' list: managers see their region, directors and admins all.


def can_read_rules(user: User) -> bool:
    return _active(user)


def can_edit_rules(user: User) -> bool:
    return _active(user) and user.role == Role.ADMIN


def can_view_staffing(user: User) -> bool:
    return _active(user) and user.role in (Role.ADMIN, Role.DIRECTOR, Role.MANAGER)


# --- Dashboards (issue 3) -------------------------------------------------------------------------------------
# The Customer Onboarding Dashboard is the TAM teams' view of onboarding. Directors and admins see every region
# (and filter by region); a TAM Manager sees their region's records and the TAMs who work them; a TAM sees the
# dashboard of their own records (their figures against the targets, nothing of colleagues'). SAL/AE and SA have
# no onboarding book to review: 403. Assigning an unassigned account from it follows ``can_set_tam``.
# The scopes below filter Onboarding rows; accounts to staff follow ``account_scope``.


def can_view_onboarding_dashboard(user: User) -> bool:
    return _active(user) and user.role in (Role.ADMIN, Role.DIRECTOR, Role.MANAGER, Role.TAM)


def onboarding_dashboard_scope(user: User) -> Q | None:
    """A filter on Onboarding for the records counted on ``user``'s dashboard; ``None`` means every record."""
    return _dashboard_scope(user, region_field="account__region_id")


def _dashboard_scope(user: User, *, region_field: str) -> Q | None:
    """The dashboards' shared scope: admins and directors all, a manager their region (``region_field``), a TAM
    their own (``tam_id``), anyone else nothing. ``None`` means everything."""
    if not can_view_onboarding_dashboard(user):
        return Q(pk__in=[])
    if user.role in (Role.ADMIN, Role.DIRECTOR):
        return None
    if user.role == Role.MANAGER:
        rid = managed_region_id(user)
        return Q(**{region_field: rid}) if rid is not None else Q(pk__in=[])
    return Q(tam_id=user.pk)


def onboarding_dashboard_region_scope(user: User) -> Q | None:
    """A filter on Region for the regions ``user``'s dashboard covers (``None``: all); empty for a TAM."""
    if not can_view_onboarding_dashboard(user) or user.role == Role.TAM:
        return Q(pk__in=[])
    if user.role in (Role.ADMIN, Role.DIRECTOR):
        return None
    rid = managed_region_id(user)
    return Q(pk=rid) if rid is not None else Q(pk__in=[])


def can_filter_dashboard_by_region(user: User) -> bool:
    return _active(user) and user.role in (Role.ADMIN, Role.DIRECTOR)


def can_filter_dashboard_by_tam(user: User) -> bool:
    return _active(user) and user.role in (Role.ADMIN, Role.DIRECTOR, Role.MANAGER)


# --- Triage (issue 4) ---------------------------------------------------------------------------------------
# Who reads an account reads its triage cases and escalations. The account's TAM (or the case's owner, when a
# TAM), the region's manager and admins open, move, update and close cases and escalations; directors, SAL/AE
# and SA read. Everyone signed in sees the board of the cases they may read. Admins edit the triage settings.

if TYPE_CHECKING:
    from tamarind.triage.models import Escalation, TriageCase


def triage_case_scope(user: User) -> Q | None:
    """A filter on TriageCase for the cases ``user`` may read; ``None`` means every case."""
    scope = account_scope(user)
    return None if scope is None else _under("account__", scope)


def escalation_scope(user: User) -> Q | None:
    """A filter on Escalation for the escalations ``user`` may read; ``None`` means every one."""
    return triage_case_scope(user)


def can_view_triage_board(user: User) -> bool:
    return _active(user)


def can_open_triage_case(user: User, account: Account) -> bool:
    """The account's TAM, its region's manager, admins."""
    return _account_team(user, account)


def can_read_triage_case(user: User, case: TriageCase) -> bool:
    return can_read_account(user, case.account)


def can_write_triage_case(user: User, case: TriageCase) -> bool:
    """The account's TAM or the case's owner (a TAM), the region's manager, admins."""
    if not can_read_account(user, case.account):
        return False
    if user.role in (Role.ADMIN, Role.MANAGER):
        return True
    return user.role == Role.TAM and user.pk in (case.account.tam_id, case.owner_id)


def can_read_escalation(user: User, escalation: Escalation) -> bool:
    return can_read_account(user, escalation.account)


def can_write_escalation(user: User, escalation: Escalation) -> bool:
    return can_open_triage_case(user, escalation.account) or (
        _active(user)
        and user.role == Role.TAM
        and escalation.owner_id == user.pk
        and can_read_account(user, escalation.account)
    )


def can_edit_triage_settings(user: User) -> bool:
    return _active(user) and user.role == Role.ADMIN


# --- Usage and support data -------------------------------------------------------------------------------------
# Product usage and tickets come from other systems: admins (CS Operations) push and import them and add use-case
# metrics. An account's usage is read by whoever reads the account.


def can_push_usage(user: User) -> bool:
    return _active(user) and user.role == Role.ADMIN


def can_manage_usage_metrics(user: User) -> bool:
    return _active(user) and user.role == Role.ADMIN


def can_read_usage(user: User, account: Account) -> bool:
    return can_read_account(user, account)


# --- Health (issue 4) -------------------------------------------------------------------------------------------
# Whoever reads an account reads its health (score, breakdown, history, sentiments). The account's TAM, its
# region's TAM Manager and admins set the TAM sentiment (the health review); admins (CS Operations) edit the health
# model, which everyone signed in may read (it explains every score).


def can_read_health(user: User, account: Account) -> bool:
    return can_read_account(user, account)


def can_set_sentiment(user: User, account: Account) -> bool:
    """The account's TAM, its region's manager, admins."""
    return _account_team(user, account)


def can_read_health_model(user: User) -> bool:
    return _active(user)


def can_edit_health_model(user: User) -> bool:
    return _active(user) and user.role == Role.ADMIN


# --- Health dashboard (issue 4) ---------------------------------------------------------------------------------
# The Customer Health Dashboard reviews a book's health. Directors and admins see every region (and filter by
# region and TAM); a TAM Manager sees their region's accounts (and filters by TAM); a TAM sees the accounts they
# own (not their region's whole book: the dashboard is a review of one's own book). SAL/AE and SA read health on
# their accounts' pages but have no book to review here: 403. Accounts that will churn are out of health reporting.


def can_view_health_dashboard(user: User) -> bool:
    """The same people as the onboarding dashboard: admins, directors, managers, TAMs."""
    return can_view_onboarding_dashboard(user)


def health_dashboard_scope(user: User) -> Q | None:
    """A filter on Account for the accounts counted on ``user``'s health dashboard; ``None`` means every account."""
    return _dashboard_scope(user, region_field="region_id")


def health_dashboard_region_scope(user: User) -> Q | None:
    """A filter on Region for the regions ``user``'s health dashboard covers: the onboarding dashboard's."""
    return onboarding_dashboard_region_scope(user)


# --- Success plans and EBRs (issue 10) -------------------------------------------------------------------------
# Who reads an account reads its success plans, their reviews and its EBRs. The account's TAM, its region's
# manager and admins write plans and EBRs; directors, SAL/AE and SA read. The region's manager (and admins) record
# manager reviews; a plan's writer asks another TAM who reads the account for a peer review, which that TAM answers.

if TYPE_CHECKING:
    from tamarind.success.models import PlanReview, SuccessPlan


def success_plan_scope(user: User) -> Q | None:
    """A filter on SuccessPlan (and Ebr) for the rows ``user`` may read; ``None`` means every row."""
    scope = account_scope(user)
    return None if scope is None else _under("account__", scope)


def success_review_scope(user: User) -> Q | None:
    """A filter on PlanReview for the reviews ``user`` may read; ``None`` means every review."""
    scope = account_scope(user)
    return None if scope is None else _under("plan__account__", scope)


def can_write_success_plan(user: User, account: Account) -> bool:
    """The account's TAM, its region's manager, admins (archived plans are read-only for everyone: services)."""
    return _account_team(user, account)


def can_manager_review_plan(user: User, plan: SuccessPlan) -> bool:
    return can_read_account(user, plan.account) and user.role in (Role.ADMIN, Role.MANAGER)


def can_request_peer_review(user: User, plan: SuccessPlan) -> bool:
    return can_write_success_plan(user, plan.account)


def can_be_peer_reviewer(reviewer: User, plan: SuccessPlan) -> bool:
    """A peer reviewer is an active TAM who may read the plan's account (not its own TAM)."""
    return (
        _active(reviewer)
        and reviewer.role == Role.TAM
        and reviewer.pk != plan.account.tam_id
        and can_read_account(reviewer, plan.account)
    )


def can_answer_review(user: User, review: PlanReview) -> bool:
    """A requested peer review is answered by its reviewer (who must still read the account)."""
    return _active(user) and review.reviewer_id == user.pk and can_read_account(user, review.plan.account)


def can_edit_success_settings(user: User) -> bool:
    return _active(user) and user.role == Role.ADMIN


def can_view_success_list(user: User) -> bool:
    return _active(user)


# --- Reviews, 1:1s, the regional dashboard and the burn-down (issue 12) -----------------------------------------
# A region's reviews belong to its TAM Manager: they open, decide, note and complete them. Directors and admins
# read every region's (admins also run them); a TAM reads their own 1:1s only and adds to the agenda and their own
# notes before and during the meeting; another TAM's 1:1 does not exist for them (404). SAL/AE and SA have none.
# The regional dashboard and the burn-down are the managers' and directors' (a TAM sees their own book's figures).

if TYPE_CHECKING:
    from tamarind.reviews.models import ReviewOccurrence


def can_view_reviews(user: User) -> bool:
    return _active(user) and user.role in (Role.ADMIN, Role.DIRECTOR, Role.MANAGER, Role.TAM)


def review_scope(user: User) -> Q | None:
    """A filter on ReviewOccurrence for the reviews ``user`` may read; ``None`` means every one."""
    if not can_view_reviews(user):
        return Q(pk__in=[])
    if user.role in (Role.ADMIN, Role.DIRECTOR):
        return None
    if user.role == Role.MANAGER:
        rid = managed_region_id(user)
        return Q(region_id=rid) if rid is not None else Q(pk__in=[])
    return Q(subject_id=user.pk)


def review_schedule_scope(user: User) -> Q | None:
    """A filter on ReviewSchedule: admins and directors all, a manager their region's, others none."""
    if not _active(user) or user.role not in (Role.ADMIN, Role.DIRECTOR, Role.MANAGER):
        return Q(pk__in=[])
    if user.role == Role.MANAGER:
        rid = managed_region_id(user)
        return Q(region_id=rid) if rid is not None else Q(pk__in=[])
    return None


def can_read_review(user: User, review: ReviewOccurrence) -> bool:
    if not can_view_reviews(user):
        return False
    if user.role in (Role.ADMIN, Role.DIRECTOR):
        return True
    if user.role == Role.MANAGER:
        return review.region_id == managed_region_id(user)
    return review.subject_id == user.pk


def can_run_review(user: User, review: ReviewOccurrence) -> bool:
    """Open, decide, note, set attendees, complete: the region's manager and admins."""
    if not can_read_review(user, review):
        return False
    return user.role == Role.ADMIN or (user.role == Role.MANAGER and review.region_id == managed_region_id(user))


def can_add_to_agenda(user: User, review: ReviewOccurrence) -> bool:
    """Add an item, or write one's own side's notes: the runners, and the TAM of a 1:1."""
    return can_run_review(user, review) or (
        can_read_review(user, review) and user.role == Role.TAM and review.subject_id == user.pk
    )


def can_view_review_schedules(user: User) -> bool:
    """The cadences page: admins and directors (every region), TAM Managers (their region)."""
    return _active(user) and user.role in (Role.ADMIN, Role.DIRECTOR, Role.MANAGER)


def can_edit_review_schedule(user: User, region_id: int) -> bool:
    """Cadence, owner, time: admins anywhere, a TAM Manager in their own region."""
    if not _active(user):
        return False
    return user.role == Role.ADMIN or (user.role == Role.MANAGER and managed_region_id(user) == region_id)


def can_edit_review_settings(user: User) -> bool:
    """The cockpit's thresholds and the default capacity target: admins (CS Operations)."""
    return _active(user) and user.role == Role.ADMIN


def can_view_cockpit(user: User) -> bool:
    """My week, the TAM Regional Dashboard and the burn-down: admins, directors, managers and TAMs."""
    return can_view_reviews(user)


def cockpit_region_scope(user: User) -> Q | None:
    """A filter on Region for the regions ``user``'s cockpit covers (``None``: all; a TAM: their region)."""
    if not can_view_cockpit(user):
        return Q(pk__in=[])
    if user.role in (Role.ADMIN, Role.DIRECTOR):
        return None
    if user.role == Role.MANAGER:
        rid = managed_region_id(user)
        return Q(pk=rid) if rid is not None else Q(pk__in=[])
    return Q(pk=user.region_id) if user.region_id else Q(pk__in=[])


def cockpit_tam_only(user: User) -> bool:
    """A TAM's cockpit counts the accounts they own, not their colleagues'."""
    return user.role == Role.TAM


def home_url_name(user: User) -> str:
    """Where a person lands after signing in: a TAM Manager on My week, everyone else on their accounts."""
    return "reviews:my_week" if _active(user) and user.role == Role.MANAGER else "accounts:list"


# --- Engagement models, capacity and iterations (issue 13) ----------------------------------------------------
# Everyone signed in reads the models (they say how customers are served). Admins (CS Operations) edit them,
# the capacity targets and iterations. Capacity, the what-if planner and the comparison are the managers' and
# leaders' views: a TAM Manager sees their region's TAMs, directors and admins every region. Moving an account
# between models by hand is a change of its engagement model field (``account_writable_fields``).


def can_read_engagement_models(user: User) -> bool:
    return _active(user)


def can_edit_engagement_models(user: User) -> bool:
    return _active(user) and user.role == Role.ADMIN


def can_view_capacity(user: User) -> bool:
    return _active(user) and user.role in (Role.ADMIN, Role.DIRECTOR, Role.MANAGER)


def capacity_region_id(user: User) -> int | None:
    """The one region a capacity view is limited to (a manager's), or ``None`` for every region."""
    return managed_region_id(user) if user.role == Role.MANAGER else None


def can_place_account(user: User, account: Account) -> bool:
    return "engagement_model" in account_writable_fields(user, account)


# --- Service Desk (issue 13) -----------------------------------------------------------------------------------
# A pool's requests are read and worked by its TAMs and its manager; directors read every pool, admins do
# everything. Everyone else gets 404 for a request (it "does not exist" for them). A pool's TAMs, its manager and
# admins enter requests for its accounts and manage their request links; a TAM sets their own availability.


def servicedesk_request_scope(user: User) -> Q | None:
    """A filter on ServiceRequest for the requests ``user`` may read; ``None`` means every request."""
    if not _active(user):
        return Q(pk__in=[])
    if user.role in (Role.ADMIN, Role.DIRECTOR):
        return None
    return Q(pool__members__tam_id=user.pk) | Q(pool__manager_id=user.pk)


def can_view_servicedesk(user: User) -> bool:
    return _active(user) and user.role in (Role.ADMIN, Role.DIRECTOR, Role.MANAGER, Role.TAM)


def _in_pool(user: User, pool_id: int, member_ids: frozenset[int] | set[int], manager_id: int | None) -> bool:
    return user.pk in member_ids or manager_id == user.pk


def can_work_request(user: User, request: object) -> bool:
    """Answer, change or reassign a request: its pool's TAMs and manager, and admins. Needs
    ``request.pool_member_ids`` (selectors set it) or reads the pool's members."""
    if not _active(user):
        return False
    if user.role == Role.ADMIN:
        return True
    pool = request.pool  # type: ignore[attr-defined]
    member_ids = getattr(request, "pool_member_ids", None)
    if member_ids is None:
        member_ids = set(pool.members.values_list("tam_id", flat=True))
    return _in_pool(user, pool.pk, member_ids, pool.manager_id)


def can_manage_pools(user: User) -> bool:
    return _active(user) and user.role == Role.ADMIN


def can_set_pool_member(user: User, pool: object, tam: User) -> bool:
    if not _active(user):
        return False
    return user.role == Role.ADMIN or pool.manager_id == user.pk or tam.pk == user.pk  # type: ignore[attr-defined]


def _pool_user(user: User, account: Account) -> bool:
    from tamarind.servicedesk.models import Pool

    if not _active(user):
        return False
    if user.role == Role.ADMIN:
        return True
    if user.role not in (Role.MANAGER, Role.TAM):
        return False
    pools = Pool.objects.filter(engagement_model=account.engagement_model, is_active=True)
    return pools.filter(Q(members__tam_id=user.pk) | Q(manager_id=user.pk)).exists()


def can_enter_request(user: User, account: Account) -> bool:
    return _pool_user(user, account)


def can_manage_request_link(user: User, account: Account) -> bool:
    return _pool_user(user, account)


# --- Renewals and retention (issue 11) --------------------------------------------------------------------------
# Who reads an account reads its renewals. The account's TAM and SAL/AE, its region's manager and admins change a
# renewal (forecast, next steps, notes, close it); directors and the SA read. The renewal review page and the
# retention page show what the user may read. The region's manager and admins record a renewal review; directors
# read every region's reviews (and see which are overdue), a manager their region's. Admins edit the settings.

if TYPE_CHECKING:
    from tamarind.renewals.models import Renewal, RenewalReview


def renewal_scope(user: User) -> Q | None:
    """A filter on Renewal for the renewals ``user`` may read; ``None`` means every renewal."""
    scope = account_scope(user)
    return None if scope is None else _under("account__", scope)


def can_read_renewal(user: User, renewal: Renewal) -> bool:
    return can_read_account(user, renewal.account)


def can_write_renewal_for(user: User, account: Account) -> bool:
    """The account's TAM and SAL/AE, its region's manager, admins."""
    if not can_read_account(user, account):
        return False
    if user.role in (Role.ADMIN, Role.MANAGER):
        return True
    return (user.role == Role.TAM and account.tam_id == user.pk) or (
        user.role == Role.SAL and account.sal_id == user.pk
    )


def can_write_renewal(user: User, renewal: Renewal) -> bool:
    return can_write_renewal_for(user, renewal.account)


def renewal_review_scope(user: User) -> Q | None:
    """A filter on RenewalReview: admins and directors all, a manager their region, TAMs their region's."""
    if not _active(user):
        return Q(pk__in=[])
    if user.role in (Role.ADMIN, Role.DIRECTOR):
        return None
    rid = managed_region_id(user) if user.role == Role.MANAGER else user.region_id
    return Q(region_id=rid) if rid is not None else Q(pk__in=[])


def can_read_renewal_review(user: User, review: RenewalReview) -> bool:
    if not _active(user):
        return False
    if user.role in (Role.ADMIN, Role.DIRECTOR):
        return True
    rid = managed_region_id(user) if user.role == Role.MANAGER else user.region_id
    return rid is not None and review.region_id == rid


def can_record_renewal_review(user: User, region: Region | None = None) -> bool:
    """The region's manager (their own region), admins (any region)."""
    if not _active(user):
        return False
    if user.role == Role.ADMIN:
        return True
    rid = managed_region_id(user)
    return rid is not None and (region is None or region.pk == rid)


def can_view_review_overdue(user: User) -> bool:
    """Overdue renewal reviews show to the managers who hold them, directors and admins."""
    return _active(user) and user.role in (Role.ADMIN, Role.DIRECTOR, Role.MANAGER)


def can_edit_renewal_settings(user: User) -> bool:
    return _active(user) and user.role == Role.ADMIN


def can_view_retention(user: User) -> bool:
    """Retention is the managers', directors' and admins' figure (over the accounts they read)."""
    return _active(user) and user.role in (Role.ADMIN, Role.DIRECTOR, Role.MANAGER)


# --- Stuck customers (pooled triage) ----------------------------------------------------------------------------
# A stuck case is read and worked (claimed, outreach logged, resolved) by the TAMs of its pool, the pool's manager,
# the manager of the account's region and admins; directors read every case (writes: 403). SAL/AE and SA have no
# stuck queue (403); a TAM or manager outside the case's pool and region gets 404 for it.


def stuck_case_scope(user: User) -> Q | None:
    """A filter on StuckCase for the cases ``user`` may read; ``None`` means every case."""
    if not _active(user):
        return Q(pk__in=[])
    if user.role in (Role.ADMIN, Role.DIRECTOR):
        return None
    if user.role == Role.MANAGER:
        rid = managed_region_id(user)
        own = Q(pool__manager_id=user.pk)
        return own | Q(account__region_id=rid) if rid is not None else own
    if user.role == Role.TAM:
        return Q(pool__members__tam_id=user.pk)
    return Q(pk__in=[])


def can_view_stuck(user: User) -> bool:
    return _active(user) and user.role in (Role.ADMIN, Role.DIRECTOR, Role.MANAGER, Role.TAM)


def can_work_stuck_case(user: User, case: object) -> bool:
    """Claim, log outreach on, resolve: the pool's TAMs and manager, the region's manager, admins. Needs
    ``case.pool_member_ids`` (the selectors set it) or reads the pool's members."""
    if not _active(user):
        return False
    if user.role == Role.ADMIN:
        return True
    if user.role not in (Role.MANAGER, Role.TAM):
        return False
    account = case.account  # type: ignore[attr-defined]
    if user.role == Role.MANAGER and account.region_id == managed_region_id(user):
        return True
    pool = case.pool  # type: ignore[attr-defined]
    if pool is None:
        return False
    member_ids = getattr(case, "pool_member_ids", None)
    if member_ids is None:
        member_ids = set(pool.members.values_list("tam_id", flat=True))
    return _in_pool(user, pool.pk, member_ids, pool.manager_id)


# --- Contacts -----------------------------------------------------------------------------------------------------
# A contact is read by whoever reads its account and written (created, edited, deleted, opted out or in) by whoever
# writes the account (admin, the region's manager, the account's TAM); other readers get 403, outsiders 404.


def contact_scope(user: User) -> Q | None:
    """A filter on Contact for the contacts ``user`` may read; ``None`` means every contact."""
    scope = account_scope(user)
    return None if scope is None else _under("account__", scope)


# --- Surveys (issue 14) -----------------------------------------------------------------------------------------
# Who reads an account reads its survey invitations and answers (the account page, the API). The results page is
# for admins and directors (every account), managers (their region) and TAMs (the accounts they own); SAL/AE and
# SA have none (403). Who writes the account (its TAM, the region's manager, admins) sends and revokes invitations;
# directors read (403). The answer link needs no sign-in: the token is the credential (surveys.views.answer).


def can_view_survey_results(user: User) -> bool:
    return _active(user) and user.role in (Role.ADMIN, Role.DIRECTOR, Role.MANAGER, Role.TAM)


def survey_results_scope(user: User) -> Q | None:
    """A filter on Account for the accounts whose answers the results page counts; ``None``: every account."""
    if not can_view_survey_results(user):
        return Q(pk__in=[])
    if user.role in (Role.ADMIN, Role.DIRECTOR):
        return None
    if user.role == Role.MANAGER:
        rid = managed_region_id(user)
        return Q(region_id=rid) if rid is not None else Q(pk__in=[])
    return Q(tam_id=user.pk)


def survey_account_scope(user: User) -> Q | None:
    """A filter on SurveyInvitation / SurveyAnswer (both carry ``account``) for what ``user`` may read."""
    scope = account_scope(user)
    return None if scope is None else _under("account__", scope)


def can_read_contacts(user: User, account: Account) -> bool:
    return can_read_account(user, account)


def can_write_contacts(user: User, account: Account) -> bool:
    """Add, edit, delete and opt out the contacts of ``account``."""
    return can_write_account(user, account)


def can_send_survey(user: User, account: Account) -> bool:
    """Send or revoke an invitation: the account's TAM, the region's manager, admins."""
    return _account_team(user, account)


# --- journeys ---------------------------------------------------------------------------------------------------
# Digital journey programs are company-wide (not per region): admins and TAM Managers edit them (steps, pause,
# resume); TAMs and directors read them. SAL/AE and SA have no program pages (403). An account's journey (its sends
# and events) is read by whoever reads the account (``account_for_user``). The public links of a send (tracking
# image, click redirect, unsubscribe) need no sign-in: the token is the credential.


def can_view_journeys(user: User) -> bool:
    return _active(user) and user.role in (Role.ADMIN, Role.DIRECTOR, Role.MANAGER, Role.TAM)


def can_edit_journeys(user: User) -> bool:
    return _active(user) and user.role in (Role.ADMIN, Role.MANAGER)


# --- Customer cohorts (issue 14) --------------------------------------------------------------------------------
# A cohort's region is its own optional field: empty means company-wide. Admins and directors read every cohort;
# a TAM Manager reads their region's cohorts and the company-wide ones; a TAM reads the cohorts of their region,
# the company-wide ones and those they own. Admins, the manager of the cohort's region and its TAM owners manage it
# (edit, members, contacts, activity, CSV import); everyone else who reads it is read-only (403). Company-wide
# cohorts are managed by admins and their owners. Admins and managers create cohorts (a manager's in their
# region); admins and the region's manager delete them. SAL/AE and SA have no cohort pages (403).


def can_view_cohorts(user: User) -> bool:
    return _active(user) and user.role in (Role.ADMIN, Role.DIRECTOR, Role.MANAGER, Role.TAM)


def cohort_scope(user: User) -> Q | None:
    """A filter on Cohort for the cohorts ``user`` may read; ``None`` means every cohort."""
    if not can_view_cohorts(user):
        return Q(pk__in=[])
    if user.role in (Role.ADMIN, Role.DIRECTOR):
        return None
    company = Q(region__isnull=True)
    if user.role == Role.MANAGER:
        rid = managed_region_id(user)
        return company | Q(region_id=rid) if rid is not None else company
    rid = user.region_id
    mine = company | Q(owners=user.pk)
    return mine | Q(region_id=rid) if rid is not None else mine


def can_create_cohort(user: User) -> bool:
    return _active(user) and (user.role == Role.ADMIN or managed_region_id(user) is not None)


def can_manage_cohort(user: User, cohort: object, owner_ids: set[int] | frozenset[int] | None = None) -> bool:
    """Edit a cohort and its members, contacts and activity. ``owner_ids`` saves a query when already loaded."""
    if not _active(user):
        return False
    if user.role == Role.ADMIN:
        return True
    region_id = cohort.region_id  # type: ignore[attr-defined]
    if user.role == Role.MANAGER and region_id is not None and region_id == managed_region_id(user):
        return True
    if user.role != Role.TAM:
        return False
    if owner_ids is None:
        owner_ids = {o.pk for o in cohort.owners.all()}  # type: ignore[attr-defined]
    return user.pk in owner_ids


def can_delete_cohort(user: User, cohort: object) -> bool:
    if not _active(user):
        return False
    if user.role == Role.ADMIN:
        return True
    region_id = cohort.region_id  # type: ignore[attr-defined]
    return user.role == Role.MANAGER and region_id is not None and region_id == managed_region_id(user)


# --- Enablement webinars (issue 14) ------------------------------------------------------------------------------
# Topics, sessions and the season's metrics are read by TAMs, managers, directors and admins (SAL/AE and SA: 403).
# Admins and TAM Managers create and edit sessions, import attendee reports and match unmatched attendees; directors
# and TAMs read (writes: 403). Attendance at an account follows the account's visibility: a person sees the
# attendance (and the metrics) of the accounts they may read, and matches attendees only to contacts there (404).


def can_view_webinars(user: User) -> bool:
    return _active(user) and user.role in (Role.ADMIN, Role.DIRECTOR, Role.MANAGER, Role.TAM)


def can_edit_webinars(user: User) -> bool:
    return _active(user) and user.role in (Role.ADMIN, Role.MANAGER)


def webinar_attendance_scope(user: User) -> Q | None:
    """A filter on Attendance (or anything with an ``account``) for the rows ``user`` may read; ``None``: all."""
    scope = account_scope(user)
    if scope is None:
        return None
    from tamarind.accounts.models import Account

    return Q(account_id__in=Account.objects.filter(scope).values("pk"))


# --- Signals (evidence for the early-warning indicators, issue 15) ---------------------------------------------
# The Signals back-test is read by admins, directors, managers and TAMs (SAL/AE and SA: 403), each over the accounts
# they may see (``Account.objects.visible_to``): a manager's figures are computed over their region. Trust labels
# and the back-test settings are set by admins only (others: 403).


def can_view_signals(user: User) -> bool:
    return _active(user) and user.role in (Role.ADMIN, Role.DIRECTOR, Role.MANAGER, Role.TAM)


def can_manage_signals(user: User) -> bool:
    return _active(user) and user.role == Role.ADMIN


# --- Suggested health weights (issue 15) ------------------------------------------------------------------------
# The suggested weights are read by whoever reads the Signals back-test (each fit over the accounts they may see);
# turning them into a draft of the health model needs both managing signals and editing the health model (admins).


def can_draft_health_weights(user: User) -> bool:
    return can_manage_signals(user) and can_edit_health_model(user)


# --- Service desk pools -----------------------------------------------------------------------------------------
# Admins create pools, name their manager and deactivate (or reactivate) them. A pool's manager edits it too (its
# name, criteria, precedence, hours, email address) and adds and removes its TAMs. Everyone on the desk reads every
# pool (``can_view_servicedesk``); other desk users are refused writes (403), people off the desk get 403 as for
# every desk page, and an unknown pool is 404.


def can_edit_pool(user: User, pool: object) -> bool:
    if not _active(user):
        return False
    return user.role == Role.ADMIN or pool.manager_id == user.pk  # type: ignore[attr-defined]


# --- Manager's cockpit at scale (issue 12) ----------------------------------------------------------------------
# My week's "New accounts to staff" filters qualifications by the reader's account scope on the joined account
# (``account__region_id = …``) rather than through "account in (the accounts they may read)": the same rows, a
# plan PostgreSQL estimates better.


def qualification_scope(user: User) -> Q | None:
    """A filter on Qualification (or anything with an ``account``) for the rows ``user`` may read; ``None``: all."""
    scope = account_scope(user)
    return None if scope is None else _under("account__", scope)
