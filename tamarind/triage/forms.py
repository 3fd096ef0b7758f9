"""Forms of the triage pages. They parse input; the rules (one open case, outcome to close) are the services'."""

from __future__ import annotations

from typing import Any

from django import forms

from tamarind.core.forms import DateField, IntegerField
from tamarind.people.models import User
from tamarind.triage.models import (
    SETTINGS_FIELDS,
    CaseStatus,
    Classification,
    EscalationStatus,
    Outcome,
    RiskReason,
    RiskType,
    Severity,
    TriageSettings,
)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _blank(choices: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [("", "—"), *choices]


class CaseForm(forms.Form):
    """The case's description: risk, classification, renewal date, summary (owner is kept as it is)."""

    risk_type = forms.ChoiceField(label="Risk type", choices=_blank(RiskType.choices), required=False)
    risk_reason = forms.ChoiceField(label="Risk reason", choices=_blank(RiskReason.choices), required=False)
    classification = forms.ChoiceField(choices=_blank(Classification.choices), required=False)
    renewal_date = DateField(label="Renewal date", required=False, widget=DATE)
    summary = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def changes(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class MoveForm(forms.Form):
    """A card moved to a column (drag or button); closing carries the outcome."""

    status = forms.ChoiceField(choices=CaseStatus.choices)
    outcome = forms.ChoiceField(choices=_blank(Outcome.choices), required=False)

    def changes(self) -> dict[str, Any]:
        changes: dict[str, Any] = {"status": self.cleaned_data["status"]}
        if self.cleaned_data.get("outcome"):
            changes["outcome"] = self.cleaned_data["outcome"]
        return changes


class StepForm(forms.Form):
    text = forms.CharField(label="Next step", max_length=500)
    due_on = DateField(label="By", required=False, widget=DATE)


class NoteForm(forms.Form):
    text = forms.CharField(label="Update", widget=forms.Textarea(attrs={"rows": 3}))


def _days(n: int) -> str:
    return "daily" if n == 1 else f"every {n} days"


def severity_choices(settings_row: TriageSettings | None) -> list[tuple[str, str]]:
    """Each severity with its update cadence from the settings ("Critical: update daily")."""
    if settings_row is None:
        return list(Severity.choices)
    return [(v, f"{label}: update {_days(settings_row.escalation_days(v))}") for v, label in Severity.choices]


def _owner_field(
    people: list[User] | None, *, required: bool, label: str = "Owner", blank_label: str = "— me —"
) -> forms.ChoiceField:
    blank = [] if required else [("", blank_label)]
    choices = [*blank, *((str(p.pk), f"{p.full_name} ({p.get_role_display()})") for p in people or [])]
    return forms.ChoiceField(label=label, choices=choices, required=required)


class EscalationForm(forms.Form):
    """Open an escalation: title, severity (its update cadence shown), description, owner (default: you)."""

    title = forms.CharField(max_length=200)
    severity = forms.ChoiceField(choices=Severity.choices, initial=Severity.MEDIUM)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(
        self,
        *args: Any,
        settings_row: TriageSettings | None = None,
        owners: list[User] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["severity"] = forms.ChoiceField(choices=severity_choices(settings_row), initial=Severity.MEDIUM)
        if owners is not None:
            self.fields["owner"] = _owner_field(owners, required=False)

    def data_for_service(self) -> dict[str, Any]:
        data = {k: self.cleaned_data[k] for k in ("title", "severity", "description")}
        if self.cleaned_data.get("owner"):
            data["owner"] = self.cleaned_data["owner"]
        return data


class EscalationUpdateForm(forms.Form):
    """An update on an escalation, optionally changing its severity or owner, or resolving it."""

    note = forms.CharField(label="Update", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    severity = forms.ChoiceField(choices=Severity.choices, required=False)
    # Set by the page's Resolve / Reopen button (submitted after the fields, so its value wins).
    status = forms.ChoiceField(choices=_blank(EscalationStatus.choices), required=False, widget=forms.HiddenInput)

    def __init__(
        self, *args: Any, settings_row: TriageSettings | None = None, owners: list[User] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["severity"] = forms.ChoiceField(choices=severity_choices(settings_row), required=False)
        if owners is not None:
            self.fields["owner"] = _owner_field(owners, required=False, blank_label="— unchanged —")

    def changes(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}


class OwnerForm(forms.Form):
    """Hand a case to another owner (the choices: who may own the account's triage)."""

    def __init__(self, *args: Any, owners: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"] = _owner_field(owners, required=True, label="New owner")


_SETTINGS = {f.name: f for f in TriageSettings._meta.fields}


class SettingsForm(forms.Form):
    """The update cadences, in days."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in SETTINGS_FIELDS:
            self.fields[name] = IntegerField(
                label=str(_SETTINGS[name].verbose_name).capitalize(), min_value=1, max_value=3650
            )
