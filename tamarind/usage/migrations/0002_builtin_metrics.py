"""The built-in usage metrics: licenses, billable and active users, and the standard use cases."""

from django.db import migrations

BUILTIN = [
    ("licenses", "Licenses", "licenses"),
    ("billable_users", "Billable users", "billable"),
    ("active_users", "Active users", "active"),
    ("scm_users", "SCM users", "use_case"),
    ("ci_users", "CI users", "use_case"),
    ("security_users", "Security scanning users", "use_case"),
    ("cd_users", "CD users", "use_case"),
]


def seed(apps, schema_editor):  # type: ignore[no-untyped-def]
    UsageMetric = apps.get_model("usage", "UsageMetric")
    for key, label, kind in BUILTIN:
        UsageMetric.objects.get_or_create(key=key, defaults={"label": label, "kind": kind, "builtin": True})


class Migration(migrations.Migration):
    dependencies = [("usage", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
