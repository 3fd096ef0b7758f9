"""The session form (create and edit) and the report upload form; the services validate again."""

from __future__ import annotations

from typing import Any

from django import forms

from tamarind.core.forms import DateTimeField
from tamarind.people.models import User
from tamarind.webinars.models import Round, Session, Topic

DT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]


class SessionForm(forms.Form):
    topic = forms.ModelChoiceField(queryset=Topic.objects.none())
    round = forms.ChoiceField(choices=Round.choices)
    title = forms.CharField(max_length=200, required=False)
    starts_at = DateTimeField(
        input_formats=DT_FORMATS, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DT_FORMATS[0])
    )
    ends_at = DateTimeField(
        input_formats=DT_FORMATS, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DT_FORMATS[0])
    )
    host = forms.ModelChoiceField(queryset=User.objects.none(), required=False)
    recording_url = forms.URLField(label="Recording link", max_length=500, required=False, assume_scheme="https")

    def __init__(self, *args: Any, hosts: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["topic"].queryset = Topic.objects.order_by("position", "key")  # type: ignore[attr-defined]
        self.fields["host"].queryset = User.objects.filter(pk__in=[h.pk for h in hosts]).order_by("full_name")  # type: ignore[attr-defined]

    def clean_recording_url(self) -> str:
        url = str(self.cleaned_data.get("recording_url") or "")
        if url and not url.lower().startswith(("http://", "https://")):
            raise forms.ValidationError("Enter an http(s) link.")
        return url

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", "The session must end after it starts.")
        return data


def session_initial(session: Session) -> dict[str, Any]:
    from django.utils import timezone

    return {
        "topic": session.topic_id,
        "round": session.round,
        "title": session.title,
        "starts_at": timezone.localtime(session.starts_at),
        "ends_at": timezone.localtime(session.ends_at),
        "host": session.host_id,
        "recording_url": session.recording_url,
    }


class ReportForm(forms.Form):
    report = forms.FileField(label="Attendee report (CSV)")
