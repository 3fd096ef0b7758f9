"""Seed the five built-in engagement models, and record each account's model as found (one initial placement
each), so an account's model on a past day has a starting point."""

from django.db import migrations


def seed(apps, schema_editor):  # type: ignore[no-untyped-def]
    from tamarind.engagement.builtins import BUILT_IN_MODELS

    EngagementModel = apps.get_model("engagement", "EngagementModel")
    Placement = apps.get_model("engagement", "Placement")
    Account = apps.get_model("accounts", "Account")
    for row in BUILT_IN_MODELS:
        EngagementModel.objects.get_or_create(key=row["key"], defaults=row)
    rows = Account.objects.exclude(engagement_model="").values_list("pk", "engagement_model", "created_at")
    Placement.objects.bulk_create(
        [
            Placement(
                account_id=pk, from_model="", to_model=key, source="initial", placed_on=created.date(), placed_at=created
            )
            for pk, key, created in rows.iterator(chunk_size=5000)
        ],
        batch_size=5000,
    )


class Migration(migrations.Migration):
    dependencies = [("engagement", "0001_initial"), ("accounts", "0005_engagement_model_as_data")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
