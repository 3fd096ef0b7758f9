"""Every operation of the published API (from its OpenAPI document), for tests that walk them all."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

WRITE_METHODS = ("post", "put", "patch", "delete")


@dataclass(frozen=True)
class ApiOperation:
    method: str  # lower case, as in the OpenAPI document
    path: str  # the template, e.g. ``/api/v1/triage/cases/{case_id}``
    spec: dict[str, Any]

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.path)

    def url(self, value: Any = 1, **values: Any) -> str:
        """The path with each parameter replaced by ``values[name]`` (``value`` for the others)."""
        return re.sub(r"{(\w+)}", lambda m: str(values.get(m.group(1), value)), self.path)

    def query_params(self) -> list[dict[str, Any]]:
        return [p for p in self.spec.get("parameters", []) if p["in"] == "query"]

    def body_content_type(self) -> str | None:
        content = self.spec.get("requestBody", {}).get("content", {})
        return next(iter(content), None)

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path}"


def openapi_document() -> dict[str, Any]:
    """The document as published at ``/api/v1/openapi.json`` (JSON: status codes are strings)."""
    from django.core.serializers.json import DjangoJSONEncoder

    from tamarind.core.api import api

    return json.loads(json.dumps(api.get_openapi_schema(), cls=DjangoJSONEncoder))


def api_operations(*, methods: tuple[str, ...] | None = None) -> list[ApiOperation]:
    """The documented operations, in document order (optionally only ``methods``)."""
    ops = []
    for path, items in openapi_document()["paths"].items():
        for method, spec in items.items():
            if methods is None or method in methods:
                ops.append(ApiOperation(method, path, spec))
    return ops


def probe_rows(book: Any) -> dict[str, int]:
    """One row of each kind a path parameter names, made for ``book`` (admin's where personal), by id:
    keys are parameter names, or ``<prefix>:<name>`` where two routers use one name (``job_id``)."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from tamarind.actions.services import task_create
    from tamarind.assignment.models import RuleSetVersion
    from tamarind.imports.services import import_job_create
    from tamarind.notifications.models import Notification
    from tamarind.onboarding.services import onboarding_start
    from tamarind.people.services import token_create
    from tamarind.scheduler.models import JobRun, PeriodicJob
    from tamarind.triage.services import case_open, escalation_open, step_add

    admin = book.admin
    task = task_create(actor=admin, data={"title": "Probe task", "account_id": book.account.pk})
    onboarding = onboarding_start(actor=admin, account=book.account, tam=book.tam)
    case = case_open(actor=admin, account=book.account)
    step = step_add(actor=admin, case=case, text="Probe step")
    escalation = escalation_open(actor=admin, account=book.account, data={"title": "Probe escalation"})
    notification = Notification.objects.create(recipient=admin, title="Probe notification", account=book.account)
    token, _ = token_create(actor=admin, user=admin, name="probe target")
    upload = SimpleUploadedFile("probe.csv", b"crm_id,name\n", content_type="text/csv")
    import_job = import_job_create(actor=admin, upload=upload, dry_run=True)
    job = PeriodicJob.objects.order_by("pk").first()
    run = JobRun.objects.create(job=job, scheduled_for=timezone.now()) if job else None
    rules = RuleSetVersion.objects.order_by("-version").first()
    desk = _service_desk_rows(book)
    surveys = _surveys_rows(book)
    cohort_rows = _cohort_rows(book)
    webinar = _webinar_rows(book)
    rows = {
        "account_id": book.account.pk,
        "person_id": book.tam.pk,
        "region_id": book.east.pk,
        "token_id": token.pk,
        "task_id": task.pk,
        "notification_id": notification.pk,
        "case_id": case.pk,
        "step_id": step.pk,
        "escalation_id": escalation.pk,
        "imports:job_id": import_job.pk,
        **desk,
        **_contacts_rows(book),
        **surveys,
        **_journeys_rows(book),
        **cohort_rows,
        **webinar,
    }
    if onboarding is not None:
        rows["onboarding_id"] = onboarding.pk
    if job is not None and run is not None:
        rows["scheduler:job_id"] = job.pk
        rows["run_id"] = run.pk
    if rules is not None:
        rows["version"] = rules.version
    from tamarind.stuck.models import StuckRule

    stuck_rule = StuckRule.objects.order_by("pk").first()
    if stuck_rule is not None:
        rows["stuck:rule_id"] = stuck_rule.pk
    return rows


def _service_desk_rows(book: Any) -> dict[str, int]:
    """A pool (managed by ``book.manager``, with ``book.tam``), a pooled account of region east with a request,
    and an email kept aside."""
    from decimal import Decimal

    from tamarind.servicedesk import services
    from tamarind.servicedesk.models import Pool, PoolMember
    from tamarind.testing.factories import AccountFactory

    pool = Pool.objects.create(name="Probe pool", manager=book.manager)
    PoolMember.objects.create(pool=pool, tam=book.tam)
    account = AccountFactory(name="Probe pooled", region=book.east, arr=Decimal("30000"), engagement_model="pooled")
    req = services.request_create(
        actor=None, account=account, subject="Probe", body="Probe", channel="link", requester_email="p@probe.example"
    )
    inbound = services.inbound_email_receive(b"From: eve@probe.example\r\nSubject: Probe\r\n\r\nHello\r\n")
    return {
        "pool_id": pool.pk,
        "request_id": req.pk,
        "inbound_id": inbound.pk,
        "servicedesk:account_id": account.pk,
        "servicedesk:person_id": book.tam.pk,
    }


def _contacts_rows(book: Any) -> dict[str, int]:
    """A contact of ``book.account`` (an Admin)."""
    from tamarind.testing.factories import ContactFactory

    return {"contact_id": ContactFactory(account=book.account, personas=["admin"]).pk}


def _surveys_rows(book: Any) -> dict[str, int]:
    """A contact of ``book.account`` invited to an NPS survey."""
    from tamarind.surveys.services import survey_invitation_create
    from tamarind.testing.factories import ContactFactory

    invitation = survey_invitation_create(contact=ContactFactory(account=book.account), kind="nps", actor=book.admin)
    return {"invitation_id": invitation.pk}


def _journeys_rows(book: Any) -> dict[str, int]:
    """The seeded digital onboarding program and its first step."""
    from tamarind.journeys.models import Program

    program = Program.objects.get(key="digital-onboarding")
    step = program.steps.order_by("day", "pk").first()
    assert step is not None
    return {"program_id": program.pk, "journeys:step_id": step.pk}


def _cohort_rows(book: Any) -> dict[str, int]:
    """A company-wide cohort owned by ``book.tam`` with ``book.account`` as a member and one member contact."""
    import datetime as dt

    from tamarind.cohorts.models import Cohort, CohortContact, CohortMember
    from tamarind.testing.factories import ContactFactory

    cohort = Cohort.objects.create(name="Probe cohort", starts_on=dt.date(2026, 1, 1), status="running")
    cohort.owners.add(book.tam)
    member = CohortMember.objects.create(cohort=cohort, account=book.account, joined_on=dt.date(2026, 1, 2))
    link = CohortContact.objects.create(member=member, contact=ContactFactory(account=book.account))
    return {"cohort_id": cohort.pk, "cohorts:account_id": book.account.pk, "link_id": link.pk}


def _webinar_rows(book: Any) -> dict[str, int]:
    """A webinar session with an unmatched attendee (a contact at ``book.account`` to match it to)."""
    import datetime as dt

    from tamarind.testing.factories import ContactFactory
    from tamarind.webinars.models import Round, Session, Topic, UnmatchedAttendee

    start = dt.datetime(2026, 3, 10, 16, 0, tzinfo=dt.UTC)
    session = Session.objects.create(
        topic=Topic.objects.get(key="cicd"),
        round=Round.OPERATIONALIZE,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
    )
    ContactFactory(account=book.account, email="probe@customer.example")
    unmatched = UnmatchedAttendee.objects.create(
        session=session, email="probe@alias.example", reason="unknown", first_join=start, last_leave=start
    )
    return {"session_id": session.pk, "unmatched_id": unmatched.pk}


def row_ids_for(op: ApiOperation, rows: dict[str, int]) -> dict[str, int]:
    """The ids of ``rows`` for the path parameters of ``op``."""
    prefix = op.path.removeprefix("/api/v1/").split("/", 1)[0]
    out = {}
    for name in op.path_params:
        value = rows.get(f"{prefix}:{name}", rows.get(name))
        if value is not None:
            out[name] = value
    return out
