"""Seed version 1 of the health model with domain section 6. Admins edit it afterwards; this runs once."""

from django.db import migrations

from tamarind.health.spec import DEFAULT_DEFINITION


def seed(apps, schema_editor):
    HealthModelVersion = apps.get_model("health", "HealthModelVersion")
    if not HealthModelVersion.objects.exists():
        HealthModelVersion.objects.create(
            version=1, definition=DEFAULT_DEFINITION, note="Default model (domain section 6)."
        )


class Migration(migrations.Migration):
    dependencies = [("health", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
