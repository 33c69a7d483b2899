"""Loads the bundled 地方公共団体コード table, so that every database knows the ward and its neighbours."""

from django.db import migrations


def load(apps, schema_editor):
    from common.municipalities import BUNDLED_TABLE, load_rows, read_table

    load_rows(read_table(BUNDLED_TABLE), municipality_model=apps.get_model("common", "Municipality"))


class Migration(migrations.Migration):
    dependencies = [("common", "0002_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
