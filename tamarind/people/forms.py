"""Forms of the people pages. They parse and check input; the services decide and write."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from tamarind.people.models import Region, Role, User
from tamarind.people.selectors import manager_choices

STATUS_CHOICES = [("active", "Active"), ("inactive", "Inactive"), ("all", "Everyone")]


class PlainLabelsForm(forms.Form):
    """Labels without Django's trailing colon, as on the rest of the product's forms."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class PeopleFilterForm(PlainLabelsForm):
    """The people list's filters. Invalid values are dropped (and shown), never a server error."""

    q = forms.CharField(
        required=False, max_length=200, label="Search", widget=forms.SearchInput(attrs={"placeholder": "Name or email"})
    )
    role = forms.ChoiceField(required=False, choices=[("", "All roles"), *Role.choices])
    region = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(required=False, choices=STATUS_CHOICES)

    def __init__(self, *args: Any, regions: list[Region], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        region = cast(forms.TypedChoiceField, self.fields["region"])
        region.choices = [("", "All regions"), *((r.pk, r.name) for r in regions)]

    def filters(self) -> dict[str, Any]:
        """Keyword arguments for ``selectors.people_list`` from the fields that parsed."""
        data = self.cleaned_data if self.is_bound else {}
        status = data.get("status") or "active"
        return {
            "q": (data.get("q") or "").strip(),
            "role": data.get("role") or "",
            "region_id": data.get("region"),
            "active": {"active": True, "inactive": False}.get(status),
        }


class PersonForm(PlainLabelsForm):
    """Create or edit a person (admins). ``password`` is optional: empty keeps (or leaves unset) the password."""

    email = forms.EmailField(max_length=254)
    full_name = forms.CharField(max_length=150, label="Full name")
    role = forms.ChoiceField(choices=Role.choices)
    region = forms.ModelChoiceField(
        queryset=Region.objects.order_by("name"),
        required=False,
        empty_label="— No region —",
        help_text="The region a TAM (or regional SAL / SA) belongs to. Managers lead a region from the region page.",
    )
    capacity_arr = forms.DecimalField(
        label="Capacity target (ARR)",
        required=False,
        min_value=Decimal(0),
        max_digits=14,
        decimal_places=2,
        help_text="The ARR this TAM is sized to carry. Empty uses the default.",
    )
    is_active = forms.BooleanField(
        label="Active", required=False, initial=True, help_text="Inactive people cannot sign in."
    )
    password = forms.CharField(
        label="Set password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, person: User | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.person = person
        default = Decimal(settings.TAMARIND_TAM_CAPACITY_ARR)
        self.fields["capacity_arr"].widget.attrs["placeholder"] = f"{default:,.0f} (default)"
        self.fields[
            "capacity_arr"
        ].help_text = f"The ARR this TAM is sized to carry. Empty uses the default, {default:,.0f}."
        if person is None:
            del self.fields["is_active"]
            self.fields["password"].help_text = "Optional. Without a password they cannot sign in until one is set."
        else:
            self.fields["password"].help_text = "Leave empty to keep the current password."

    @classmethod
    def initial_for(cls, person: User) -> dict[str, Any]:
        return {
            "email": person.email,
            "full_name": person.full_name,
            "role": person.role,
            "region": person.region_id,
            "capacity_arr": person.capacity_arr,
            "is_active": person.is_active,
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        password = data.get("password")
        if password:
            # Check against a stand-in with the submitted name and email, so "similar to your name" works on create.
            probe = User(email=data.get("email") or "", full_name=data.get("full_name") or "")
            try:
                validate_password(password, user=probe)
            except ValidationError as exc:
                self.add_error("password", exc)
        return data

    def changes(self) -> dict[str, Any]:
        """The person's fields as submitted (for ``user_update``; it records only what differs)."""
        data = self.cleaned_data
        fields = ["email", "full_name", "role", "region", "capacity_arr"]
        if "is_active" in self.fields:
            fields.append("is_active")
        return {name: data.get(name) for name in fields}


class ManagerChoiceField(forms.ModelChoiceField):
    """TAM Managers, each labelled with the region they lead now (a manager leads one region at a time)."""

    def __init__(self, *args: Any, region: Region | None = None, **kwargs: Any) -> None:
        self.region = region
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj: Any) -> str:
        led = getattr(obj, "managed_region", None)
        if led is not None and (self.region is None or led.pk != self.region.pk):
            return f"{obj.full_name} (leads {led.name})"
        return obj.full_name


class RegionForm(PlainLabelsForm):
    name = forms.CharField(max_length=80)
    manager = ManagerChoiceField(
        queryset=User.objects.none(),
        required=False,
        empty_label="— No manager —",
        label="TAM Manager",
        help_text="A TAM Manager leads one region; choose one who leads none, or move them here from their region first.",
    )

    def __init__(self, *args: Any, region: Region | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(ManagerChoiceField, self.fields["manager"])
        field.queryset = manager_choices()
        field.region = region


class TokenForm(PlainLabelsForm):
    name = forms.CharField(
        max_length=100,
        required=False,
        label="Token name",
        help_text="What the token is for, so you recognise it later.",
        widget=forms.TextInput(attrs={"placeholder": "e.g. CI pipeline, Salesforce sync"}),
    )
