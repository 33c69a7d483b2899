"""The outbox keeps notices to one receiver about one person in order: the 住民票コード of each notice, and the
partial index that answers "is an older one still unacknowledged?" (transfers.delivery.claim)."""

from django.db import migrations, models


def fill_codes(apps, schema_editor):
    from transfers.models.outbound import subject_code

    OutboundNotice = apps.get_model("transfers", "OutboundNotice")
    rows = OutboundNotice.objects.filter(state__in=["pending", "sending", "sent"], juminhyo_code="")
    for notice in rows.iterator(chunk_size=500):
        code = subject_code(notice.payload)
        if code:
            notice.juminhyo_code = code
            notice.save(update_fields=["juminhyo_code"])


class Migration(migrations.Migration):
    dependencies = [
        ("transfers", "0003_page_permissions"),
    ]

    operations = [
        migrations.AddField(
            model_name="outboundnotice",
            name="juminhyo_code",
            field=models.CharField(
                blank=True,
                default="",
                help_text="通知の本人（順序を守る単位: 同じ宛先・同じ本人の通知は古いものから）",
                max_length=11,
                verbose_name="住民票コード",
            ),
        ),
        migrations.AddIndex(
            model_name="outboundnotice",
            index=models.Index(
                condition=models.Q(("state__in", ["pending", "sending", "sent"])),
                fields=["receiver", "juminhyo_code", "id"],
                name="outbox_person_order",
            ),
        ),
        migrations.RunPython(fill_codes, migrations.RunPython.noop),
    ]
