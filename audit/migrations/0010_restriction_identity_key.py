from django.db import migrations, models


def fill_identity(apps, schema_editor):
    """Existing restrictions: the identity of the row they were set on (氏名　名|生年月日, as audit.visibility)."""
    restriction_model = apps.get_model("audit", "AccessRestriction")
    for restriction in restriction_model.objects.filter(identity_key=""):
        subject = restriction.resident or restriction.fuhyo_entry
        if subject is None:
            continue
        restriction.identity_key = f"{subject.surname}　{subject.given_name}|{subject.birth_date.isoformat()}"
        restriction.save(update_fields=["identity_key"])


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0009_restriction_code_check_digit"),
        ("registry", "0001_initial"),
        ("koseki_fuhyo", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="accessrestriction",
            name="identity_key",
            field=models.CharField(
                blank=True,
                db_index=True,
                help_text="氏名と生年月日（住民票コードのない人の記録にも制限が及ぶように）",
                max_length=120,
                verbose_name="本人の特定事項",
            ),
        ),
        migrations.RunPython(fill_identity, migrations.RunPython.noop),
    ]
