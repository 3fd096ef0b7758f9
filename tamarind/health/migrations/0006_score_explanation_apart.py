"""Each score's breakdown moves from ``health_healthscore`` to ``health_healthexplanation`` (one row per score):
about 1 KB of JSON that PostgreSQL kept inline made every score row ten times the width of the columns the
dashboards aggregate (95 MB read instead of ~15 MB at 100,000 accounts). The breakdowns are copied over first."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('health', '0005_score_columns_and_mix_snapshots'),
    ]

    operations = [
        migrations.CreateModel(
            name='HealthExplanation',
            fields=[
                ('health', models.OneToOneField(db_column='account_id', on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='explanation', serialize=False, to='health.healthscore')),
                ('breakdown', models.JSONField(default=dict)),
            ],
        ),
        migrations.RunSQL(
            "INSERT INTO health_healthexplanation (account_id, breakdown) "
            "SELECT account_id, breakdown FROM health_healthscore",
            reverse_sql="UPDATE health_healthscore SET breakdown = (SELECT e.breakdown FROM health_healthexplanation e "
            "WHERE e.account_id = health_healthscore.account_id)",
        ),
        migrations.RemoveField(
            model_name='healthscore',
            name='breakdown',
        ),
    ]
