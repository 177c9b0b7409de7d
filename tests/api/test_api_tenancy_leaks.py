"""Nothing of one merchant reaches another through the API's side doors: the browsable API's filter and write
forms, and filters that would tell another merchant's id from one that exists nowhere."""

from __future__ import annotations

import re
import uuid
from datetime import date
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.schemas.generators import EndpointEnumerator
from rest_framework.test import APIClient, APIRequestFactory
from rest_framework.views import APIView

from collectors.models import Assignment, Contact, Promise
from collectors.services import contact_record, plans_assign, promise_record
from customers.models import Customer
from customers.tests.factories import CustomerFactory
from imports.models import ImportJob
from installments.models import Installment, InstallmentPlan, Product
from installments.tests.factories import ProductFactory, plan_make
from notifications.models import Notification
from payments.models import Payment
from payments.services import payment_post
from portal.authentication import PortalPrincipal
from portal.tokens import portal_tokens_for
from taqsit.models import Merchant, Role, User
from taqsit.tests.factories import UserFactory
from taqsit.tests.test_settings import clean_env, database_url, random_secret_key, run_python
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from webhooks.services import endpoint_create

pytestmark = pytest.mark.django_db

PATH_PARAMETER = re.compile(r"\{(\w+)\}")
PORTAL = "/api/portal/"


@pytest.fixture
def first_merchant_data(merchant, today):
    """The first merchant: a customer, a product, a plan with a payment, staff with names found nowhere else."""
    owner = UserFactory(merchant=merchant, role=Role.OWNER, username="alef-owner", first_name="Alefina")
    UserFactory(merchant=merchant, role=Role.CLERK, username="alef-clerk", email="alef-clerk@shop-a.example")
    customer = CustomerFactory(merchant=merchant, name="Amina Haddad")
    ProductFactory(merchant=merchant, name="Brass Lantern", sku="LANTERN-A")
    endpoint_create(actor=owner, url="https://alef-erp.example.com/hooks", events=["plan.created"])
    plan = plan_make(actor=owner, customer=customer)
    payment_post(actor=owner, plan=plan, amount=Decimal("200.00"), payment_date=today)
    reminder = _customer_message(customer, plan, "Alef reminder: 200.00 due.")
    _follow_up(owner, plan, "Alef visit: shop closed.")
    _import_job(owner, "alef-customers.csv")
    return {"owner": owner, "customer": customer, "plan": plan, "message": reminder}


def _import_job(user, name: str) -> ImportJob:
    """A spreadsheet import of ``user``'s merchant (its file's name is one a leak would show)."""
    return ImportJob.objects.create(
        merchant=user.merchant,
        kind=ImportJob.Kind.CUSTOMERS,
        file_format=ImportJob.Format.CSV,
        file=f"imports/{name}",
        original_name=name,
        size=1,
        sha256="0" * 64,
        language="en",
        created_by=user,
        status=ImportJob.Status.READY,
    )


def _customer_message(customer, plan, body: str) -> Notification:
    """A reminder sent to ``customer`` about the first installment of ``plan`` (the portal lists it)."""
    return Notification.objects.create(
        merchant=customer.merchant,
        customer=customer,
        installment=plan.installments.get(number=1),
        channel=Notification.Channel.SMS,
        kind=Notification.Kind.REMINDER_UPCOMING,
        day=plan.start_date,
        status=Notification.Status.SENT,
        body=body,
        send_after=timezone.now(),
        sent_at=timezone.now(),
    )


@pytest.fixture
def second_merchant_data(other_merchant, other_owner, today):
    """The second merchant has one of everything too, so every detail and nested list has something to show."""
    customer = CustomerFactory(merchant=other_merchant, name="Bashir Nour")
    ProductFactory(merchant=other_merchant, name="Copper Kettle", sku="KETTLE-B")
    endpoint_create(actor=other_owner, url="https://bet-erp.example.com/hooks", events=["plan.created"])
    plan = plan_make(actor=other_owner, customer=customer)
    payment_post(actor=other_owner, plan=plan, amount=Decimal("200.00"), payment_date=today)
    Notification.objects.create(
        merchant=other_merchant,
        user=other_owner,
        channel=Notification.Channel.IN_APP,
        kind=Notification.Kind.STAFF_DIGEST,
        day=today,
        send_after=timezone.now(),
        subject="Digest",
    )
    _customer_message(customer, plan, "Your installment is due soon.")
    _follow_up(other_owner, plan, "Called.")
    _import_job(other_owner, "bet-customers.csv")
    # The borrower API is walked as this customer: both shops have their portal on.
    Merchant.objects.update(portal_enabled=True)
    customer.refresh_from_db()
    return {"customer": customer, "plan": plan}


def _follow_up(owner, plan, note: str) -> None:
    """The plan assigned to its owner, a visit and a promise to pay: the collector's worklist has rows too."""
    plans_assign(actor=owner, plan_ids=[plan.pk], collector=owner)
    contact_record(actor=owner, plan=plan, kind="visit", outcome="not_home", note=note)
    promise_record(actor=owner, plan=plan, amount=Decimal("100.00"), promised_on=date(2026, 3, 5))


def first_merchant_secrets(merchant) -> set[str]:
    """Every id of the first merchant's rows, and the names a leak would show."""
    secrets = {str(merchant.pk), merchant.name, "Amina Haddad", "Brass Lantern", "LANTERN-A", "alef-", "Alefina"}
    secrets.update({"Alef reminder", "Alef visit", "alef-customers.csv"})
    secrets.update(WebhookEndpoint.objects.filter(merchant=merchant).values_list("secret", flat=True))
    for model in (
        User,
        Customer,
        Product,
        InstallmentPlan,
        Installment,
        Payment,
        Notification,
        Assignment,
        Contact,
        Promise,
        WebhookEndpoint,
        WebhookDelivery,
        WebhookEvent,
        ImportJob,
    ):
        secrets.update(str(pk) for pk in model.objects.filter(merchant=merchant).values_list("pk", flat=True))
    secrets.update(str(pk) for pk in Customer.objects.filter(merchant=merchant).values_list("pk", flat=True))
    return secrets


def own_object_pk(callback, user) -> str:
    """The pk of the first object the endpoint's own queryset gives ``user``: their merchant's, never another's."""
    view = callback.cls(**getattr(callback, "initkwargs", {}))
    request = Request(APIRequestFactory().get("/"))
    request.user = user
    view.request, view.args, view.kwargs, view.format_kwarg, view.action = request, (), {}, None, "retrieve"
    obj = view.get_queryset().first()
    assert obj is not None, f"{callback.cls.__name__}: give the second merchant a row so its pages are walked"
    return str(obj.pk)


def api_get_paths(user, customer=None) -> list[str]:
    """Every GET address of the API, from the URL resolver, with the second merchant's own ids filled in: its
    user's for the staff API, its ``customer``'s for the borrower API (/api/portal/)."""
    paths = []
    for path, method, callback in EndpointEnumerator().get_api_endpoints():
        if method != "GET" or not path.startswith("/api/"):
            continue

        def fill(match, callback=callback, path=path):
            name = match.group(1)
            if name in ("pk", "id"):
                caller = PortalPrincipal(customer=customer) if path.startswith(PORTAL) else user
                return own_object_pk(callback, caller)
            if name == "plan_status":
                return InstallmentPlan.Status.ACTIVE
            raise AssertionError(f"{path}: teach this test a value for {{{name}}}")

        paths.append(PATH_PARAMETER.sub(fill, path))
    return paths


@pytest.fixture
def browsable_api(monkeypatch, settings):
    """The browsable API as DEBUG serves it: views bind their renderers at import, so the default is patched."""
    settings.DEBUG = True
    monkeypatch.setattr(APIView, "renderer_classes", [JSONRenderer, BrowsableAPIRenderer])


def test_browsable_api_shows_a_second_merchant_nothing_of_the_first(
    browsable_api, api_client, merchant, other_owner, first_merchant_data, second_merchant_data
):
    secrets = first_merchant_secrets(merchant)
    api_client.force_authenticate(other_owner)
    # The borrower API is walked as the second merchant's customer, with their own portal token.
    customer_client = APIClient()
    customer_client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {portal_tokens_for(second_merchant_data['customer'])['access']}"
    )
    paths = api_get_paths(other_owner, second_merchant_data["customer"])
    # The walk reaches the lists the leak was found on, and their nested lists.
    plan_pk = second_merchant_data["plan"].pk
    for expected in (
        "/api/installments/plans/",
        "/api/installments/payments/",
        "/api/customers/",
        "/api/users/",
        "/api/notification-settings/",
        f"/api/installments/plans/{plan_pk}/payments/",
        f"/api/customers/{second_merchant_data['customer'].pk}/plans/",
        "/api/portal/me/",
        "/api/portal/plans/",
        f"/api/portal/plans/{plan_pk}/",
        f"/api/portal/plans/{plan_pk}/payoff/",
        "/api/portal/payments/",
        "/api/portal/notifications/",
        "/api/collectors/assignments/",
        "/api/collectors/contacts/",
        "/api/collectors/promises/",
        "/api/collectors/figures/",
        "/api/webhooks/",
        "/api/webhooks/deliveries/",
    ):
        assert expected in paths
    leaks = {}
    statuses = {}
    for path in paths:
        client = customer_client if path.startswith(PORTAL) else api_client
        # The page with its filter and write forms, and the OPTIONS description of what a write takes.
        answers = [("GET", client.get(path, {"format": "api"}))]
        if path not in ("/api/schema/", "/api/docs/"):  # the schema's own views: no merchant data, no OPTIONS
            answers.append(("OPTIONS", client.options(path)))
        for method, response in answers:
            statuses[f"{method} {path}"] = response.status_code
            # A contract's PDF is binary (its own tests read its text and prove another merchant gets a 404).
            body = (b"".join(response.streaming_content) if response.streaming else response.content).decode(
                errors="replace"
            )
            found = sorted(secret for secret in secrets if secret in body)
            if found:
                leaks[f"{method} {path}"] = found
    assert leaks == {}
    assert {path: code for path, code in statuses.items() if code >= 500} == {}
    # The customer's walk was let in everywhere (their token, their own rows), not refused at the door.
    portal_statuses = {path: code for path, code in statuses.items() if PORTAL in path}
    assert len(portal_statuses) >= 16
    assert {path: code for path, code in portal_statuses.items() if code != 200} == {}
    # The pages really rendered the browsable API, filter forms included.
    plans_page = api_client.get("/api/installments/plans/", {"format": "api"}).content.decode()
    assert 'name="customer"' in plans_page
    assert "Bashir Nour" in plans_page
    payments_page = api_client.get("/api/installments/payments/", HTTP_ACCEPT="text/html").content.decode()
    assert 'name="plan"' in payments_page


def test_filter_on_another_merchants_id_answers_as_an_id_that_exists_nowhere(
    api_client, merchant, other_owner, first_merchant_data, second_merchant_data
):
    api_client.force_authenticate(other_owner)
    theirs = first_merchant_data["customer"].pk
    nowhere = uuid.uuid4()
    for path, name, value in (
        ("/api/installments/plans/", "customer", theirs),
        ("/api/installments/payments/", "plan", first_merchant_data["plan"].pk),
        ("/api/installments/payments/", "customer", theirs),
        ("/api/installments/installments/", "customer", theirs),
        ("/api/collectors/promises/", "plan", first_merchant_data["plan"].pk),
        ("/api/collectors/contacts/", "plan", first_merchant_data["plan"].pk),
        ("/api/collectors/assignments/", "collector", first_merchant_data["owner"].pk),
    ):
        not_yours = api_client.get(path, {name: str(value)})
        missing = api_client.get(path, {name: str(nowhere)})
        assert (not_yours.status_code, missing.status_code) == (200, 200)
        assert not_yours.json() == missing.json() == {"count": 0, "next": None, "previous": None, "results": []}
    own = api_client.get("/api/installments/plans/", {"customer": str(second_merchant_data["customer"].pk)})
    assert [row["id"] for row in own.json()["results"]] == [str(second_merchant_data["plan"].pk)]


def test_a_malformed_id_in_a_filter_is_a_400_naming_the_filter(api_client, other_owner):
    api_client.force_authenticate(other_owner)
    response = api_client.get("/api/installments/plans/", {"customer": "not-an-id"})
    assert response.status_code == 400
    assert list(response.json()) == ["customer"]


def test_the_browsable_api_is_off_without_debug(api_client, other_owner):
    api_client.force_authenticate(other_owner)
    assert api_client.get("/api/customers/", {"format": "api"}).status_code == 404
    browser = api_client.get("/api/customers/", HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    assert (browser.status_code, browser["Content-Type"]) == (200, "application/json")


API_RENDERERS = """
import django

django.setup()
from rest_framework.views import APIView

print(",".join(renderer.__name__ for renderer in APIView.renderer_classes))
"""


@pytest.mark.parametrize(
    ("variables", "renderers"),
    [({}, "JSONRenderer"), ({"DEBUG": "1"}, "JSONRenderer,BrowsableAPIRenderer")],
    ids=["production", "debug"],
)
def test_the_api_renders_json_only_unless_debug(variables, renderers):
    env = clean_env(
        DJANGO_SETTINGS_MODULE="taqsit.settings",
        SECRET_KEY=random_secret_key(),
        DATABASE_URL=database_url(settings.DATABASES["default"]),
        **variables,
    )

    result = run_python(["-c", API_RENDERERS], env)

    assert (result.returncode, result.stdout.strip().splitlines()[-1]) == (0, renderers), result.stderr
