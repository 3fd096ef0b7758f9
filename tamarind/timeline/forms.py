"""The quick-entry form of the account timeline."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils import timezone

from tamarind.core.forms import DateTimeField
from tamarind.people.models import User
from tamarind.timeline.models import LOGGED_KINDS, EntryKind


class TimelineEntryForm(forms.Form):
    """Parses the quick entry; the rules (kind, not in the future, attendees) are the service's."""

    kind = forms.ChoiceField(choices=[(k, EntryKind(k).label) for k in LOGGED_KINDS], initial=EntryKind.CALL)
    occurred_at = DateTimeField(
        label="When",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    title = forms.CharField(
        max_length=200, required=False, widget=forms.TextInput(attrs={"placeholder": "Kickoff call"})
    )
    external_attendees = forms.CharField(
        label="Customer attendees",
        max_length=2000,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "Jane Doe (CIO), Raj Patel"}),
    )
    internal_attendees = forms.TypedMultipleChoiceField(
        label="Our attendees", coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, attendees: Sequence[User] = (), **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"occurred_at": timezone.localtime().replace(second=0, microsecond=0)})
        super().__init__(*args, **kwargs)
        field = self.fields["internal_attendees"]
        assert isinstance(field, forms.TypedMultipleChoiceField)
        field.choices = [(p.pk, p.full_name) for p in attendees]

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["internal_attendees"] = list(data.get("internal_attendees") or [])
        return data
