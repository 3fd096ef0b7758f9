"""Review pages: the list, a review (open it, decide per item with htmx, add to the agenda, notes, attendees,
complete), the cadences, and the manager's home page (My week)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from tamarind import policy
from tamarind.core.errors import ValidationFailed
from tamarind.core.http import request_user
from tamarind.people.models import User
from tamarind.reviews import cockpit, selectors, services
from tamarind.reviews.models import Cadence, Decision, OccurrenceStatus, ReviewItem, ReviewKind, ReviewOccurrence


def _errors(exc: ValidationFailed) -> str:
    return " ".join(m for msgs in exc.errors.values() for m in msgs)


def _require_viewer(user: User) -> None:
    if not policy.can_view_reviews(user):
        raise PermissionDenied("Reviews are the TAM teams' and their managers'.")


@login_required
@require_http_methods(["GET"])
def review_list(request: HttpRequest) -> HttpResponse:
    """Reviews due, overdue and completed, by kind."""
    user = request_user(request)
    _require_viewer(user)
    status = request.GET.get("status", "due")
    status = status if status in ("due", "overdue", "completed", "all") else "due"
    kind = request.GET.get("kind", "")
    reviews = list(selectors.review_list(user, status=status, kind=kind))
    today = timezone.localdate()
    return render(
        request,
        "reviews/list.html",
        {
            "reviews": reviews,
            "status": status,
            "kind": kind,
            "kinds": ReviewKind.choices,
            "today": today,
            "can_edit_schedules": policy.can_view_review_schedules(user),
        },
    )


def _assignees(user: User, review: ReviewOccurrence) -> list[User]:
    """Whom a task from this review may go to: the actor and the people they may give tasks to in its region."""
    scope = policy.task_assignee_scope(user)
    qs = User.objects.filter(is_active=True).order_by("full_name")
    if scope is not None:
        qs = qs.filter(scope)
    return list(qs.filter(region_id=review.region_id) | qs.filter(pk=user.pk))


def _attendee_choices(review: ReviewOccurrence) -> list[User]:
    """Who may be ticked as present: the region's TAMs, the review's owner, and whoever is recorded already."""
    from django.db.models import Q

    return list(
        User.objects.filter(
            Q(pk__in=User.objects.tams().filter(is_active=True, region_id=review.region_id).values("pk"))
            | Q(pk=review.owner_id)
            | Q(pk__in=review.attendees.values("pk"))
        ).order_by("full_name")
    )


def _detail_context(user: User, review: ReviewOccurrence, **extra: Any) -> dict[str, Any]:
    review = selectors.review_with_items(review)
    items = list(review.items.all())
    can_run = policy.can_run_review(user, review)
    sections: list[dict[str, Any]] = []
    by_key: dict[str, dict[str, Any]] = {}
    for meta in review.sections or []:
        entry = {**meta, "items": []}
        sections.append(entry)
        by_key[meta["key"]] = entry
    for item in items:
        if item.section not in by_key:
            by_key[item.section] = {
                "key": item.section,
                "title": item.section_title,
                "total": 0,
                "notice": "",
                "items": [],
            }
            sections.append(by_key[item.section])
        by_key[item.section]["items"].append(item)
    return {
        "review": review,
        "sections": sections,
        "undecided": sum(1 for i in items if not i.decision),
        "can_run": can_run,
        "can_add": policy.can_add_to_agenda(user, review),
        "is_subject": review.subject_id == user.pk,
        "decisions": Decision.choices,
        "assignees": _assignees(user, review) if can_run and review.status == OccurrenceStatus.OPEN else [],
        "attendees": list(review.attendees.all()),
        "people": _attendee_choices(review) if can_run else [],
        "today": timezone.localdate(),
        **extra,
    }


@login_required
@require_http_methods(["GET"])
def review_detail(request: HttpRequest, review_id: int) -> HttpResponse:
    user = request_user(request)
    review = selectors.review_for_user(user, review_id)
    return render(request, "reviews/detail.html", _detail_context(user, review))


@login_required
@require_http_methods(["POST"])
def review_open(request: HttpRequest, review_id: int) -> HttpResponse:
    user = request_user(request)
    review = selectors.review_for_user(user, review_id, write=True)
    services.review_open(actor=user, review=review)
    messages.success(request, "Opened: the checklist is built from the data as it stands now.")
    return redirect("reviews:detail", review_id=review.pk)


@login_required
@require_http_methods(["POST"])
def item_decide(request: HttpRequest, review_id: int, item_id: int) -> HttpResponse:
    """Decide on one item; htmx gets the item's row back (400 with the reason when refused)."""
    user = request_user(request)
    review = selectors.review_for_user(user, review_id, write=True)
    item = selectors.item_for_review(review, item_id)
    error = ""
    try:
        item = services.review_item_decide(
            actor=user,
            review=review,
            item=item,
            decision=request.POST.get("decision", ""),
            note=request.POST.get("note", ""),
            owner=request.POST.get("owner") or None,
            due_on=request.POST.get("due_on") or None,
        )
    except ValidationFailed as exc:
        error = _errors(exc)
        item = ReviewItem.objects.select_related("task", "task__owner").get(pk=item.pk)
    if request.headers.get("HX-Request"):
        context = {
            "review": review,
            "item": item,
            "can_run": True,
            "decisions": Decision.choices,
            "assignees": _assignees(user, review),
            "error": error,
        }
        return render(request, "reviews/_item.html", context, status=400 if error else 200)
    if error:
        messages.error(request, error)
    return redirect("reviews:detail", review_id=review.pk)


@login_required
@require_http_methods(["POST"])
def item_add(request: HttpRequest, review_id: int) -> HttpResponse:
    user = request_user(request)
    review = selectors.review_for_user(user, review_id, agenda=True)
    try:
        services.review_item_add(actor=user, review=review, label=request.POST.get("label", ""))
    except ValidationFailed as exc:
        return render(request, "reviews/detail.html", _detail_context(user, review, add_error=_errors(exc)), status=400)
    messages.success(request, "Added to the agenda.")
    return redirect("reviews:detail", review_id=review.pk)


@login_required
@require_http_methods(["POST"])
def review_notes(request: HttpRequest, review_id: int) -> HttpResponse:
    user = request_user(request)
    review = selectors.review_for_user(user, review_id, agenda=True)
    try:
        services.review_notes_update(
            actor=user,
            review=review,
            notes=request.POST.get("notes") if "notes" in request.POST else None,
            subject_notes=request.POST.get("subject_notes") if "subject_notes" in request.POST else None,
        )
    except ValidationFailed as exc:
        return render(
            request, "reviews/detail.html", _detail_context(user, review, notes_error=_errors(exc)), status=400
        )
    messages.success(request, "Notes saved.")
    return redirect("reviews:detail", review_id=review.pk)


@login_required
@require_http_methods(["POST"])
def review_attendees(request: HttpRequest, review_id: int) -> HttpResponse:
    user = request_user(request)
    review = selectors.review_for_user(user, review_id, write=True)
    try:
        services.review_attendees_set(actor=user, review=review, attendee_ids=request.POST.getlist("attendees"))
    except ValidationFailed as exc:
        return render(
            request, "reviews/detail.html", _detail_context(user, review, notes_error=_errors(exc)), status=400
        )
    messages.success(request, "Attendance saved.")
    return redirect("reviews:detail", review_id=review.pk)


@login_required
@require_http_methods(["POST"])
def review_complete(request: HttpRequest, review_id: int) -> HttpResponse:
    user = request_user(request)
    review = selectors.review_for_user(user, review_id, write=True)
    try:
        services.review_complete(actor=user, review=review)
    except ValidationFailed as exc:
        return render(
            request, "reviews/detail.html", _detail_context(user, review, complete_error=_errors(exc)), status=400
        )
    messages.success(request, "Review completed: it keeps what it looked at.")
    return redirect("reviews:detail", review_id=review.pk)


@login_required
@require_http_methods(["GET", "POST"])
def schedules(request: HttpRequest) -> HttpResponse:
    """The cadences: admins all regions', a TAM Manager their region's (directors read)."""
    user = request_user(request)
    if not policy.can_view_review_schedules(user):
        raise PermissionDenied("Review cadences are the managers' and admins'.")
    error = ""
    status = 200
    if request.method == "POST":
        rows = {s.pk: s for s in selectors.schedule_list(user)}
        try:
            pk = int(request.POST.get("schedule", ""))
        except ValueError:
            pk = 0
        schedule = rows.get(pk)
        if schedule is None:
            from django.http import Http404

            raise Http404("No such schedule.")
        try:
            services.review_schedule_update(
                actor=user,
                schedule=schedule,
                changes={
                    "cadence": request.POST.get("cadence", ""),
                    "time_zone": request.POST.get("time_zone", schedule.time_zone),
                    "enabled": request.POST.get("enabled") == "on",
                },
            )
        except ValidationFailed as exc:
            error = _errors(exc)
            status = 400
        else:
            messages.success(request, f"{schedule}: {schedule.get_cadence_display().lower()}.")
            return redirect("reviews:schedules")
    rows_list = selectors.schedule_list(user)
    for row in rows_list:
        row.can_edit = policy.can_edit_review_schedule(user, row.region_id)  # type: ignore[attr-defined]
    return render(
        request,
        "reviews/schedules.html",
        {"schedules": rows_list, "cadences": Cadence.choices, "error": error},
        status=status,
    )


@login_required
@require_http_methods(["GET"])
def my_week(request: HttpRequest) -> HttpResponse:
    """The manager's home page: due and overdue reviews, today's 1:1s with their agendas, new accounts to staff,
    the burn-down's headline counts and their movement since last week."""
    user = request_user(request)
    if not policy.can_view_cockpit(user):
        raise PermissionDenied("My week is the TAM teams' and their managers' page.")
    return render(request, "reviews/my_week.html", cockpit.my_week(user, today=timezone.localdate()))


def _require_cockpit(user: User) -> None:
    if not policy.can_view_cockpit(user):
        raise PermissionDenied("The cockpit is the TAM teams' and their managers'.")


@login_required
@require_http_methods(["GET"])
def regional_dashboard(request: HttpRequest) -> HttpResponse:
    """The TAM Regional Dashboard (domain section 12), region and ARR filters; directors see regions side by side."""
    user = request_user(request)
    _require_cockpit(user)
    context = cockpit.regional_dashboard(user, request.GET, today=timezone.localdate())
    success = context["success_installed"]
    context["tam_rows"] = cockpit.tam_rows_html(context["tams"], success_installed=success)
    return render(request, "reviews/dashboard.html", context, status=400 if context["scope"].errors else 200)


@login_required
@require_http_methods(["GET"])
def burndown(request: HttpRequest) -> HttpResponse:
    """The burn-down: each exception now, a week ago, per TAM, and its daily count over weeks in a chart."""
    user = request_user(request)
    _require_cockpit(user)
    context = cockpit.burndown_page(user, request.GET, today=timezone.localdate())
    return render(request, "reviews/burndown.html", context, status=400 if context["scope"].errors else 200)


@login_required
@require_http_methods(["GET"])
def figure(request: HttpRequest) -> HttpResponse:
    """The rows behind a cockpit figure the account list cannot filter by (stale health, open onboardings, each
    burn-down exception); the count at the top is the figure's."""
    user = request_user(request)
    _require_cockpit(user)
    context = cockpit.figure_rows(user, request.GET, today=timezone.localdate())
    return render(request, "reviews/figure.html", context, status=400 if context["scope"].errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def calendar_settings(request: HttpRequest) -> HttpResponse:
    """The person's calendar address (subscribe to it in Google Calendar or Outlook) and a button to reset it."""
    from tamarind.reviews import calendar

    user = request_user(request)
    if request.method == "POST":
        calendar.calendar_feed_reset(actor=user, user=user)
        messages.success(request, "A new calendar address: the old one no longer works.")
        return redirect("reviews:calendar")
    feed = calendar.feed_for(user)
    url = request.build_absolute_uri(reverse("reviews:calendar_feed", args=[feed.token]))
    return render(request, "reviews/calendar.html", {"feed": feed, "url": url})


@require_http_methods(["GET"])
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The ICS file behind a secret address (no sign-in: calendar apps fetch it). A reset address answers 404."""
    from tamarind.reviews import calendar
    from tamarind.reviews.models import CalendarFeed

    feed = CalendarFeed.objects.select_related("user").filter(token=token[:64]).first()
    if feed is None or not feed.user.is_active:
        return HttpResponse(
            "No such calendar: this address was reset or never existed. Copy the new one from Tamarind.",
            status=404,
            content_type="text/plain; charset=utf-8",
        )
    response = HttpResponse(calendar.build_feed(feed.user), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="tamarind.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response
