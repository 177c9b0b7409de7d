"""The statistics' status rows keep settlement rebates and charity fees (charged and paid) apart.

Runs before the summary rows' backfill (payments 0007), which fills them with the rest from the ledger by the
rebuild's own statements (payments/summaries.py): they need these columns.
"""

from decimal import Decimal

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("installments", "0009_contract_signature"),
    ]

    operations = [
        migrations.AddField(
            model_name="planstatustotal",
            name="charity_fees",
            field=models.DecimalField(
                decimal_places=3, default=Decimal("0"), max_digits=20, verbose_name="charity fees charged"
            ),
        ),
        migrations.AddField(
            model_name="planstatustotal",
            name="charity_fees_paid",
            field=models.DecimalField(
                decimal_places=3, default=Decimal("0"), max_digits=20, verbose_name="charity fees paid"
            ),
        ),
        migrations.AddField(
            model_name="planstatustotal",
            name="rebates",
            field=models.DecimalField(
                decimal_places=3, default=Decimal("0"), max_digits=20, verbose_name="settlement rebates"
            ),
        ),
    ]
