"""Forms of the health app: the TAM's sentiment (two clicks: a reason, then a color button) and the health model
editor (one field per setting a person changes, plus the raw JSON for power users).

The model forms only turn fields into a definition; whether the definition is valid is decided by
``spec.parse_spec`` (through the service), and its errors are put back on the field they belong to
(``place_errors``), like the assignment rules editor.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django import forms

from tamarind.core.forms import IntegerField
from tamarind.health.models import HealthColor
from tamarind.health.spec import (
    COLOR_LABELS,
    COLORS,
    ENGAGEMENT,
    MEASURE_LABELS,
    MEASURES,
    PRODUCT_USAGE,
    SUPPORT,
    month_column_labels,
    utilization_row_labels,
)


class SentimentForm(forms.Form):
    color = forms.ChoiceField(choices=HealthColor.choices)
    reason = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    requires_triage = forms.BooleanField(required=False, label="Requires triage (yellow)")

    def service_data(self) -> dict[str, Any]:
        return {
            "color": self.cleaned_data["color"],
            "reason": self.cleaned_data["reason"],
            "requires_triage": bool(self.cleaned_data["requires_triage"]),
        }


# --- The health model editor ------------------------------------------------------------------------------------

MAX_ROWS = 10
MAX_COLUMNS = 8
PRIORITIES = (1, 2, 3, 4)
NOTE_MAX = 500
CELL_CHOICES = [("", "—"), *((c, COLOR_LABELS[c]) for c in COLORS)]
BOUND_CHOICES = [("lt", "under"), ("le", "up to")]
SECTIONS = ("general", "weights", "bands", "usage", "utilization", "engagement", "support")


def _num(d: Decimal) -> int | str:
    """A form decimal as the definition writes it: whole numbers as numbers, others as exact strings."""
    d = d.normalize()
    return int(d) if d == d.to_integral_value() else f"{d:f}"


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value))


def _small(**attrs: Any) -> forms.NumberInput:
    return forms.NumberInput(attrs={"class": "num-input", **attrs})


class HealthModelForm(forms.Form):
    """Every setting of the health model as its own field.

    The utilization table is ``u_rows`` rows by ``u_cols`` columns: column 0 starts at month 0, column ``j`` at
    month ``m_j`` (clear it to drop the column); row ``i`` runs ``u_i_bound`` (under / up to) ``u_i_max`` percent
    (blank: no upper bound) with a color select ``u_i_c_j`` per column, and ``u_i_remove``. Rows and columns are
    sorted when the definition is built, so a new bound typed into the empty row lands where it belongs.
    """

    note = forms.CharField(
        required=False, max_length=NOTE_MAX, label="Why this version", help_text="Kept with the version."
    )
    band_green = IntegerField(label="Green from", widget=_small(min=1, max=100))
    band_yellow = IntegerField(label="Yellow from", widget=_small(min=1, max=100))
    score_green = IntegerField(label="Green", widget=_small(min=0, max=100))
    score_yellow = IntegerField(label="Yellow", widget=_small(min=0, max=100))
    score_red = IntegerField(label="Red", widget=_small(min=0, max=100))
    red_sentiment_override = forms.BooleanField(required=False, label="A Red TAM sentiment makes the whole score Red")
    staleness_days = IntegerField(label="A TAM sentiment is stale after (days)", widget=_small(min=1))
    utilization_share = forms.DecimalField(label="License utilization share (%)", widget=_small(min=0, max=100))
    adoption_share = forms.DecimalField(label="Use-case adoption share (%)", widget=_small(min=0, max=100))
    adoption_green = forms.DecimalField(label="Green from (% of use cases adopted)", widget=_small(min=0, max=100))
    adoption_yellow = forms.DecimalField(label="Yellow from (% of use cases adopted)", widget=_small(min=0, max=100))
    support_green = IntegerField(label="Green up to (tickets a month)", widget=_small(min=0))
    support_yellow = IntegerField(label="Yellow up to (tickets a month)", widget=_small(min=0))
    urgent_is_red = forms.BooleanField(required=False, label="An open urgent ticket makes it Red")
    u_rows = IntegerField(widget=forms.HiddenInput, min_value=1, max_value=MAX_ROWS)
    u_cols = IntegerField(widget=forms.HiddenInput, min_value=1, max_value=MAX_COLUMNS)

    def __init__(self, data: Any = None, *, definition: dict[str, Any], **kwargs: Any) -> None:
        """``definition`` fills an unbound form (with one empty row and column to add); a bound form takes its
        table's size from the posted ``u_rows``/``u_cols``."""
        self.section_errors: dict[str, list[str]] = {}
        self.row_origin: list[int] = []  # definition row index -> form row
        self.col_origin: list[int] = []  # definition column index -> form column
        usage = definition["measures"][PRODUCT_USAGE]
        initial = self._initial(definition) if data is None else None
        super().__init__(data, initial=initial, **kwargs)
        if data is None:
            rows = min(len(usage["utilization"]) + 1, MAX_ROWS)
            cols = min(len(usage["month_breaks"]) + 2, MAX_COLUMNS)
            self.initial.update({"u_rows": rows, "u_cols": cols})
        else:
            rows, cols = self._posted_size(data)
        self.n_rows, self.n_cols = rows, cols
        for key in MEASURES:
            self.fields[f"weight_{key}"] = forms.DecimalField(
                label=MEASURE_LABELS[key], widget=_small(min=0, max=100, **{"data-weight": key})
            )
        for p in PRIORITIES:
            self.fields[f"eng_{p}_green"] = IntegerField(
                required=False, label=f"Priority {p}: Green up to (days)", widget=_small(min=0)
            )
            self.fields[f"eng_{p}_yellow"] = IntegerField(
                required=False, label=f"Priority {p}: Yellow up to (days)", widget=_small(min=0)
            )
        for j in range(1, cols):
            self.fields[f"m_{j}"] = IntegerField(
                required=False, label=f"Column {j + 1}: from month", widget=_small(min=1)
            )
        for i in range(rows):
            self.fields[f"u_{i}_bound"] = forms.ChoiceField(
                choices=BOUND_CHOICES, label=f"Row {i + 1}: under or up to", required=False
            )
            self.fields[f"u_{i}_max"] = forms.DecimalField(
                required=False,
                label=f"Row {i + 1}: utilization bound (%)",
                widget=_small(min=0, step="any", placeholder="no limit"),
            )
            self.fields[f"u_{i}_remove"] = forms.BooleanField(required=False, label=f"Remove row {i + 1}")
            for j in range(cols):
                self.fields[f"u_{i}_c_{j}"] = forms.ChoiceField(
                    choices=CELL_CHOICES, required=False, label=f"Row {i + 1}, column {j + 1}"
                )

    @staticmethod
    def _posted_size(data: Any) -> tuple[int, int]:
        def clamp(raw: Any, hi: int) -> int:
            try:
                return min(max(int(raw), 1), hi)
            except (TypeError, ValueError):
                return 1

        return clamp(data.get("u_rows"), MAX_ROWS), clamp(data.get("u_cols"), MAX_COLUMNS)

    @staticmethod
    def _initial(definition: dict[str, Any]) -> dict[str, Any]:
        m = definition["measures"]
        usage, support = m[PRODUCT_USAGE], m[SUPPORT]
        initial: dict[str, Any] = {
            "band_green": definition["bands"]["green"],
            "band_yellow": definition["bands"]["yellow"],
            **{f"score_{c}": definition["band_scores"][c] for c in COLORS},
            "red_sentiment_override": definition["red_sentiment_override"],
            "staleness_days": definition["staleness_days"],
            **{f"weight_{k}": _decimal(m[k]["weight"]) for k in MEASURES},
            "utilization_share": _decimal(usage["utilization_share"]),
            "adoption_share": _decimal(usage["adoption_share"]),
            "adoption_green": _decimal(usage["adoption"]["green"]),
            "adoption_yellow": _decimal(usage["adoption"]["yellow"]),
            "support_green": support["green"],
            "support_yellow": support["yellow"],
            "urgent_is_red": support["urgent_is_red"],
        }
        for p, days in m[ENGAGEMENT]["by_priority"].items():
            initial[f"eng_{p}_green"] = days["green"]
            initial[f"eng_{p}_yellow"] = days["yellow"]
        for j, month in enumerate(usage["month_breaks"], start=1):
            initial[f"m_{j}"] = month
        for i, row in enumerate(usage["utilization"]):
            initial[f"u_{i}_bound"] = "le" if row["inclusive"] else "lt"
            initial[f"u_{i}_max"] = None if row["max"] is None else _decimal(row["max"])
            for j, color in enumerate(row["colors"]):
                initial[f"u_{i}_c_{j}"] = color
        return initial

    # --- The template's view of the form ---------------------------------------------------------------------

    def weight_fields(self) -> list[forms.BoundField]:
        return [self[f"weight_{k}"] for k in MEASURES]

    def weight_rows(self) -> list[tuple[forms.BoundField, str]]:
        """Each weight with its share of the score when every measure has data ("" while the total is unknown)."""
        total = self.weight_sum()
        rows = []
        for bf in self.weight_fields():
            share = ""
            if total:
                try:
                    share = f"{(_decimal(bf.value() or 0) * 100 / total).quantize(Decimal('0.1')).normalize():f}%"
                except ArithmeticError:
                    share = ""
            rows.append((bf, share))
        return rows

    def weight_sum(self) -> Decimal | None:
        total = Decimal(0)
        for bf in self.weight_fields():
            try:
                total += _decimal(bf.value() or 0)
            except ArithmeticError:
                return None
        return total

    def engagement_rows(self) -> list[tuple[int, forms.BoundField, forms.BoundField]]:
        return [(p, self[f"eng_{p}_green"], self[f"eng_{p}_yellow"]) for p in PRIORITIES]

    def column_headers(self) -> list[forms.BoundField | None]:
        """Column 0 (from month 0) has no field."""
        return [None, *(self[f"m_{j}"] for j in range(1, self.n_cols))]

    def column_labels(self) -> list[str]:
        """Each form column in words ("2-5 months"), in form order; an unused column says so."""
        months: dict[int, int] = {0: 0}
        for j in range(1, self.n_cols):
            try:
                months[j] = int(self[f"m_{j}"].value())
            except (TypeError, ValueError):
                continue
        ordered = sorted(set(months.values()))
        words = dict(zip(ordered, month_column_labels(ordered[1:]), strict=True))
        return [words[months[j]] if j in months else "unused: give it a month to add it" for j in range(self.n_cols)]

    def table_rows(self) -> list[dict[str, Any]]:
        bounds: list[tuple[Any, bool]] = []
        for i in range(self.n_rows):
            raw = self[f"u_{i}_max"].value()
            bounds.append((raw if raw not in ("", None) else None, self[f"u_{i}_bound"].value() == "le"))
        open_ended = [i for i, (top, _) in enumerate(bounds) if top is None]
        labels: list[str] = []
        if open_ended == [len(bounds) - 1] or (len(open_ended) == 2 and open_ended[-1] == len(bounds) - 1):
            try:
                labels = utilization_row_labels(bounds[: open_ended[0] + 1])
            except ArithmeticError:
                labels = []
        return [
            {
                "index": i,
                "label": labels[i] if i < len(labels) else "",
                "bound": self[f"u_{i}_bound"],
                "max": self[f"u_{i}_max"],
                "remove": self[f"u_{i}_remove"],
                "cells": [self[f"u_{i}_c_{j}"] for j in range(self.n_cols)],
            }
            for i in range(self.n_rows)
        ]

    # --- Fields -> definition -----------------------------------------------------------------------------------

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for p in PRIORITIES:
            green, yellow = data.get(f"eng_{p}_green"), data.get(f"eng_{p}_yellow")
            if (green is None) != (yellow is None) and f"eng_{p}_green" not in self.errors:
                self.add_error(
                    f"eng_{p}_yellow" if yellow is None else f"eng_{p}_green",
                    "Give both Green and Yellow days, or leave both empty (priority not rated).",
                )
        columns: list[tuple[int, int]] = [(0, 0)]
        seen: dict[int, int] = {}
        for j in range(1, self.n_cols):
            month = data.get(f"m_{j}")
            if month is None:
                continue
            if month in seen:
                self.add_error(f"m_{j}", f"Another column already starts at month {month}.")
                continue
            seen[month] = j
            columns.append((month, j))
        columns.sort()
        self.col_origin = [j for _, j in columns]
        rows: list[tuple[Decimal | None, int]] = []
        for i in range(self.n_rows):
            if data.get(f"u_{i}_remove"):
                continue
            top = data.get(f"u_{i}_max")
            cells = [data.get(f"u_{i}_c_{j}") for j in self.col_origin]
            if top is None and not any(cells):
                continue  # the empty row
            for j, cell in zip(self.col_origin, cells, strict=True):
                if not cell:
                    self.add_error(f"u_{i}_c_{j}", "Choose a color.")
            rows.append((top, i))
        open_rows = [i for top, i in rows if top is None]
        for i in open_rows[:-1]:
            self.add_error(f"u_{i}_max", "Only one row has no upper bound; give this one a bound.")
        if not open_rows and rows:
            self.add_error(f"u_{rows[-1][1]}_max", "The last row has no upper bound: clear this one, or add a row.")
        rows.sort(key=lambda r: (r[0] is None, r[0] or 0))
        self.row_origin = [i for _, i in rows]
        if not rows:
            self.section_errors.setdefault("utilization", []).append("The table needs at least one row.")
            self.add_error(None, "The utilization table needs at least one row.")
        return data

    def to_definition(self) -> dict[str, Any]:
        """The definition these (valid) fields describe."""
        d = self.cleaned_data
        rows = []
        for i in self.row_origin:
            top = d.get(f"u_{i}_max")
            rows.append(
                {
                    "max": None if top is None else str(_num(top)),
                    "inclusive": top is not None and d.get(f"u_{i}_bound") == "le",
                    "colors": [d.get(f"u_{i}_c_{j}") for j in self.col_origin],
                }
            )
        return {
            "bands": {"green": d["band_green"], "yellow": d["band_yellow"]},
            "band_scores": {c: d[f"score_{c}"] for c in COLORS},
            "red_sentiment_override": bool(d["red_sentiment_override"]),
            "staleness_days": d["staleness_days"],
            "measures": {
                "sentiment": {"weight": _num(d["weight_sentiment"])},
                PRODUCT_USAGE: {
                    "weight": _num(d[f"weight_{PRODUCT_USAGE}"]),
                    "utilization_share": _num(d["utilization_share"]),
                    "adoption_share": _num(d["adoption_share"]),
                    "month_breaks": [d[f"m_{j}"] for j in self.col_origin[1:]],
                    "utilization": rows,
                    "adoption": {"green": _num(d["adoption_green"]), "yellow": _num(d["adoption_yellow"])},
                },
                "success_plan": {"weight": _num(d["weight_success_plan"])},
                ENGAGEMENT: {
                    "weight": _num(d[f"weight_{ENGAGEMENT}"]),
                    "by_priority": {
                        str(p): {"green": d[f"eng_{p}_green"], "yellow": d[f"eng_{p}_yellow"]}
                        for p in PRIORITIES
                        if d.get(f"eng_{p}_green") is not None and d.get(f"eng_{p}_yellow") is not None
                    },
                },
                SUPPORT: {
                    "weight": _num(d[f"weight_{SUPPORT}"]),
                    "green": d["support_green"],
                    "yellow": d["support_yellow"],
                    "urgent_is_red": bool(d["urgent_is_red"]),
                },
            },
        }

    # --- Validator errors -> fields -----------------------------------------------------------------------------

    def _target(self, place: str) -> tuple[str | None, str | None]:
        """The form field (or, failing that, the section) a validator place belongs to."""
        parts = place.split(".")
        simple = {
            "bands": "band_yellow",
            "bands.green": "band_green",
            "bands.yellow": "band_yellow",
            "red_sentiment_override": "red_sentiment_override",
            "staleness_days": "staleness_days",
            "measures.product_usage": "utilization_share",
            "measures.product_usage.utilization_share": "utilization_share",
            "measures.product_usage.adoption_share": "adoption_share",
            "measures.product_usage.adoption": "adoption_yellow",
            "measures.product_usage.adoption.green": "adoption_green",
            "measures.product_usage.adoption.yellow": "adoption_yellow",
            "measures.support": "support_yellow",
            "measures.support.green": "support_green",
            "measures.support.yellow": "support_yellow",
            "measures.support.urgent_is_red": "urgent_is_red",
        }
        if place in simple:
            return simple[place], None
        if place == "measures":
            return None, "weights"
        if parts[0] == "band_scores" and len(parts) == 2 and parts[1] in COLORS:
            return f"score_{parts[1]}", None
        if parts[0] == "measures" and len(parts) == 3 and parts[1] in MEASURES and parts[2] == "weight":
            return f"weight_{parts[1]}", None
        if parts[:3] == ["measures", "engagement", "by_priority"] and len(parts) >= 4 and parts[3].isdigit():
            if int(parts[3]) in PRIORITIES:
                return f"eng_{parts[3]}_{parts[4] if len(parts) > 4 and parts[4] == 'green' else 'yellow'}", None
            return None, "engagement"
        if parts[:3] == ["measures", "product_usage", "month_breaks"]:
            if len(parts) == 4 and parts[3].isdigit() and int(parts[3]) + 1 < len(self.col_origin):
                return f"m_{self.col_origin[int(parts[3]) + 1]}", None
            return None, "utilization"
        if parts[:3] == ["measures", "product_usage", "utilization"]:
            if len(parts) >= 4 and parts[3].isdigit() and int(parts[3]) < len(self.row_origin):
                row = self.row_origin[int(parts[3])]
                if len(parts) == 6 and parts[4] == "colors" and parts[5].isdigit():
                    col = int(parts[5])
                    if col < len(self.col_origin):
                        return f"u_{row}_c_{self.col_origin[col]}", None
                if len(parts) == 5 and parts[4] == "inclusive":
                    return f"u_{row}_bound", None
                return f"u_{row}_max", None
            return None, "utilization"
        if parts[0] == "measures" and len(parts) >= 2 and parts[1] in (ENGAGEMENT,):
            return None, "engagement"
        return None, None

    def place_errors(self, errors: dict[str, list[str]]) -> None:
        """Put the validator's (or the service's) errors on the field, or the section, they belong to."""
        for place, messages in errors.items():
            name, section = self._target(place)
            for message in messages:
                if name is not None and name in self.fields:
                    self.add_error(name, message)
                elif section is not None:
                    self.section_errors.setdefault(section, []).append(message)
                    self.add_error(None, message)
                else:
                    self.add_error(None, message if place == "__all__" else f"{place}: {message}")

    def error_list(self) -> list[str]:
        """Every error in words, each named by its field's label (the preview panel lists them)."""
        out: list[str] = []
        for name, errs in self.errors.items():
            label = self.fields[name].label if name in self.fields else None
            out.extend(f"{label}: {e}" if label else str(e) for e in errs)
        return out


class JsonDefinitionForm(forms.Form):
    """The "Advanced" editor: the whole definition as JSON."""

    definition = forms.CharField(
        label="Definition (JSON)",
        widget=forms.Textarea(attrs={"rows": 28, "class": "mono", "spellcheck": "false"}),
    )
    note = forms.CharField(
        required=False, max_length=NOTE_MAX, label="Why this version", help_text="Kept with the version."
    )

    def clean_definition(self) -> Any:
        text = self.cleaned_data["definition"]
        try:
            return json.loads(text)
        except ValueError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc}") from exc

    def to_definition(self) -> Any:
        return self.cleaned_data["definition"]

    def place_errors(self, errors: dict[str, list[str]]) -> None:
        """A JSON editor has one field: each error names its place in the definition."""
        for place, messages in errors.items():
            for message in messages:
                self.add_error("definition", message if place == "__all__" else f"{place}: {message}")

    def error_list(self) -> list[str]:
        return [str(e) for errs in self.errors.values() for e in errs]


def editor_forms(data: Any, *, definition: dict[str, Any], mode: str) -> tuple[HealthModelForm, JsonDefinitionForm]:
    """The editor's two forms; only the one named by ``mode`` ("form" or "json") is bound to ``data``."""
    fields = HealthModelForm(data if mode == "form" else None, definition=definition)
    raw = JsonDefinitionForm(data if mode == "json" else None, initial={"definition": json.dumps(definition, indent=2)})
    return fields, raw


def editor_mode(data: Any) -> str:
    return "json" if data.get("mode") == "json" else "form"
