"""Day repeats that mean calendar months become month repeats: a repeat within two days of a whole number of
average months (30.4375 days: 30 or 31 is one month, 91 three, 182 or 183 six, 365 twelve) is stored as
``repeat_months``, so "every six months" falls on the same day of the month instead of drifting (182 days is
short of six months by a day or so each time). Other repeats (weekly, every 45 days...) stay in days. Reversed:
months become the nearest whole number of days."""

from django.db import migrations

AVERAGE_MONTH = 30.4375  # 365.25 / 12
TOLERANCE_DAYS = 2


def months_for(days: int) -> int | None:
    """The whole number of months ``days`` stands for, or ``None`` when it is not near one."""
    months = round(days / AVERAGE_MONTH)
    if months >= 1 and abs(days - months * AVERAGE_MONTH) <= TOLERANCE_DAYS:
        return months
    return None


def forwards(apps, schema_editor):
    Step = apps.get_model("journeys", "Step")
    for step in Step.objects.filter(repeat_days__isnull=False, repeat_months__isnull=True):
        months = months_for(step.repeat_days)
        if months is not None:
            step.repeat_days, step.repeat_months = None, months
            step.save(update_fields=["repeat_days", "repeat_months"])


def backwards(apps, schema_editor):
    Step = apps.get_model("journeys", "Step")
    for step in Step.objects.filter(repeat_months__isnull=False):
        step.repeat_days, step.repeat_months = round(step.repeat_months * AVERAGE_MONTH), None
        step.save(update_fields=["repeat_days", "repeat_months"])


class Migration(migrations.Migration):
    dependencies = [("journeys", "0004_step_repeat_months")]

    operations = [migrations.RunPython(forwards, backwards)]
