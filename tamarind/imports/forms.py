"""Forms of the import pages: the upload, and the column mapping editor."""

from __future__ import annotations

from typing import Any

from django import forms

from tamarind.imports.columns import COLUMNS, SYNONYM_FIELDS
from tamarind.imports.kinds import MAX_HEADER_LENGTH, MAX_HEADERS, kind_columns
from tamarind.imports.models import ImportKind, ImportMapping


class UploadForm(forms.Form):
    kind = forms.ChoiceField(
        choices=ImportKind.choices,
        initial=ImportKind.ACCOUNTS,
        required=False,
        label="The file holds",
        help_text="Accounts (a CRM export), daily product usage, or support tickets.",
    )
    file = forms.FileField(
        label="CRM export (CSV)",
        help_text="A CSV export of your CRM's account report: UTF-8, comma-separated, header on the first line.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    mapping = forms.ModelChoiceField(
        queryset=ImportMapping.objects.none(),
        required=False,
        empty_label="Built-in default",
        help_text="Which column names and value synonyms to read the file with.",
    )
    dry_run = forms.BooleanField(
        required=False,
        label="Dry run",
        help_text="Check the file and preview the changes without writing anything.",
    )
    create_regions = forms.BooleanField(
        required=False,
        label="Create missing regions",
        help_text="Regions the file names that Tamarind does not have are created with the import (undone if it "
        "fails). Account files only.",
    )
    skip_unknown_owners = forms.BooleanField(
        required=False,
        label="Import lines with unknown owners without them",
        help_text="A TAM, SAL / AE or SA who is not in Tamarind is left out: new accounts get no owner, existing "
        "ones keep theirs; importing the file again sets them once you have added the people.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["mapping"]
        field.queryset = ImportMapping.objects.order_by("-is_default", "name")  # type: ignore[attr-defined]
        default = field.queryset.filter(is_default=True).first()  # type: ignore[attr-defined]
        if default is not None:
            field.initial = default.pk
            field.empty_label = None  # type: ignore[attr-defined]


SYNONYM_HELP = {
    "region": "e.g. AMER-E = AMER East",
    "segment": "e.g. MM = Mid-Market",
    "product_tier": "e.g. Platinum = Ultimate",
    "priority": "e.g. High = 1",
    "engagement_model": "e.g. Tech Touch = Digital program",
    "lifecycle_stage": "e.g. Live = Adoption",
}


class MappingForm(forms.Form):
    """A mapping: header names per field (one per line) and value synonyms (``value = meaning`` per line)."""

    name = forms.CharField(max_length=100)
    description = forms.CharField(max_length=255, required=False)
    is_default = forms.BooleanField(
        required=False, label="Default mapping", help_text="Used when an import names no mapping, and by the export."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for column in COLUMNS:
            self.fields[f"headers_{column.field}"] = forms.CharField(
                label=column.header,
                required=False,
                widget=forms.Textarea(attrs={"rows": 5, "class": "mono"}),
                help_text="Required column." if column.required else "",
            )
        for fld in SYNONYM_FIELDS:
            column = next(c for c in COLUMNS if c.field == fld)
            self.fields[f"synonyms_{fld}"] = forms.CharField(
                label=column.header,
                required=False,
                widget=forms.Textarea(attrs={"rows": 3, "class": "mono", "placeholder": SYNONYM_HELP.get(fld, "")}),
            )

    @staticmethod
    def initial_for(mapping: ImportMapping | None, headers: dict[str, list[str]] | None = None) -> dict[str, Any]:
        """Form values for an existing mapping (or a new one starting from ``headers``)."""
        data: dict[str, Any] = {}
        source_headers = mapping.headers if mapping is not None else (headers or {})
        if mapping is not None:
            data.update(name=mapping.name, description=mapping.description, is_default=mapping.is_default)
        for column in COLUMNS:
            data[f"headers_{column.field}"] = "\n".join(source_headers.get(column.field, []))
        for fld in SYNONYM_FIELDS:
            pairs = (mapping.synonyms or {}).get(fld, {}) if mapping is not None else {}
            data[f"synonyms_{fld}"] = "\n".join(f"{k} = {v}" for k, v in pairs.items())
        return data

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        headers: dict[str, list[str]] = {}
        for column in COLUMNS:
            raw = cleaned.get(f"headers_{column.field}") or ""
            headers[column.field] = [line.strip() for line in raw.splitlines() if line.strip()]
        synonyms: dict[str, dict[str, str]] = {}
        for fld in SYNONYM_FIELDS:
            raw = cleaned.get(f"synonyms_{fld}") or ""
            pairs: dict[str, str] = {}
            for number, line in enumerate(raw.splitlines(), start=1):
                if not line.strip():
                    continue
                value, sep, meaning = line.partition("=")
                if not sep or not value.strip() or not meaning.strip():
                    self.add_error(f"synonyms_{fld}", f"Line {number}: write “value = meaning”.")
                    continue
                pairs[value.strip()] = meaning.strip()
            if pairs:
                synonyms[fld] = pairs
        cleaned["headers"] = headers
        cleaned["synonyms"] = synonyms
        return cleaned


class KindHeadersForm(forms.Form):
    """The extra header names a usage or tickets import reads with a mapping: one textarea per field of that
    file, one name per line (tried before the importer's built-in names)."""

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.columns = kind_columns(kind)
        for column in self.columns:
            builtin = ", ".join(column.builtin)
            self.fields[column.field] = forms.CharField(
                label=column.label,
                required=False,
                max_length=MAX_HEADERS * (MAX_HEADER_LENGTH + 2),
                widget=forms.Textarea(attrs={"rows": 4, "class": "mono", "placeholder": column.builtin[0]}),
                help_text=" ".join(p for p in (column.help, f"Built in: {builtin}.") if p),
            )

    @staticmethod
    def initial_for(mapping: ImportMapping, kind: str) -> dict[str, str]:
        headers = mapping.headers or {}
        return {c.field: "\n".join(headers.get(c.key, [])) for c in kind_columns(kind)}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        cleaned["headers"] = {
            c.field: [line.strip() for line in (cleaned.get(c.field) or "").splitlines() if line.strip()]
            for c in self.columns
        }
        return cleaned
