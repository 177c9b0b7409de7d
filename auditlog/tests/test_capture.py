"""What the triggers capture: every tracked table's inserts, updates (only what changed) and deletes, with the
merchant, plan and customer each entry belongs to; noise and secrets left out; the SQL the migration installed
is the SQL auditlog/capture.py generates."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.utils import timezone

from auditlog.capture import HELPERS_SQL, TRACKED, TRIGGERS, _function_sql, function_name
from auditlog.models import Entry
from customers.models import Customer
from customers.services import customer_update
from customers.tests.factories import CustomerFactory
from installments.models import Installment, PlanItem
from installments.services import plan_delete
from installments.tests.factories import plan_make
from notifications.models import Notification
from taqsit import audit
from taqsit.services import merchant_register

pytestmark = pytest.mark.django_db


def _body(sql: str) -> str:
    """The body of the (last) function ``sql`` creates: what pg_proc.prosrc holds."""
    return sql[sql.rindex("AS $$") + len("AS $$") : sql.rindex("$$;")]


def test_the_tracked_tables_are_the_domain_tables():
    assert [tracked.label for tracked in TRACKED] == [
        "taqsit.merchant",
        "taqsit.user",
        "customers.customer",
        "customers.portallink",
        "installments.product",
        "installments.installmentplan",
        "installments.planitem",
        "installments.guarantor",
        "installments.installment",
        "installments.latefee",
        "payments.payment",
        "payments.paymentallocation",
        "notifications.notification",
        "collectors.assignment",
        "collectors.contact",
        "collectors.promise",
        "imports.importjob",
    ]


def test_the_database_runs_the_sql_capture_generates():
    """A change to auditlog/capture.py needs a migration that installs it (see its docstring)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT proname, prosrc FROM pg_proc WHERE proname LIKE 'auditlog\\_%%'")
        installed = dict(cursor.fetchall())
        cursor.execute(
            "SELECT c.relname, t.tgname, p.proname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_proc p ON p.oid = t.tgfoid WHERE t.tgname LIKE 'auditlog\\_%%'"
        )
        triggers = sorted(cursor.fetchall())

    expected = {function_name(tracked): _body(_function_sql(tracked)) for tracked in TRACKED}
    expected["auditlog_mask"] = _body(HELPERS_SQL)
    assert installed == expected
    assert triggers == sorted(
        (tracked.table, name, function_name(tracked)) for tracked in TRACKED for name, _op, _ref in TRIGGERS
    )


def test_an_insert_an_update_and_a_delete(owner, customer, today):
    with audit.context(source="shell"):
        plan = plan_make(
            actor=owner,
            customer=customer,
            down_payment=Decimal("0"),
            total_amount=None,
            items=[{"product": None, "description": "Fridge", "quantity": 2, "unit_price": "500.00"}],
        )
        item = PlanItem.objects.get(plan=plan)
        plan_delete(actor=owner, plan=plan)

    inserted = Entry.objects.get(object_type="installments.planitem", operation="insert")
    deleted = Entry.objects.get(object_type="installments.planitem", operation="delete")
    row = {
        "id": item.pk,
        "plan_id": str(plan.pk),
        "product_id": None,
        "description": "Fridge",
        "quantity": 2,
        "unit_price": Decimal("500.000"),
        "line_total": Decimal("1000.000"),
        "merchant_id": str(plan.merchant_id),
        "serial_number": "",
        "is_open": True,
    }
    assert (inserted.before, inserted.after, inserted.action) == (None, row, "plan.create")
    assert (deleted.before, deleted.after, deleted.action) == (row, None, "plan.delete")
    # The entry has the item's plan's merchant (the item's own since issue 15: the same).
    assert {inserted.merchant_id, deleted.merchant_id} == {plan.merchant_id}
    assert {inserted.plan_id, deleted.plan_id} == {plan.pk}
    assert set(Entry.objects.filter(operation="delete").values_list("object_type", flat=True)) == {
        "installments.installment",
        "installments.installmentplan",
        "installments.planitem",
    }
    assert Entry.objects.filter(object_type="installments.installment", operation="delete").count() == 4
    [plan_deleted] = Entry.objects.filter(object_type="installments.installmentplan", operation="delete")
    assert (plan_deleted.before["number"], plan_deleted.customer_id) == (1, customer.pk)


def test_an_update_that_changes_nothing_records_nothing(customer):
    count = Entry.objects.count()
    customer.save()  # same values, a new updated_at
    Installment.objects.none().update(status="paid")
    CustomerFactory._meta.model.objects.filter(pk=customer.pk).update(updated_at=timezone.now())
    assert Entry.objects.count() == count


def test_a_set_based_update_writes_one_entry_per_row_changed(owner, customer, today):
    plan = plan_make(actor=owner, customer=customer)
    count = Entry.objects.count()

    with audit.context(source="job", action="test.bulk"):
        changed = Installment.objects.filter(plan=plan, number__gte=2).update(due_date=date(2026, 12, 31))

    assert changed == 3
    new = Entry.objects.filter(pk__gt=Entry.objects.order_by("id")[count - 1].pk).order_by("id")
    assert [(e.object_type, e.operation, e.action) for e in new] == [
        ("installments.installment", "update", "test.bulk")
    ] * 3
    assert {e.after["due_date"] for e in new} == {"2026-12-31"}
    assert len({e.context_id for e in new}) == 1


def test_log_ins_are_noise_and_passwords_are_secrets(owner):
    count = Entry.objects.count()
    owner.last_login = timezone.now()
    owner.save(update_fields=["last_login"])
    assert Entry.objects.count() == count

    owner.set_password("Another-Pass-2026")
    owner.first_name = "Nadia"
    owner.save()

    entry = Entry.objects.get(object_type="taqsit.user", operation="update", after__first_name="Nadia")
    assert (entry.before, entry.after) == (
        {"password": "********", "first_name": ""},
        {"password": "********", "first_name": "Nadia"},
    )
    assert "Another-Pass" not in str(Entry.objects.filter(object_type="taqsit.user").values_list("after", "before"))


def test_a_notification_is_captured_without_its_text(owner, merchant):
    now = timezone.now()
    notification = Notification.objects.create(
        merchant=merchant,
        user=owner,
        channel=Notification.Channel.IN_APP,
        kind=Notification.Kind.STAFF_DIGEST,
        day=date(2026, 3, 1),
        subject="Today",
        body="A long digest " * 50,
        send_after=now,
    )

    entry = Entry.objects.get(object_type="notifications.notification")
    assert entry.object_id == str(notification.pk)
    assert "body" not in entry.after
    assert (entry.after["subject"], entry.merchant_id, entry.customer_id) == ("Today", merchant.pk, None)


def test_a_write_after_a_service_in_the_same_transaction_is_not_credited_to_it(owner, customer):
    with transaction.atomic():
        customer_update(actor=owner, customer=customer, notes="Pays on Fridays.")
        Customer.objects.filter(pk=customer.pk).update(email="amina@example.com")

    updates = Entry.objects.filter(object_type="customers.customer", operation="update").order_by("id")
    assert [(e.after, e.action, e.actor_id) for e in updates] == [
        ({"notes": "Pays on Fridays."}, "customer.update", owner.pk),
        ({"email": "amina@example.com"}, "", None),
    ]
    assert updates[1].context is None


def test_the_outermost_action_names_what_a_service_calling_another_does(owner, customer):
    @audit.action("customer.merge")
    def customer_merge(*, actor, customer):
        customer_update(actor=actor, customer=customer, notes="Merged with a duplicate.")

    try:
        customer_merge(actor=owner, customer=customer)
    finally:
        audit.ACTIONS.discard("customer.merge")

    entry = Entry.objects.get(object_type="customers.customer", operation="update")
    assert (entry.action, entry.actor_id, entry.after) == (
        "customer.merge",
        owner.pk,
        {"notes": "Merged with a duplicate."},
    )


def test_a_registration_has_its_action_and_no_actor_yet():
    owner = merchant_register(
        merchant_name="New Shop", username="newowner", email="n@example.com", password="Counter-Pass-2026"
    )

    assert set(
        Entry.objects.filter(merchant_id=owner.merchant_id).values_list("object_type", "action", "actor_id")
    ) == {("taqsit.merchant", "merchant.register", None), ("taqsit.user", "merchant.register", None)}
