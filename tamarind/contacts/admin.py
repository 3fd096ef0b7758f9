from django.contrib import admin

from tamarind.contacts.models import Contact, Persona


@admin.register(Persona)
class PersonaAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "position"]


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "account", "opted_out"]
    search_fields = ["name", "email"]
    raw_id_fields = ["account"]
