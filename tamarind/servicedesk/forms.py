"""The pool editor's forms: the pool's settings, and its qualification criteria as the rules editor's rows.

The criteria rows are the assignment rules editor's (``assignment.forms``: values typed as people say them, errors
put back on their row), narrowed to the fields a model's criteria may test; whether the criteria are valid, and
whether they overlap another pool's, is decided by the service (through ``engagement.services.clean_criteria``
and ``engagement.placement.conflicts``).
"""

from __future__ import annotations

from typing import Any

from django import forms

from tamarind.assignment.forms import MAX_ROWS, ConditionForm, RulesForm, build_definition, place_errors
from tamarind.assignment.rules import FIELDS
from tamarind.assignment.selectors import Vocabulary
from tamarind.core.errors import ValidationFailed
from tamarind.core.forms import IntegerField, add_service_errors
from tamarind.engagement.placement import CRITERIA_FIELDS


class PoolConditionForm(ConditionForm):
    """One condition of a pool's criteria (only the fields a model's criteria test)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["field"].choices = [("", "—"), *((k, FIELDS[k].label) for k in CRITERIA_FIELDS if k in FIELDS)]  # type: ignore[attr-defined]


PoolConditionFormSet = forms.formset_factory(PoolConditionForm, extra=0, max_num=MAX_ROWS, validate_max=True)


class PoolForm(forms.Form):
    """A pool's settings; ``manager_id`` and ``is_active`` are shown to admins only (``policy.can_manage_pools``)."""

    name = forms.CharField(max_length=120)
    engagement_model = forms.ChoiceField(choices=[])
    precedence = IntegerField(
        required=False, min_value=0, max_value=32767, help_text="Needed when the criteria overlap another pool's."
    )
    first_response_hours = IntegerField(min_value=1, max_value=720, initial=48)
    email_address = forms.EmailField(required=False, help_text="Where customers write to this pool.")
    manager_id = forms.TypedChoiceField(choices=[], required=False, coerce=int, empty_value=None)
    is_active = forms.BooleanField(required=False, initial=True)

    def __init__(
        self, *args: Any, models: list[tuple[str, str]], managers: list[tuple[int, str]], admin: bool, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["engagement_model"].choices = models  # type: ignore[attr-defined]
        self.fields["manager_id"].choices = [("", "— none —"), *managers]  # type: ignore[attr-defined]
        if not admin:
            del self.fields["manager_id"]
            del self.fields["is_active"]

    def changes(self, criteria: dict[str, Any]) -> dict[str, Any]:
        """The form's values as the service's data."""
        data = dict(self.cleaned_data)
        data["criteria"] = criteria
        return data


def criteria_definition(vocab: Vocabulary, rows: Any) -> tuple[RulesForm, dict[str, Any], list[int]]:
    """The criteria the rows describe (every condition must hold), with each condition's row."""
    rules = RulesForm({"match": "all"})
    rules.is_valid()
    definition, origin = build_definition(vocab, rules, rows)
    return rules, definition, origin


def place_pool_errors(exc: ValidationFailed, form: PoolForm, rules: RulesForm, rows: Any, origin: list[int]) -> None:
    """The service's errors on the form: ``criteria.conditions.2.value`` on its row, the rest on the settings."""
    by_row = {k.removeprefix("criteria."): v for k, v in exc.errors.items() if k.startswith("criteria.")}
    place_errors(by_row, rules, rows, origin)
    rest = {k: v for k, v in exc.errors.items() if not k.startswith("criteria.")}
    add_service_errors(form, ValidationFailed(rest))
