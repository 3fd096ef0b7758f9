"""The rules editor: one row per condition, values typed as people say them ("Mid-Market, Enterprise", "Silver").

The form only turns words into a definition; whether the definition is valid is decided by ``rules.parse_rules``
(through the service), and its errors are put back on the row they belong to.
"""

from __future__ import annotations

from typing import Any

from django import forms

from tamarind.assignment.rules import FIELDS, MATCHES, OP_LABELS, SET_OPS
from tamarind.assignment.selectors import Vocabulary

EXTRA_ROWS = 2
MAX_ROWS = 20


class ConditionForm(forms.Form):
    field = forms.ChoiceField(choices=[("", "—"), *((k, v.label) for k, v in FIELDS.items())], required=False)
    op = forms.ChoiceField(choices=[("", "—"), *OP_LABELS.items()], required=False)
    value = forms.CharField(required=False, max_length=500)
    remove = forms.BooleanField(required=False)

    def is_blank(self) -> bool:
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        return data.get("remove") or not (data.get("field") or data.get("op") or data.get("value"))


ConditionFormSet = forms.formset_factory(ConditionForm, extra=0, max_num=MAX_ROWS, validate_max=True)


class RulesForm(forms.Form):
    match = forms.ChoiceField(choices=[("all", "all of these hold"), ("any", "any of these holds")])
    note = forms.CharField(
        required=False, max_length=500, help_text="Why you change the rules (kept with the version)."
    )


def _word_lookup(vocab: Vocabulary, field: str) -> dict[str, Any]:
    """Lower-cased words (labels, codes, tier names, region names) -> the code the rules store."""
    names = vocab.names().get(field, {})
    lookup: dict[str, Any] = {}
    for code, label in names.items():
        lookup[str(code).lower()] = code
        lookup[str(label).lower()] = code
        if field == "tier":
            for part in str(label).split("/"):
                lookup[part.strip().lower()] = code
    return lookup


def value_from_words(vocab: Vocabulary, field: str, op: str, text: str) -> Any:
    """``"Mid-Market, Enterprise"`` -> ``["mid_market", "enterprise"]``; unknown words pass through unchanged so the
    validator names them."""
    lookup = _word_lookup(vocab, field)
    words = [w.strip() for w in text.split(",")] if op in SET_OPS else [text.strip()]
    values = [lookup.get(w.lower(), w) for w in words if w]
    if op in SET_OPS:
        return values
    return values[0] if values else ""


def value_to_words(vocab: Vocabulary, field: str, value: Any) -> str:
    names = vocab.names().get(field, {})
    if isinstance(value, list):
        return ", ".join(str(names.get(v, v)) for v in value)
    return str(names.get(value, value))


def initial_rows(vocab: Vocabulary, definition: dict[str, Any]) -> list[dict[str, Any]]:
    rows = [
        {"field": c["field"], "op": c["op"], "value": value_to_words(vocab, c["field"], c["value"])}
        for c in definition.get("conditions", [])
    ]
    return rows + [{} for _ in range(EXTRA_ROWS)]


def build_definition(vocab: Vocabulary, rules: RulesForm, rows: Any) -> tuple[dict[str, Any], list[int]]:
    """The definition the forms describe, and for each condition the index of the row it came from."""
    conditions: list[dict[str, Any]] = []
    origin: list[int] = []
    for i, row in enumerate(rows):
        if row.is_blank():
            continue
        data = row.cleaned_data
        conditions.append(
            {
                "field": data["field"],
                "op": data["op"],
                "value": value_from_words(vocab, data["field"], data["op"], data["value"]),
            }
        )
        origin.append(i)
    return {"match": rules.cleaned_data.get("match", MATCHES[0]), "conditions": conditions}, origin


def place_errors(errors: dict[str, list[str]], rules: RulesForm, rows: Any, origin: list[int]) -> None:
    """Put the validator's errors (``conditions.2.value``) on the form row that condition came from."""
    for where, messages in errors.items():
        parts = where.split(".")
        if parts[0] == "conditions" and len(parts) >= 2 and parts[1].isdigit():
            row = rows[origin[int(parts[1])]]
            name = parts[2] if len(parts) > 2 and parts[2] in ("field", "op", "value") else None
            for message in messages:
                row.add_error(name, message)
        elif where == "match":
            for message in messages:
                rules.add_error("match", message)
        else:
            for message in messages:
                rules.add_error(None, message)
