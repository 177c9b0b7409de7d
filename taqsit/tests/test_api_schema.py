"""Property-based tests from the OpenAPI schema (schemathesis): every operation, called as a signed-in owner with
generated valid (positive) and invalid (negative) input, never answers a 5xx and answers only what the schema
documents (status codes, content types, headers, bodies).

The schema is loaded from the application itself (``schemathesis.openapi.from_wsgi`` on ``taqsit.wsgi``). Each
operation is driven with its own Hypothesis strategy (``APIOperation.as_strategy``) rather than
``schemathesis.pytest.from_fixture``, whose pytest integration does not run on pytest 9.2 (it writes
``Function._nodeid``, which pytest 9.2 no longer has). The WSGI application runs in the test's thread on the
test's database connection; as Django's own test client does, the request signals must not close that
connection, which holds the test's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework_simplejwt.tokens import RefreshToken

from customers.tests.factories import CustomerFactory
from imports.models import ImportJob
from installments.tests.factories import ProductFactory, plan_make
from notifications.models import Notification
from payments.services import payment_post
from payments.tests.reports import report
from portal.tokens import portal_tokens_for
from taqsit.models import Merchant, Role
from taqsit.tests.factories import UserFactory
from taqsit.wsgi import application

# "Schema-valid request rejected" flags every business rule the schema cannot say: a well-formed UUID of no
# customer, a string that is no phone number, a weak password, an expired token. Those 400s are right; every
# other check runs (no 5xx, documented status codes, content types, headers and bodies, invalid input refused).
SEMANTIC_REJECTIONS = [schemathesis.checks.positive_data_acceptance]

pytestmark = pytest.mark.django_db

MAX_EXAMPLES = 8
MODES = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
# The application object was built at import with production's HTTPS redirect: requests come as from the TLS proxy.
BEHIND_TLS_PROXY = {"X-Forwarded-Proto": "https"}
# Operations that end the session or sign up elsewhere; they are called, with generated input, like the others.
EXAMPLE_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@dataclass
class Run:
    cases: int = 0
    by_operation: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


@pytest.fixture
def api_schema(settings):
    settings.ALLOWED_HOSTS = ["localhost"]
    # Generous limits: this test is about answers, not throttling (that is tested in test_api_auth.py).
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            "user": "100000/hour",
            "auth_ip": "100000/hour",
            "auth_user": "100000/hour",
            **dict.fromkeys(
                ("portal_customer", "portal_ip", "portal_auth_ip", "portal_auth_destination"), "100000/hour"
            ),
        },
    }
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", application, headers=BEHIND_TLS_PROXY)
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def objects(merchant, owner, customer, today) -> dict[str, str]:
    """Real ids for the path parameters of positive cases: a plan with payments, a product, a staff member, an
    import."""
    plan = plan_make(actor=owner, customer=customer)
    payment = payment_post(actor=owner, plan=plan, amount=Decimal("50.00"), payment_date=date(2026, 2, 20))
    return {
        "/api/users/": str(UserFactory(merchant=merchant, role=Role.CLERK, username="schema-clerk").pk),
        "/api/customers/": str(customer.pk),
        "/api/products/": str(ProductFactory(merchant=merchant, price=Decimal("500.00")).pk),
        "/api/installments/plans/": str(plan.pk),
        "/api/installments/installments/": str(plan.installments.get(number=2).pk),
        "/api/installments/payments/": str(payment.pk),
        # A checked spreadsheet import, ready to confirm (no worker runs here: confirming only queues it).
        "/api/imports/": str(
            ImportJob.objects.create(
                merchant=merchant,
                kind=ImportJob.Kind.CUSTOMERS,
                file_format=ImportJob.Format.CSV,
                file="imports/checked.csv",
                size=1,
                sha256="0" * 64,
                language="en",
                created_by=owner,
                status=ImportJob.Status.READY,
            ).pk
        ),
    }


def _path_parameters(path: str, objects: dict[str, str]) -> dict[str, str] | None:
    for prefix, pk in objects.items():
        if path.startswith(prefix) and "{id}" in path:
            return {"id": pk}
    return None


def _exercise(operation, mode, headers: dict, objects: dict[str, str], run: Run) -> None:
    path_parameters = _path_parameters(operation.path, objects) if mode == MODES[0] else None
    label = f"{operation.method.upper()} {operation.path} [{mode.value}]"

    @EXAMPLE_SETTINGS
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
    def call(case) -> None:
        run.cases += 1
        run.by_operation[label] = run.by_operation.get(label, 0) + 1
        case.call_and_validate(headers=headers, excluded_checks=SEMANTIC_REJECTIONS)

    try:
        call()
    except (Exception, BaseExceptionGroup) as exc:  # every operation's failures are collected, reported together
        run.failures.append(f"{label}: {exc}")


def test_every_operation_answers_as_documented_and_never_with_a_5xx(api_schema, objects, owner):
    headers = {"Authorization": f"Bearer {RefreshToken.for_user(owner).access_token}", **BEHIND_TLS_PROXY}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    run = Run()

    for operation in operations:
        for mode in MODES:
            _exercise(operation, mode, headers, objects, run)

    print(f"\nschemathesis: {run.cases} cases over {len(operations)} operations")  # noqa: T201
    assert len(operations) >= 40
    assert not run.failures, "\n\n".join(run.failures)


def test_every_borrower_operation_answers_as_documented_to_a_customer(api_schema, settings, merchant, owner, today):
    """The borrower API (/api/portal/) driven with a customer's own token, on their own plan, payment and message:
    no 5xx, and only what the schema documents (the staff's token only ever gets its 401 there)."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            **dict.fromkeys(
                ("portal_customer", "portal_ip", "portal_auth_ip", "portal_auth_destination"), "100000/hour"
            ),
        },
    }
    Merchant.objects.filter(pk=merchant.pk).update(portal_enabled=True)
    customer = CustomerFactory(merchant=merchant, name="Amina Haddad", email="amina@example.com")
    plan = plan_make(actor=owner, customer=customer)
    reported = report(customer=customer, plan=plan)
    message = Notification.objects.create(
        merchant=merchant,
        customer=customer,
        installment=plan.installments.get(number=2),
        channel=Notification.Channel.SMS,
        kind=Notification.Kind.REMINDER_UPCOMING,
        day=today,
        status=Notification.Status.SENT,
        body="Your installment of 200.00 is due on 2026-03-15.",
        send_after=timezone.now(),
        sent_at=timezone.now(),
    )
    objects = {
        "/api/portal/plans/": str(plan.pk),
        "/api/portal/payments/": str(reported.pk),
        "/api/portal/notifications/": str(message.pk),
    }
    headers = {"Authorization": f"Bearer {portal_tokens_for(customer)['access']}", **BEHIND_TLS_PROXY}
    operations = [
        operation
        for operation in (result.ok() for result in api_schema.get_all_operations())
        if operation.path.startswith("/api/portal/") and not operation.path.startswith("/api/portal/auth/")
    ]
    run = Run()

    for operation in operations:
        for mode in MODES:
            _exercise(operation, mode, headers, objects, run)

    print(f"\nschemathesis (borrower API): {run.cases} cases over {len(operations)} operations")  # noqa: T201
    assert len(operations) >= 12
    assert not run.failures, "\n\n".join(run.failures)
