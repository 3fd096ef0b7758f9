from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "tamarind.audit"
    label = "audit"
    verbose_name = "Audit trail"
