"""The CRM file format: which columns carry which account field, and how a cell becomes a value.

A column is known by the header names of the chosen ``ImportMapping`` (the default mapping follows a
Salesforce account report). Cell parsers are pure functions that return a value or raise ``CellError``
with the reason; the importer adds the line and the header to make the message
(``line 7: ARR "lots" is not a number``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from tamarind.accounts.models import EngagementModel, LifecycleStage, Segment
from tamarind.core.values import MAX_DATE, MIN_DATE, date_out_of_range

DATE_RANGE_CELL = f"is not between {MIN_DATE.isoformat()} and {MAX_DATE.isoformat()}"


class CellError(ValueError):
    """A cell that cannot be read; the message is the reason, e.g. ``is not a number``."""


@dataclass(frozen=True)
class Column:
    """One account field as it appears in a CRM file."""

    field: str
    header: str  # the header the export writes and the default mapping lists first
    aliases: tuple[str, ...] = ()
    required: bool = False
    synonyms: bool = False  # values may be translated by the mapping's synonyms


COLUMNS: tuple[Column, ...] = (
    Column("crm_id", "Account ID", ("Account ID (18)", "CRM ID", "Account Id"), required=True),
    Column("name", "Account Name", ("Name",), required=True),
    Column("parent", "Parent Account ID", ("Parent ID", "Parent Account ID (18)")),
    Column("region", "Region", ("Sales Region", "Account Region"), required=True, synonyms=True),
    Column("segment", "Sales Segment", ("Segment", "Account Segment"), required=True, synonyms=True),
    Column("arr", "CARR (This Account)", ("ARR", "Annual Recurring Revenue", "CARR"), required=True),
    Column("currency", "Currency", ("Account Currency", "ARR Currency")),
    Column("product_tier", "Products Purchased", ("Product Tier", "Tier", "Plan"), synonyms=True),
    Column("licenses", "Number of Licenses", ("Licenses", "Seats", "License Count")),
    Column("priority", "Priority", ("Account Priority", "TAM Priority"), synonyms=True),
    Column("engagement_model", "Engagement Model", (), synonyms=True),
    Column("tam", "Technical Account Manager", ("TAM",)),
    Column("sal", "Account Owner", ("SAL", "AE", "SAL/AE", "Strategic Account Leader")),
    Column("sa", "Solutions Architect", ("SA",)),
    Column("customer_since", "Customer Since", ("Customer Since Date", "Contract Start Date")),
    Column("next_renewal_date", "Next Renewal Date", ("Renewal Date",)),
    Column("lifecycle_stage", "Lifecycle Stage", ("Lifecycle",), synonyms=True),
    Column("collaboration_url", "Collaboration Space", ("Collaboration Space URL", "Collaboration Project")),
)
COLUMNS_BY_FIELD: dict[str, Column] = {c.field: c for c in COLUMNS}
FIELD_ORDER: tuple[str, ...] = tuple(c.field for c in COLUMNS)
SYNONYM_FIELDS: tuple[str, ...] = tuple(c.field for c in COLUMNS if c.synonyms)
PERSON_FIELDS: tuple[str, ...] = ("tam", "sal", "sa")


def default_headers() -> dict[str, list[str]]:
    """The default mapping: each field's canonical header first, then the common alternatives."""
    return {c.field: [c.header, *c.aliases] for c in COLUMNS}


def header_key(header: str) -> str:
    """Headers match ignoring case and spacing: ``Account  ID`` is ``account id``."""
    return " ".join(header.split()).casefold()


def value_key(value: str) -> str:
    """Choice values match ignoring case, spacing and punctuation: ``Mid Market`` is ``mid-market``."""
    return re.sub(r"[^0-9a-z]+", "", value.casefold().replace("&", "and"))


# --- Amounts ---------------------------------------------------------------------------------------------

CURRENCY_SYMBOLS: dict[str, str] = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR"}
_CODE = re.compile(r"^([A-Za-z]{3})\s*|\s*([A-Za-z]{3})$")
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']+")
_GROUPED = {
    ",": re.compile(r"^\d{1,3}(,\d{3})+$"),
    ".": re.compile(r"^\d{1,3}(\.\d{3})+$"),
}
_PLAIN = re.compile(r"^\d+(\.\d+)?$")
_US_DOLLARS = re.compile(r"^(\$ ?)?(\d{1,3}(?:,\d{3})+)(\.\d{1,2})?$")
_FAST = re.compile(r"^\d+(?:\.\d{1,2}|\.\d{4,})?$")  # not "12.000": three decimals may be thousands
MAX_AMOUNT = Decimal("999999999999.99")
CENT = Decimal("0.01")


def parse_amount(raw: str) -> tuple[Decimal, str | None]:
    """``"$1,234.50"`` -> (Decimal("1234.50"), "USD"). Returns the amount and the currency the cell named.

    Accepts currency symbols ($ € £ ¥ ₹) or a three-letter code before or after the number; spaces and
    apostrophes as group separators; ``,`` or ``.`` as the decimal mark. A single separator followed by
    exactly three digits groups thousands (``12.000`` is twelve thousand, ``1,234`` is 1234): CRM amounts
    carry cents or nothing, never tenths of a cent. Negative amounts (``-5``, ``(5)``) are returned as such;
    the caller decides whether they are allowed.
    """
    text = raw.strip()
    if _FAST.match(text):  # the common case, "1234.50": no symbol, no separator
        return Decimal(text), None
    us = _US_DOLLARS.match(text)
    if us:  # the next most common, a US report's "$1,234.50"
        return Decimal(us.group(2).replace(",", "") + (us.group(3) or "")), "USD" if us.group(1) else None
    currency: str | None = None
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1].strip()
    if text.startswith("-"):
        negative, text = True, text[1:].strip()
    for symbol, code in CURRENCY_SYMBOLS.items():
        if symbol in text:
            currency = code
            text = text.replace(symbol, "")
    text = text.strip()
    if text and (text[0].isalpha() or text[-1].isalpha()):
        match = _CODE.search(text)
        if match:
            currency = (match.group(1) or match.group(2)).upper()
            text = _CODE.sub("", text, count=1)
    if text.startswith("-") and not negative:  # "$-5", "USD -5"
        negative, text = True, text[1:]
    if not text.isdigit():
        text = _SPACES.sub("", text)
    number = _normalise_separators(text)
    if number is None:
        raise CellError("is not a number")
    try:
        value = Decimal(number)
    except InvalidOperation:
        raise CellError("is not a number") from None
    return (-value if negative else value), currency


def _normalise_separators(text: str) -> str | None:
    """Digits with at most one decimal point, or None when the separators make no sense."""
    if not text:
        return None
    has_comma, has_dot = "," in text, "." in text
    if has_comma and has_dot:
        # The last separator is the decimal mark; the other one groups thousands.
        decimal_mark = "," if text.rfind(",") > text.rfind(".") else "."
        group_mark = "." if decimal_mark == "," else ","
        whole, _, fraction = text.rpartition(decimal_mark)
        if not _GROUPED[group_mark].match(whole) or not fraction.isdigit():
            return None
        text = whole.replace(group_mark, "") + "." + fraction
    elif has_comma or has_dot:
        mark = "," if has_comma else "."
        if _GROUPED[mark].match(text):
            text = text.replace(mark, "")
        elif text.count(mark) == 1:
            text = text.replace(mark, ".")
        else:
            return None
    return text if _PLAIN.match(text) else None


def parse_arr(raw: str) -> tuple[Decimal, str | None]:
    value, currency = parse_amount(raw)
    if value < 0:
        raise CellError("is negative")
    value = value.quantize(CENT, rounding=ROUND_HALF_UP)
    if value > MAX_AMOUNT:
        raise CellError("is too large")
    return value, currency


def parse_count(raw: str) -> int:
    """A whole, non-negative number; thousands separators allowed (``1,200``), ``250.0`` too."""
    if raw.isascii() and raw.isdigit() and len(raw) < 10:
        return int(raw)
    try:
        value, _ = parse_amount(raw)
    except CellError:
        raise CellError("is not a whole number") from None
    if value != value.to_integral_value():
        raise CellError("is not a whole number")
    if value < 0:
        raise CellError("is negative")
    if value > 2_147_483_647:
        raise CellError("is too large")
    return int(value)


# --- Dates -------------------------------------------------------------------------------------------------

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$")
_US = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?: [0-9:]+(?: ?[AaPp][Mm])?)?$")


def parse_date(raw: str) -> dt.date:
    """ISO (``2026-01-31``, a time part is ignored) or US (``1/31/2026``, month first) dates."""
    text = raw.strip()
    match = _ISO.match(text)
    if match:
        year, month, day = (int(g) for g in match.groups())
    else:
        match = _US.match(text)
        if not match:
            raise CellError("is not a date")
        month, day, year = (int(g) for g in match.groups())
    try:
        value = dt.date(year, month, day)
    except ValueError:
        raise CellError("is not a date") from None
    if date_out_of_range(value):
        raise CellError(DATE_RANGE_CELL)
    return value


# --- Choices -----------------------------------------------------------------------------------------------


def choice_lookup(choices: type[Segment] | type[EngagementModel] | type[LifecycleStage]) -> dict[str, str]:
    """value_key(value or label) -> stored value, for a TextChoices."""
    out: dict[str, str] = {}
    for value, label in choices.choices:
        out[value_key(value)] = value
        out[value_key(str(label))] = value
    return out


SEGMENTS = choice_lookup(Segment)
ENGAGEMENT_MODELS = choice_lookup(EngagementModel)
LIFECYCLE_STAGES = choice_lookup(LifecycleStage)
_PRIORITY = re.compile(r"^(?:p|priority)?\s*([1-4])\b", re.IGNORECASE)


def parse_priority(raw: str) -> int:
    """``1``, ``P1``, ``Priority 1`` or the label ``1 — full lifecycle``."""
    match = _PRIORITY.match(raw.strip())
    if not match:
        raise CellError("is not a priority (1-4)")
    return int(match.group(1))


_CURRENCY_CODE = re.compile(r"^[A-Za-z]{3}$")


def parse_currency(raw: str) -> str:
    text = raw.strip()
    if text in CURRENCY_SYMBOLS:
        return CURRENCY_SYMBOLS[text]
    if not _CURRENCY_CODE.match(text):
        raise CellError("is not a currency code")
    return text.upper()
