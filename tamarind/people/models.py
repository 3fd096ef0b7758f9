"""People (users with one role), regions (each led by one TAM Manager) and API tokens."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Role(models.TextChoices):
    """What a person does; the access policy (``tamarind.policy``) is written in terms of these."""

    ADMIN = "admin", "Admin (CS Operations)"
    DIRECTOR = "director", "Director / VP of CS"
    MANAGER = "tam_manager", "TAM Manager"
    TAM = "tam", "TAM"
    SAL = "sal", "SAL / AE"
    SA = "sa", "Solutions Architect"


class EmailNotifications(models.TextChoices):
    """How a person wants their notifications by email (they always see them in the app)."""

    IMMEDIATE = "immediate", "Immediately, one email each"
    DIGEST = "digest", "Once a day, in a digest"
    NONE = "none", "Never (in the app only)"


class Region(models.Model):
    """A sales region (AMER East, EMEA, ...). It has at most one TAM Manager; its TAMs point at it."""

    name = models.CharField(max_length=80, unique=True)
    manager = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_region",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class UserQuerySet(models.QuerySet["User"]):
    def active(self) -> UserQuerySet:
        return self.filter(is_active=True)

    def tams(self) -> UserQuerySet:
        return self.filter(role=Role.TAM)

    def with_region(self) -> UserQuerySet:
        return self.select_related("region", "managed_region")


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_queryset(self) -> UserQuerySet:
        return UserQuerySet(self.model, using=self._db)

    def active(self) -> UserQuerySet:
        return self.get_queryset().active()

    def tams(self) -> UserQuerySet:
        return self.get_queryset().tams()

    def with_region(self) -> UserQuerySet:
        return self.get_queryset().with_region()

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        """Low-level constructor used by Django's own commands; the product uses ``people.services``."""
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("role", Role.ADMIN)
        extra.setdefault("full_name", email.split("@")[0])
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in. Email is the login; ``role`` decides what they may see and change."""

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=150)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.TAM)
    region = models.ForeignKey(
        Region,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
        help_text="The region a TAM (or regional SAL/SA) belongs to. A manager's region is Region.manager.",
    )
    capacity_arr = models.DecimalField(
        "capacity target (ARR)",
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="The ARR this TAM is sized to carry; empty means the configured default.",
    )
    email_notifications = models.CharField(
        "email notifications",
        max_length=10,
        choices=EmailNotifications.choices,
        default=EmailNotifications.IMMEDIATE,
        help_text="Chosen by the person on their notification settings page.",
    )
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["full_name"]

    class Meta:
        ordering = ["full_name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(capacity_arr__isnull=True) | Q(capacity_arr__gte=0),
                name="people_user_capacity_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(email_notifications__in=EmailNotifications.values),
                name="people_user_email_notifications_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    @property
    def is_staff(self) -> bool:
        """Only admins reach Django's admin site."""
        return self.role == Role.ADMIN and self.is_active

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    def effective_capacity(self) -> Decimal:
        return self.capacity_arr if self.capacity_arr is not None else Decimal(settings.TAMARIND_TAM_CAPACITY_ARR)

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


TOKEN_PREFIX = "tmd_"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def live(self) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    """A bearer token for the REST API. Only its SHA-256 is stored; the secret is shown once at creation."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, help_text="First characters of the token, to recognise it.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
