"""Seed version 1 of the qualification rules with domain section 3. Admins edit them afterwards; this runs once."""

from django.db import migrations

from tamarind.assignment.models import DEFAULT_DEFINITION


def seed(apps, schema_editor):
    RuleSetVersion = apps.get_model("assignment", "RuleSetVersion")
    if not RuleSetVersion.objects.exists():
        RuleSetVersion.objects.create(version=1, definition=DEFAULT_DEFINITION, note="Default rules (domain section 3).")


class Migration(migrations.Migration):
    dependencies = [("assignment", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
