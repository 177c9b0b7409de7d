"""The demo loader: both merchants, every role and plan status, a consistent ledger, and loaded only once."""

from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import F, Sum

from customers.models import Customer
from demo.loader import (
    ADMIN_PASSWORD,
    DEMO_MERCHANT,
    DEMO_PASSWORD,
    KW_MERCHANT,
    DemoResult,
    demo_load,
    demo_login_lines,
)
from installments.models import Installment, InstallmentPlan, LateFee, PlanItem, Product
from installments.selectors import installments_overdue
from payments.models import Payment, PaymentAllocation
from taqsit.dates import merchant_today
from taqsit.models import Merchant, Role, User
from taqsit.phone import phone_normalize

pytestmark = pytest.mark.django_db

ALL_STATUSES = {"active", "completed", "pending", "rejected", "cancelled", "defaulted"}
COUNTED = (
    Merchant,
    User,
    Customer,
    Product,
    InstallmentPlan,
    PlanItem,
    Installment,
    Payment,
    PaymentAllocation,
    LateFee,
)


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


@pytest.fixture
def loaded() -> DemoResult:
    result = demo_load()
    assert result is not None
    return result


@pytest.fixture
def demo(loaded) -> Merchant:
    return Merchant.objects.get(name=DEMO_MERCHANT)


def test_users_for_every_role_and_a_platform_admin(loaded):
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff and admin.merchant is None
    assert admin.check_password(ADMIN_PASSWORD)
    for username, role in (
        ("owner", Role.OWNER),
        ("manager", Role.MANAGER),
        ("clerk", Role.CLERK),
        ("viewer", Role.VIEWER),
    ):
        user = User.objects.get(username=username)
        assert user.merchant.name == DEMO_MERCHANT
        assert user.role == role
        assert not user.is_superuser
        assert user.check_password(DEMO_PASSWORD)
    kw_owner = User.objects.get(username="kw-owner")
    assert kw_owner.merchant.name == KW_MERCHANT
    assert kw_owner.role == Role.OWNER
    assert kw_owner.check_password(DEMO_PASSWORD)


def test_both_merchants_with_their_policy(loaded, demo):
    assert demo.currency == "USD"
    assert demo.timezone == "America/New_York"
    assert (demo.language, demo.country) == ("en", "US")
    assert demo.grace_days == 3
    assert demo.late_fee_method == Merchant.LateFeeMethod.FIXED
    assert demo.late_fee_amount == 5
    assert demo.default_after_days == 60
    assert demo.reminder_days_before == 3
    assert demo.requires_approval is False  # switched back on after the applications
    kuwait = Merchant.objects.get(name=KW_MERCHANT)
    assert (kuwait.currency, kuwait.timezone, kuwait.language, kuwait.country) == ("KWD", "Asia/Kuwait", "ar", "KW")
    assert Customer.objects.filter(merchant=kuwait).count() >= 3
    assert InstallmentPlan.objects.filter(merchant=kuwait).count() >= 3
    assert all(
        phone.startswith("+965") for phone in Customer.objects.filter(merchant=kuwait).values_list("phone", flat=True)
    )
    assert set(loaded.merchants) == {DEMO_MERCHANT, KW_MERCHANT}


def test_customers_and_products(demo):
    customers = Customer.objects.filter(merchant=demo)
    assert customers.count() >= 30
    assert set(customers.values_list("language", flat=True)) == {"en", "ar", "es"}
    for phone in customers.values_list("phone", flat=True):
        assert phone_normalize(phone, region="US") == phone
    products = Product.objects.filter(merchant=demo)
    assert products.count() >= 8
    assert all(product.sku for product in products)


def test_plans_in_every_status_frequency_and_finance_charge(loaded, demo):
    plans = InstallmentPlan.objects.filter(merchant=demo)
    assert set(plans.values_list("status", flat=True)) == ALL_STATUSES
    assert set(plans.values_list("installment_frequency", flat=True)) == {"weekly", "biweekly", "monthly", "quarterly"}
    assert set(plans.values_list("finance_charge_method", flat=True)) == {"none", "flat", "declining_balance"}
    assert plans.filter(rescheduled_at__isnull=False, status="active").count() == 1
    assert Installment.objects.filter(plan__merchant=demo, superseded_at__isnull=False).exists()
    assert Payment.objects.filter(merchant=demo, status=Payment.Status.REFUNDED).count() == 1
    assert LateFee.objects.filter(merchant=demo).count() >= 2
    assert plans.filter(status="active", amount_paid__gt=F("down_payment")).exists()  # partly paid
    assert Installment.objects.filter(plan__merchant=demo, status=Installment.Status.PARTIALLY_PAID).exists()
    assert set(loaded.plans_by_status) == ALL_STATUSES
    assert loaded.plans == InstallmentPlan.objects.count()
    assert loaded.payments == Payment.objects.count()
    assert loaded.customers == Customer.objects.count()


def test_some_installments_are_overdue(demo):
    overdue = installments_overdue(merchant=demo)
    assert overdue.exists()
    assert {row.plan.status for row in overdue} <= {"active", "defaulted"}


def test_ledger_holds_for_every_plan(loaded):
    plans = InstallmentPlan.objects.select_related("merchant")
    assert plans.count() == loaded.plans
    for plan in plans:
        allocated = (
            PaymentAllocation.objects.filter(
                payment__plan=plan, payment__status__in=[Payment.Status.COMPLETED, Payment.Status.REFUNDED]
            ).aggregate(total=Sum("amount"))["total"]
            or 0
        )
        assert allocated == plan.amount_paid, plan.reference
        completed = plan.payments.filter(status=Payment.Status.COMPLETED).aggregate(total=Sum("amount"))["total"] or 0
        assert completed == plan.amount_paid, plan.reference
        assert plan.amount_paid <= plan.total_payable + plan.late_fees
        for payment in plan.payments.exclude(status=Payment.Status.COMPLETED):
            # Refunded and voided payments net to zero: every line reversed.
            assert (payment.allocations.aggregate(total=Sum("amount"))["total"] or 0) == 0, plan.reference
        rows = Installment.objects.filter(plan=plan)
        assert not rows.filter(amount_paid__gt=F("amount_due")).exists(), plan.reference
        assert not rows.filter(late_fee_paid__gt=F("late_fee")).exists(), plan.reference
        if plan.rescheduled_at is None:
            owed = rows.aggregate(total=Sum("amount_due"))["total"]
            assert owed + plan.down_payment == plan.total_payable, plan.reference
        if plan.status == InstallmentPlan.Status.COMPLETED:
            assert plan.remaining_balance == 0
        if plan.status in (InstallmentPlan.Status.PENDING, InstallmentPlan.Status.REJECTED):
            assert not plan.payments.exists()
        today = merchant_today(plan.merchant)
        for payment in plan.payments.all():
            assert plan.start_date <= payment.payment_date <= today
        numbers = list(plan.payments.order_by("payment_number").values_list("payment_number", flat=True))
        assert numbers == list(range(1, len(numbers) + 1))


def test_loading_twice_changes_nothing_and_prints_the_logins_again(loaded):
    before = _counts()
    assert demo_load() is None
    out = StringIO()
    call_command("demo_load", stdout=out)
    assert _counts() == before
    text = out.getvalue()
    assert "already loaded" in text
    assert f"as admin / {ADMIN_PASSWORD}" in text
    assert f"owner, manager, clerk, viewer / {DEMO_PASSWORD}" in text


def test_command_prints_the_summary_and_the_logins(monkeypatch):
    monkeypatch.setenv("PORT", "8123")
    out = StringIO()
    call_command("demo_load", stdout=out)
    text = out.getvalue()
    assert text.startswith("Demo data loaded: ")
    assert "customers" in text and "plans (active " in text and "payments" in text
    assert f"Log in at http://127.0.0.1:8123/admin/ as admin / {ADMIN_PASSWORD} (platform admin)" in text
    assert f"Merchant staff ({DEMO_MERCHANT}): owner, manager, clerk, viewer / {DEMO_PASSWORD}" in text
    assert f"Merchant staff ({KW_MERCHANT}): kw-owner / {DEMO_PASSWORD}" in text
    demo = Merchant.objects.get(name=DEMO_MERCHANT)
    assert f"or a one-time code (in var/worker.log) at http://127.0.0.1:8123/portal/m/{demo.pk}/" in text


def test_loading_as_of_a_past_day_dates_everything_before_it():
    as_of = date.today() - timedelta(days=40)
    result = demo_load(today=as_of)
    assert result is not None
    assert set(result.plans_by_status) == ALL_STATUSES
    assert not InstallmentPlan.objects.filter(start_date__gt=as_of).exists()
    assert not Payment.objects.filter(payment_date__gt=as_of).exists()


def test_a_today_in_the_future_is_refused_and_nothing_is_saved():
    with pytest.raises(ValueError, match="future"):
        demo_load(today=date.today() + timedelta(days=5))
    assert Merchant.objects.count() == 0
    assert User.objects.count() == 0


def test_make_run_loads_quietly_and_prints_the_logins_last(monkeypatch):
    monkeypatch.setenv("PORT", "8123")
    out = StringIO()
    call_command("demo_load", "--no-logins", stdout=out)
    assert out.getvalue().startswith("Demo data loaded: ")
    assert "Log in at" not in out.getvalue()
    before = _counts()

    out = StringIO()
    call_command("demo_load", "--logins-only", stdout=out)

    assert _counts() == before
    assert out.getvalue().splitlines() == demo_login_lines(port="8123")


def test_the_back_dated_history_tells_the_customers_nothing(django_capture_on_commit_callbacks, monkeypatch):
    """The demo's payments and decisions are history, not news: no receipt nor decision message is queued when
    its transaction commits, while a payment recorded afterwards gets its receipt as usual (written by the
    worker's task, run here where the broker would hand it over)."""
    from notifications import tasks
    from notifications.models import Notification
    from payments.services import payment_post

    queued = []
    monkeypatch.setattr(tasks.payment_receipt_task, "delay", lambda *args: queued.append(args))

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert demo_load() is not None
    assert len(callbacks) > 0  # the services did announce their writes
    assert Notification.objects.filter(customer__isnull=False).count() == 0

    plan = InstallmentPlan.objects.filter(merchant__name=DEMO_MERCHANT, status=InstallmentPlan.Status.ACTIVE).first()
    clerk = User.objects.get(merchant=plan.merchant, role=Role.CLERK)
    assert queued == []
    with django_capture_on_commit_callbacks(execute=True):
        payment = payment_post(actor=clerk, plan=plan, amount="1.00")
    assert queued == [(str(payment.pk), str(plan.merchant_id))]
    tasks.payment_receipt_task(*queued[0])
    kinds = set(Notification.objects.filter(customer=plan.customer).values_list("kind", flat=True))
    assert kinds == {Notification.Kind.PAYMENT_RECEIPT}
