"""Forms of the task pages. They parse input only; the rules (who may own what, snooze dates) are the services'."""

from __future__ import annotations

from typing import Any

from django import forms

from tamarind.accounts.models import Account
from tamarind.actions import selectors
from tamarind.actions.models import TaskStatus, TaskType
from tamarind.core.forms import DateField
from tamarind.people.models import User

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class OwnerField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        region = f" ({obj.region.name})" if getattr(obj, "region", None) else ""
        return f"{obj.full_name}{region}"


class TaskCreateForm(forms.Form):
    """A task by hand. The account is found by CRM id or name among the accounts the actor can read."""

    title = forms.CharField(max_length=200)
    type = forms.ChoiceField(choices=TaskType.choices, initial=TaskType.FOLLOW_UP)
    account = forms.CharField(
        required=False, max_length=255, help_text="CRM id or name of an account you can see; leave empty for none."
    )
    owner = OwnerField(queryset=User.objects.none(), empty_label=None)
    due_on = DateField(label="Due", required=False, widget=DATE)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        owner = self.fields["owner"]
        assert isinstance(owner, forms.ModelChoiceField)
        owner.queryset = selectors.task_owner_choices(user=user)
        owner.initial = user.pk

    def clean_account(self) -> Account | None:
        text = self.cleaned_data.get("account") or ""
        try:
            account = selectors.task_account_lookup(user=self.user, text=text)
        except LookupError as exc:
            raise forms.ValidationError(str(exc)) from None
        if text.strip() and account is None:
            raise forms.ValidationError("No account you can see matches that.")
        return account

    def data_for_service(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class TaskEditForm(forms.Form):
    """Title, due date, owner and notes of an existing task (status has its own buttons)."""

    title = forms.CharField(max_length=200)
    owner = OwnerField(queryset=User.objects.none(), empty_label=None)
    due_on = DateField(label="Due", required=False, widget=DATE)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 5}))

    def __init__(self, *args: Any, user: User, current_owner: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owner = self.fields["owner"]
        assert isinstance(owner, forms.ModelChoiceField)
        # The current owner stays selectable even when the editor could not give them a task.
        owner.queryset = selectors.task_owner_choices(user=user) | User.objects.filter(pk=current_owner.pk)


class TaskStatusForm(forms.Form):
    """A status button, or the snooze form (status ``snoozed`` with the day to wake up on)."""

    status = forms.ChoiceField(choices=TaskStatus.choices)
    snoozed_until = DateField(label="Snooze until", required=False, widget=DATE)

    def changes(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.cleaned_data["status"]}
        if out["status"] == TaskStatus.SNOOZED:
            out["snoozed_until"] = self.cleaned_data.get("snoozed_until")
        return out
