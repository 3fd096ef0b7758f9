"""People, regions and API tokens in Django's admin, for admins only.

The product's own pages are the main way to manage people; the admin is a back office for the same
data. Every save goes through ``people.services`` so it is checked and audited like any other write;
nothing is deleted here (deactivate a person, revoke a token), because accounts and the trail point at them.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from tamarind import policy
from tamarind.people import services
from tamarind.people.models import ApiToken, Region, User
from tamarind.people.selectors import manager_choices


class PeopleAdminMixin:
    """Admin access follows ``policy.can_manage_people``; deleting is never offered."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return policy.can_manage_people(request.user)  # type: ignore[arg-type]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return policy.can_manage_people(request.user)  # type: ignore[arg-type]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return policy.can_manage_people(request.user)  # type: ignore[arg-type]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return policy.can_manage_people(request.user)  # type: ignore[arg-type]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class UserAdminForm(forms.ModelForm):
    new_password = forms.CharField(
        label="Set password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Leave empty to keep the current password (a new person without one cannot sign in).",
    )

    class Meta:
        model = User
        fields = ("email", "full_name", "role", "region", "capacity_arr", "is_active")

    def clean_new_password(self) -> str:
        password = self.cleaned_data.get("new_password") or ""
        if password:
            validate_password(password, user=self.instance)
        return password


@admin.register(User)
class UserAdmin(PeopleAdminMixin, admin.ModelAdmin):
    form = UserAdminForm
    list_display = ("full_name", "email", "role", "region", "is_active", "last_login")
    list_filter = ("role", "is_active", "region")
    search_fields = ("full_name", "email")
    list_select_related = ("region",)
    ordering = ("full_name",)
    fieldsets = (
        (None, {"fields": ("email", "full_name", "role", "region", "capacity_arr", "is_active")}),
        ("Sign-in", {"fields": ("new_password", "last_login", "date_joined")}),
    )
    readonly_fields = ("last_login", "date_joined")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        fields = tuple(super().get_readonly_fields(request, obj))
        # The same guard as the service: nobody demotes or deactivates themselves.
        if obj is not None and obj.pk == request.user.pk:
            fields += ("role", "is_active")
        return fields

    @transaction.atomic
    def save_model(self, request: HttpRequest, obj: User, form: forms.ModelForm, change: bool) -> None:
        actor: User = request.user  # type: ignore[assignment]
        data = form.cleaned_data
        if change:
            # ``obj`` already carries the submitted values; the service diffs against the stored row.
            stored = User.objects.with_region().get(pk=obj.pk)
            changes = {f: data[f] for f in form.changed_data if f in services.USER_FIELDS}
            services.user_update(actor=actor, user=stored, changes=changes, source="admin")
            person = stored
        else:
            person = services.user_create(
                actor=actor,
                email=data["email"],
                full_name=data["full_name"],
                role=data["role"],
                region=data.get("region"),
                capacity_arr=data.get("capacity_arr"),
                source="admin",
            )
            if not data.get("is_active", True):
                services.user_update(actor=actor, user=person, changes={"is_active": False}, source="admin")
        if data.get("new_password"):
            services.user_set_password(actor=actor, user=person, password=data["new_password"], source="admin")
        # The admin goes on to log and redirect with ``obj``: make it the row the services stored.
        obj.pk = person.pk
        obj._state.adding = False
        obj._state.db = person._state.db


@admin.register(Region)
class RegionAdmin(PeopleAdminMixin, admin.ModelAdmin):
    list_display = ("name", "manager", "created_at")
    search_fields = ("name",)
    list_select_related = ("manager",)
    fields = ("name", "manager")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "manager":
            kwargs["queryset"] = manager_choices()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @transaction.atomic
    def save_model(self, request: HttpRequest, obj: Region, form: forms.ModelForm, change: bool) -> None:
        actor: User = request.user  # type: ignore[assignment]
        name, manager = form.cleaned_data["name"], form.cleaned_data.get("manager")
        if change:
            region = Region.objects.get(pk=obj.pk)
            services.region_update(actor=actor, region=region, name=name, source="admin")
            services.region_set_manager(actor=actor, region=region, manager=manager, source="admin")
        else:
            region = services.region_create(actor=actor, name=name, manager=manager, source="admin")
        obj.pk = region.pk
        obj._state.adding = False
        obj._state.db = region._state.db


@admin.register(ApiToken)
class ApiTokenAdmin(PeopleAdminMixin, admin.ModelAdmin):
    """Tokens are listed and revoked here; they are created on the API tokens page, where the secret is shown once."""

    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("name", "prefix", "user__email", "user__full_name")
    list_select_related = ("user",)
    fields = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        live = list(queryset.filter(revoked_at__isnull=True))
        for token in live:
            services.token_revoke(actor=request.user, token=token)  # type: ignore[arg-type]
        self.message_user(request, f"Revoked {len(live)} token(s).", messages.SUCCESS)
