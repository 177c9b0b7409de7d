"""Every endpoint and method of the API against DESIGN.md's role table ("Tenancy and roles").

One row per endpoint and method: which roles may use it and the status they get. Each case builds the
objects it needs (a pending plan to approve, a pending payment to delete...) in a fresh database, then:

- the roles the table allows get the success status, the others a 403 and nothing changes;
- another merchant's owner gets a 404 on every object of this merchant, whatever the method, and nothing changes;
- an anonymous client gets a 401 everywhere but the public endpoints (register, token, refresh, schema, docs).

``test_every_endpoint_and_method_is_in_the_table`` walks the URL patterns so a new endpoint cannot be forgotten.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, reverse
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken

from auditlog.models import Entry
from collectors.models import Assignment, Contact, Promise
from collectors.services import contact_record, promise_record
from customers.models import Customer
from imports.models import ImportJob
from installments.contract import contract_build
from installments.models import Guarantor, Installment, InstallmentPlan, PlanItem, Product
from installments.tests.factories import ProductFactory, late_fee_make, plan_make, signature_png
from notifications.models import Notification, NotificationSettings
from payments.models import Payment, PaymentAllocation
from payments.services import payment_post
from payments.tests.reports import report
from taqsit import api_urls
from taqsit.models import Merchant, Role, User
from taqsit.tests.factories import TEST_PASSWORD, UserFactory
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.signing import secret_generate

pytestmark = pytest.mark.django_db

OWNER = frozenset({Role.OWNER})
MANAGERS = frozenset({Role.OWNER, Role.MANAGER})
WRITERS = frozenset({Role.OWNER, Role.MANAGER, Role.CLERK})
EVERYONE = frozenset(Role)
ROLES = (Role.OWNER, Role.MANAGER, Role.CLERK, Role.VIEWER)

FORBIDDEN = {"detail": "Your role does not allow this."}
NOT_FOUND = {"detail": "Not found."}
UNAUTHENTICATED = {"detail": "Authentication credentials were not provided."}


@dataclass
class World:
    """This merchant's objects; each case asks for the ones it needs, freshly made."""

    merchant: Merchant
    owner: User
    customer: Customer
    actor: User | None

    def plan(self, **overrides) -> InstallmentPlan:
        return plan_make(actor=self.owner, customer=self.customer, **overrides)

    def pending_plan(self) -> InstallmentPlan:
        self.merchant.requires_approval = True
        self.merchant.save(update_fields=["requires_approval"])
        plan = self.plan()
        self.merchant.requires_approval = False
        self.merchant.save(update_fields=["requires_approval"])
        assert plan.status == InstallmentPlan.Status.PENDING
        return plan

    def payment(self, status: str = Payment.Status.COMPLETED) -> Payment:
        return payment_post(
            actor=self.owner,
            plan=self.plan(),
            amount=Decimal("100.00"),
            payment_date=date(2026, 2, 15),
            status=status,
        )

    def pending_guarantor(self) -> dict:
        """The route of a guarantor of an application (the only kind a guarantor can be removed from)."""
        plan = self.pending_plan()
        guarantor = Guarantor.objects.create(merchant=self.merchant, plan=plan, name="Lina", phone="+14155550188")
        return {"pk": plan.pk, "guarantor_id": guarantor.pk}

    def reported_payment(self) -> Payment:
        """A transfer the customer reported, with its proof (MEDIA_ROOT is the tests' own, conftest.py)."""
        return report(customer=self.customer, plan=self.plan())

    def charity_to_give(self) -> dict:
        """5.00 of charity fees collected (a fee charged under a charity booking, then paid): something to give."""
        Merchant.objects.filter(pk=self.merchant.pk).update(late_fee_booking=Merchant.LateFeeBooking.CHARITY)
        plan = self.plan()
        late_fee_make(installment=plan.installments.get(number=1), period=date(2026, 2, 20), amount=Decimal("5.00"))
        payment_post(actor=self.owner, plan=plan, amount=Decimal("5.00"), payment_date=date(2026, 2, 20))
        return {}

    def staff(self) -> User:
        return UserFactory(merchant=self.merchant, role=Role.CLERK, username="target-clerk")

    def notification(self) -> Notification:
        """An in-app notification of the acting user (of this merchant's owner when the actor is a stranger)."""
        user = self.actor if self.actor is not None and self.actor.merchant_id == self.merchant.pk else self.owner
        now = timezone.now()
        return Notification.objects.create(
            merchant=self.merchant,
            user=user,
            channel=Notification.Channel.IN_APP,
            kind=Notification.Kind.STAFF_DIGEST,
            day=date(2026, 3, 1),
            status=Notification.Status.SENT,
            subject="Today",
            body="1 plan overdue.",
            send_after=now,
            sent_at=now,
        )

    def contact(self) -> Contact:
        return contact_record(actor=self.owner, plan=self.plan(), kind="call", outcome="no_answer")

    def promise(self) -> Promise:
        return promise_record(actor=self.owner, plan=self.plan(), amount=Decimal("50.00"), promised_on=date(2026, 3, 5))

    def audit_entry(self) -> Entry:
        """The latest entry of this merchant's trail (its customer's creation, at least)."""
        return Entry.objects.filter(merchant=self.merchant).latest("id")

    def portal_customer(self) -> Customer:
        """The customer, with the merchant's customer portal turned on."""
        Merchant.objects.filter(pk=self.merchant.pk).update(portal_enabled=True)
        self.merchant.refresh_from_db()
        return Customer.objects.get(pk=self.customer.pk)

    def webhook_endpoint(self) -> WebhookEndpoint:
        return WebhookEndpoint.objects.create(
            merchant=self.merchant,
            url="https://hooks.example.com/taqsit",
            events=["plan.created"],
            secret=secret_generate(),
        )

    def webhook_delivery(self) -> WebhookDelivery:
        """A delivery of a plan's creation to this merchant's endpoint (written in the plan's transaction)."""
        endpoint = self.webhook_endpoint()
        self.plan()
        return WebhookDelivery.objects.get(endpoint=endpoint)

    def import_job(self) -> ImportJob:
        """A checked spreadsheet import, ready to be confirmed (no worker runs: confirming only queues it)."""
        return ImportJob.objects.create(
            merchant=self.merchant,
            kind=ImportJob.Kind.CUSTOMERS,
            file_format=ImportJob.Format.CSV,
            file="imports/checked.csv",
            size=1,
            sha256="0" * 64,
            language="en",
            created_by=self.owner,
            status=ImportJob.Status.READY,
        )

    def refresh_token(self) -> str:
        user = self.actor or self.owner
        return str(RefreshToken.for_user(user))


Prepare = Callable[[World], tuple[dict, dict | None]]


@dataclass(frozen=True)
class Row:
    url_name: str
    method: str
    allowed: frozenset[str]
    status: int
    prepare: Prepare
    public: bool = False

    @property
    def id(self) -> str:
        return f"{self.method} {self.url_name}"


def nothing(world: World) -> tuple[dict, dict | None]:
    return {}, None


def pk(obj) -> dict:
    return {"pk": obj.pk}


PLAN_TERMS = {
    "total_amount": "1000.00",
    "down_payment": "200.00",
    "number_of_installments": 4,
    "installment_frequency": "monthly",
    "start_date": "2026-01-15",
}


def _signature_drawn(plan) -> tuple[dict, dict]:
    """The customer's signature on the contract as it reads now (its text's SHA-256)."""
    sha = contract_build(plan=plan).text_sha256
    return pk(plan), {"signer": "customer", "image": base64.b64encode(signature_png()).decode(), "text_sha256": sha}


TABLE: tuple[Row, ...] = (
    # staff: the owner only
    Row("user-list", "get", OWNER, 200, nothing),
    Row(
        "user-list",
        "post",
        OWNER,
        201,
        lambda w: (
            {},
            {"username": "new-clerk", "email": "new@example.com", "password": TEST_PASSWORD, "role": "clerk"},
        ),
    ),
    Row("user-detail", "get", OWNER, 200, lambda w: (pk(w.staff()), None)),
    Row(
        "user-detail",
        "put",
        OWNER,
        200,
        lambda w: (
            pk(w.staff()),
            {"email": "t@example.com", "role": "manager", "first_name": "T", "last_name": "C", "is_active": True},
        ),
    ),
    Row("user-detail", "patch", OWNER, 200, lambda w: (pk(w.staff()), {"first_name": "Sam"})),
    # customers
    Row("customer-list", "get", EVERYONE, 200, nothing),
    Row("customer-list", "post", WRITERS, 201, lambda w: ({}, {"name": "Omar Saleh", "phone": "+14155550199"})),
    Row("customer-detail", "get", EVERYONE, 200, lambda w: (pk(w.customer), None)),
    Row(
        "customer-detail",
        "put",
        WRITERS,
        200,
        lambda w: (pk(w.customer), {"name": "Amina H. Haddad", "phone": "+14155550198"}),
    ),
    Row("customer-detail", "patch", WRITERS, 200, lambda w: (pk(w.customer), {"notes": "Pays on Fridays."})),
    # a customer's portal link: any member of staff gives one, or revokes them all (with the portal on)
    Row("customer-portal-link", "post", EVERYONE, 201, lambda w: (pk(w.portal_customer()), None)),
    Row("customer-portal-link", "delete", EVERYONE, 204, lambda w: (pk(w.portal_customer()), None)),
    Row("customer-plans", "get", EVERYONE, 200, lambda w: (pk(w.customer), None)),
    Row("customer-payments", "get", EVERYONE, 200, lambda w: (pk(w.customer), None)),
    # products
    Row("product-list", "get", EVERYONE, 200, nothing),
    Row("product-list", "post", WRITERS, 201, lambda w: ({}, {"name": "Fridge", "sku": "FR-1", "price": "800.00"})),
    Row("product-detail", "get", EVERYONE, 200, lambda w: (pk(ProductFactory(merchant=w.merchant)), None)),
    Row(
        "product-detail",
        "put",
        WRITERS,
        200,
        lambda w: (pk(ProductFactory(merchant=w.merchant)), {"name": "TV", "sku": "TV-2", "price": "450.00"}),
    ),
    Row(
        "product-detail",
        "patch",
        WRITERS,
        200,
        lambda w: (pk(ProductFactory(merchant=w.merchant)), {"price": "450.00"}),
    ),
    # plans
    Row("plan-list", "get", EVERYONE, 200, nothing),
    Row("plan-export", "get", EVERYONE, 200, lambda w: (w.plan() and {}, None)),
    Row("plan-list", "post", WRITERS, 201, lambda w: ({}, {"customer": str(w.customer.pk), **PLAN_TERMS})),
    Row("plan-detail", "get", EVERYONE, 200, lambda w: (pk(w.plan()), None)),
    Row("plan-detail", "put", WRITERS, 200, lambda w: (pk(w.plan()), {"notes": "Delivered."})),
    Row("plan-detail", "patch", WRITERS, 200, lambda w: (pk(w.plan()), {"notes": "Delivered."})),
    Row("plan-detail", "delete", MANAGERS, 204, lambda w: (pk(w.plan(down_payment=Decimal("0"))), None)),
    Row("plan-preview", "post", EVERYONE, 200, lambda w: ({}, dict(PLAN_TERMS))),
    Row("plan-summary", "get", EVERYONE, 200, lambda w: (pk(w.plan()), None)),
    Row("plan-payoff", "get", EVERYONE, 200, lambda w: (pk(w.plan()), None)),
    Row("plan-payments", "get", EVERYONE, 200, lambda w: (pk(w.plan()), None)),
    # guarantors (issue 15): added to an application by writers (to an active plan by managers: the service),
    # removed from an application; the exposure before a plan is everyone's to read
    Row(
        "plan-guarantors",
        "post",
        WRITERS,
        201,
        lambda w: (pk(w.pending_plan()), {"name": "Karim", "phone": "+14155550199"}),
    ),
    Row("plan-guarantor-remove", "delete", WRITERS, 204, lambda w: (w.pending_guarantor(), None)),
    Row("exposure", "get", EVERYONE, 200, nothing),
    Row("plan-contract-pdf", "get", EVERYONE, 200, lambda w: (pk(w.plan()), None)),
    Row("plan-contract-signatures", "get", EVERYONE, 200, lambda w: (pk(w.plan()), None)),
    Row("plan-contract-signatures", "post", WRITERS, 201, lambda w: _signature_drawn(w.plan())),
    Row("plan-overdue", "get", EVERYONE, 200, lambda w: (w.plan() and {}, None)),
    Row("plan-by-status", "get", EVERYONE, 200, lambda w: ({"plan_status": "active"}, None)),
    Row("plan-approve", "post", MANAGERS, 200, lambda w: (pk(w.pending_plan()), None)),
    Row("plan-reject", "post", MANAGERS, 200, lambda w: (pk(w.pending_plan()), {"reason": "No guarantor."})),
    Row("plan-cancel", "post", MANAGERS, 200, lambda w: (pk(w.plan()), {"reason": "Goods returned."})),
    Row(
        "plan-reschedule",
        "post",
        MANAGERS,
        200,
        lambda w: (
            pk(w.plan()),
            {"number_of_installments": 6, "installment_frequency": "monthly", "start_date": "2026-03-01"},
        ),
    ),
    # early settlement: recording it is recording a payment (a discretionary rebate needs a manager)
    Row("plan-settle", "post", WRITERS, 201, lambda w: (pk(w.plan()), {"payment_method": "cash"})),
    # charity fees given away: everyone reads, owners and managers record
    Row("charity-disbursement-list", "get", EVERYONE, 200, nothing),
    Row(
        "charity-disbursement-list",
        "post",
        MANAGERS,
        201,
        lambda w: (w.charity_to_give(), {"amount": "5.00", "recipient": "Food bank"}),
    ),
    # installments (read only)
    Row("installment-list", "get", EVERYONE, 200, nothing),
    Row("installment-export", "get", EVERYONE, 200, lambda w: (w.plan() and {}, None)),
    Row("installment-detail", "get", EVERYONE, 200, lambda w: (pk(w.plan().installments.get(number=1)), None)),
    # payments
    Row("payment-list", "get", EVERYONE, 200, nothing),
    Row("payment-export", "get", EVERYONE, 200, lambda w: (w.payment() and {}, None)),
    Row(
        "payment-list",
        "post",
        WRITERS,
        201,
        lambda w: ({}, {"plan": str(w.plan().pk), "amount": "100.00", "payment_date": "2026-02-15"}),
    ),
    Row("payment-detail", "get", EVERYONE, 200, lambda w: (pk(w.payment()), None)),
    Row("payment-detail", "patch", WRITERS, 200, lambda w: (pk(w.payment()), {"notes": "Paid by the son."})),
    Row("payment-detail", "delete", WRITERS, 204, lambda w: (pk(w.payment(status=Payment.Status.PENDING)), None)),
    Row("payment-complete", "post", WRITERS, 200, lambda w: (pk(w.payment(status=Payment.Status.PENDING)), None)),
    Row(
        "payment-fail",
        "post",
        WRITERS,
        200,
        lambda w: (pk(w.payment(status=Payment.Status.PENDING)), {"reason": "Cheque bounced."}),
    ),
    Row("payment-proof", "get", EVERYONE, 200, lambda w: (pk(w.reported_payment()), None)),
    Row("payment-refund", "post", MANAGERS, 200, lambda w: (pk(w.payment()), {"reason": "Goods returned."})),
    Row("payment-void", "post", MANAGERS, 200, lambda w: (pk(w.payment()), {"reason": "Typed twice."})),
    # the user's own in-app notifications
    Row("notification-list", "get", EVERYONE, 200, nothing),
    Row("notification-detail", "get", EVERYONE, 200, lambda w: (pk(w.notification()), None)),
    Row("notification-read", "post", EVERYONE, 200, lambda w: (pk(w.notification()), None)),
    # the collector's worklist: everyone reads, managers assign, writers record contacts and promises
    Row("collector-assignment-list", "get", EVERYONE, 200, nothing),
    Row(
        "collector-assignment-list",
        "post",
        MANAGERS,
        201,
        lambda w: ({}, {"plans": [str(w.plan().pk)], "collector": str(w.owner.pk)}),
    ),
    Row("collector-contact-list", "get", EVERYONE, 200, nothing),
    Row(
        "collector-contact-list",
        "post",
        WRITERS,
        201,
        lambda w: ({}, {"plan": str(w.plan().pk), "kind": "visit", "outcome": "not_home"}),
    ),
    Row("collector-contact-detail", "get", EVERYONE, 200, lambda w: (pk(w.contact()), None)),
    Row("collector-promise-list", "get", EVERYONE, 200, nothing),
    Row(
        "collector-promise-list",
        "post",
        WRITERS,
        201,
        lambda w: ({}, {"plan": str(w.plan().pk), "amount": "50.00", "promised_on": "2026-03-05"}),
    ),
    Row("collector-promise-detail", "get", EVERYONE, 200, lambda w: (pk(w.promise()), None)),
    Row("collector-figures", "get", EVERYONE, 200, nothing),
    # webhooks (issue 17): the owner's endpoints and their deliveries
    Row("webhook-list", "get", OWNER, 200, nothing),
    Row(
        "webhook-list",
        "post",
        OWNER,
        201,
        lambda w: ({}, {"url": "https://hooks.example.com/taqsit", "events": ["payment.posted"]}),
    ),
    Row("webhook-detail", "get", OWNER, 200, lambda w: (pk(w.webhook_endpoint()), None)),
    Row(
        "webhook-detail",
        "put",
        OWNER,
        200,
        lambda w: (pk(w.webhook_endpoint()), {"url": "https://hooks.example.com/v2", "events": ["plan.created"]}),
    ),
    Row("webhook-detail", "patch", OWNER, 200, lambda w: (pk(w.webhook_endpoint()), {"is_active": False})),
    Row("webhook-detail", "delete", OWNER, 204, lambda w: (pk(w.webhook_endpoint()), None)),
    Row("webhook-rotate-secret", "post", OWNER, 200, lambda w: (pk(w.webhook_endpoint()), None)),
    Row("webhook-delivery-list", "get", OWNER, 200, nothing),
    Row("webhook-delivery-detail", "get", OWNER, 200, lambda w: (pk(w.webhook_delivery()), None)),
    Row("webhook-delivery-redeliver", "post", OWNER, 200, lambda w: (pk(w.webhook_delivery()), None)),
    # the session
    Row("me", "get", EVERYONE, 200, nothing),
    # the merchant: everyone reads it, the owner changes its settings (collection policy)
    Row("merchant", "get", EVERYONE, 200, nothing),
    Row("merchant", "patch", OWNER, 200, lambda w: ({}, {"grace_days": 5, "requires_approval": True})),
    Row("notification-settings", "get", EVERYONE, 200, nothing),
    Row(
        "notification-settings",
        "patch",
        OWNER,
        200,
        lambda w: ({}, {"whatsapp_enabled": True, "phone_channel": "sms"}),
    ),
    # statistics: everyone reads them
    Row("stats", "get", EVERYONE, 200, lambda w: (w.payment() and {}, None)),
    # the audit trail: owners and managers read it, nobody writes it
    Row("audit-entry-list", "get", MANAGERS, 200, nothing),
    Row("audit-entry-detail", "get", MANAGERS, 200, lambda w: (pk(w.audit_entry()), None)),
    # spreadsheet imports: owners and managers, for reading too
    Row("import-list", "get", MANAGERS, 200, nothing),
    Row(
        "import-list",
        "post",
        MANAGERS,
        201,
        lambda w: ({}, {"kind": "customers", "file": SimpleUploadedFile("c.csv", b"name,phone\nSam,+14155550101\n")}),
    ),
    Row("import-detail", "get", MANAGERS, 200, lambda w: (pk(w.import_job()), None)),
    Row("import-rows", "get", MANAGERS, 200, lambda w: (pk(w.import_job()), None)),
    Row("import-confirm", "post", MANAGERS, 202, lambda w: (pk(w.import_job()), None)),
    Row("logout", "post", EVERYONE, 204, lambda w: ({}, {"refresh": w.refresh_token()})),
    Row("api-root", "get", EVERYONE, 200, nothing),
    # public: no token needed
    Row(
        "register",
        "post",
        EVERYONE,
        201,
        lambda w: (
            {},
            {"merchant_name": "New Shop", "username": "newowner", "email": "n@example.com", "password": TEST_PASSWORD},
        ),
        public=True,
    ),
    Row("token", "post", EVERYONE, 200, lambda w: ({}, {"username": "owner", "password": TEST_PASSWORD}), public=True),
    Row("token-refresh", "post", EVERYONE, 200, lambda w: ({}, {"refresh": w.refresh_token()}), public=True),
    Row("schema", "get", EVERYONE, 200, nothing, public=True),
    Row("docs", "get", EVERYONE, 200, nothing, public=True),
)


def _patterns(patterns=None):
    """The API's URL patterns, without the ``.json`` format-suffix twins of the router's routes."""
    for pattern in api_urls.urlpatterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from _patterns(pattern.url_patterns)
        elif (
            isinstance(pattern, URLPattern)
            and "format" not in pattern.pattern.regex.groupindex
            and pattern.name != "not-found"  # the JSON 404 for any address no route matches
            # The borrower API (/api/portal/) takes customers' tokens, never staff's: its walls, and every route
            # of it, are tested in portal/tests/ (test_api_walls.py).
            and not (pattern.name or "").startswith("portal-")
        ):
            yield pattern


def _methods(pattern: URLPattern) -> set[str]:
    """The methods a route answers, but HEAD and OPTIONS (DRF adds HEAD to a viewset's ``actions`` once served)."""
    actions = getattr(pattern.callback, "actions", None)
    if actions is not None:
        names = set(actions)
    else:
        view_class = pattern.callback.view_class
        names = {name for name in view_class.http_method_names if hasattr(view_class, name)}
    return names - {"head", "options"}


DETAIL_NAMES = frozenset(pattern.name for pattern in _patterns() if "pk" in pattern.pattern.regex.groupindex)
PRIVATE = [row for row in TABLE if not row.public]
DETAIL = [row for row in PRIVATE if row.url_name in DETAIL_NAMES]
COLLECTIONS = [row for row in PRIVATE if row.url_name not in DETAIL_NAMES]


def snapshot() -> dict:
    """Every row that a request could change, with what would show the change (``updated_at`` moves on save)."""
    stamped = (
        Merchant,
        Customer,
        Product,
        InstallmentPlan,
        Installment,
        Payment,
        PaymentAllocation,
        Notification,
        Guarantor,
        Assignment,
        Contact,
        Promise,
        WebhookEndpoint,
        WebhookDelivery,
        ImportJob,
    )
    state = {model.__name__: sorted(model.objects.values_list("pk", "updated_at")) for model in stamped}
    state["PlanItem"] = sorted(PlanItem.objects.values_list("pk", flat=True))
    state["NotificationSettings"] = sorted(
        NotificationSettings.objects.values_list("merchant_id", "sms_enabled", "whatsapp_enabled", "phone_channel")
    )
    state["User"] = sorted(
        User.objects.values_list("pk", "first_name", "email", "role", "is_active", "password", "merchant_id")
    )
    return state


@pytest.fixture
def world(merchant, owner, customer, today):
    return World(merchant=merchant, owner=owner, customer=customer, actor=None)


def _request(client, row: Row, world: World):
    kwargs, body = row.prepare(world)
    url = reverse(f"api:{row.url_name}", kwargs=kwargs)
    before = snapshot()
    # A file travels in a multipart body (an import's upload); everything else is JSON.
    multipart = any(isinstance(value, SimpleUploadedFile) for value in (body or {}).values())
    response = getattr(client, row.method)(url, body, format="multipart" if multipart else "json")
    return response, before


def test_every_endpoint_and_method_is_in_the_table():
    tabled = {(row.url_name, row.method) for row in TABLE}

    assert len(tabled) == len(TABLE), "a row is listed twice"
    assert ROUTED - tabled == set(), "endpoints missing from the role table"
    assert tabled - ROUTED == set(), "rows for endpoints that no longer exist"


def test_the_table_covers_every_detail_endpoint_and_collection():
    assert sorted(DETAIL_NAMES) == [
        "audit-entry-detail",
        "collector-contact-detail",
        "collector-promise-detail",
        "customer-detail",
        "customer-payments",
        "customer-plans",
        "customer-portal-link",
        "import-confirm",
        "import-detail",
        "import-rows",
        "installment-detail",
        "notification-detail",
        "notification-read",
        "payment-complete",
        "payment-detail",
        "payment-fail",
        "payment-proof",
        "payment-refund",
        "payment-void",
        "plan-approve",
        "plan-cancel",
        "plan-contract-pdf",
        "plan-contract-signatures",
        "plan-detail",
        "plan-guarantor-remove",
        "plan-guarantors",
        "plan-payments",
        "plan-payoff",
        "plan-reject",
        "plan-reschedule",
        "plan-settle",
        "plan-summary",
        "product-detail",
        "user-detail",
        "webhook-delivery-detail",
        "webhook-delivery-redeliver",
        "webhook-detail",
        "webhook-rotate-secret",
    ]
    assert (len(TABLE), len(PRIVATE), len(DETAIL), len(COLLECTIONS)) == (101, 96, 54, 42)


ROUTED = {(pattern.name, method) for pattern in _patterns() for method in _methods(pattern)}
UNROUTED = sorted(
    {(pattern.name, method) for pattern in _patterns() for method in ("get", "post", "put", "patch", "delete")} - ROUTED
)


@pytest.mark.parametrize("role", [Role.OWNER, Role.VIEWER])
@pytest.mark.parametrize(("url_name", "method"), UNROUTED, ids=[f"{method} {name}" for name, method in UNROUTED])
def test_a_method_a_route_does_not_have_is_a_405_whatever_the_role(api_client, world, url_name, method, role):
    user = world.owner if role == Role.OWNER else UserFactory(merchant=world.merchant, role=role, username=role)
    api_client.force_authenticate(user)
    pattern = next(pattern for pattern in _patterns() if pattern.name == url_name)
    kwargs = {
        name: {"pk": str(world.customer.pk), "plan_status": "active", "guarantor_id": str(world.customer.pk)}[name]
        for name in pattern.pattern.regex.groupindex
    }
    before = snapshot()

    response = getattr(api_client, method)(reverse(f"api:{url_name}", kwargs=kwargs), {}, format="json")

    assert response.status_code == 405
    assert snapshot() == before


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("row", PRIVATE, ids=lambda row: row.id)
def test_each_role_gets_what_the_role_table_says(api_client, world, row, role):
    user = world.owner if role == Role.OWNER else UserFactory(merchant=world.merchant, role=role, username=role)
    world.actor = user
    api_client.force_authenticate(user)

    response, before = _request(api_client, row, world)

    if role in row.allowed:
        assert response.status_code == row.status, response.content
    else:
        assert (response.status_code, response.json()) == (403, FORBIDDEN)
        assert snapshot() == before


@pytest.mark.parametrize("row", DETAIL, ids=lambda row: row.id)
def test_another_merchants_owner_gets_a_404_for_every_object_of_this_merchant(api_client, world, other_owner, row):
    world.actor = other_owner
    api_client.force_authenticate(other_owner)

    response, before = _request(api_client, row, world)

    assert (response.status_code, response.json()) == (404, NOT_FOUND)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("url_name", "kwargs", "count"),
    [
        ("user-list", {}, 1),
        ("customer-list", {}, 0),
        ("product-list", {}, 0),
        ("plan-list", {}, 0),
        ("plan-overdue", {}, 0),
        ("plan-by-status", {"plan_status": "active"}, 0),
        ("installment-list", {}, 0),
        ("payment-list", {}, 0),
        ("collector-assignment-list", {}, 0),
        ("collector-contact-list", {}, 0),
        ("collector-promise-list", {}, 0),
        ("webhook-list", {}, 0),
        ("webhook-delivery-list", {}, 0),
    ],
)
def test_another_merchants_owner_lists_none_of_this_merchants_rows(
    api_client, world, other_owner, url_name, kwargs, count
):
    world.webhook_delivery()
    world.payment()
    world.contact()
    world.promise()
    ProductFactory(merchant=world.merchant)
    api_client.force_authenticate(other_owner)

    response = api_client.get(reverse(f"api:{url_name}", kwargs=kwargs))

    assert response.status_code == 200
    assert response.json()["count"] == count
    if url_name == "user-list":
        assert [user["username"] for user in response.json()["results"]] == ["other-owner"]


@pytest.mark.parametrize("row", PRIVATE, ids=lambda row: row.id)
def test_anonymous_gets_a_401_everywhere_but_the_public_endpoints(api_client, world, row):
    response, before = _request(api_client, row, world)

    assert (response.status_code, response.json()) == (401, UNAUTHENTICATED)
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert snapshot() == before


@pytest.mark.parametrize("row", [row for row in TABLE if row.public], ids=lambda row: row.id)
def test_anonymous_may_use_the_public_endpoints(api_client, world, row):
    response, _before = _request(api_client, row, world)

    assert response.status_code == row.status, response.content
