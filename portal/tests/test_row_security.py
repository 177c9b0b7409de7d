"""The portal under row-level security (taqsit/tenancy.py): a portal request acts for its customer's merchant,
known from the portal session, the token or the address before any customer row is read; a personal link's
merchant alone is found by ``portal_link_owner`` (a security-definer function). The suite runs as the runtime
role, so each of these requests would read no customer at all without it."""

import re
from contextlib import contextmanager

import pytest
from django.db import connection
from django.test import RequestFactory
from django.urls import reverse

from installments.tests.factories import plan_make
from portal.tasks import portal_code_send_task
from portal.tests.borrower import bearer
from taqsit.tenancy import desired_scope, no_merchant_scope, request_merchant_set

pytestmark = pytest.mark.django_db


@contextmanager
def _scopes_reading(table: str):
    """The (merchant, context) every query on ``table`` ran for while the block ran."""
    seen: list[tuple[str, str]] = []

    def wrapper(execute, sql, params, many, context):
        if f'"{table}"' in sql:
            seen.append(desired_scope(context["connection"]))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield seen


def test_a_link_and_the_pages_after_it_read_the_customer_for_their_merchant_beside_another_shops_staff(
    client, customer, link, owner, other_owner, today
):
    plan = plan_make(actor=owner, customer=customer)
    client.force_login(other_owner)  # a member of another shop's staff signed in on the same browser
    with _scopes_reading("customers_customer") as link_reads:
        assert client.get(reverse("portal:link", kwargs={"token": link.token})).status_code == 302
    with _scopes_reading("customers_customer") as page_reads:
        page = client.get("/portal/")
    assert page.status_code == 200
    assert plan.reference in page.content.decode()
    merchant = str(customer.merchant_id)
    assert link_reads and {scope[0] for scope in link_reads} == {merchant}
    assert page_reads and {scope[0] for scope in page_reads} == {merchant}
    # The staff member's own pages are still their shop's only.
    staff_page = client.get("/customers/")
    assert staff_page.status_code == 200 and "Amina Haddad" not in staff_page.content.decode()


def test_the_borrower_api_reads_the_customer_for_the_merchant_of_its_token(api_client, customer):
    bearer(api_client, customer)
    with _scopes_reading("customers_customer") as reads:
        response = api_client.get("/api/portal/me/")
    assert response.status_code == 200 and response.json()["name"] == "Amina Haddad"
    assert reads and set(reads) == {(str(customer.merchant_id), "request")}


def test_a_code_log_in_runs_for_the_merchant_of_its_address(
    client, merchant, customer, sms_outbox, django_capture_on_commit_callbacks
):
    with _scopes_reading("portal_portalcode") as reads, django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/portal/m/{merchant.pk}/", {"destination": "415 555 0123"})
    assert response.status_code == 302
    assert reads and {scope[0] for scope in reads} == {str(merchant.pk)}
    code = re.search(r"\b(\d{6})\b", sms_outbox[0]["body"]).group(1)
    assert client.post(f"/portal/m/{merchant.pk}/code/", {"code": code})["Location"] == "/portal/"


def test_the_code_sending_task_runs_for_its_merchant(merchant, sms_outbox):
    with no_merchant_scope(), _scopes_reading("taqsit_merchant") as reads:
        portal_code_send_task.run(str(merchant.pk), "+14155550123", "123456", "en")
    assert [message["to"] for message in sms_outbox] == ["+14155550123"]
    assert reads == [(str(merchant.pk), "merchant")]


@pytest.mark.parametrize("value", ["not-a-uuid", "", None, "'; RESET ROLE; --"])
def test_a_mangled_merchant_id_never_becomes_the_requests_merchant(value):
    request = RequestFactory().get("/api/portal/me/")
    request_merchant_set(request, value)
    assert request.tenant_merchant_id is None
