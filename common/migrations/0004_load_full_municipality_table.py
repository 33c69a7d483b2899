"""Loads the full 地方公共団体コード table (every 市区町村 and 行政区, with the vanished ones kept as not 現存) into
databases made before it was bundled: a 転入 from any municipality must be recordable."""

from django.db import migrations


def load(apps, schema_editor):
    from common.municipalities import BUNDLED_TABLE, load_rows, read_table

    load_rows(read_table(BUNDLED_TABLE), municipality_model=apps.get_model("common", "Municipality"))


class Migration(migrations.Migration):
    dependencies = [("common", "0003_load_municipalities")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
