"""The activity CSV import: streamed, line-numbered errors, all or nothing, idempotent."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from tamarind.audit.models import AuditEvent
from tamarind.cohorts import csv_import
from tamarind.cohorts.models import CohortActivity
from tamarind.cohorts.tests.helpers import account, add, make_cohort
from tamarind.core.errors import ValidationFailed
from tamarind.testing.factories import ContactFactory

HEADER = "Account ID,Contact Email,Kind,Date,Count\n"


@pytest.fixture
def setup(book: Any) -> dict[str, Any]:
    cohort = make_cohort(book.admin, owners=[book.tam])
    add(book.admin, cohort, book.account)
    contact = ContactFactory(account=book.account, email="ana@acme.example")
    return {"cohort": cohort, "contact": contact}


def run(book: Any, cohort: Any, text: str) -> csv_import.ImportOutcome:
    return csv_import.activity_import(actor=book.tam, cohort=cohort, stream=io.BytesIO(text.encode()))


def test_import_and_again_changes_nothing(book: Any, setup: dict[str, Any]) -> None:
    crm = book.account.crm_id
    text = (
        HEADER + f"{crm},ana@acme.example,post,2026-02-01,3\n{crm},,answers,2026-02-01,2\n{crm},,session,2/3/2026,1\n"
    )
    first = run(book, setup["cohort"], text)
    assert (first.created, first.updated, first.unchanged) == (3, 0, 0)
    rows = {(a.kind, a.contact_id, a.day, a.count, a.source) for a in CohortActivity.objects.all()}
    assert rows == {
        ("post", setup["contact"].pk, dt.date(2026, 2, 1), 3, "csv"),
        ("answer", None, dt.date(2026, 2, 1), 2, "csv"),
        ("session", None, dt.date(2026, 2, 3), 1, "csv"),
    }
    events = AuditEvent.objects.count()
    second = run(book, setup["cohort"], text)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 3)
    assert CohortActivity.objects.count() == 3 and AuditEvent.objects.count() == events
    third = run(book, setup["cohort"], text.replace("post,2026-02-01,3", "post,2026-02-01,5"))
    assert (third.created, third.updated, third.unchanged) == (0, 1, 2)
    assert CohortActivity.objects.get(kind="post").count == 5
    assert AuditEvent.objects.count() == events + 1


def test_errors_line_numbered_and_nothing_written(book: Any, setup: dict[str, Any]) -> None:
    crm = book.account.crm_id
    stranger = account(book.east)
    text = (
        HEADER
        + f"{crm},,post,2026-02-01,1\n"  # line 2: fine
        + f"{crm},,tweet,2026-02-01,1\n"  # 3: kind
        + f"{crm},,post,31/31/2026,1\n"  # 4: date
        + f"{crm},,post,2026-02-01,-2\n"  # 5: count
        + f"{stranger.crm_id},,post,2026-02-01,1\n"  # 6: not a member
        + f"{crm},nobody@acme.example,post,2026-02-01,1\n"  # 7: unknown contact
        + f"{crm},,post,2026-02-01,4\n"  # 8: the same key as line 2
        + ",,post,2026-02-01,1\n"  # 9: no account
        + f"{crm},,post,2099-01-01,1\n"  # 10: in the future
    )
    with pytest.raises(ValidationFailed) as exc:
        run(book, setup["cohort"], text)
    errors = exc.value.errors["file"]
    assert [e.split(":")[0] for e in errors] == [f"line {n}" for n in range(3, 11)]
    assert "tweet" in errors[0] and "not a member" in errors[3] and "line 2" in errors[5]
    assert not CohortActivity.objects.exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("Account ID,Kind,Date\n", 'missing required column "Count"'),
        ("Account ID,Kind,Date,Count\n\xff\n", None),
    ],
)
def test_bad_files(book: Any, setup: dict[str, Any], text: str, message: str | None) -> None:
    data = text.encode("latin-1")
    with pytest.raises(ValidationFailed) as exc:
        csv_import.activity_import(actor=book.tam, cohort=setup["cohort"], stream=io.BytesIO(data))
    if message:
        assert message in " ".join(exc.value.errors["file"])
    else:
        assert "not UTF-8" in " ".join(exc.value.errors["file"])


class Counting(io.BytesIO):
    """A stream that remembers the largest read asked of it."""

    largest = 0

    def read(self, n: int | None = -1) -> bytes:
        self.largest = max(self.largest, n if n is not None and n >= 0 else len(self.getvalue()))
        return super().read(n)

    def read1(self, n: int = -1) -> bytes:
        self.largest = max(self.largest, n if n >= 0 else len(self.getvalue()))
        return super().read1(n)


def test_streamed_not_read_whole(book: Any, setup: dict[str, Any]) -> None:
    crm = book.account.crm_id
    lines = [f"{crm},,post,2026-01-{d:02d},{n + 1}\n" for d in range(1, 29) for n in range(1)]
    lines += [f"{crm},,answer,2026-01-{d:02d},1\n" for d in range(1, 29)]
    body = (HEADER + "".join(lines) * 1).encode()
    body = body + b"".join(f"{crm},,session,2026-01-{d:02d},{d}\n".encode() for d in range(1, 29)) * 1
    padded = body + b"\n" * 200_000  # blank lines are skipped; they make the file large
    stream = Counting(padded)
    outcome = csv_import.activity_import(actor=book.tam, cohort=setup["cohort"], stream=stream)
    assert outcome.created == 84
    assert 0 < stream.largest < len(padded)


def test_read_only_refused(book: Any, setup: dict[str, Any]) -> None:
    with pytest.raises(PermissionDenied):
        csv_import.activity_import(actor=book.tam2, cohort=setup["cohort"], stream=io.BytesIO(HEADER.encode()))
