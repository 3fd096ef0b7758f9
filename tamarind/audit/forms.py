"""The audit log's filter form."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from tamarind.audit.models import AuditAction
from tamarind.audit.selectors import SYSTEM_ACTOR, AuditFilters
from tamarind.core.forms import DateField
from tamarind.people.forms import PlainLabelsForm


class AuditFilterForm(PlainLabelsForm):
    """Parses the log's query string; fields that fail to parse are left out of the filter and reported."""

    object_type = forms.ChoiceField(required=False, label="Object type")
    action = forms.ChoiceField(required=False, choices=[("", "Any action"), *AuditAction.choices])
    actor = forms.ChoiceField(required=False)
    date_from = DateField(required=False, label="From (UTC)", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = DateField(required=False, label="To (UTC)", widget=forms.DateInput(attrs={"type": "date"}))
    request_id = forms.CharField(required=False, max_length=64, label="Request id")
    q = forms.CharField(
        required=False,
        max_length=200,
        label="Object",
        widget=forms.SearchInput(attrs={"placeholder": "Name contains…"}),
    )

    def __init__(
        self, *args: Any, object_types: list[tuple[str, str]], actors: list[tuple[int, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.object_type_choices = object_types
        cast(forms.ChoiceField, self.fields["object_type"]).choices = [("", "Any type"), *object_types]
        cast(forms.ChoiceField, self.fields["actor"]).choices = [("", "Anyone"), (SYSTEM_ACTOR, "System"), *actors]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return data

    def filters(self) -> AuditFilters:
        data = self.cleaned_data if self.is_bound else {}
        actor = data.get("actor") or ""
        return AuditFilters(
            object_type=data.get("object_type") or "",
            action=data.get("action") or "",
            actor_id=int(actor) if actor and actor != SYSTEM_ACTOR else None,
            system_actor=actor == SYSTEM_ACTOR,
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            request_id=(data.get("request_id") or "").strip(),
            q=(data.get("q") or "").strip(),
        )
