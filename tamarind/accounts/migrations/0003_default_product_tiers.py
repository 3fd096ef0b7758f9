"""Seed the product tier rungs of domain section 2. Admins edit them afterwards; this runs once."""

from django.db import migrations

DEFAULT_TIERS = [
    ("Free", 0),
    ("Starter", 1),
    ("Bronze", 1),
    ("Premium", 2),
    ("Silver", 2),
    ("Ultimate", 3),
    ("Gold", 3),
]


def seed(apps, schema_editor):
    ProductTier = apps.get_model("accounts", "ProductTier")
    for name, rung in DEFAULT_TIERS:
        ProductTier.objects.get_or_create(name=name, defaults={"rung": rung})


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
