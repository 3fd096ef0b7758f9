"""Forms of the account pages. Plain forms (not ModelForms) so the instance is untouched until the service runs."""

from __future__ import annotations

from typing import Any

from django import forms

from tamarind.accounts.models import (
    ACCOUNT_FIELDS,
    Account,
    EngagementModel,
    LifecycleStage,
    Priority,
    ProductTier,
    Segment,
)
from tamarind.accounts.selectors import engagement_model_choices
from tamarind.core.forms import DateField, IntegerField
from tamarind.people.models import Region, Role, User


class AccountForm(forms.Form):
    """Every editable account field; the view drops the ones the user may not write."""

    crm_id = forms.CharField(label="CRM id", max_length=64)
    name = forms.CharField(max_length=255)
    parent = forms.CharField(
        label="Parent account (CRM id)", max_length=64, required=False, help_text="Empty for a top-level account."
    )
    region = forms.ModelChoiceField(queryset=Region.objects.order_by("name"))
    segment = forms.ChoiceField(choices=Segment.choices)
    arr = forms.DecimalField(label="ARR", min_value=0, max_digits=14, decimal_places=2)
    currency = forms.CharField(max_length=3, initial="USD")
    product_tier = forms.ModelChoiceField(queryset=ProductTier.objects.order_by("rung", "name"), required=False)
    licenses = IntegerField(label="Number of licenses", min_value=0)
    priority = forms.TypedChoiceField(choices=Priority.choices, coerce=int)
    engagement_model = forms.ChoiceField(choices=[("", "—"), *EngagementModel.choices], required=False)
    tam = forms.ModelChoiceField(label="TAM", queryset=User.objects.none(), required=False)
    sal = forms.ModelChoiceField(label="SAL / AE", queryset=User.objects.none(), required=False)
    sa = forms.ModelChoiceField(label="SA", queryset=User.objects.none(), required=False)
    customer_since = DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    next_renewal_date = DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    lifecycle_stage = forms.ChoiceField(choices=LifecycleStage.choices)
    collaboration_url = forms.URLField(
        label="Collaboration space", max_length=500, required=False, assume_scheme="https"
    )

    def __init__(self, *args: Any, writable: frozenset[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in list(self.fields):
            if name not in writable:
                del self.fields[name]
        people = User.objects.active().order_by("full_name")
        if "tam" in self.fields:
            self.fields["tam"].queryset = people.filter(role=Role.TAM)  # type: ignore[attr-defined]
        if "sal" in self.fields:
            self.fields["sal"].queryset = people.filter(role=Role.SAL)  # type: ignore[attr-defined]
        if "sa" in self.fields:
            self.fields["sa"].queryset = people.filter(role=Role.SA)  # type: ignore[attr-defined]
        if "engagement_model" in self.fields:
            # The models are data: the ones admins added are offered too (and the account's own, if deactivated).
            keep = str(self.initial.get("engagement_model") or "")
            self.fields["engagement_model"].choices = [  # type: ignore[attr-defined]
                ("", "—"),
                *engagement_model_choices(keep=keep),
            ]

    def clean_parent(self) -> Account | None:
        crm_id = (self.cleaned_data.get("parent") or "").strip()
        if not crm_id:
            return None
        parent = Account.objects.filter(crm_id=crm_id).first()
        if parent is None:
            raise forms.ValidationError(f"No account has CRM id {crm_id!r}.")
        return parent

    def clean_currency(self) -> str:
        return (self.cleaned_data.get("currency") or "").strip().upper()

    def changes(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k in ACCOUNT_FIELDS}


def account_initial(account: Account) -> dict[str, Any]:
    initial: dict[str, Any] = {f: getattr(account, f) for f in ACCOUNT_FIELDS}
    initial["parent"] = account.parent.crm_id if account.parent else ""
    return initial


class SetTamForm(forms.Form):
    tam = forms.ModelChoiceField(
        label="TAM", queryset=User.objects.active().filter(role=Role.TAM).order_by("full_name"), required=False
    )
