"""PostgreSQL: keep each score's breakdown (JSON, about 1 KB) out of the score's row.

A PostgreSQL row keeps a value up to about 2 KB inline, so the breakdown made each ``health_healthscore`` row ten
times the size of the columns dashboards read: every aggregate over the book's scores read 95 MB instead of ~12 MB
at 100,000 accounts. With ``toast_tuple_target`` at 128 bytes the breakdown is compressed and stored out of line
(read only when an account's explanation is shown). Rows take it from their next write (the recompute after this
migration rewrites every score: SCORER_REVISION 2). SQLite has no such setting; nothing to do there.
"""

from django.db import migrations


def out_of_line(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE health_healthscore SET (toast_tuple_target = 128)")


def inline(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE health_healthscore RESET (toast_tuple_target)")


class Migration(migrations.Migration):
    dependencies = [("health", "0005_score_columns_and_mix_snapshots")]

    operations = [migrations.RunPython(out_of_line, inline, elidable=False)]
