"""Forms of the onboarding pages. They parse input; the rules (completing, on hold, dates) are the services'."""

from __future__ import annotations

from typing import Any

from django import forms

from tamarind.core.forms import DateField, IntegerField
from tamarind.onboarding.models import DATE_FIELDS, TARGET_FIELDS, Onboarding, OnboardingStatus, OnboardingTargets

_ONBOARDING_FIELDS = {f.name: f for f in Onboarding._meta.fields}
_TARGET_FIELDS = {f.name: f for f in OnboardingTargets._meta.fields}
SCORE_CHOICES = [("", "—"), *((str(n), str(n)) for n in range(1, 6))]


def _date_field(name: str) -> forms.DateField:
    model_field = _ONBOARDING_FIELDS[name]
    return DateField(
        label=str(model_field.verbose_name).capitalize(),
        required=False,
        help_text=str(model_field.help_text),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class OnboardingForm(forms.Form):
    """The record: status, milestone dates, delay reason, score, notes, challenges, highlights."""

    status = forms.ChoiceField(choices=OnboardingStatus.choices)
    delay_reason = forms.CharField(
        label="Delay reason", max_length=500, required=False, help_text="Required while the onboarding is on hold."
    )
    experience_score = forms.TypedChoiceField(
        label="Experience score",
        choices=SCORE_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
        help_text="1 (poor) to 5 (excellent): from the customer survey or your judgement. Required to complete.",
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))
    challenges = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    highlights = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in DATE_FIELDS:
            self.fields[name] = _date_field(name)

    def date_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in DATE_FIELDS]

    def changes(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


def onboarding_initial(onboarding: Onboarding) -> dict[str, Any]:
    names = ["status", "delay_reason", "experience_score", "notes", "challenges", "highlights", *DATE_FIELDS]
    return {name: getattr(onboarding, name) for name in names}


class OnboardingTargetsForm(forms.Form):
    engage_days = IntegerField(min_value=1, max_value=3650)
    first_value_days = IntegerField(min_value=1, max_value=3650)
    onboard_days = IntegerField(min_value=1, max_value=3650)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in TARGET_FIELDS:
            model_field = _TARGET_FIELDS[name]
            self.fields[name].label = str(model_field.verbose_name).capitalize()
            self.fields[name].help_text = str(model_field.help_text)


class StepForm(forms.Form):
    """One checklist tick: ``done`` on or off, and the day it was done (default today)."""

    done = forms.BooleanField(required=False)
    on = DateField(required=False)
