"""Plans rescheduled before the rule changed: a superseded row with money paid on it is brought back into force,
closed at what was paid, and the rows in force are numbered again by due date, so the schedule shown adds up (the
reschedule service now leaves rows this way itself)."""

from django.db import migrations
from django.db.models import Max


def superseded_paid_parts_close(apps, schema_editor) -> None:
    """For each plan with paid money on a superseded row: close those rows in force at what was paid on them and
    number the rows in force 1..n by due date (allocations point at rows, not numbers, so receipts follow)."""
    Installment = apps.get_model("installments", "Installment")
    InstallmentPlan = apps.get_model("installments", "InstallmentPlan")
    plan_ids = (
        Installment.objects.filter(superseded_at__isnull=False, amount_paid__gt=0)
        .values_list("plan_id", flat=True)
        .distinct()
    )
    for plan_id in list(plan_ids):
        legacy = list(Installment.objects.filter(plan_id=plan_id, superseded_at__isnull=False, amount_paid__gt=0))
        current = list(Installment.objects.filter(plan_id=plan_id, superseded_at__isnull=True))
        # Out of the way first: the number is unique among rows in force only.
        top = max((row.number for row in current + legacy), default=0)
        for offset, row in enumerate(current + legacy, start=1):
            Installment.objects.filter(pk=row.pk).update(number=top + offset)
            row.number = top + offset
        for row in legacy:
            last_paid = Installment.objects.filter(pk=row.pk, allocations__payment__status="completed").aggregate(
                last=Max("allocations__payment__payment_date")
            )["last"]
            Installment.objects.filter(pk=row.pk).update(
                principal=row.principal_paid,
                interest=row.interest_paid,
                amount_due=row.amount_paid,
                status="paid",
                paid_on=last_paid or row.superseded_at.date(),
                superseded_at=None,
            )
        ordered = sorted(current + legacy, key=lambda row: (row.due_date, row.number))
        for number, row in enumerate(ordered, start=1):
            Installment.objects.filter(pk=row.pk).update(number=number)
        InstallmentPlan.objects.filter(pk=plan_id).update(number_of_installments=len(ordered))


class Migration(migrations.Migration):
    dependencies = [
        ("installments", "0002_unpaid_index_covers_totals"),
        ("payments", "0001_initial"),
    ]

    operations = [migrations.RunPython(superseded_paid_parts_close, migrations.RunPython.noop)]
