"""Every place that sets an account's TAM has the same consequences (issue 9, "Accounts to staff").

The web pages (the account page's TAM picker, the edit form, the create form, *Accounts to staff*, the onboarding
dashboard), the API (create, PATCH) and the CRM import all end in one service. Whatever the path, setting the TAM of
an account:

- notifies the new TAM, exactly once (never the actor who set it), and the TAM it replaces;
- closes the manager's "Assign a TAM" task;
- starts an onboarding record for the TAM when the account is in the Onboarding stage, and none when it is past
  onboarding (Adoption): domain section 4, where completing onboarding is what moves an account to Adoption;
- is audited (the account's change, its TAM history).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tamarind.accounts import services as account_services
from tamarind.accounts.forms import account_initial
from tamarind.accounts.models import Account, LifecycleStage, TamAssignment
from tamarind.actions.models import Task, TaskStatus, TaskType
from tamarind.audit.models import AuditEvent
from tamarind.imports import services as import_services
from tamarind.imports.models import ImportStatus
from tamarind.notifications.models import Notification, NotificationKind
from tamarind.onboarding.models import Onboarding
from tamarind.testing.factories import tier

pytestmark = pytest.mark.django_db

STAGES = {LifecycleStage.ONBOARDING: "Onboarding", LifecycleStage.ADOPTION: "Adoption"}
HEADER = (
    "Account ID,Account Name,Sales Segment,Region,CARR (This Account),Products Purchased,Lifecycle Stage,"
    "Technical Account Manager"
)


def to_staff(book: Any, stage: str) -> Account:
    """A qualifying account without a TAM, as the manager finds it on *Accounts to staff* (task open)."""
    account = account_services.account_create(
        actor=book.manager,
        data={
            "crm_id": "STAFF-1",
            "name": "Umbrella",
            "region": book.east,
            "segment": "enterprise",
            "arr": Decimal("120000"),
            "product_tier": tier("Premium"),
            "lifecycle_stage": stage,
        },
    )
    assert Task.objects.get(account=account, type=TaskType.ASSIGN_TAM).status == TaskStatus.OPEN
    return account


def run_import(book: Any, tmp_path: Path, settings: Any, line: str) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    path = tmp_path / "crm.csv"
    path.write_text(f"{HEADER}\n{line}\n", encoding="utf-8")
    job = import_services.import_job_create_from_path(actor=book.admin, path=path)
    job = import_services.import_job_run(job_id=job.pk)
    assert job.status == ImportStatus.SUCCEEDED, job.errors


def consequences(book: Any, account: Account) -> dict[str, Any]:
    """What setting ``book.tam2`` as the TAM left behind, in terms every path must agree on."""
    account.refresh_from_db()
    notes = Notification.objects.filter(account=account, kind=NotificationKind.TAM_ASSIGNED)
    audited = AuditEvent.objects.filter(object_type="accounts.account", object_id=str(account.pk))
    return {
        "tam": account.tam_id == book.tam2.pk,
        "tam notified": notes.filter(recipient=book.tam2).count(),
        "actor notified": notes.exclude(recipient=book.tam2).count(),
        "open assign tasks": Task.objects.filter(account=account, type=TaskType.ASSIGN_TAM)
        .exclude(status=TaskStatus.DONE)
        .count(),
        "onboarding": list(Onboarding.objects.filter(account=account).values_list("tam_id", flat=True))
        == [book.tam2.pk],
        "no onboarding": not Onboarding.objects.filter(account=account).exists(),
        "history": TamAssignment.objects.filter(account=account, to_tam=book.tam2).count(),
        "audited": any(e.after and e.after.get("tam") == book.tam2.pk for e in audited),
    }


def expected(stage: str) -> dict[str, Any]:
    onboarding = stage == LifecycleStage.ONBOARDING
    return {
        "tam": True,
        "tam notified": 1,
        "actor notified": 0,
        "open assign tasks": 0,
        "onboarding": onboarding,
        "no onboarding": not onboarding,
        "history": 1,
        "audited": True,
    }


# --- Paths that staff an existing account -------------------------------------------------------------------------


def web(client_for: Callable[[Any], Client], user: Any, name: str, account: Account, **extra: Any) -> None:
    response = client_for(user).post(reverse(name, args=[account.pk]), {"tam": extra.pop("tam")}, **extra)
    assert response.status_code in (200, 302), response.content[:500]


def path_account_page(book: Any, account: Account, client_for: Any, **_: Any) -> None:
    web(client_for, book.manager, "accounts:set_tam", account, tam=book.tam2.pk, HTTP_HX_REQUEST="true")


def path_edit_form(book: Any, account: Account, client_for: Any, **_: Any) -> None:
    data = {k: ("" if v is None else getattr(v, "pk", v)) for k, v in account_initial(account).items()}
    data["tam"] = book.tam2.pk
    response = client_for(book.manager).post(reverse("accounts:edit", args=[account.pk]), data)
    assert response.status_code == 302, response.content[:2000]


def path_staffing_htmx(book: Any, account: Account, client_for: Any, **_: Any) -> None:
    web(client_for, book.manager, "assignment:staffing_assign", account, tam=book.tam2.pk, HTTP_HX_REQUEST="true")


def path_staffing_plain(book: Any, account: Account, client_for: Any, **_: Any) -> None:
    web(client_for, book.manager, "assignment:staffing_assign", account, tam=book.tam2.pk)


def path_onboarding_dashboard(book: Any, account: Account, client_for: Any, **_: Any) -> None:
    web(client_for, book.manager, "dashboards:onboarding_assign", account, tam=book.tam2.pk, HTTP_HX_REQUEST="true")


def path_api_patch(book: Any, account: Account, api_for: Any, **_: Any) -> None:
    response = api_for(book.manager).patch(
        f"/api/v1/accounts/{account.pk}", {"tam_id": book.tam2.pk}, content_type="application/json"
    )
    assert response.status_code == 200, response.content


def path_import_update(book: Any, account: Account, tmp_path: Path, settings: Any, **_: Any) -> None:
    stage = STAGES[LifecycleStage(account.lifecycle_stage)]
    run_import(book, tmp_path, settings, f"STAFF-1,Umbrella,Enterprise,AMER East,120000,Premium,{stage},Theo Tam")


STAFFING_PATHS = [
    path_account_page,
    path_edit_form,
    path_staffing_htmx,
    path_staffing_plain,
    path_onboarding_dashboard,
    path_api_patch,
    path_import_update,
]


@pytest.mark.parametrize("stage", list(STAGES))
@pytest.mark.parametrize("path", STAFFING_PATHS, ids=[p.__name__ for p in STAFFING_PATHS])
def test_every_path_that_staffs_an_account_has_the_same_consequences(
    book, client_for, api_for, tmp_path, settings, path, stage
):
    account = to_staff(book, stage)
    path(book=book, account=account, client_for=client_for, api_for=api_for, tmp_path=tmp_path, settings=settings)
    assert consequences(book, account) == expected(stage)


# --- Paths that create an account with its TAM ----------------------------------------------------------------------


def create_web(book: Any, stage: str, client_for: Any, **_: Any) -> Account:
    data = {
        "crm_id": "STAFF-1",
        "name": "Umbrella",
        "region": book.east.pk,
        "segment": "enterprise",
        "arr": "120000",
        "currency": "USD",
        "product_tier": tier("Premium").pk,
        "licenses": "100",
        "priority": "1",
        "tam": book.tam2.pk,
        "lifecycle_stage": stage,
    }
    response = client_for(book.manager).post(reverse("accounts:create"), data)
    assert response.status_code == 302, response.content[:2000]
    return Account.objects.get(crm_id="STAFF-1")


def create_api(book: Any, stage: str, api_for: Any, **_: Any) -> Account:
    body = {
        "crm_id": "STAFF-1",
        "name": "Umbrella",
        "region_id": book.east.pk,
        "segment": "enterprise",
        "arr": "120000",
        "product_tier": "Premium",
        "tam_id": book.tam2.pk,
        "lifecycle_stage": stage,
    }
    response = api_for(book.manager).post("/api/v1/accounts/", body, content_type="application/json")
    assert response.status_code == 201, response.content
    return Account.objects.get(crm_id="STAFF-1")


def create_import(book: Any, stage: str, tmp_path: Path, settings: Any, **_: Any) -> Account:
    label = STAGES[LifecycleStage(stage)]
    run_import(book, tmp_path, settings, f"STAFF-1,Umbrella,Enterprise,AMER East,120000,Premium,{label},Theo Tam")
    return Account.objects.get(crm_id="STAFF-1")


CREATE_PATHS = [create_web, create_api, create_import]


@pytest.mark.parametrize("stage", list(STAGES))
@pytest.mark.parametrize("path", CREATE_PATHS, ids=[p.__name__ for p in CREATE_PATHS])
def test_every_path_that_creates_an_account_with_its_tam_has_the_same_consequences(
    book, client_for, api_for, tmp_path, settings, path, stage
):
    account = path(book=book, stage=stage, client_for=client_for, api_for=api_for, tmp_path=tmp_path, settings=settings)
    assert consequences(book, account) == expected(stage)


# --- Changing hands and the page's promise ----------------------------------------------------------------------------


def test_the_tam_an_account_leaves_is_told_and_the_new_one_too(book):
    account = to_staff(book, LifecycleStage.ADOPTION)
    account_services.account_set_tam(actor=book.manager, account=account, tam=book.tam)
    account_services.account_set_tam(actor=book.manager, account=account, tam=book.tam2)
    left = Notification.objects.filter(recipient=book.tam, account=account).order_by("id")
    assert [n.title for n in left] == ["You are now the TAM of Umbrella", "Umbrella moved to Theo Tam"]
    assert Notification.objects.filter(recipient=book.tam2, account=account).count() == 1
    assert not Notification.objects.filter(recipient=book.manager, kind=NotificationKind.TAM_ASSIGNED).exists()


def test_clearing_the_tam_tells_the_tam_and_puts_the_task_back(book):
    account = to_staff(book, LifecycleStage.ADOPTION)
    account_services.account_set_tam(actor=book.manager, account=account, tam=book.tam)
    account_services.account_set_tam(actor=book.manager, account=account, tam=None)
    assert Notification.objects.filter(recipient=book.tam, account=account).count() == 2
    assert Task.objects.filter(account=account, type=TaskType.ASSIGN_TAM, status=TaskStatus.OPEN).count() == 1


def test_a_tam_set_on_an_account_that_does_not_qualify_is_still_notified(book):
    account = to_staff(book, LifecycleStage.ONBOARDING)
    account_services.account_update(actor=book.manager, account=account, changes={"segment": "smb"})
    account_services.account_set_tam(actor=book.manager, account=account, tam=book.tam2)
    assert Notification.objects.filter(recipient=book.tam2, account=account).count() == 1
    # Domain section 3 starts onboarding for accounts that qualify; this one does not.
    assert not Onboarding.objects.filter(account=account).exists()


@pytest.mark.parametrize("stage", list(STAGES))
def test_accounts_to_staff_promises_what_assigning_does(book, client_for, stage):
    account = to_staff(book, stage)
    page = client_for(book.manager).get(reverse("assignment:staffing")).content.decode()
    row = page[page.index(f'id="staff-{account.pk}"') :]
    row = row[: row.index("</tr>")]
    if stage == LifecycleStage.ONBOARDING:
        assert "Starts onboarding" in row
    else:
        assert "Starts onboarding" not in row and "Past onboarding" in row
    # The page header no longer promises onboarding for every row.
    assert "Assigning a TAM here starts their onboarding" not in page
    done = client_for(book.manager).post(
        reverse("assignment:staffing_assign", args=[account.pk]), {"tam": book.tam2.pk}, HTTP_HX_REQUEST="true"
    )
    text = done.content.decode()
    assert "Assigned to Theo Tam" in text
    assert ("Onboarding started" in text) == (stage == LifecycleStage.ONBOARDING)
    assert "Theo Tam notified" in text
