"""The notification settings form."""

from __future__ import annotations

from django import forms

from tamarind.people.models import EmailNotifications


class EmailNotificationsForm(forms.Form):
    email_notifications = forms.ChoiceField(
        label="Email me",
        choices=EmailNotifications.choices,
        widget=forms.RadioSelect,
        help_text="You always see your notifications here and under the bell; this only decides the email.",
    )
