"""The columns of the usage, ticket, CRM opportunity and ARR history files, as the mapping editor shows them.

The account columns live in ``imports.columns``; the usage and ticket importers (``tamarind.usage.csv_import``) and
the renewals importer (``tamarind.renewals.csv_import``) define their own and read a mapping's extra header names
under ``<kind>.<field>`` keys of ``ImportMapping.headers`` (``usage.day``, ``opportunities.close_date``; they take
no value synonyms). This module names those keys and labels for the editor.
"""

from __future__ import annotations

from dataclasses import dataclass

from tamarind.imports.models import ImportKind

# The kinds whose headers the editor's extra sections edit (accounts have the main form).
FILE_KINDS: tuple[str, ...] = (
    ImportKind.USAGE,
    ImportKind.TICKETS,
    ImportKind.OPPORTUNITIES,
    ImportKind.ARR_HISTORY,
    ImportKind.CONTACTS,
)

LABELS: dict[str, str] = {
    "account": "Account (CRM id)",
    "day": "Date",
    "metric": "Metric",
    "value": "Value",
    "external_id": "Ticket id",
    "opened_at": "Opened",
    "closed_at": "Closed",
    "priority": "Priority",
    "status": "Status",
    "opportunity": "Opportunity id",
    "close_date": "Close date",
    "amount": "Amount",
    "stage": "Stage",
    "forecast": "Forecast category",
    "next_step": "Next step",
    "month": "Month",
    "arr": "ARR",
    "name": "Name",
    "email": "Email",
    "title": "Title",
    "personas": "Personas",
    "opted_out": "Opted out",
    "crm_id": "Contact id",
}
HELP: dict[str, str] = {
    "metric": "Long files only: a wide file has a column per metric, headed by its key or label.",
    "value": "Long files only, with the metric column.",
    "personas": "Contacts: persona keys or names separated by semicolons.",
    "opted_out": "Contacts: yes/no; an import opts a contact out, never back in.",
}
MAX_HEADERS = 20
MAX_HEADER_LENGTH = 100


@dataclass(frozen=True)
class KindColumn:
    """One field of a usage or ticket file: its mapping key, label, built-in header names, whether required."""

    kind: str
    field: str
    label: str
    builtin: tuple[str, ...]
    required: bool
    help: str

    @property
    def key(self) -> str:
        """Where a mapping keeps this field's extra header names: ``usage.day``."""
        return f"{self.kind}.{self.field}"


def kind_columns(kind: str) -> list[KindColumn]:
    """The fields of ``kind``'s files, in the importer's order (the importer's own column list, read here)."""
    if kind == ImportKind.CONTACTS:
        from tamarind.contacts.csv_import import CONTACT_COLUMNS

        return [
            KindColumn(kind, name, LABELS.get(name, name), names, required, HELP.get(name, ""))
            for name, (names, required) in CONTACT_COLUMNS.items()
        ]
    if kind in (ImportKind.OPPORTUNITIES, ImportKind.ARR_HISTORY):
        from tamarind.renewals.csv_import import HISTORY_COLUMNS, OPPORTUNITY_COLUMNS

        table = OPPORTUNITY_COLUMNS if kind == ImportKind.OPPORTUNITIES else HISTORY_COLUMNS
        return [
            KindColumn(kind, name, LABELS.get(name, name), names, required, HELP.get(name, ""))
            for name, (names, required) in table.items()
        ]
    from tamarind.usage.csv_import import TICKET_COLUMNS, USAGE_COLUMNS

    columns = USAGE_COLUMNS if kind == ImportKind.USAGE else TICKET_COLUMNS
    return [
        KindColumn(kind, c.field, LABELS.get(c.field, c.field), tuple(c.headers), c.required, HELP.get(c.field, ""))
        for c in columns
    ]


def kind_label(kind: str) -> str:
    return str(ImportKind(kind).label)


def is_kind_key(key: str) -> bool:
    """Whether a ``headers`` key belongs to another kind's file (``usage.day``), not to the account columns."""
    return key.partition(".")[0] in FILE_KINDS and "." in key
