"""The annual percentage rate kept on the plan, fixed at signing (installments/disclosure.py); plans made before
get theirs from their rows in force, read for each merchant in turn (row-level security shows one at a time)."""

from django.db import migrations, models

from installments.disclosure import apr_compute
from taqsit.tenancy import merchant_scope


def plans_apr_backfill(apps, schema_editor) -> None:
    """Each plan's APR from the rows in force: for a plan never rescheduled, the schedule it was signed with."""
    Merchant = apps.get_model("taqsit", "Merchant")
    InstallmentPlan = apps.get_model("installments", "InstallmentPlan")
    Installment = apps.get_model("installments", "Installment")
    alias = schema_editor.connection.alias
    for merchant_id in list(Merchant.objects.using(alias).values_list("pk", flat=True)):
        with merchant_scope(merchant_id, using=alias):
            plans = InstallmentPlan.objects.using(alias).filter(merchant_id=merchant_id, apr__isnull=True)
            for plan in plans.iterator(chunk_size=500):
                rows = (
                    Installment.objects.using(alias)
                    .filter(plan_id=plan.pk, superseded_at__isnull=True)
                    .order_by("number")
                    .values_list("due_date", "amount_due")
                )
                apr = apr_compute(
                    amount_financed=plan.total_amount - plan.down_payment,
                    payments=list(rows),
                    start_date=plan.start_date,
                    frequency=plan.installment_frequency,
                )
                InstallmentPlan.objects.using(alias).filter(pk=plan.pk).update(apr=apr)


class Migration(migrations.Migration):
    dependencies = [
        ("installments", "0004_plan_origin"),
        ("taqsit", "0007_merchant_sale_contract_policy"),
    ]

    operations = [
        migrations.AddField(
            model_name="installmentplan",
            name="apr",
            field=models.DecimalField(
                blank=True, decimal_places=2, editable=False, max_digits=9, null=True, verbose_name="APR (%)"
            ),
        ),
        migrations.AddConstraint(
            model_name="installmentplan",
            constraint=models.CheckConstraint(condition=models.Q(("apr__gte", 0)), name="plan_apr_gte_0"),
        ),
        migrations.RunPython(plans_apr_backfill, migrations.RunPython.noop, elidable=True),
    ]
