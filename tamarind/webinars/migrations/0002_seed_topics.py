"""The five enablement webinar topics of domain section 10 and the one settings row (the targets: 50% attendance
of net-new customers, 80% staying to the end, feedback above 4.0)."""

from decimal import Decimal

from django.db import migrations

TOPICS = [
    ("cicd", "CI/CD for new users and admins"),
    ("security-scanning", "Security scanning: set-up and results"),
    ("approvals-compliance", "Approvals, gates and compliance"),
    ("onboarding", "New customer onboarding"),
    ("gitops-release", "GitOps: configure, package and release"),
]


def seed(apps, schema_editor):
    Topic = apps.get_model("webinars", "Topic")
    for position, (key, name) in enumerate(TOPICS, start=1):
        Topic.objects.get_or_create(key=key, defaults={"name": name, "position": position})
    Settings = apps.get_model("webinars", "WebinarSettings")
    Settings.objects.get_or_create(
        pk=1,
        defaults={
            "attendance_target": Decimal("0.500"),
            "stayed_target": Decimal("0.800"),
            "feedback_target": Decimal("4.00"),
            "net_new_days": 90,
            "stayed_within_minutes": 5,
        },
    )


def unseed(apps, schema_editor):
    apps.get_model("webinars", "Topic").objects.filter(key__in=[k for k, _ in TOPICS], sessions__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("webinars", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
