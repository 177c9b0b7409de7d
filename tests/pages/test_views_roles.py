"""Every page against the role table (DESIGN.md), tenancy, and constant query counts.

The expected answer of each page for each role comes from ``taqsit.permissions.ROLE_TABLE``, the same table the
views enforce: allowed is 200, refused is 403 and a refused POST changes nothing. Another merchant's object is a
404 for every page and method. List pages run the same number of queries for 2 rows as for 20.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers.models import Customer
from customers.tests.factories import CustomerFactory
from installments.models import InstallmentPlan
from installments.tests.factories import plan_make
from payments.models import Payment
from payments.services import payment_post
from taqsit.models import Merchant, Role, User
from taqsit.permissions import ROLE_TABLE, Action
from taqsit.tests.factories import UserFactory
from taqsit.tests.pages import html, signed_in

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Page:
    name: str
    action: Action
    args: tuple[str, ...] = ()  # names of objects in the ``world`` fixture: "customer", "plan", "payment"...
    query: str = ""


PAGES = (
    Page("taqsit:dashboard", Action.READ),
    Page("customers:customer-list", Action.READ),
    Page("customers:customer-picker", Action.READ, query="?q=Am"),
    Page("customers:customer-detail", Action.READ, ("customer",)),
    Page("customers:customer-create", Action.CUSTOMER_WRITE),
    Page("customers:customer-update", Action.CUSTOMER_WRITE, ("customer",)),
    Page("installments:plan-list", Action.READ),
    Page("installments:plan-list-csv", Action.READ),
    Page("installments:plan-detail", Action.READ, ("plan",)),
    Page("installments:plan-create", Action.PLAN_CREATE),
    Page("installments:plan-pending", Action.PLAN_DECIDE),
    Page("installments:plan-approve", Action.PLAN_DECIDE, ("pending",)),
    Page("installments:plan-reject", Action.PLAN_DECIDE, ("pending",)),
    Page("installments:plan-cancel", Action.PLAN_DECIDE, ("plan",)),
    Page("installments:plan-reschedule", Action.PLAN_DECIDE, ("plan",)),
    Page("installments:collections", Action.READ),
    Page("installments:collections-csv", Action.READ),
    Page("payments:payment-create", Action.PAYMENT_RECORD, ("plan",)),
    Page("payments:payment-receipt", Action.READ, ("payment",)),
    Page("payments:payment-complete", Action.PAYMENT_RECORD, ("cheque",)),
    Page("payments:payment-fail", Action.PAYMENT_RECORD, ("cheque",)),
    Page("payments:payment-refund", Action.PAYMENT_REVERSE, ("payment",)),
    Page("payments:payment-void", Action.PAYMENT_REVERSE, ("payment",)),
    Page("taqsit:staff-list", Action.STAFF_MANAGE),
    Page("taqsit:staff-create", Action.STAFF_MANAGE),
    Page("taqsit:staff-update", Action.STAFF_MANAGE, ("member",)),
    Page("taqsit:merchant-settings", Action.STAFF_MANAGE),
    Page("imports:import-list", Action.DATA_IMPORT),
)

# What a refused POST would have done, to prove it did nothing.
POSTS = {
    "customers:customer-create": {"name": "Intruder", "phone": "+14155550199", "language": "en"},
    "customers:customer-update": {"name": "Renamed", "phone": "+14155550198", "language": "en"},
    "installments:plan-create": {"token": "web-x", "total_amount": "500", "number_of_installments": "2"},
    "installments:plan-approve": {},
    "installments:plan-reject": {"reason": "no"},
    "installments:plan-cancel": {"reason": "no"},
    "installments:plan-reschedule": {
        "number_of_installments": "6",
        "installment_frequency": "monthly",
        "start_date": "2026-03-01",
    },
    "payments:payment-create": {
        "token": "web-y",
        "amount": "10",
        "payment_date": "2026-03-01",
        "payment_method": "cash",
    },
    "payments:payment-complete": {},
    "payments:payment-fail": {"reason": "no"},
    "payments:payment-refund": {"reason": "no"},
    "payments:payment-void": {"reason": "no"},
    "taqsit:staff-create": {"username": "mole", "role": "owner", "password": "Long-enough-pass-1"},
    "taqsit:staff-update": {"role": "owner", "is_active": "on"},
    "taqsit:merchant-settings": {"name": "Taken over", "currency": "USD", "timezone": "UTC", "language": "en"},
}


@pytest.fixture
def world(merchant, owner, manager, clerk, viewer, customer, today):
    """One of everything a page can be about: a customer, an active plan with a payment, a pending application."""
    plan = plan_make(actor=owner, customer=customer)
    payment = Payment.objects.get(plan=plan, payment_number=1)
    cheque = payment_post(actor=owner, plan=plan, amount=Decimal("50.00"), status="pending")
    merchant.requires_approval = True
    merchant.save(update_fields=["requires_approval"])
    pending = plan_make(actor=clerk, customer=CustomerFactory(merchant=merchant))
    assert pending.status == InstallmentPlan.Status.PENDING
    users = {Role.OWNER: owner, Role.MANAGER: manager, Role.CLERK: clerk, Role.VIEWER: viewer}
    return {
        "customer": customer,
        "plan": plan,
        "payment": payment,
        "cheque": cheque,
        "pending": pending,
        "member": clerk,
        **users,
    }


def _url(page: Page, world: dict) -> str:
    return reverse(page.name, args=[world[name].pk for name in page.args]) + page.query


@pytest.mark.parametrize("role", [Role.OWNER, Role.MANAGER, Role.CLERK, Role.VIEWER])
def test_every_page_answers_each_role_as_the_role_table_says(client, settings, world, role):
    client = signed_in(client, settings, world[role])
    for page in PAGES:
        response = client.get(_url(page, world))
        expected = 200 if role in ROLE_TABLE[page.action] else 403
        assert response.status_code == expected, (page.name, role)


@pytest.mark.parametrize("role", [Role.MANAGER, Role.CLERK, Role.VIEWER])
def test_a_refused_post_changes_nothing(client, settings, world, role):
    client = signed_in(client, settings, world[role])

    def state() -> tuple:
        return (
            tuple(Customer.objects.order_by("pk").values_list("name", "phone")),
            tuple(InstallmentPlan.objects.order_by("pk").values_list("status", "number_of_installments")),
            tuple(Payment.objects.order_by("pk").values_list("status", "amount")),
            tuple(User.objects.order_by("pk").values_list("username", "role", "is_active")),
            tuple(Merchant.objects.order_by("pk").values_list("name", "requires_approval")),
        )

    refused = [page for page in PAGES if page.name in POSTS and role not in ROLE_TABLE[page.action]]
    assert refused
    before = state()
    for page in refused:
        response = client.post(_url(page, world), POSTS[page.name])
        assert response.status_code == 403, (page.name, role)
    assert state() == before


ACTION_LINKS = {
    # page -> [(url name, object names, action that shows it)]
    "customers:customer-list": [("customers:customer-create", (), Action.CUSTOMER_WRITE)],
    "customers:customer-detail": [
        ("customers:customer-update", ("customer",), Action.CUSTOMER_WRITE),
        ("installments:plan-create", (), Action.PLAN_CREATE),
    ],
    "installments:plan-detail": [
        ("payments:payment-create", ("plan",), Action.PAYMENT_RECORD),
        ("installments:plan-cancel", ("plan",), Action.PLAN_DECIDE),
        ("installments:plan-reschedule", ("plan",), Action.PLAN_DECIDE),
        ("payments:payment-refund", ("payment",), Action.PAYMENT_REVERSE),
        ("payments:payment-void", ("payment",), Action.PAYMENT_REVERSE),
        ("payments:payment-complete", ("cheque",), Action.PAYMENT_RECORD),
        ("payments:payment-fail", ("cheque",), Action.PAYMENT_RECORD),
    ],
    "installments:collections": [("payments:payment-create", ("plan",), Action.PAYMENT_RECORD)],
    "taqsit:dashboard": [
        ("installments:plan-pending", (), Action.PLAN_DECIDE),
        ("taqsit:staff-list", (), Action.STAFF_MANAGE),
        ("taqsit:merchant-settings", (), Action.STAFF_MANAGE),
        ("installments:plan-create", (), Action.PLAN_CREATE),
        ("payments:payment-complete", ("cheque",), Action.PAYMENT_RECORD),
        ("payments:payment-fail", ("cheque",), Action.PAYMENT_RECORD),
    ],
}


@pytest.mark.parametrize("role", [Role.OWNER, Role.MANAGER, Role.CLERK, Role.VIEWER])
def test_pages_show_only_the_actions_the_role_allows(client, settings, world, role):
    client = signed_in(client, settings, world[role])
    pages = {page.name: page for page in PAGES}
    for name, links in ACTION_LINKS.items():
        body = html(client.get(_url(pages[name], world)))
        for link, args, action in links:
            href = reverse(link, args=[world[arg].pk for arg in args])
            assert (f'href="{href}' in body) == (role in ROLE_TABLE[action]), (name, link, role)


def test_the_pending_plan_shows_approve_and_reject_to_managers_only(client, settings, world):
    for role in (Role.OWNER, Role.MANAGER, Role.CLERK, Role.VIEWER):
        client = signed_in(client, settings, world[role])
        body = html(client.get(reverse("installments:plan-detail", args=[world["pending"].pk])))
        allowed = role in ROLE_TABLE[Action.PLAN_DECIDE]
        assert (reverse("installments:plan-approve", args=[world["pending"].pk]) in body) == allowed
        assert (reverse("installments:plan-reject", args=[world["pending"].pk]) in body) == allowed


def test_a_viewer_sees_no_form_on_any_page_it_may_read(client, settings, world):
    client = signed_in(client, settings, world[Role.VIEWER])
    for page in PAGES:
        if Role.VIEWER in ROLE_TABLE[page.action] and not page.name.endswith("-csv"):
            body = html(client.get(_url(page, world)))
            main = body[max(body.find('<main id="main"'), 0) :]  # the page, or the whole htmx fragment
            assert 'method="post"' not in main, page.name


def test_another_merchants_objects_are_not_found(client, settings, world, other_owner):
    client = signed_in(client, settings, other_owner)
    for page in PAGES:
        if not page.args:
            continue
        url = _url(page, world)
        assert client.get(url).status_code == 404, page.name
        if page.name in POSTS:
            assert client.post(url, POSTS[page.name]).status_code == 404, page.name
    # Nor do they show up in its lists.
    for name in ("customers:customer-list", "installments:plan-list", "installments:collections", "taqsit:staff-list"):
        body = html(client.get(reverse(name)))
        assert world["customer"].name not in body
        assert world["clerk"].username not in body.replace("other-owner", "")


def test_strangers_are_sent_to_log_in_and_platform_admins_to_the_admin(client, settings, world, superuser):
    client = signed_in(client, settings, None)
    for page in PAGES:
        url = _url(page, world)
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('login')}?next={url.replace('?', '%3F').replace('=', '%3D')}"
    client = signed_in(client, settings, superuser)
    response = client.get(reverse("taqsit:dashboard"))
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")


# Query counts --------------------------------------------------------------------------------------------


def _grow(merchant, owner, size: int) -> dict:
    """``size`` customers, each with an overdue plan and a payment; one plan with 20 installments and ``size``
    payments; ``size`` pending applications."""
    existing = Customer.objects.filter(merchant=merchant).count()
    for _ in range(existing, size):
        customer = CustomerFactory(merchant=merchant)
        plan = plan_make(actor=owner, customer=customer)
        payment_post(actor=owner, plan=plan, amount=Decimal("10.00"))
    big = InstallmentPlan.objects.filter(merchant=merchant, number_of_installments=20).first()
    if big is None:
        big = plan_make(
            actor=owner,
            customer=Customer.objects.filter(merchant=merchant).first(),
            total_amount=Decimal("2200.00"),
            number_of_installments=20,
        )
    while big.payments.count() < size:
        payment_post(actor=owner, plan=big, amount=Decimal("1.00"))
    merchant.requires_approval = True
    merchant.save(update_fields=["requires_approval"])
    while InstallmentPlan.objects.filter(merchant=merchant, status=InstallmentPlan.Status.PENDING).count() < size:
        plan_make(actor=owner, customer=big.customer)
    merchant.requires_approval = False
    merchant.save(update_fields=["requires_approval"])
    return {"plan": big, "customer": big.customer, "payment": big.payments.order_by("-payment_number").first()}


QUERY_PAGES = (
    ("taqsit:dashboard", ()),
    ("customers:customer-list", ()),
    ("customers:customer-detail", ("customer",)),
    ("installments:plan-list", ()),
    ("installments:plan-list-csv", ()),
    ("installments:plan-pending", ()),
    ("installments:plan-detail", ("plan",)),
    ("installments:collections", ()),
    ("installments:collections-csv", ()),
    ("payments:payment-create", ("plan",)),
    ("payments:payment-receipt", ("payment",)),
    ("taqsit:staff-list", ()),
)
# The plan page is the largest: session, user, merchant, plan, its rows (all, in force, overdue), payments and
# their allocations, items, guarantors.
MAX_QUERIES = 11


def _count(client, url: str) -> int:
    # The dashboard's statistics are cached until money moves, and this test's transaction never commits: clear
    # the cache so each page is measured computing its figures (the cache has its own tests in payments/tests).
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    assert response.status_code == 200, url
    return len(queries)


def test_pages_run_the_same_number_of_queries_for_2_rows_as_for_20(
    client, settings, merchant, owner, django_assert_max_num_queries, today
):
    client = signed_in(client, settings, owner)
    for size in (2, 20):
        objects = _grow(merchant, owner, size)
        UserFactory.create_batch(size - merchant.staff.count(), merchant=merchant)
        counts = {}
        for name, args in QUERY_PAGES:
            url = reverse(name, args=[objects[arg].pk for arg in args])
            with django_assert_max_num_queries(MAX_QUERIES):
                counts[name] = _count(client, url)
        if size == 2:
            small = counts
        else:
            assert counts == small
