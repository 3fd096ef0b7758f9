"""The default personas: the roles the digital journey addresses (an admin may add more)."""

from django.db import migrations

DEFAULTS = [
    ("admin", "Admin"),
    ("development-lead", "Development lead"),
    ("security-lead", "Security lead"),
    ("executive-sponsor", "Executive sponsor"),
    ("champion", "Champion"),
    ("billing", "Billing"),
]


def seed(apps, schema_editor):
    Persona = apps.get_model("contacts", "Persona")
    for position, (key, name) in enumerate(DEFAULTS):
        Persona.objects.get_or_create(key=key, defaults={"name": name, "position": position})


def unseed(apps, schema_editor):
    apps.get_model("contacts", "Persona").objects.filter(key__in=[d[0] for d in DEFAULTS]).delete()


class Migration(migrations.Migration):
    dependencies = [("contacts", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
