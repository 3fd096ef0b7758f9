"""Forms of the usage pages."""

from __future__ import annotations

from django import forms


class MetricForm(forms.Form):
    key = forms.CharField(max_length=50, help_text="How files and the API name it: letters, digits, underscores.")
    label = forms.CharField(max_length=100, help_text="How pages show it, e.g. “Pages users”.")
