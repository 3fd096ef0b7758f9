"""The contact form of the account page's Contacts panel (the service validates and lower-cases the email)."""

from __future__ import annotations

from typing import Any

from django import forms

from tamarind.contacts.models import Contact, Persona


class ContactForm(forms.Form):
    name = forms.CharField(max_length=200)
    email = forms.CharField(max_length=254, help_text="Stored lower-cased; unique within the account.")
    title = forms.CharField(max_length=200, required=False)
    personas = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    opted_out = forms.BooleanField(required=False, label="Opted out of email")

    def __init__(self, *args: Any, personas: list[Persona], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["personas"].choices = [(p.key, p.name) for p in personas]  # type: ignore[attr-defined]

    @staticmethod
    def initial_for(contact: Contact) -> dict[str, Any]:
        return {
            "name": contact.name,
            "email": contact.email,
            "title": contact.title,
            "personas": [p.key for p in contact.personas.all()],
            "opted_out": contact.opted_out,
        }

    def service_data(self) -> dict[str, Any]:
        return {k: self.cleaned_data[k] for k in ("name", "email", "title", "personas", "opted_out")}
