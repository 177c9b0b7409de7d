"""Every list endpoint runs as many queries for 20 rows as for 2: no query per row (N+1)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.tests.factories import CustomerFactory
from installments.tests.factories import ProductFactory, plan_make
from notifications.models import Notification
from payments.services import payment_post
from taqsit.models import Role
from taqsit.tests.factories import UserFactory
from webhooks.models import WebhookEndpoint
from webhooks.services import endpoint_create

pytestmark = pytest.mark.django_db


class Shop:
    """Makes rows for one merchant; each ``add_*`` adds ``n`` more of one kind."""

    def __init__(self, merchant, owner, customer) -> None:
        self.merchant, self.owner, self.customer = merchant, owner, customer
        self.plan = None

    def new_customer(self):
        return CustomerFactory(merchant=self.merchant)

    def new_plan(self, customer=None):
        customer = customer or self.new_customer()
        return plan_make(
            actor=self.owner,
            customer=customer,
            total_amount=None,
            items=[
                {"product": ProductFactory(merchant=self.merchant, price=Decimal("600.00")), "quantity": 1},
                {"description": "Delivery", "unit_price": Decimal("400.00")},
            ],
        )

    def add_users(self, n: int) -> None:
        for _ in range(n):
            UserFactory(merchant=self.merchant, role=Role.CLERK)

    def add_customers(self, n: int) -> None:
        for _ in range(n):
            self.new_customer()

    def add_products(self, n: int) -> None:
        for _ in range(n):
            ProductFactory(merchant=self.merchant)

    def add_plans(self, n: int) -> None:
        for _ in range(n):
            self.new_plan()

    def add_payments(self, n: int) -> None:
        for _ in range(n):
            payment_post(
                actor=self.owner, plan=self.new_plan(), amount=Decimal("250.00"), payment_date=date(2026, 2, 20)
            )

    def add_customer_plans(self, n: int) -> None:
        for _ in range(n):
            self.new_plan(self.customer)

    def add_customer_payments(self, n: int) -> None:
        for _ in range(n):
            plan = self.new_plan(self.customer)
            payment_post(actor=self.owner, plan=plan, amount=Decimal("250.00"), payment_date=date(2026, 2, 20))

    def add_plan_payments(self, n: int) -> None:
        self.plan = self.plan or self.new_plan(self.customer)
        for _ in range(n):
            payment_post(actor=self.owner, plan=self.plan, amount=Decimal("10.00"), payment_date=date(2026, 2, 20))

    def add_webhook_endpoints(self, n: int) -> None:
        for index in range(n):
            endpoint_create(actor=self.owner, url=f"https://hooks.example.com/{index}", events=["plan.created"])

    def add_webhook_deliveries(self, n: int) -> None:
        """A plan each, announced (``plan.created``) to one endpoint: one delivery each."""
        if not WebhookEndpoint.objects.filter(merchant=self.merchant).exists():
            self.add_webhook_endpoints(1)
        self.add_plans(n)

    def add_notifications(self, n: int) -> None:
        now = timezone.now()
        first = Notification.objects.count()
        for offset in range(first, first + n):
            Notification.objects.create(
                merchant=self.merchant,
                user=self.owner,
                channel=Notification.Channel.IN_APP,
                kind=Notification.Kind.STAFF_DIGEST,
                day=date(2026, 1, 1) + timedelta(days=offset),
                status=Notification.Status.SENT,
                send_after=now,
                sent_at=now,
            )


# url, how to add rows, rows listed per added unit (a plan has 4 installments; a plan paid once has 2 payments),
# rows listed before anything is added (the owner himself in the staff list).
LISTS: list[tuple[str, Callable[[Shop], Callable[[int], None]], int, int]] = [
    ("/api/users/", lambda shop: shop.add_users, 1, 1),
    ("/api/customers/", lambda shop: shop.add_customers, 1, 1),
    ("/api/products/", lambda shop: shop.add_products, 1, 0),
    ("/api/installments/plans/", lambda shop: shop.add_plans, 1, 0),
    ("/api/installments/plans/overdue/", lambda shop: shop.add_plans, 1, 0),
    ("/api/installments/plans/status/active/", lambda shop: shop.add_plans, 1, 0),
    ("/api/installments/installments/", lambda shop: shop.add_plans, 4, 0),
    ("/api/installments/installments/?status=overdue&due_before=2026-03-01", lambda shop: shop.add_plans, 1, 0),
    ("/api/installments/payments/", lambda shop: shop.add_payments, 2, 0),
    ("/api/customers/{customer}/plans/", lambda shop: shop.add_customer_plans, 1, 0),
    ("/api/customers/{customer}/payments/", lambda shop: shop.add_customer_payments, 2, 0),
    ("/api/installments/plans/{plan}/payments/", lambda shop: shop.add_plan_payments, 1, 1),
    ("/api/notifications/", lambda shop: shop.add_notifications, 1, 0),
    ("/api/webhooks/", lambda shop: shop.add_webhook_endpoints, 1, 0),
    ("/api/webhooks/deliveries/", lambda shop: shop.add_webhook_deliveries, 1, 0),
]


def _measure(client, url: str) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"{url}{'&' if '?' in url else '?'}page_size=100")
    assert response.status_code == 200, response.content
    return len(queries), response.json()["count"]


@pytest.mark.parametrize(("path", "adder", "per_unit", "base"), LISTS, ids=[path for path, *_ in LISTS])
def test_a_list_runs_the_same_queries_for_2_rows_as_for_20(
    api_client, merchant, owner, customer, today, path, adder, per_unit, base
):
    shop = Shop(merchant, owner, customer)
    add = adder(shop)
    api_client.force_authenticate(owner)
    add(2)
    url = path.format(customer=customer.pk, plan=shop.plan.pk if shop.plan else "")

    few, few_rows = _measure(api_client, url)
    add(18)
    many, many_rows = _measure(api_client, url)

    assert (few_rows, many_rows) == (base + 2 * per_unit, base + 20 * per_unit)
    assert many == few, f"{path}: {few} queries for {few_rows} rows, {many} for {many_rows}"
