"""The contract's page, PDF (page and API), signing on screen and the merchant's own clauses: wiring, tenancy,
permissions, the canonical text's hash and what a later change of the contract does to a signature."""

from __future__ import annotations

import base64
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from customers.tests.factories import CustomerFactory
from installments.contract import canonical_text, contract_build, late_fee_terms, settlement_terms
from installments.models import ContractSignature
from installments.services import contract_sign, plan_reschedule
from installments.tests.factories import plan_make, signature_png
from taqsit.models import Merchant
from taqsit.tests.pages import html, signed_in

pytestmark = pytest.mark.django_db


def data_url(image: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(image).decode()


@pytest.fixture
def plan(owner, customer):
    return plan_make(actor=owner, customer=customer)


# The text and its hash -------------------------------------------------------------------------------------


def test_the_canonical_text_drops_tags_reads_entities_and_collapses_whitespace():
    assert canonical_text("<h1>Plan\n  P-1</h1><table><tr><th>Seller</th><td>A &amp; B&nbsp;&lt;3</td></tr>") == (
        "Plan P-1 Seller A & B <3"
    )


def test_the_hash_is_the_sha256_of_the_text_and_is_the_same_at_every_build(plan):
    first, second = contract_build(plan=plan), contract_build(plan=plan)

    assert first.text_sha256 == second.text_sha256
    assert len(first.text_sha256) == 64
    assert "Amina Haddad" in first.text
    assert "Signature" not in first.text  # the signature lines are outside the signed text


def test_the_contract_is_in_the_customers_language_whatever_the_page_speaks(owner, merchant):
    customer = CustomerFactory(merchant=merchant, language="es")
    plan = plan_make(actor=owner, customer=customer)

    contract = contract_build(plan=plan)

    assert contract.language == "es"
    assert not contract.is_rtl
    assert contract_build(plan=plan, language="ar").is_rtl


# The terms in words ----------------------------------------------------------------------------------------


def test_late_fee_terms_say_the_grace_the_percent_fee_its_cap_the_charity_and_the_default(merchant):
    merchant.grace_days = 5
    merchant.late_fee_method = Merchant.LateFeeMethod.PERCENT
    merchant.late_fee_percent = Decimal("2.5")
    merchant.late_fee_cap = Decimal("15.00")
    merchant.late_fee_booking = Merchant.LateFeeBooking.CHARITY
    merchant.default_after_days = 60

    assert late_fee_terms(merchant) == [
        "An installment not paid in full within 5 days after its due date is overdue.",
        "A late fee of 2.5% of the unpaid amount is charged once on each overdue installment. "
        "It is never more than $15.00 per installment.",
        "A late fee never bears a fee or a charge of its own and is never added to the finance charge.",
        "No late fee becomes income of the seller: every late fee collected is kept apart from the seller's "
        "income and given to charity.",
        "When an installment is still unpaid 60 days after its due date, the plan is in default until the buyer "
        "brings it up to date.",
    ]


def test_late_fee_terms_without_a_fee(merchant):
    assert late_fee_terms(merchant) == [
        "An installment not paid in full on its due date is overdue.",
        "No late fee is charged.",
        "When an installment is still unpaid 90 days after its due date, the plan is in default until the buyer "
        "brings it up to date.",
    ]


def test_a_fixed_fee_under_murabaha_booked_as_income_is_the_actual_cost_of_collection(merchant):
    merchant.sale_terms = Merchant.SaleTerms.MURABAHA
    merchant.late_fee_method = Merchant.LateFeeMethod.FIXED
    merchant.late_fee_amount = Decimal("5.00")

    terms = late_fee_terms(merchant)

    assert terms[1] == "A late fee of $5.00 is charged once on each overdue installment."
    assert terms[3] == (
        "The late fee covers only the actual cost the seller bears to collect a late payment; it is not a profit "
        "on the debt."
    )


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ("none", "No part of the finance charge is rebated on early payment."),
        ("actuarial", "computed by the actuarial method."),
        ("rule_of_78", "computed by the rule of 78 (the sum of the digits)."),
        ("discretionary", "forgive part of the markup (ibra')"),
    ],
)
def test_early_settlement_terms_follow_the_rebate_rule(merchant, rule, words):
    merchant.early_settlement_rebate = rule

    terms = settlement_terms(merchant)

    assert len(terms) == 2
    assert terms[0].startswith("The buyer may pay off the whole remaining balance at any time.")
    assert words in terms[1]


def test_a_murabaha_contract_says_the_markup_is_fixed_at_signing_and_never_increased(owner, merchant, customer):
    Merchant.objects.filter(pk=merchant.pk).update(sale_terms=Merchant.SaleTerms.MURABAHA)
    plan = plan_make(actor=owner, customer=customer, finance_charge_method="flat", interest_rate=Decimal("12"))

    text = contract_build(plan=plan).text

    assert "Murabaha installment sale contract" in text
    assert (
        "at their cost of $1,000.00 plus a markup of $32.00, both disclosed to the buyer, for a deferred price of "
        "$1,032.00" in text
    )
    assert "The markup is fixed at the signing of this contract and is never increased" in text
    assert "never adds markup" in text


def test_the_merchants_clauses_are_printed_in_the_contracts_language_only(owner, merchant):
    Merchant.objects.filter(pk=merchant.pk).update(
        contract_clauses={"en": "Goods stay ours until paid.", "es": "La mercancía es nuestra hasta el pago."}
    )
    english = plan_make(actor=owner, customer=CustomerFactory(merchant=merchant, language="en"))
    arabic = plan_make(actor=owner, customer=CustomerFactory(merchant=merchant, language="ar"))

    assert "Goods stay ours until paid." in contract_build(plan=english).text
    assert "La mercancía" not in contract_build(plan=english).text
    assert "Goods stay ours" not in contract_build(plan=arabic).text


# Signing ---------------------------------------------------------------------------------------------------


def test_a_clerk_keeps_the_customers_signature_with_the_hash_of_the_text_shown(plan, clerk, today):
    contract = contract_build(plan=plan)
    image = signature_png()

    signature = contract_sign(actor=clerk, plan=plan, signer="customer", image=image, text_sha256=contract.text_sha256)

    signature.refresh_from_db()
    assert signature.signer_name == "Amina Haddad"
    assert signature.text_sha256 == contract.text_sha256
    assert signature.language == "en"
    assert signature.witnessed_by == clerk
    assert signature.image.name.startswith(f"contract-signatures/{plan.merchant_id}/")
    assert signature.image.read() == image
    with pytest.raises(ValueError, match="no public URL"):
        signature.image.url  # noqa: B018
    signed = contract_build(plan=plan)
    assert signed.is_signed
    assert signed.lines[0].signature == signature
    assert signed.lines[0].image_data_url == data_url(image)


def test_a_signature_under_a_text_that_changed_since_it_was_shown_is_refused(plan, clerk):
    with pytest.raises(ValidationError) as refused:
        contract_sign(actor=clerk, plan=plan, signer="customer", image=signature_png(), text_sha256="0" * 64)

    assert refused.value.message_dict == {
        "text_sha256": ["The contract has changed since it was shown: read the new text and sign again."]
    }
    assert ContractSignature.objects.count() == 0


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (b"GIF89a....", "The signature must be a PNG image drawn on the pad."),
        (b"\x89PNG\r\n\x1a\n", "The signature must be a PNG image drawn on the pad."),
        (b"\x89PNG\r\n\x1a\n" + b"0" * 600 * 1024, "The signature image is larger than 512 KB."),
    ],
)
def test_a_signature_that_is_not_a_small_png_is_refused(plan, clerk, image, message):
    sha = contract_build(plan=plan).text_sha256
    with pytest.raises(ValidationError) as refused:
        contract_sign(actor=clerk, plan=plan, signer="customer", image=image, text_sha256=sha)

    assert refused.value.message_dict == {"image": [message]}


def test_a_viewer_may_not_take_a_signature(plan, viewer):
    sha = contract_build(plan=plan).text_sha256
    with pytest.raises(PermissionDenied):
        contract_sign(actor=viewer, plan=plan, signer="customer", image=signature_png(), text_sha256=sha)


def test_a_guarantor_that_is_not_the_plans_is_refused(plan, clerk):
    sha = contract_build(plan=plan).text_sha256
    with pytest.raises(ValidationError) as refused:
        contract_sign(
            actor=clerk, plan=plan, signer="guarantor", guarantor_key="nobody", image=signature_png(), text_sha256=sha
        )

    assert refused.value.message_dict == {"signer": ["Choose the customer or one of the plan's guarantors."]}


def test_after_a_reschedule_the_old_signature_no_longer_matches_and_the_contract_says_so(
    plan, clerk, manager, client, settings, today
):
    old = contract_build(plan=plan)
    contract_sign(actor=clerk, plan=plan, signer="customer", image=signature_png(), text_sha256=old.text_sha256)

    plan_reschedule(
        actor=manager, plan=plan, number_of_installments=6, installment_frequency="monthly", start_date=today
    )

    new = contract_build(plan=plan)
    assert new.text_sha256 != old.text_sha256
    assert not new.is_signed
    assert new.lines[0].signature is None
    assert new.lines[0].stale.text_sha256 == old.text_sha256
    page = html(signed_in(client, settings, clerk).get(reverse("installments:plan-contract", args=[plan.pk])))
    assert 'id="contract-stale"' in page
    assert "that signature does not cover this text" in page


# Pages and API ---------------------------------------------------------------------------------------------


def test_the_plan_page_links_its_contract(plan, viewer, client, settings):
    page = html(signed_in(client, settings, viewer).get(reverse("installments:plan-detail", args=[plan.pk])))

    assert f'href="{reverse("installments:plan-contract", args=[plan.pk])}"' in page


def test_the_contract_page_is_private_and_offers_signing_to_those_who_create_plans(
    plan, clerk, viewer, client, settings
):
    url = reverse("installments:plan-contract", args=[plan.pk])
    response = signed_in(client, settings, clerk).get(url)

    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    page = html(response)
    assert "Installment sale contract" in page
    assert reverse("installments:plan-contract-sign", args=[plan.pk]) in page
    assert reverse("installments:plan-contract-pdf", args=[plan.pk]) in page
    viewer_page = html(signed_in(client, settings, viewer).get(url))
    assert reverse("installments:plan-contract-sign", args=[plan.pk]) not in viewer_page


def test_another_merchants_contract_is_not_found(plan, other_owner, client, settings, api_client):
    client = signed_in(client, settings, other_owner)
    for name in ("plan-contract", "plan-contract-pdf", "plan-contract-sign"):
        assert client.get(reverse(f"installments:{name}", args=[plan.pk])).status_code == 404
    api_client.force_authenticate(other_owner)
    assert api_client.get(f"/api/installments/plans/{plan.pk}/contract.pdf").status_code == 404


def test_the_signing_page_keeps_the_signature_and_goes_back_to_the_contract(plan, clerk, client, settings):
    client = signed_in(client, settings, clerk)
    url = reverse("installments:plan-contract-sign", args=[plan.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert page["Cache-Control"] == "private, no-store"
    sha = contract_build(plan=plan).text_sha256
    assert f'value="{sha}"' in html(page)

    response = client.post(url, {"signer": "customer", "image": data_url(signature_png()), "text_sha256": sha})

    assert response.status_code == 302
    assert response["Location"] == reverse("installments:plan-contract", args=[plan.pk])
    assert ContractSignature.objects.get().text_sha256 == sha
    contract_page = html(client.get(response["Location"]))
    assert "Amina Haddad signed the contract." in contract_page
    assert "Signed on screen on" in contract_page
    assert 'src="data:image/png;base64,' in contract_page


def test_the_signing_page_without_a_drawing_asks_for_one(plan, clerk, client, settings):
    client = signed_in(client, settings, clerk)
    sha = contract_build(plan=plan).text_sha256
    url = reverse("installments:plan-contract-sign", args=[plan.pk])

    response = client.post(url, {"signer": "customer", "image": "", "text_sha256": sha})

    assert response.status_code == 200
    assert ContractSignature.objects.count() == 0


def test_a_viewer_cannot_open_the_signing_page(plan, viewer, client, settings):
    url = reverse("installments:plan-contract-sign", args=[plan.pk])
    assert signed_in(client, settings, viewer).get(url).status_code == 403


def test_the_pdf_page_and_the_api_answer_a_private_pdf(plan, clerk, client, settings, api_client):
    response = signed_in(client, settings, clerk).get(reverse("installments:plan-contract-pdf", args=[plan.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"
    assert response["Content-Disposition"] == f'inline; filename="contract-{plan.reference}.pdf"'
    assert response.content.startswith(b"%PDF-")

    api_client.force_authenticate(clerk)
    api = api_client.get(f"/api/installments/plans/{plan.pk}/contract.pdf", HTTP_ACCEPT="application/json")
    assert api.status_code == 200
    assert api["Content-Type"] == "application/pdf"
    assert api["Cache-Control"] == "private, no-store"


def test_the_api_contract_needs_a_token(plan, api_client):
    assert api_client.get(f"/api/installments/plans/{plan.pk}/contract.pdf").status_code == 401


# The merchant's clauses in the settings ---------------------------------------------------------------------


def test_the_owner_writes_the_contract_clauses_per_language_on_the_settings_page(owner, merchant, client, settings):
    client = signed_in(client, settings, owner)
    url = reverse("taqsit:merchant-settings")
    form = client.get(url).context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(
        {
            "late_fee_amount": "",
            "late_fee_percent": "",
            "late_fee_cap": "",
            "contract_clauses_en": "Goods stay ours until paid.",
            "contract_clauses_ar": "تبقى البضاعة ملكنا حتى السداد.",
            "contract_clauses_es": "",
        }
    )
    data = {key: value for key, value in data.items() if not isinstance(value, bool) or value}

    response = client.post(url, data)

    assert response.status_code == 302, html(response)
    merchant.refresh_from_db()
    assert merchant.contract_clauses == {"en": "Goods stay ours until paid.", "ar": "تبقى البضاعة ملكنا حتى السداد."}


def test_the_merchant_api_reads_and_checks_the_contract_clauses(owner, merchant, api_client):
    api_client.force_authenticate(owner)

    saved = api_client.patch("/api/merchant/", {"contract_clauses": {"es": "Cláusula."}}, format="json")
    refused = api_client.patch("/api/merchant/", {"contract_clauses": {"fr": "Clause."}}, format="json")

    assert saved.status_code == 200
    assert saved.json()["contract_clauses"] == {"es": "Cláusula."}
    assert refused.status_code == 400
    assert refused.json()["contract_clauses"] == ["'fr' is not a language of the contracts (en, ar, es)."]


def test_the_api_gives_the_contracts_hash_and_keeps_a_signature_drawn_on_a_tablet(plan, clerk, api_client):
    api_client.force_authenticate(clerk)
    contract = api_client.get(f"/api/installments/plans/{plan.pk}/contract/signatures/").json()
    assert contract == {
        "language": "en",
        "text_sha256": contract_build(plan=plan).text_sha256,
        "is_signed": False,
        "signatures": [],
    }
    image = signature_png()

    signed = api_client.post(
        f"/api/installments/plans/{plan.pk}/contract/signatures/",
        {"signer": "customer", "image": base64.b64encode(image).decode(), "text_sha256": contract["text_sha256"]},
        format="json",
    )

    assert signed.status_code == 201, signed.json()
    body = signed.json()
    assert body["signer_name"] == "Amina Haddad"
    assert body["text_sha256"] == contract["text_sha256"]
    assert body["matches"] is True
    assert ContractSignature.objects.get().image.read() == image
    after = api_client.get(f"/api/installments/plans/{plan.pk}/contract/signatures/").json()
    assert after["is_signed"] is True
    assert [signature["id"] for signature in after["signatures"]] == [body["id"]]


def test_the_api_refuses_a_signature_under_an_old_text_with_409(plan, clerk, viewer, api_client):
    api_client.force_authenticate(clerk)
    body = {"signer": "customer", "image": base64.b64encode(signature_png()).decode(), "text_sha256": "a" * 64}

    stale = api_client.post(f"/api/installments/plans/{plan.pk}/contract/signatures/", body, format="json")

    assert stale.status_code == 409
    assert stale.json()["text_sha256"] == [
        "The contract has changed since it was shown: read the new text and sign again."
    ]
    api_client.force_authenticate(viewer)
    assert (
        api_client.post(f"/api/installments/plans/{plan.pk}/contract/signatures/", body, format="json").status_code
        == 403
    )
    assert ContractSignature.objects.count() == 0
