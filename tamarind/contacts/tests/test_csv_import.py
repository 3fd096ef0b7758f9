"""CRM contacts files through the import jobs: line-numbered errors, all or nothing, idempotent on (account, email)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management import call_command

from tamarind.audit.models import AuditEvent
from tamarind.conftest import Book
from tamarind.contacts.models import Contact
from tamarind.imports import services
from tamarind.imports.kinds import kind_columns
from tamarind.imports.models import ImportJob, ImportMapping, ImportStatus
from tamarind.testing.factories import ContactFactory

HEADER = "Account ID,Name,Email,Title,Personas,Opted Out\n"


def _run(book: Book, tmp_path: Path, text: str, dry_run: bool = False, mapping: Any = None) -> ImportJob:
    path = tmp_path / f"contacts-{abs(hash(text))}.csv"
    path.write_text(text, encoding="utf-8")
    job = services.import_job_create_from_path(
        actor=book.admin, path=path, dry_run=dry_run, kind="contacts", mapping=mapping
    )
    return services.import_job_run(job_id=job.pk)


def _messages(job: Any) -> list[str]:
    return [e["message"] for e in job.errors]


def _contact_events() -> int:
    return AuditEvent.objects.filter(object_type="contacts.contact").count()


def test_contacts_import_creates_then_is_idempotent_then_updates(book: Book, tmp_path: Path) -> None:
    crm, other = book.account.crm_id, book.other_account.crm_id
    text = HEADER + (
        f"{crm},Ada Lovelace,Ada@Example.com,CTO,admin;Security lead,no\n"
        f"{crm},Grace Hopper,grace@example.com,,Development lead,\n"
        f"{other},Ada Lovelace,ada@example.com,Advisor,,yes\n"
    )
    dry = _run(book, tmp_path, text, dry_run=True)
    assert dry.status == ImportStatus.SUCCEEDED and dry.created == 3 and not Contact.objects.exists()
    job = _run(book, tmp_path, text)
    assert job.status == ImportStatus.SUCCEEDED, _messages(job)
    assert (job.created, job.updated, job.unchanged) == (3, 0, 0)
    ada = Contact.objects.get(account=book.account, email="ada@example.com")
    assert sorted(p.key for p in ada.personas.all()) == ["admin", "security-lead"] and ada.title == "CTO"
    assert Contact.objects.get(account=book.other_account).opted_out
    assert _contact_events() == 3

    again = _run(book, tmp_path, text + "\n")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert Contact.objects.count() == 3 and _contact_events() == 3  # unchanged rows: no write, no event

    changed = HEADER + (
        f"{crm},Ada King,ada@example.com,CTO,admin,no\n"
        f"{crm},Grace Hopper,grace@example.com,,Development lead,\n"
        f"{other},Ada Lovelace,ada@example.com,Advisor,,no\n"  # an import never takes an opt-out back
    )
    job = _run(book, tmp_path, changed)
    assert (job.created, job.updated, job.unchanged) == (0, 1, 2), _messages(job)
    ada.refresh_from_db()
    assert ada.name == "Ada King" and [p.key for p in ada.personas.all()] == ["admin"]
    assert Contact.objects.get(account=book.other_account).opted_out
    event = AuditEvent.objects.filter(object_type="contacts.contact", object_id=str(ada.pk), action="update").get()
    assert event.before == {"name": "Ada Lovelace", "personas": ["admin", "security-lead"]}
    assert event.after == {"name": "Ada King", "personas": ["admin"]} and event.source == "import"


def test_bad_lines_are_named_by_number_and_nothing_is_written(book: Book, tmp_path: Path) -> None:
    crm = book.account.crm_id
    ContactFactory(account=book.account, email="kept@example.com", name="Kept")
    text = HEADER + (
        f"{crm},Good Row,good@example.com,,admin,\n"
        "NOPE-1,Unknown Account,u@example.com,,,\n"
        f"{crm},Bad Email,not-an-email,,,\n"
        f"{crm},Bad Persona,p@example.com,,admin;wizard,\n"
        f"{crm},,noname@example.com,,,\n"
        f"{crm},Dup,GOOD@example.com,,,\n"
        f"{crm},Bad Flag,flag@example.com,,,maybe\n"
        f"{crm},Kept,kept@example.com,New title,,\n"
    )
    job = _run(book, tmp_path, text)
    assert job.status == ImportStatus.FAILED
    assert _messages(job) == [
        'line 3: Account ID "NOPE-1" is not an account Tamarind knows',
        'line 4: Email "not-an-email" is not a valid email address',
        'line 5: Personas "wizard" is not a persona (known: admin, billing, champion, development-lead, '
        "executive-sponsor, security-lead)",
        "line 6: Name is required",
        'line 7: Email "good@example.com" repeats line 2 for this account',
        'line 8: Opted Out "maybe" is not yes or no',
    ]
    assert list(Contact.objects.values_list("email", flat=True)) == ["kept@example.com"]
    assert Contact.objects.get().title == "Platform lead" and _contact_events() == 0


def test_a_file_without_the_required_columns_is_refused(book: Book, tmp_path: Path) -> None:
    job = _run(book, tmp_path, "Account ID,Name\nX,Y\n")
    assert job.status == ImportStatus.FAILED and _messages(job) == ['missing required column "Email"']


def test_personas_column_absent_leaves_personas_and_title(book: Book, tmp_path: Path) -> None:
    contact = ContactFactory(account=book.account, email="ada@example.com", name="Ada", personas=["champion"])
    job = _run(book, tmp_path, f"Account ID,Name,Email\n{book.account.crm_id},Ada,ADA@example.com\n")
    assert (job.created, job.updated, job.unchanged) == (0, 0, 1), _messages(job)
    assert [p.key for p in contact.personas.all()] == ["champion"]


def test_the_mapping_tab_names_contact_headers(book: Book, client_for: Any, tmp_path: Path) -> None:
    assert [c.key for c in kind_columns("contacts")][:3] == ["contacts.account", "contacts.name", "contacts.email"]
    mapping = ImportMapping.objects.get()
    admin = client_for(book.admin)
    tab = admin.get(f"/imports/mappings/{mapping.pk}/contacts/")
    assert tab.status_code == 200 and "Personas" in tab.content.decode()
    text = f"Customer,Full Name,Mail\n{book.account.crm_id},Ada,ada@example.com\n"
    assert _run(book, tmp_path, text, mapping=mapping).status == ImportStatus.FAILED
    admin.post(f"/imports/mappings/{mapping.pk}/contacts/", {"account": "Customer", "email": "Mail"})
    mapping.refresh_from_db()
    assert mapping.headers["contacts.email"] == ["Mail"]
    job = _run(book, tmp_path, text, mapping=mapping)
    assert job.status == ImportStatus.SUCCEEDED, _messages(job)
    assert Contact.objects.get().name == "Ada"


def test_the_command_line_imports_contacts(book: Book, tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text(HEADER + f"{book.account.crm_id},Ada,ada@example.com,CTO,admin,\n")
    call_command("import", "contacts", str(path), "--no-progress", "--as", book.admin.email)
    assert Contact.objects.get().email == "ada@example.com"
    assert "1" in capsys.readouterr().out


def test_the_api_uploads_a_contacts_file(book: Book, api_for: Any, tmp_path: Path) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("c.csv", (HEADER + f"{book.account.crm_id},Ada,ada@example.com,,admin,\n").encode())
    response = api_for(book.admin).post("/api/v1/imports/", {"file": upload, "kind": "contacts"})
    assert response.status_code == 202, response.content
    assert response.json()["kind"] == "contacts"
