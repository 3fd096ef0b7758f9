"""Forms of the triage pages. They parse input; the rules (one open case, outcome to close) are the services'."""

from __future__ import annotations

from typing import Any

from django import forms

from tamarind.triage.models import (
    SETTINGS_FIELDS,
    CaseStatus,
    Classification,
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
    renewal_date = forms.DateField(label="Renewal date", required=False, widget=DATE)
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
    due_on = forms.DateField(label="By", required=False, widget=DATE)


class NoteForm(forms.Form):
    text = forms.CharField(label="Update", widget=forms.Textarea(attrs={"rows": 3}))


class EscalationForm(forms.Form):
    title = forms.CharField(max_length=200)
    severity = forms.ChoiceField(choices=Severity.choices, initial=Severity.MEDIUM)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


_SETTINGS = {f.name: f for f in TriageSettings._meta.fields}


class SettingsForm(forms.Form):
    """The update cadences, in days."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in SETTINGS_FIELDS:
            self.fields[name] = forms.IntegerField(
                label=str(_SETTINGS[name].verbose_name).capitalize(), min_value=1, max_value=3650
            )
