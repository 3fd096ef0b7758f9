"""Permission-matrix rows for the reviews routes (collected by ``tamarind/tests/test_permission_matrix.py``).

The target is a 1:1 of region east with ``book.tam`` (its manager ``book.manager``). Its readers are admins,
directors, the manager and that TAM; ``tam2`` (another TAM of the region) and the west people are outsiders (404).
Its runners are admins and the manager; the TAM adds to the agenda.
"""

from __future__ import annotations

from typing import Any

from tamarind.testing.matrix import LOGIN, Row, only

COCKPIT = {
    "admin": 200,
    "director": 200,
    "manager": 200,
    "other_manager": 200,
    "tam": 200,
    "tam2": 200,
    "other_tam": 200,
}
OUTSIDERS = {"tam2": 404, "other_manager": 404, "other_tam": 404, "sal": 404, "sa": 404}


def review(book: Any, t: dict[str, Any], *, opened: bool = False) -> int:
    if "review" not in t:
        from tamarind.reviews.models import ReviewKind
        from tamarind.reviews.tests.factories import occurrence

        t["review"] = occurrence(book.east, ReviewKind.ONE_ON_ONE, subject=book.tam)
    if opened and t["review"].status == "scheduled":
        # Opened by hand (no items, no audit event), so a denied request's "writes nothing" check stays exact.
        from django.utils import timezone

        t["review"].status = "open"
        t["review"].opened_at = timezone.now()
        t["review"].save(update_fields=["status", "opened_at"])
    return t["review"].pk


def item(book: Any, t: dict[str, Any]) -> str:
    from tamarind.reviews.models import ReviewItem

    pk = review(book, t, opened=True)
    it = ReviewItem.objects.create(occurrence_id=pk, section="added", section_title="Added", key="m", label="Topic")
    return f"/reviews/{pk}/items/{it.pk}/"


def schedule(book: Any, t: dict[str, Any]) -> int:
    from tamarind.reviews.tests.factories import schedule as make

    return make(book.east).pk


def runners(ok: int) -> dict[str, int]:
    return only({"admin": ok, "manager": ok, **OUTSIDERS}, 403, anonymous=LOGIN)


READERS = only({"admin": 200, "director": 200, "manager": 200, "tam": 200}, 404)

ROWS: list[Row] = [
    Row("reviews:list", "get", lambda b, t: "/reviews/", only(COCKPIT, 403)),
    Row("reviews:my_week", "get", lambda b, t: "/reviews/my-week/", only(COCKPIT, 403)),
    Row("reviews:dashboard", "get", lambda b, t: "/reviews/dashboard/", only(COCKPIT, 403)),
    Row("reviews:burndown", "get", lambda b, t: "/reviews/burndown/", only(COCKPIT, 403)),
    Row("reviews:figure", "get", lambda b, t: "/reviews/figure/?figure=stale", only(COCKPIT, 403)),
    Row(
        "reviews:schedules",
        "get",
        lambda b, t: "/reviews/schedules/",
        only({"admin": 200, "director": 200, "manager": 200, "other_manager": 200}, 403),
    ),
    Row(
        "reviews:schedules",
        "post",
        lambda b, t: "/reviews/schedules/",
        only({"admin": 302, "manager": 302, "other_manager": 404}, 403),
        data=lambda b, t: {"schedule": schedule(b, t), "cadence": "weekly", "time_zone": "UTC", "enabled": "on"},
        json=False,
    ),
    Row("reviews:detail", "get", lambda b, t: f"/reviews/{review(b, t)}/", READERS),
    Row("reviews:open", "post", lambda b, t: f"/reviews/{review(b, t)}/open/", runners(302), json=False),
    Row(
        "reviews:item_add",
        "post",
        lambda b, t: f"/reviews/{review(b, t)}/items/",
        only({"admin": 302, "manager": 302, "tam": 302, **OUTSIDERS}, 403),
        data=lambda b, t: {"label": "A topic"},
        json=False,
    ),
    Row(
        "reviews:item_decide",
        "post",
        item,
        runners(302),
        data=lambda b, t: {"decision": "noted"},
        json=False,
    ),
    Row(
        "reviews:notes",
        "post",
        lambda b, t: f"/reviews/{review(b, t)}/notes/",
        runners(302),
        data=lambda b, t: {"notes": "Discussed the book"},
        json=False,
    ),
    Row(
        "reviews:attendees",
        "post",
        lambda b, t: f"/reviews/{review(b, t, opened=True)}/attendees/",
        runners(302),
        data=lambda b, t: {"attendees": [b.manager.pk, b.tam.pk]},
        json=False,
    ),
    Row(
        "reviews:complete",
        "post",
        lambda b, t: f"/reviews/{review(b, t, opened=True)}/complete/",
        runners(302),
        json=False,
    ),
]


def api_runners(ok: int) -> dict[str, int]:
    return only({"admin": ok, "manager": ok, **OUTSIDERS}, 403, anonymous=401)


API_COCKPIT = only(COCKPIT, 403, anonymous=401)
ROWS += [
    Row("api:reviews_list", "get", lambda b, t: "/api/v1/reviews/", API_COCKPIT, api=True),
    Row("api:reviews_dashboard", "get", lambda b, t: "/api/v1/reviews/dashboard", API_COCKPIT, api=True),
    Row("api:reviews_burndown", "get", lambda b, t: "/api/v1/reviews/burndown", API_COCKPIT, api=True),
    Row(
        "api:reviews_schedules",
        "get",
        lambda b, t: "/api/v1/reviews/schedules",
        only(
            {
                r: 200
                for r in ("admin", "director", "manager", "other_manager", "tam", "tam2", "other_tam", "sal", "sa")
            },
            200,
            anonymous=401,
        ),
        api=True,
    ),
    Row(
        "api:reviews_schedule_update",
        "patch",
        lambda b, t: f"/api/v1/reviews/schedules/{schedule(b, t)}",
        only({"admin": 200, "manager": 200, "director": 403}, 404, anonymous=401),
        data=lambda b, t: {"cadence": "weekly"},
        api=True,
    ),
    Row(
        "api:reviews_detail",
        "get",
        lambda b, t: f"/api/v1/reviews/{review(b, t)}",
        only({"admin": 200, "director": 200, "manager": 200, "tam": 200}, 404, anonymous=401),
        api=True,
    ),
    Row("api:reviews_open", "post", lambda b, t: f"/api/v1/reviews/{review(b, t)}/open", api_runners(200), api=True),
    Row(
        "api:reviews_item_add",
        "post",
        lambda b, t: f"/api/v1/reviews/{review(b, t)}/items",
        only({"admin": 201, "manager": 201, "tam": 201, **OUTSIDERS}, 403, anonymous=401),
        data=lambda b, t: {"label": "A topic"},
        api=True,
    ),
    Row(
        "api:reviews_item_decide",
        "post",
        lambda b, t: f"/api/v1{item(b, t)}decision",
        api_runners(200),
        data=lambda b, t: {"decision": "noted"},
        api=True,
    ),
    Row(
        "api:reviews_notes",
        "patch",
        lambda b, t: f"/api/v1/reviews/{review(b, t)}/notes",
        api_runners(200),
        data=lambda b, t: {"notes": "Discussed the book"},
        api=True,
    ),
    Row(
        "api:reviews_complete",
        "post",
        lambda b, t: f"/api/v1/reviews/{review(b, t, opened=True)}/complete",
        api_runners(200),
        api=True,
    ),
]


def feed(book: Any, t: dict[str, Any]) -> str:
    from tamarind.reviews.calendar import feed_for

    return f"/reviews/calendar/{feed_for(book.tam).token}.ics"


ROWS += [
    # Everyone signed in has their own calendar address and resets their own.
    Row("reviews:calendar", "get", lambda b, t: "/reviews/calendar/", only({}, 200)),
    Row("reviews:calendar", "post", lambda b, t: "/reviews/calendar/", only({}, 302), json=False),
    # The feed is fetched by calendar apps without a session: the secret address is the credential.
    Row("reviews:calendar_feed", "get", feed, only({}, 200, anonymous=200)),
]
