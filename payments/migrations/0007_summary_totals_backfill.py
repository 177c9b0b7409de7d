"""The statistics' summary rows of the books that exist: every merchant's rebuilt from its ledger, as
``manage.py stats_rebuild`` does (payments/summaries.py), each with its merchant set for row-level security."""

from django.db import migrations

from payments.summaries import summaries_rebuild_statements


def summaries_backfill(apps, schema_editor) -> None:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT id FROM taqsit_merchant ORDER BY id")
        for (merchant_id,) in cursor.fetchall():
            cursor.execute("SELECT set_config('taqsit.merchant_id', %s, true)", [str(merchant_id)])
            for sql, params in summaries_rebuild_statements(merchant_id):
                cursor.execute(sql, params)
        cursor.execute("SELECT set_config('taqsit.merchant_id', '', true)")


class Migration(migrations.Migration):
    dependencies = [
        ("installments", "0010_status_totals_rebates_and_charity_fees"),
        ("payments", "0006_settlement_quote_and_charity_disbursement"),
    ]

    operations = [migrations.RunPython(summaries_backfill, migrations.RunPython.noop)]
