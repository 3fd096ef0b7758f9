"""The form admins edit a periodic job with: its interval as a number and a unit, on/off, and the next run."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone

from tamarind.core.forms import DateTimeField, IntegerField
from tamarind.scheduler.models import PeriodicJob

UNITS: dict[str, int] = {"minutes": 60, "hours": 3600, "days": 86400}


def split_interval(every: dt.timedelta) -> tuple[int, str]:
    """``every`` as (number, unit) in the largest unit that divides it: 1 day, 6 hours, 90 minutes."""
    seconds = int(every.total_seconds())
    for unit in ("days", "hours", "minutes"):
        if seconds and seconds % UNITS[unit] == 0:
            return seconds // UNITS[unit], unit
    return max(1, seconds // 60), "minutes"


class PeriodicJobForm(forms.Form):
    every_value = IntegerField(label="Every", min_value=1, max_value=527_040)
    every_unit = forms.ChoiceField(label="Unit", choices=[(u, u) for u in UNITS])
    enabled = forms.BooleanField(label="Enabled", required=False, help_text="Off: the tick skips it (Run now works).")
    next_due_at = DateTimeField(
        label="Next run",
        required=False,
        help_text="Leave as it is to keep the schedule; a time in the past runs it at the next tick.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": 60}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
    )

    @classmethod
    def for_job(cls, job: PeriodicJob, data: Any = None) -> PeriodicJobForm:
        value, unit = split_interval(job.every)
        initial = {"every_value": value, "every_unit": unit, "enabled": job.enabled, "next_due_at": job.next_due_at}
        form = cls(data, initial=initial)
        form.fields["next_due_at"].label = f"Next run ({timezone.get_current_timezone_name()})"
        return form

    def every(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.cleaned_data["every_value"] * UNITS[self.cleaned_data["every_unit"]])
