"""The five default stuck-customer rules (see ``tamarind.stuck.rules`` for what each checks)."""

from django.db import migrations

DEFAULTS = [
    ("low-utilization", "Utilization below 75% after 3 months", "low_utilization", {"months": 3, "min_pct": 75}),
    ("no-first-value", "No first value by day 30", "no_first_value", {"days": 30}),
    ("poor-onboarding", "Poor onboarding score (2/5 or less)", "poor_onboarding", {"max_score": 2}),
    ("no-activity", "No activity in 30 days", "no_activity", {"days": 30}),
    ("ticket-spike", "Support ticket spike", "ticket_spike", {"min_tickets": 5, "factor": 2}),
]


def seed(apps, schema_editor):
    StuckRule = apps.get_model("stuck", "StuckRule")
    for position, (key, name, kind, params) in enumerate(DEFAULTS):
        StuckRule.objects.get_or_create(
            key=key, defaults={"name": name, "kind": kind, "params": params, "position": position}
        )


def unseed(apps, schema_editor):
    apps.get_model("stuck", "StuckRule").objects.filter(key__in=[d[0] for d in DEFAULTS]).delete()


class Migration(migrations.Migration):
    dependencies = [("stuck", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
