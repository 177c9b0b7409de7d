"""The daily jobs on schedules, set-based: mark overdue, charge late fees, default and restore plans.

Each runs for one merchant as of one of its days (``today`` is the merchant's today, or a missed day being
caught up), in bounded chunks of one short transaction each, so lock times stay flat however many installments
there are; memory grows only with the ids of the candidate plans (about 100 bytes a plan: 4 MB if every plan
of the largest bench merchant were a candidate). Each is idempotent: running it again for the same day changes nothing.

Where a job changes a plan's money or status it first lists the candidate plans from the rows' side (one read
on the unpaid-by-due-date index, no locks), then takes their rows' locks chunk by chunk, in id order, exactly as
the ledger services do (plan, then its installments), then re-reads under those locks in a new statement: a payment
committed meanwhile is seen, and the two can neither deadlock nor lose money.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Case, DateField, Exists, ExpressionWrapper, F, OuterRef, Q, QuerySet, Value, When
from django.db.models.sql import UpdateQuery
from django.utils import timezone

from installments.locks import plans_lock
from installments.models import Installment, InstallmentPlan, LateFee, PlanStatusTotal
from installments.selectors import UNPAID, installments_overdue_of, late_fee_amount_sql, overdue_cutoff, unpaid_only
from installments.summaries import plans_status_move
from taqsit import audit
from taqsit.cache import merchant_stats_invalidate
from taqsit.events import events_emit_many
from taqsit.models import Merchant
from taqsit.money import to_money

CHUNK_SIZE = 500

OPEN = tuple(str(status) for status in InstallmentPlan.OPEN_STATUSES)
DEFAULTED_REASON = InstallmentPlan.DEFAULTED_REASON
RESTORED_REASON = InstallmentPlan.RESTORED_REASON


def _unpaid_rows(merchant: Merchant, *, plan_status=OPEN):
    """Unpaid current rows of the merchant's plans in ``plan_status``, on the unpaid-by-due-date index."""
    return unpaid_only(
        Installment.objects.filter(merchant=merchant, superseded_at__isnull=True),
        merchant=merchant,
        plan_status=plan_status,
    )


def _update_returning(queryset: QuerySet, returning: tuple[str, ...], **values) -> list[tuple]:
    """``queryset.update(**values)`` as one ``UPDATE ... RETURNING``: the rows the statement changed (after its own
    re-check of the conditions), read by the write itself, for the events to announce them."""
    query = queryset.query.chain(UpdateQuery)
    query.add_update_values(values)
    sql, params = query.get_compiler(queryset.db).as_sql()
    columns = ", ".join(connection.ops.quote_name(queryset.model._meta.get_field(name).column) for name in returning)
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} RETURNING {columns}", params)
        return cursor.fetchall()


@audit.action("installments.mark_overdue")
def installments_mark_overdue(*, merchant: Merchant, today: date, chunk_size: int = CHUNK_SIZE) -> int:
    """Set ``overdue`` on unpaid current rows of open plans past due date plus grace; a row marked overdue that
    is no longer (the grace days grew) goes back to pending or partially paid. Returns the rows changed. The rows
    marked overdue are announced (``installment.overdue``) from what the UPDATE returned, a chunk at a time."""
    cutoff = overdue_cutoff(merchant, today=today)
    now = timezone.now()
    changed = 0
    to_mark = _unpaid_rows(merchant).filter(due_date__lt=cutoff).exclude(status=Installment.Status.OVERDUE)
    to_unmark = Installment.objects.filter(
        UNPAID, merchant=merchant, status=Installment.Status.OVERDUE, due_date__gte=cutoff
    )
    not_overdue = Case(
        When(amount_paid__gt=0, then=Value(Installment.Status.PARTIALLY_PAID)),
        default=Value(Installment.Status.PENDING),
    )
    for queryset, status in ((to_mark, Value(Installment.Status.OVERDUE)), (to_unmark, not_overdue)):
        # Pages in (due_date, id) order, which the unpaid-by-due-date index serves: ordering by the random UUID
        # alone made PostgreSQL walk the whole primary key for every chunk (docs/performance.md).
        last: tuple | None = None
        while True:
            with transaction.atomic():
                page = queryset
                if last is not None:
                    page = queryset.filter(Q(due_date__gt=last[0]) | Q(due_date=last[0], pk__gt=last[1]))
                rows = list(page.order_by("due_date", "pk").values_list("due_date", "pk")[:chunk_size])
                if not rows:
                    break
                # The conditions are repeated in the UPDATE: a row paid since the SELECT is re-checked and left.
                chunk = queryset.filter(pk__in=[pk for _, pk in rows])
                if queryset is to_mark:
                    marked = _update_returning(chunk, ("id", "plan"), status=status, updated_at=now)
                    changed += len(marked)
                    events_emit_many(
                        event_type="installment.overdue",
                        objects=[
                            Installment(pk=pk, plan_id=plan_id, merchant_id=merchant.pk) for pk, plan_id in marked
                        ],
                        merchant_id=merchant.pk,
                    )
                else:
                    changed += chunk.update(status=status, updated_at=now)
                last = rows[-1]
    if changed:
        merchant_stats_invalidate(merchant.pk)
    return changed


def _plan_ids(installments) -> list:
    """The distinct plans of ``installments``, in id order, read without locks: the candidates a job then locks
    chunk by chunk. Found from the rows' side so the unpaid-by-due-date index does the searching, instead of
    walking every plan of the merchant under locks (docs/performance.md)."""
    return list(installments.order_by("plan_id").values_list("plan_id", flat=True).distinct())


def _chunks(ids: list, size: int):
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


_LATE_FEE_SQL = """
WITH candidates AS (
    SELECT i.id AS installment_id, i.plan_id, i.merchant_id,
           i.due_date + %(period_offset)s::integer AS period,
           {amount} AS amount
      FROM {installment} i
      JOIN {plan} p ON p.id = i.plan_id
     WHERE p.id = ANY(%(plan_ids)s)
       AND p.status = ANY(%(open)s)
       AND i.superseded_at IS NULL  -- with the next line, UNPAID of installments.selectors
       AND i.amount_paid < i.amount_due
       AND i.due_date < %(cutoff)s
),
inserted AS (
    INSERT INTO {late_fee} (id, merchant_id, plan_id, installment_id, period, amount, is_charity, charged_by_id,
                            created_at, updated_at)
    SELECT gen_random_uuid(), merchant_id, plan_id, installment_id, period, amount, %(charity)s, NULL, %(now)s,
           %(now)s
      FROM candidates
     WHERE amount > 0
    ON CONFLICT (installment_id, period) DO NOTHING
    RETURNING id, installment_id, plan_id, amount
),
rows AS (
    UPDATE {installment} i
       SET late_fee = i.late_fee + inserted.amount,
           charity_fee = i.charity_fee + CASE WHEN %(charity)s THEN inserted.amount ELSE 0 END,
           updated_at = %(now)s
      FROM inserted
     WHERE i.id = inserted.installment_id
    RETURNING i.id
),
plans AS (
    UPDATE {plan} p
       SET late_fees = p.late_fees + totals.amount, updated_at = %(now)s
      FROM (SELECT plan_id, SUM(amount) AS amount FROM inserted GROUP BY plan_id) totals
     WHERE p.id = totals.plan_id
    RETURNING p.id
),
status_totals AS (  -- the statistics' summary rows, in the same statement (installments/summaries.py)
    INSERT INTO {status_total} AS t (merchant_id, status, plans, total_payable, late_fees, amount_paid,
                                     late_fees_unpaid, rebates, charity_fees, charity_fees_paid)
    SELECT p.merchant_id, p.status, 0, 0, SUM(inserted.amount), 0, SUM(inserted.amount), 0,
           CASE WHEN %(charity)s THEN SUM(inserted.amount) ELSE 0 END, 0
      FROM inserted
      JOIN {plan} p ON p.id = inserted.plan_id  -- the plans' status before this statement: they are locked
     GROUP BY p.merchant_id, p.status
     ORDER BY p.status
    ON CONFLICT (merchant_id, status) DO UPDATE
       SET late_fees = t.late_fees + EXCLUDED.late_fees,
           late_fees_unpaid = t.late_fees_unpaid + EXCLUDED.late_fees_unpaid,
           charity_fees = t.charity_fees + EXCLUDED.charity_fees
    RETURNING 1
)
SELECT COUNT(*), COALESCE(SUM(amount), 0), COALESCE(array_agg(id), '{{}}'), COALESCE(array_agg(plan_id), '{{}}')
  FROM inserted
"""


@audit.action("late_fees.apply")
def late_fees_apply(*, merchant: Merchant, today: date, chunk_size: int = CHUNK_SIZE) -> tuple[int, Decimal]:
    """Charge the merchant's late fee once on every overdue row of an open plan, for the period that starts on
    the row's first overdue day. "Once" is the database's unique key (installment, period), not a Python check:
    the job run twice, in parallel or after a missed day charges nothing more. The fee, the row's ``late_fee``
    and the plan's ``late_fees`` change in one statement under the plan's lock. A fee charged while the merchant
    books late fees for charity is a charity fee (``LateFee.is_charity``, the row's ``charity_fee``). The fee is
    figured on what is left of the installment itself, never on a fee: fees do not compound. Returns (fees, total)."""
    if merchant.late_fee_method == Merchant.LateFeeMethod.NONE:
        return 0, to_money(Decimal("0"), merchant.currency)
    cutoff = overdue_cutoff(merchant, today=today)
    amount_sql, params = late_fee_amount_sql(merchant)
    sql = _LATE_FEE_SQL.format(
        amount=amount_sql,
        installment=connection.ops.quote_name(Installment._meta.db_table),
        plan=connection.ops.quote_name(InstallmentPlan._meta.db_table),
        late_fee=connection.ops.quote_name(LateFee._meta.db_table),
        status_total=connection.ops.quote_name(PlanStatusTotal._meta.db_table),
    )
    # Plans with a row still to charge; rows already charged for their period are left out, so plans whose
    # fees are all charged are not even locked.
    period = ExpressionWrapper(F("due_date") + timedelta(days=merchant.grace_days + 1), output_field=DateField())
    already_charged = LateFee.objects.filter(installment=OuterRef("pk"), period=OuterRef("period"))
    to_charge = (
        _unpaid_rows(merchant).filter(due_date__lt=cutoff).annotate(period=period).filter(~Exists(already_charged))
    )
    open_plans = InstallmentPlan.objects.filter(merchant=merchant, status__in=OPEN)
    count, total = 0, Decimal("0")
    for chunk in _chunks(_plan_ids(to_charge), chunk_size):
        with transaction.atomic():
            plan_ids = plans_lock(plans=open_plans, plan_ids=chunk, no_key=True)
            if not plan_ids:
                continue
            with connection.cursor() as cursor:
                # The statement re-reads the rows under the locks: a payment committed meanwhile is seen.
                cursor.execute(
                    sql,
                    {
                        **params,
                        "plan_ids": plan_ids,
                        "open": list(OPEN),
                        "cutoff": cutoff,
                        "period_offset": merchant.grace_days + 1,
                        "charity": merchant.late_fee_booking == Merchant.LateFeeBooking.CHARITY,
                        "now": timezone.now(),
                    },
                )
                inserted, amount, fee_ids, plan_ids_charged = cursor.fetchone()
            # The fees charged, announced from the statement's own RETURNING rows (``late_fee.charged``).
            events_emit_many(
                event_type="late_fee.charged",
                objects=[
                    LateFee(pk=pk, plan_id=plan_id, merchant_id=merchant.pk)
                    for pk, plan_id in zip(fee_ids, plan_ids_charged, strict=True)
                ],
                merchant_id=merchant.pk,
            )
            count += inserted
            total += amount
    if count:
        merchant_stats_invalidate(merchant.pk)
    return count, to_money(total, merchant.currency)


def _plans_update_locked(
    merchant: Merchant,
    candidates,
    plan_ids: list,
    *,
    chunk_size: int,
    from_status: str,
    status: str,
    event_type: str | None = None,
    **changes,
) -> int:
    """Lock ``plan_ids`` chunk by chunk, then move those that ``candidates`` still selects under the lock from
    ``from_status`` to ``status``, their totals with them in the statistics' summary rows (one statement a
    chunk); the plans moved are announced as ``event_type``, if any."""
    changed = 0
    for chunk in _chunks(plan_ids, chunk_size):
        with transaction.atomic():
            locked = plans_lock(plans=candidates, plan_ids=chunk, no_key=True)
            if locked:
                # A new statement, so a payment that committed while we waited for the lock is seen.
                moved = list(candidates.filter(pk__in=locked).values_list("pk", flat=True))
                if moved:
                    plans_status_move(
                        merchant_id=merchant.pk, plan_ids=moved, from_status=from_status, to_status=status
                    )
                    changed += InstallmentPlan.objects.filter(pk__in=moved).update(status=status, **changes)
                    if event_type:
                        events_emit_many(
                            event_type=event_type,
                            objects=[InstallmentPlan(pk=pk, merchant_id=merchant.pk) for pk in moved],
                            merchant_id=merchant.pk,
                        )
    if changed:
        merchant_stats_invalidate(merchant.pk)
    return changed


@audit.action("plans.mark_defaulted")
def plans_mark_defaulted(*, merchant: Merchant, today: date, chunk_size: int = CHUNK_SIZE) -> int:
    """Default the active plans with a row overdue for ``default_after_days`` days or more (day 1 being its
    first overdue day). Returns the plans defaulted."""
    # Overdue for N days on ``today`` means first overdue day <= today - N + 1, i.e. due before cutoff - N + 1.
    limit = overdue_cutoff(merchant, today=today) - timedelta(days=merchant.default_after_days - 1)
    active = (InstallmentPlan.Status.ACTIVE,)
    candidates = InstallmentPlan.objects.filter(merchant=merchant, status__in=active).filter(
        Exists(installments_overdue_of(plan=OuterRef("pk"), cutoff=limit))
    )
    return _plans_update_locked(
        merchant,
        candidates,
        _plan_ids(_unpaid_rows(merchant, plan_status=active).filter(due_date__lt=limit)),
        chunk_size=chunk_size,
        from_status=InstallmentPlan.Status.ACTIVE,
        status=InstallmentPlan.Status.DEFAULTED,
        event_type="plan.defaulted",
        status_reason=DEFAULTED_REASON,
        status_changed_at=timezone.now(),
        updated_at=timezone.now(),
    )


@audit.action("plans.restore_active")
def plans_restore_active(*, merchant: Merchant, today: date, chunk_size: int = CHUNK_SIZE) -> int:
    """Return defaulted plans with nothing overdue to active (the rule a payment applies, here for plans brought
    up to date another way, such as longer grace days). Returns the plans restored."""
    cutoff = overdue_cutoff(merchant, today=today)
    candidates = InstallmentPlan.objects.filter(merchant=merchant, status=InstallmentPlan.Status.DEFAULTED).exclude(
        Exists(installments_overdue_of(plan=OuterRef("pk"), cutoff=cutoff))
    )
    return _plans_update_locked(
        merchant,
        candidates,
        list(candidates.order_by("pk").values_list("pk", flat=True)),
        chunk_size=chunk_size,
        from_status=InstallmentPlan.Status.DEFAULTED,
        status=InstallmentPlan.Status.ACTIVE,
        status_reason=RESTORED_REASON,
        status_changed_at=timezone.now(),
        updated_at=timezone.now(),
    )
