"""Forms of the health app: the TAM's sentiment (two clicks: a reason, then a color button)."""

from __future__ import annotations

from typing import Any

from django import forms

from tamarind.health.models import HealthColor


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
