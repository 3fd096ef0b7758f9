"""Success pages: rendering, in-place edits, bad input on its field with nothing written, constant query counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tamarind.accounts.models import Account
from tamarind.audit.models import AuditEvent
from tamarind.success import services
from tamarind.success.models import Ebr, Objective, PlanReview, PlanTask, SuccessPlan
from tamarind.success.tests.factories import EbrFactory, ObjectiveFactory, PlanTaskFactory, SuccessPlanFactory
from tamarind.testing.factories import AccountFactory

ANSWERS = {f"q{i}": "partly" for i in range(1, 7)} | {"verdict": "needs_work", "coaching": "Make outcomes measurable"}


@pytest.fixture
def plan(book):  # type: ignore[no-untyped-def]
    plan = services.success_plan_create(
        actor=book.tam,
        account=book.account,
        data={
            "status": "active",
            "strategy": "**Grow** <script>x</script>",
            "highlights": "H",
            "start_on": "2026-01-01",
        },
    )
    objective = services.objective_create(actor=book.tam, plan=plan, data={"name": "Adopt CI"})
    services.plan_task_create(actor=book.tam, objective=objective, data={"name": "Pilot", "progress": 50})
    return plan


def _written() -> tuple[int, ...]:
    return (
        SuccessPlan.objects.count(),
        Objective.objects.count(),
        PlanTask.objects.count(),
        PlanReview.objects.count(),
        Ebr.objects.count(),
        AuditEvent.objects.count(),
    )


def test_plan_page_renders_markdown_safely(book, client_for, plan) -> None:  # type: ignore[no-untyped-def]
    response = client_for(book.sal).get(f"/success/plans/{plan.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<strong>Grow</strong>" in html
    assert "<script>x</script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    assert "Adopt CI" in html and 'style="width: 50%"' in html
    assert "Edit objective" not in html  # read-only for the SAL


def test_account_page_shows_the_success_panel(book, client_for, plan) -> None:  # type: ignore[no-untyped-def]
    html = client_for(book.tam).get(f"/accounts/{book.account.pk}/").content.decode()
    assert 'id="success-panel"' in html and f"/success/plans/{plan.pk}/" in html


def test_objective_edit_in_place_with_htmx(book, client_for, plan) -> None:  # type: ignore[no-untyped-def]
    objective = plan.objectives.get()
    response = client_for(book.tam).post(
        f"/success/objectives/{objective.pk}/",
        {"name": "Adopt CI everywhere", "status": "in_progress"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert f'id="objective-{objective.pk}"' in response.content.decode()
    assert "<html" not in response.content.decode()
    objective.refresh_from_db()
    assert objective.name == "Adopt CI everywhere"


@pytest.mark.parametrize(
    ("url", "data", "field"),
    [
        ("objective", {"status": "closed"}, "outcome"),
        ("objective", {"due_on": "2025-06-01"}, "due_on"),
        ("task_add_closed", {"name": "More"}, "objective"),
        ("plan_new", {"status": "active"}, "status"),
        ("task", {"progress": "150"}, "progress"),
    ],
)
def test_bad_input_refused_on_its_field(book, client_for, plan, url, data, field) -> None:  # type: ignore[no-untyped-def]
    objective = plan.objectives.get()
    if url == "task_add_closed":
        Objective.objects.filter(pk=objective.pk).update(status="closed", outcome="done", closed_at=timezone.now())
        path = f"/success/objectives/{objective.pk}/tasks/"
    elif url == "objective":
        path = f"/success/objectives/{objective.pk}/"
    elif url == "task":
        path = f"/success/tasks/{objective.tasks.get().pk}/"
    else:
        path = f"/success/accounts/{book.account.pk}/new/"
    before = _written()
    response = client_for(book.tam).post(path, data, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert f'data-field="{field}"' in response.content.decode()
    assert _written() == before


def test_review_of_a_plan_the_reviewer_may_not_read(book, client_for, plan) -> None:  # type: ignore[no-untyped-def]
    before = _written()
    assert client_for(book.other_manager).post(f"/success/plans/{plan.pk}/review/", ANSWERS).status_code == 404
    response = client_for(book.tam).post(f"/success/plans/{plan.pk}/peer/", {"reviewer": book.other_tam.pk})
    assert response.status_code == 400
    assert 'data-field="reviewer"' in response.content.decode()
    assert _written() == before


def test_manager_review_recorded_and_shown(book, client_for, plan) -> None:  # type: ignore[no-untyped-def]
    client = client_for(book.manager)
    response = client.post(f"/success/plans/{plan.pk}/review/", {**ANSWERS, "q4": ""})
    assert response.status_code == 400 and 'data-field="q4"' in response.content.decode()
    assert client.post(f"/success/plans/{plan.pk}/review/", ANSWERS).status_code == 302
    html = client.get(f"/success/plans/{plan.pk}/").content.decode()
    assert "Make outcomes measurable" in html and "Needs work" in html


def test_peer_review_answered_by_the_reviewer(book, client_for, plan) -> None:  # type: ignore[no-untyped-def]
    assert client_for(book.tam).post(f"/success/plans/{plan.pk}/peer/", {"reviewer": book.tam2.pk}).status_code == 302
    review = PlanReview.objects.get(kind="peer")
    assert client_for(book.tam).post(f"/success/reviews/{review.pk}/", ANSWERS).status_code == 403
    assert client_for(book.tam2).post(f"/success/reviews/{review.pk}/", ANSWERS).status_code == 302
    review.refresh_from_db()
    assert review.status == "completed"
    html = client_for(book.manager).get(f"/success/plans/{plan.pk}/review/").content.decode()
    assert 'id="peer-beside"' in html and "Theo Tam" in html


def test_ebr_pages(book, client_for) -> None:  # type: ignore[no-untyped-def]
    client = client_for(book.tam)
    response = client.post(f"/success/accounts/{book.account.pk}/ebrs/new/", {"status": "scheduled"})
    assert response.status_code == 400 and 'data-field="held_on"' in response.content.decode()
    response = client.post(
        f"/success/accounts/{book.account.pk}/ebrs/new/",
        {"status": "scheduled", "held_on": "2027-02-01", "materials_url": "https://docs.example.com/ebr"},
    )
    assert response.status_code == 302
    ebr = Ebr.objects.get()
    assert client_for(book.sal).get(f"/success/ebrs/{ebr.pk}/").status_code == 200


def test_list_filters_and_coverage_are_sums_over_the_lists(book, client_for, plan) -> None:  # type: ignore[no-untyped-def]
    from tamarind.success import selectors

    today = timezone.localdate()
    for i in range(4):
        AccountFactory(
            region=book.east, tam=book.tam2, priority=1 if i % 2 else 2, customer_since=today - dt.timedelta(days=90)
        )
    client = client_for(book.manager)
    response = client.get("/success/")
    assert response.status_code == 200
    cov = client.get("/success/", {"part": "breakdown"}).context["coverage"]
    assert response.context["coverage"].total == cov.total
    for dim, figures in cov.groups.items():
        assert sum(f.p1 for f in figures) == cov.total.p1, dim
        assert sum(f.p1_green for f in figures) == cov.total.p1_green, dim

    # Each number is the count of the list it links to.
    def count(**params: str) -> int:
        return client.get("/success/", params).context["page"].count

    assert count(priority="1") == cov.total.p1 == Account.objects.filter(region=book.east, priority=1).count()
    assert count(priority="1", color="green") == cov.total.p1_green == 1
    assert count(cohort="new") == cov.total.new == 4
    assert count(cohort="new_planned") == cov.total.new_planned == 0
    tam2 = next(f for f in cov.groups["TAM"] if f.label == "Theo Tam")
    assert count(tam=str(book.tam2.pk), priority="1") == tam2.p1 == 2
    assert count(color="none") == 4
    assert count(needs_review="1") == 1
    assert selectors.PlanFilters.from_params({"color": "purple", "priority": "9"}).color == ""


def test_printable_page(book, client_for, plan) -> None:  # type: ignore[no-untyped-def]
    response = client_for(book.sa).get(f"/success/plans/{plan.pk}/print/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Adopt CI" in html and "Manager review" not in html


def test_export_csv_is_safe(book, client_for, plan) -> None:  # type: ignore[no-untyped-def]
    services.objective_create(actor=book.tam, plan=plan, data={"name": "=HYPERLINK(1)"})
    body = b"".join(client_for(book.manager).get("/success/export.csv").streaming_content).decode()  # type: ignore[attr-defined]
    lines = body.strip().splitlines()
    assert lines[0].startswith("account_crm_id,plan_status")
    assert len(lines) == 3
    assert "'=HYPERLINK(1)" in body


def test_picks_two_per_tam_never_reviewed_first(book, client_for) -> None:  # type: ignore[no-untyped-def]
    plans = []
    for _ in range(3):
        account = AccountFactory(region=book.east, tam=book.tam2)
        plans.append(SuccessPlanFactory(account=account))
    PlanReview.objects.create(
        plan=plans[0],
        kind="manager",
        reviewer=book.manager,
        completed_at=timezone.now(),
        verdict="strong",
        **{f"q{i}": "yes" for i in range(1, 7)},
    )
    response = client_for(book.manager).get("/success/picks/")
    picks = dict((t.pk, p) for t, p in response.context["picks"])
    assert [p.plan.pk for p in picks[book.tam2.pk]] == [plans[1].pk, plans[2].pk]


def _grow(book, n: int) -> None:  # type: ignore[no-untyped-def]
    for _ in range(n):
        account = AccountFactory(region=book.east, tam=book.tam2)
        plan = SuccessPlanFactory(account=account)
        for _ in range(2):
            objective = ObjectiveFactory(plan=plan)
            PlanTaskFactory(objective=objective)
        EbrFactory(account=account)
        PlanReview.objects.create(
            plan=plan,
            kind="manager",
            reviewer=book.manager,
            completed_at=timezone.now(),
            verdict="strong",
            **{f"q{i}": "yes" for i in range(1, 7)},
        )


@pytest.mark.parametrize("route", ["list", "breakdown", "picks", "plan", "print", "review_new", "account", "export"])
def test_query_counts_do_not_grow(book, client_for, plan, django_assert_num_queries, route) -> None:  # type: ignore[no-untyped-def]
    client = client_for(book.manager)
    paths = {
        "list": "/success/",
        "breakdown": "/success/?part=breakdown",
        "picks": "/success/picks/",
        "plan": f"/success/plans/{plan.pk}/",
        "print": f"/success/plans/{plan.pk}/print/",
        "review_new": f"/success/plans/{plan.pk}/review/",
        "account": f"/accounts/{book.account.pk}/",
        "export": "/success/export.csv",
    }

    def hit() -> None:
        response = client.get(paths[route])
        if route == "export":
            b"".join(response.streaming_content)  # type: ignore[attr-defined]

    hit()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        hit()
    _grow(book, 3)
    objective = plan.objectives.get()
    for _ in range(3):
        PlanTaskFactory(objective=objective)
        ObjectiveFactory(plan=plan)
    with django_assert_num_queries(len(small)):
        hit()


def test_settings_page_saves_a_version_and_refuses_bad_input(book, client_for, plan) -> None:  # type: ignore[no-untyped-def]
    from tamarind.success.models import SuccessSettings

    assert client_for(book.tam).get("/success/settings/").status_code == 200
    assert client_for(book.manager).post("/success/settings/", {"activity_days": 30}).status_code == 403
    client = client_for(book.admin)
    response = client.post("/success/settings/", {"activity_days": "0"})
    assert response.status_code == 400 and 'data-field="activity_days"' in response.content.decode()
    response = client.post("/success/settings/", {"need_enterprise_1": "4"})
    assert response.status_code == 400 and 'data-field="objectives_needed"' in response.content.decode()
    assert SuccessSettings.objects.count() == 0
    assert client.post("/success/settings/", {"need_enterprise_1": "2", "note": "Stricter"}).status_code == 302
    row = SuccessSettings.objects.get()
    assert row.objectives_needed["enterprise"]["1"] == 2 and row.objectives_needed["smb"]["1"] == 3
    services.success_recompute_all()
    plan.refresh_from_db()
    assert plan.color == "yellow" and plan.color_settings_version == 1


@pytest.mark.parametrize("route", ["objective", "task", "objective_add", "task_add"])
def test_write_query_counts_do_not_grow(book, client_for, plan, route) -> None:  # type: ignore[no-untyped-def]
    """The plan page's htmx writes (edit an objective or a task, add either) run the same number of queries whatever
    the plan holds: the fragment they answer with does not read the plan's other objectives and tasks row by row."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(book.tam)
    objective = plan.objectives.get()
    task = objective.tasks.get()
    counter = iter(range(1000))

    def hit() -> int:
        n = next(counter)
        path, data = {
            "objective": (f"/success/objectives/{objective.pk}/", {"name": f"Adopt CI {n}", "status": "in_progress"}),
            "task": (f"/success/tasks/{task.pk}/", {"progress": str(n % 100)}),
            "objective_add": (f"/success/plans/{plan.pk}/objectives/", {"name": f"Objective {n}"}),
            "task_add": (f"/success/objectives/{objective.pk}/tasks/", {"name": f"Task {n}"}),
        }[route]
        with CaptureQueriesContext(connection) as queries:
            response = client.post(path, data, HTTP_HX_REQUEST="true")
        assert response.status_code in (200, 201, 302), response.content[:300]
        return len(queries)

    hit()
    small = hit()
    for _ in range(4):
        ObjectiveFactory(plan=plan)
        PlanTaskFactory(objective=objective)
    assert hit() == small
