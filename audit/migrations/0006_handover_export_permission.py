# The supervisor's exports (audit.exports) need their own permission: only the 監督者 hands records over.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0005_account_operation_categories"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="handoverrecord",
            options={
                "ordering": ["-created_at"],
                "permissions": [("export_records", "記録の書き出し（暗号化ZIP、管理簿に記録）")],
                "verbose_name": "管理簿",
                "verbose_name_plural": "管理簿",
            },
        ),
    ]
