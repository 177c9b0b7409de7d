"""Shared fixtures: a merchant with one user per role, and a second merchant to prove tenancy."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.management.commands import flush
from django.db import connections
from django.utils import translation
from rest_framework.test import APIClient

from customers.models import Customer
from customers.tests.factories import CustomerFactory
from installments.models import Installment, InstallmentPlan, LateFee, PlanItem
from installments.selectors import plans_schedule_gaps
from payments.models import Payment, PaymentAllocation
from taqsit.models import Merchant, Role, User
from taqsit.money import sum_of
from taqsit.rls import CONTEXT_SETTING
from taqsit.tests.factories import MerchantFactory, UserFactory

# The database roles (taqsit/rls.py). The test database is created and migrated by the owner, as `migrate` does
# in production; then every test runs as the runtime role (no superuser, no BYPASSRLS, no TRUNCATE, INSERT and
# SELECT only on the audit trail). A test's own set-up and assertions (factories, ``Model.objects.count()``)
# run outside any merchant: one more policy, in the test database only, shows them every row while no request,
# task, job or ``merchant_scope`` is running (``taqsit.context`` empty). Whatever the application runs (the
# requests of the test client, the tasks, the jobs, the services under ``merchant_scope``) sets the context
# and sees only its merchant's rows. taqsit/tests/test_rls.py proves the policies with the test policy off.
TEST_POLICY = "taqsit_test_outside_the_application"
OUTSIDE_THE_APPLICATION = f"COALESCE(current_setting('{CONTEXT_SETTING}', true), '') IN ('', 'platform')"


def _connect_as(user: str, password: str) -> None:
    connection = connections["default"]
    connection.close()
    connection.settings_dict["USER"] = user
    connection.settings_dict["PASSWORD"] = password


@contextmanager
def _as_owner() -> Iterator[None]:
    connection = connections["default"]
    user, password = connection.settings_dict["USER"], connection.settings_dict["PASSWORD"]
    _connect_as(*_OWNER)
    try:
        yield
    finally:
        _connect_as(user, password)


_OWNER: tuple[str, str] = ("", "")


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """The test database is created and migrated by the owner (DATABASE_URL's user)."""
    global _OWNER
    owner = django_settings.DATABASES["owner"]
    _OWNER = (owner["USER"], owner.get("PASSWORD") or "")
    _connect_as(*_OWNER)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """After the migrations: the test policy, then every test connects as the runtime role. The platform role's
    work shares the test's connection (and transaction); the flush of a transactional test is the owner's."""
    with django_db_blocker.unblock(), connections["default"].cursor() as cursor:
        for statement in _test_policy_sql(False):
            cursor.execute(statement)
    original_flush = flush.Command.handle

    def flush_as_owner(self, *args, **options):
        with _as_owner():
            return original_flush(self, *args, **options)

    flush.Command.handle = flush_as_owner
    django_settings.TAQSIT_PLATFORM_SHARES_DEFAULT = True
    _connect_as(django_settings.DATABASE_APP_ROLE, django_settings.DATABASE_APP_PASSWORD)
    yield
    flush.Command.handle = original_flush
    _connect_as(*_OWNER)  # the test database is dropped by its owner


@pytest.fixture
def database_owner_dsn() -> str:
    """A libpq connection string to the test database as its owner, for a connection of its own."""
    from psycopg.conninfo import make_conninfo

    database = connections["default"].settings_dict
    return make_conninfo(
        host=database["HOST"] or None,
        port=database["PORT"] or None,
        dbname=database["NAME"],
        user=_OWNER[0],
        password=_OWNER[1] or None,
    )


def _test_policy_sql(drop: bool) -> list[str]:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_policies WHERE policyname = %s", [TEST_POLICY])
        existing = {row[0] for row in cursor.fetchall()}
        cursor.execute("SELECT relname FROM pg_class WHERE relrowsecurity AND relnamespace = 'public'::regnamespace")
        secured = [row[0] for row in cursor.fetchall()]
    if drop:
        return [f'DROP POLICY {TEST_POLICY} ON "{table}"' for table in sorted(existing)]
    return [
        f'CREATE POLICY {TEST_POLICY} ON "{table}" USING ({OUTSIDE_THE_APPLICATION}) '
        f"WITH CHECK ({OUTSIDE_THE_APPLICATION})"
        for table in secured
        if table not in existing
    ]


@pytest.fixture
def without_test_policy(transactional_db, database_owner_dsn):
    """For a transactional test whose data is written (and committed): the test suite's own policy is dropped,
    so the planner sees the tables as in production, with the tenant policy alone; put back after."""
    from psycopg import connect

    def apply(drop: bool) -> None:
        with connect(database_owner_dsn, autocommit=True) as owner_connection:
            for statement in _test_policy_sql(drop):
                owner_connection.execute(statement)

    yield lambda: apply(True)
    apply(False)


@pytest.fixture(autouse=True)
def _plain_http(settings):
    """The test client speaks plain HTTP; production's HTTPS redirect is tested where it matters."""
    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture(autouse=True)
def _process_cache(settings):
    """The cache in process memory: tests count the application's own queries, which the database cache (the
    default without Redis) would add to; that processes share the default cache is tested in
    taqsit/tests/test_cache_shared.py."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """PBKDF2 is deliberately slow; tests hash with MD5 (as cookiecutter-django's test settings do)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _language_reset():
    """Every test starts and ends in the default language: a page request in Spanish or Arabic leaves its language
    active in the thread (LocaleMiddleware does not deactivate it), and messages built by services called later in
    the same thread would otherwise come out in that language, depending on the order tests run in."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(scope="session")
def _media_root(tmp_path_factory):
    return tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, _media_root):
    """Uploaded files (proofs of payment) go to a temporary folder, never the checkout's var/media; tests that
    look at the files written set a MEDIA_ROOT of their own."""
    settings.MEDIA_ROOT = _media_root


@pytest.fixture
def merchant(db):
    return MerchantFactory(name="Viejos Recuerdos")


@pytest.fixture
def owner(merchant):
    return UserFactory(merchant=merchant, role=Role.OWNER, username="owner")


@pytest.fixture
def manager(merchant):
    return UserFactory(merchant=merchant, role=Role.MANAGER, username="manager")


@pytest.fixture
def clerk(merchant):
    return UserFactory(merchant=merchant, role=Role.CLERK, username="clerk")


@pytest.fixture
def viewer(merchant):
    return UserFactory(merchant=merchant, role=Role.VIEWER, username="viewer")


@pytest.fixture
def customer(merchant):
    return CustomerFactory(merchant=merchant, name="Amina Haddad")


@pytest.fixture
def other_merchant(db):
    return MerchantFactory(name="Another Shop")


@pytest.fixture
def other_owner(other_merchant):
    return UserFactory(merchant=other_merchant, role=Role.OWNER, username="other-owner")


@pytest.fixture
def superuser(db):
    return UserFactory(merchant=None, role=Role.OWNER, username="platform", is_superuser=True, is_staff=True)


@pytest.fixture
def today():
    """Freeze the clock at noon UTC on 1 March 2026 (the merchants' today); plans from ``plan_make`` start
    2026-01-15, so their first installment (due 2026-02-15) is overdue and the others are not yet due."""
    with time_machine.travel(datetime(2026, 3, 1, 12, 0, tzinfo=UTC), tick=False):
        yield date(2026, 3, 1)


@pytest.fixture
def row_counts():
    """A function returning how many rows each model holds, to prove a refused write left nothing behind."""
    models = (Merchant, User, Customer, InstallmentPlan, PlanItem, Installment, LateFee, Payment, PaymentAllocation)

    def counts() -> dict[str, int]:
        return {model.__name__: model.objects.count() for model in models}

    return counts


def _ledger_assert(plan: InstallmentPlan) -> None:
    plan.refresh_from_db()
    payments = Payment.objects.filter(plan=plan)
    all_lines = PaymentAllocation.objects.filter(payment__plan=plan)
    # Settlement rebates move no money: every money figure leaves them out, and they are checked apart.
    allocations = all_lines.exclude(kind="rebate")
    allocated = allocations.aggregate(total=sum_of("amount"))["total"]
    completed = payments.filter(status=Payment.Status.COMPLETED).aggregate(total=sum_of("amount"))["total"]
    assert allocated == completed == plan.amount_paid
    assert all_lines.filter(kind="rebate").aggregate(total=sum_of("amount"))["total"] == plan.rebates
    # Every payment that is not completed nets to zero: reversed, or never allocated.
    for payment in payments.exclude(status=Payment.Status.COMPLETED):
        assert payment.allocations.aggregate(total=sum_of("amount"))["total"] == Decimal("0")
    rows = list(Installment.objects.filter(plan=plan))
    for row in rows:
        assert Decimal("0") <= row.amount_paid <= row.amount_due
        assert Decimal("0") <= row.late_fee_paid <= row.late_fee
        assert row.amount_paid == row.principal_paid + row.interest_paid
        lines = all_lines.filter(installment=row)

        def total(*kinds: str, lines=lines) -> Decimal:
            return lines.filter(kind__in=kinds).aggregate(total=sum_of("amount"))["total"]

        assert total("interest", "rebate") == row.interest_paid
        assert total("rebate") == row.interest_rebated
        assert total("principal") == row.principal_paid
        assert total("late_fee", "charity_fee") == row.late_fee_paid
        assert total("charity_fee") == row.charity_fee_paid
        charity = row.late_fee_charges.filter(is_charity=True).aggregate(total=sum_of("amount"))["total"]
        assert charity == row.charity_fee
    down = allocations.filter(kind="down_payment").aggregate(total=sum_of("amount"))["total"]
    installments_paid = sum((row.amount_paid - row.interest_rebated for row in rows), Decimal("0"))
    fees_paid = sum((row.late_fee_paid for row in rows), Decimal("0"))
    assert installments_paid + down == plan.amount_paid - fees_paid
    assert plan.late_fees == sum((row.late_fee for row in rows), Decimal("0"))
    assert Decimal("0") <= plan.amount_paid <= plan.total_payable + plan.late_fees - plan.rebates
    if plan.status == InstallmentPlan.Status.COMPLETED:
        assert plan.remaining_balance == 0
    if plan.is_open:
        assert plan.remaining_balance > 0
    numbers = sorted(payments.values_list("payment_number", flat=True))
    assert numbers == list(range(1, plan.last_payment_number + 1))
    assert not all_lines.filter(reversal_of__isnull=False, amount__gte=0).exists()
    # The schedule shown accounts for every unit (the bench's "installments_add_up", the same query).
    assert plans_schedule_gaps(plan_ids=[plan.pk]) == {}


@pytest.fixture
def ledger_assert():
    """The ledger's invariants for one plan: allocations (rebates apart) = completed payments = amount paid;
    rebate lines = the plan's rebates; each row's paid figures = its lines, kind by kind; no row over-paid;
    installments + down payment = amount paid - late fees paid; payment numbers 1..N without gaps; the schedule
    adds up to the total payable plus fees."""
    return _ledger_assert


@pytest.fixture
def api_client(db):
    """A DRF test client with the throttle counters (kept in the cache) reset, so limits never leak between
    tests; sign in with ``api_client.force_authenticate(user)`` or a JWT ``Authorization`` header."""
    cache.clear()
    return APIClient()
