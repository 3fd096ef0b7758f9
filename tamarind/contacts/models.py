"""People at a customer account (domain section 4): who the digital journey writes to, who answers surveys, who
joins cohorts and webinars.

A contact belongs to one account and is known there by its email (stored lower-cased; unique per account, which is
what makes the CRM contacts import idempotent). Personas (Admin, Development lead, Security lead, ...) are data:
the journey's steps are addressed to personas, and an account without an Admin contact is flagged.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Exists, OuterRef, Q

ADMIN = "admin"


class Persona(models.Model):
    """A role a contact plays for the customer; ``key`` is what programs, imports and the API name."""

    key = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "key"]

    def __str__(self) -> str:
        return self.name


class ContactQuerySet(models.QuerySet["Contact"]):
    def reachable(self) -> ContactQuerySet:
        """Contacts who may be emailed: not opted out."""
        return self.filter(opted_out=False)

    def with_persona(self, *keys: str) -> ContactQuerySet:
        """Contacts holding any of the personas ``keys`` (one row each, whatever the number of matches)."""
        through = Contact.personas.through
        return self.filter(Exists(through.objects.filter(contact_id=OuterRef("pk"), persona__key__in=keys)))


class Contact(models.Model):
    """One person at a customer account."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    email = models.EmailField(max_length=254)
    title = models.CharField(max_length=200, blank=True)
    personas = models.ManyToManyField(Persona, blank=True, related_name="contacts")
    opted_out = models.BooleanField("opted out of email", default=False)
    opted_out_at = models.DateTimeField(null=True, blank=True)
    crm_id = models.CharField("CRM id", max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ContactQuerySet.as_manager()

    class Meta:
        ordering = ["account_id", "name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["account", "email"], name="contact_email_unique_per_account"),
            # The service lower-cases; the constraint keeps a raw insert from splitting one person in two.
            models.CheckConstraint(condition=~Q(email=""), name="contact_email_not_empty"),
        ]
        indexes = [models.Index(fields=["email"], name="contact_email_idx")]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"
