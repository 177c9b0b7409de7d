"""The staff side of a reported transfer: the proof served to the merchant's staff only (page, API, admin), the
"to confirm" list and the payment page showing where it came from and its proof, confirm and reject."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from installments.tests.factories import plan_make
from payments.models import Payment
from payments.services import payment_post
from payments.tests.reports import PDF, PNG, report, upload
from taqsit.tests.pages import html, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def plan(owner, customer, today):
    """1000.00, 200.00 down, 4 x 200.00 from 2026-01-15: 800.00 left to pay on 2026-03-01."""
    return plan_make(actor=owner, customer=customer)


@pytest.fixture
def reported(customer, plan) -> Payment:
    """Payment 2: a 150.00 transfer the customer reported, with a PNG proof."""
    return report(customer=customer, plan=plan)


@pytest.fixture
def reported_pdf(customer, plan) -> Payment:
    return report(customer=customer, plan=plan, amount="75.00", reference="TRF-PDF", proof=upload(PDF, "st.pdf"))


def _proof_url(payment: Payment) -> str:
    return reverse("payments:payment-proof", args=[payment.pk])


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


# The proof: for the merchant's staff only -------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "clerk", "viewer"])
def test_the_merchants_staff_read_the_proof_with_its_stored_type(client, settings, request, reported, plan, role):
    client = signed_in(client, settings, request.getfixturevalue(role))

    response = client.get(_proof_url(reported))

    assert response.status_code == 200
    assert _body(response) == PNG
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == f'inline; filename="proof-{plan.reference}-2.png"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["Cache-Control"] == "private, no-store"


def test_a_pdf_proof_is_a_download(client, settings, clerk, reported_pdf, plan):
    response = signed_in(client, settings, clerk).get(_proof_url(reported_pdf))

    assert (response.status_code, _body(response), response["Content-Type"]) == (200, PDF, "application/pdf")
    assert response["Content-Disposition"] == f'attachment; filename="proof-{plan.reference}-2.pdf"'


def test_another_merchant_and_a_payment_without_proof_are_not_found(
    client, settings, owner, other_owner, reported, plan
):
    cash = payment_post(actor=owner, plan=plan, amount=Decimal("10.00"))

    assert signed_in(client, settings, other_owner).get(_proof_url(reported)).status_code == 404
    assert signed_in(client, settings, owner).get(_proof_url(cash)).status_code == 404


def test_an_anonymous_visitor_is_sent_to_log_in(client, settings, reported):
    response = signed_in(client, settings, None).get(_proof_url(reported))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


API = "/api/installments/payments/"


def test_the_api_serves_the_proof_whatever_the_client_accepts(api_client, owner, reported, plan):
    api_client.force_authenticate(owner)

    response = api_client.get(f"{API}{reported.pk}/proof/", HTTP_ACCEPT="image/png")
    anything = api_client.get(f"{API}{reported.pk}/proof/")

    assert (response.status_code, _body(response), response["Content-Type"]) == (200, PNG, "image/png")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == f'inline; filename="proof-{plan.reference}-2.png"'
    assert (anything.status_code, _body(anything)) == (200, PNG)


def test_the_api_refuses_the_proof_to_another_merchant_and_to_nobody(api_client, owner, other_owner, reported, plan):
    cash = payment_post(actor=owner, plan=plan, amount=Decimal("10.00"))
    url = f"{API}{reported.pk}/proof/"

    anonymous = api_client.get(url)
    api_client.force_authenticate(other_owner)
    theirs = api_client.get(url, HTTP_ACCEPT="image/png")
    api_client.force_authenticate(owner)
    none = api_client.get(f"{API}{cash.pk}/proof/")

    assert anonymous.status_code == 401
    assert theirs.status_code == 404
    assert (theirs["Content-Type"], theirs.json()) == ("application/json", {"detail": "Not found."})
    assert (none.status_code, none.json()) == (404, {"detail": "This payment has no proof."})


def test_the_api_payment_shows_its_origin_and_the_proofs_address(api_client, owner, reported, plan):
    cash = payment_post(actor=owner, plan=plan, amount=Decimal("10.00"))
    api_client.force_authenticate(owner)

    theirs = api_client.get(f"{API}{reported.pk}/").json()
    ours = api_client.get(f"{API}{cash.pk}/").json()
    listed = {row["id"]: row for row in api_client.get(API).json()["results"]}

    assert (theirs["origin"], theirs["proof"], theirs["received_by"], theirs["status"]) == (
        "portal",
        f"http://testserver{API}{reported.pk}/proof/",
        None,
        "pending",
    )
    assert (ours["origin"], ours["proof"]) == ("counter", None)
    assert (listed[str(reported.pk)]["origin"], listed[str(reported.pk)]["proof"]) == ("portal", theirs["proof"])


def test_origin_and_proof_cannot_be_written_through_the_api(api_client, owner, reported):
    api_client.force_authenticate(owner)

    response = api_client.patch(f"{API}{reported.pk}/", {"origin": "counter", "proof": None}, format="json")

    assert response.status_code == 400
    assert sorted(response.json()) == ["origin", "proof"]
    reported.refresh_from_db()
    assert reported.origin == "portal"


def test_confirming_through_the_api_allocates_the_reported_transfer(api_client, clerk, reported, ledger_assert, plan):
    api_client.force_authenticate(clerk)

    response = api_client.post(f"{API}{reported.pk}/complete/")

    body = response.json()
    assert (response.status_code, body["status"], body["origin"], body["settled_by"]) == (
        200,
        "completed",
        "portal",
        "clerk",
    )
    assert [(line["installment_number"], line["amount"]) for line in body["allocations"]] == [(1, "150.00")]
    ledger_assert(plan)


# The "to confirm" list and the payment page --------------------------------------------------------------------


def _to_confirm_rows(body: str) -> dict[str, str]:
    return dict(re.findall(r'<tr data-payment="([^"]+)">(.*?)</tr>', body, flags=re.DOTALL))


def test_the_to_confirm_list_shows_what_the_customer_reported_with_its_proof(
    client, settings, owner, clerk, plan, reported
):
    cheque = payment_post(
        actor=owner, plan=plan, amount=Decimal("40.00"), payment_method="cheque", reference="CHQ-1", status="pending"
    )

    body = html(signed_in(client, settings, clerk).get(reverse("taqsit:dashboard")))

    rows = _to_confirm_rows(body)
    ours, theirs = rows[str(cheque.pk)], rows[str(reported.pk)]
    assert '<span class="badge text-bg-info" data-origin="portal">Reported by the customer</span>' in theirs
    assert f'<a href="{_proof_url(reported)}" data-proof>Proof</a>' in theirs
    assert "TRF-2231" in theirs
    assert "data-origin" not in ours and "data-proof" not in ours
    assert "2 pending payments, $190.00, wait to clear." in body


def test_the_to_confirm_list_costs_the_same_queries_for_1_report_as_for_6(
    client, settings, clerk, customer, plan, reported, django_assert_max_num_queries
):
    client = signed_in(client, settings, clerk)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("taqsit:dashboard")).status_code == 200
        return len(queries)

    one = count()
    for number in range(5):
        report(customer=customer, plan=plan, amount="10.00", reference=f"TRF-{number}")
    with django_assert_max_num_queries(one):
        body = html(client.get(reverse("taqsit:dashboard")))

    assert body.count('data-origin="portal"') == 6
    assert body.count("data-proof") == 6


def test_the_payment_page_shows_an_image_proof_and_the_decisions(client, settings, clerk, reported):
    body = html(signed_in(client, settings, clerk).get(reverse("payments:payment-receipt", args=[reported.pk])))

    url = _proof_url(reported)
    assert f'<img class="img-fluid border rounded" src="{url}" alt="Proof of payment sent by the customer">' in body
    assert 'data-origin="portal">Reported by the customer</span>' in body
    assert f'href="{reverse("payments:payment-complete", args=[reported.pk])}" data-action="complete"' in body
    assert f'href="{reverse("payments:payment-fail", args=[reported.pk])}" data-action="fail"' in body


def test_the_payment_page_links_a_pdf_proof(client, settings, clerk, reported_pdf):
    body = html(signed_in(client, settings, clerk).get(reverse("payments:payment-receipt", args=[reported_pdf.pk])))

    assert f'href="{_proof_url(reported_pdf)}" data-proof>Download the proof (PDF)</a>' in body
    assert "<img" not in body.split('id="proof"')[1].split("</section>")[0]


def test_the_plan_page_marks_the_reported_payment_and_links_its_proof(client, settings, clerk, plan, reported):
    body = html(signed_in(client, settings, clerk).get(reverse("installments:plan-detail", args=[plan.pk])))

    assert 'data-origin="portal">Reported by the customer</span>' in body
    assert f'href="{_proof_url(reported)}" data-proof>Proof</a>' in body


def test_a_clerk_confirms_a_reported_transfer_from_the_list(client, settings, clerk, plan, reported, ledger_assert):
    client = signed_in(client, settings, clerk)
    complete = reverse("payments:payment-complete", args=[reported.pk])

    response = client.post(f"{complete}?next=/", follow=True)

    assert response.redirect_chain == [(reverse("taqsit:dashboard"), 302)]
    assert f"Payment 2 of plan {plan.reference} was confirmed and allocated." in html(response)
    reported.refresh_from_db()
    assert (reported.status, reported.settled_by, reported.received_by) == (Payment.Status.COMPLETED, clerk, None)
    assert list(reported.allocations.values_list("installment__number", "kind", "amount")) == [
        (1, "principal", Decimal("150.000"))
    ]
    ledger_assert(plan)


def test_rejecting_a_reported_transfer_asks_the_reason_the_customer_is_told(
    client, settings, clerk, plan, reported, ledger_assert
):
    client = signed_in(client, settings, clerk)
    url = reverse("payments:payment-fail", args=[reported.pk])

    question = html(client.get(url))
    refused = client.post(url, {"reason": ""})
    response = client.post(url, {"reason": "No such transfer reached us."}, follow=True)

    assert 'name="reason"' in question
    assert "The customer reported this transfer: they are told the reason you give." in question
    assert "This field is required." in html(refused)
    assert f"Payment 2 of plan {plan.reference} was marked failed." in html(response)
    reported.refresh_from_db()
    assert (reported.status, reported.reversal_reason) == (Payment.Status.FAILED, "No such transfer reached us.")
    ledger_assert(plan)


def test_a_cheques_failure_page_says_nothing_of_a_customer(client, settings, owner, clerk, plan):
    cheque = payment_post(actor=owner, plan=plan, amount=Decimal("40.00"), payment_method="cheque", status="pending")

    question = html(signed_in(client, settings, clerk).get(reverse("payments:payment-fail", args=[cheque.pk])))

    assert "they are told the reason" not in question


# The platform admin ----------------------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, superuser, settings):
    settings.SECURE_SSL_REDIRECT = False
    client.force_login(superuser)
    return client


def test_the_admin_filters_by_origin_and_shows_the_proof_read_only(admin_client, owner, plan, reported):
    payment_post(actor=owner, plan=plan, amount=Decimal("10.00"), reference="CASH-10")
    changelist = reverse("admin:payments_payment_changelist")

    portal = html(admin_client.get(changelist, {"origin__exact": "portal"}))
    counter = html(admin_client.get(changelist, {"origin__exact": "counter"}))
    page = html(admin_client.get(reverse("admin:payments_payment_change", args=[reported.pk])))
    proof = admin_client.get(reverse("admin:payments_payment_proof", args=[reported.pk]))

    assert "Reported by the customer" in portal
    assert "2 payments" not in portal and "1 payment" in portal
    assert "3 payments" not in counter and "2 payments" in counter  # the down payment and the cash
    assert f'<a href="{reverse("admin:payments_payment_proof", args=[reported.pk])}">receipt.png</a>' in page
    assert reported.proof.sha256 in page
    assert 'name="origin"' not in page and 'type="file"' not in page
    assert (proof.status_code, _body(proof), proof["Content-Type"]) == (200, PNG, "image/png")
