"""The poor-survey stuck rule kind, and its default rule (a detractor NPS or a poor CSAT in the last 90 days; see
``tamarind.stuck.rules``)."""

from django.db import migrations, models

KEY = "poor-survey"


def seed(apps, schema_editor):
    StuckRule = apps.get_model("stuck", "StuckRule")
    StuckRule.objects.get_or_create(
        key=KEY,
        defaults={
            "name": "Poor survey score in 90 days (NPS 6 or less, CSAT 2 or less)",
            "kind": "poor_survey",
            "params": {"days": 90, "nps_max": 6, "csat_max": 2},
            "position": 5,
        },
    )


def unseed(apps, schema_editor):
    apps.get_model("stuck", "StuckRule").objects.filter(key=KEY).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('stuck', '0002_default_rules'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='stuckrule',
            name='stuck_rule_kind_valid',
        ),
        migrations.AlterField(
            model_name='stuckrule',
            name='kind',
            field=models.CharField(choices=[('low_utilization', 'Low license utilization'), ('no_first_value', 'No first value'), ('poor_onboarding', 'Poor onboarding score'), ('no_activity', 'No activity'), ('ticket_spike', 'Support ticket spike'), ('poor_survey', 'Poor survey score')], max_length=20),
        ),
        migrations.AddConstraint(
            model_name='stuckrule',
            constraint=models.CheckConstraint(condition=models.Q(('kind__in', ['low_utilization', 'no_first_value', 'poor_onboarding', 'no_activity', 'ticket_spike', 'poor_survey'])), name='stuck_rule_kind_valid'),
        ),
        migrations.RunPython(seed, unseed),
    ]
