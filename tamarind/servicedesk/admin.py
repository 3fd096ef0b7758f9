from django.contrib import admin

from tamarind.servicedesk.models import Contact, Pool, PoolMember


class PoolMemberInline(admin.TabularInline):
    model = PoolMember
    extra = 1


@admin.register(Pool)
class PoolAdmin(admin.ModelAdmin):
    list_display = ("name", "engagement_model", "manager", "first_response_hours", "is_active")
    inlines = [PoolMemberInline]


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("email", "name", "account")
    search_fields = ("email", "name")
