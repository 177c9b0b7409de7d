"""Issue 15 on the pages and the API: serials, the sale reference and guarantors on plan create, the plan page,
search, the exposure panel and endpoint, guarantors added and removed. Frozen at 2026-03-01 (``today``)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from customers.tests.factories import CustomerFactory
from installments.models import InstallmentPlan
from installments.tests.factories import plan_make
from installments.tests.test_views import plan_data
from taqsit.tests.pages import html, signed_in

pytestmark = pytest.mark.django_db

PLANS = "/api/installments/plans/"
EXPOSURE = "/api/installments/exposure/"


def guarantor_fields(*guarantors: dict) -> dict:
    data = {
        "guarantors-TOTAL_FORMS": str(max(len(guarantors), 2)),
        "guarantors-INITIAL_FORMS": "0",
        "guarantors-MIN_NUM_FORMS": "0",
        "guarantors-MAX_NUM_FORMS": "5",
    }
    for index, guarantor in enumerate(guarantors):
        data.update({f"guarantors-{index}-{key}": value for key, value in guarantor.items()})
    return data


PHONE = {"product": "", "description": "Phone X", "quantity": "1", "unit_price": "800.00"}
SOLD = {"description": "Phone X", "unit_price": "800.00"}  # an item as the service takes it


@pytest.fixture
def api(api_client, manager, today):
    api_client.force_authenticate(manager)
    return api_client


# Pages -----------------------------------------------------------------------------------------------------


def test_a_clerk_sells_a_phone_with_its_imei_a_sale_reference_and_a_guarantor(
    client, settings, clerk, customer, merchant, today
):
    client = signed_in(client, settings, clerk)
    data = plan_data(
        customer=customer,
        items=[{**PHONE, "serial_number": "35 2099 1234 5678"}],
        number_of_installments="4",
        sale_reference="POS-881",
        **guarantor_fields({"name": "Karim Saleh", "phone": "4155550199", "relation": "Brother"}),
    )

    response = client.post(reverse("installments:plan-create"), data, follow=True)

    plan = InstallmentPlan.objects.get(customer=customer)
    page = html(response)
    assert (plan.sale_reference, plan.items.get().serial_number) == ("POS-881", "352099123456 78".replace(" ", ""))
    assert list(plan.guarantors.values_list("name", "phone", "relation")) == [
        ("Karim Saleh", "+14155550199", "Brother")
    ]
    assert "352099123456 78".replace(" ", "") in page
    assert "POS-881" in page
    assert "Karim Saleh" in page


def test_the_new_plan_page_refuses_a_serial_on_an_open_plan_and_a_missing_guarantor(
    client, settings, clerk, owner, customer, merchant, today
):
    held = plan_make(actor=owner, customer=customer, items=[{**SOLD, "serial_number": "SN-1"}], total_amount=None)
    merchant.guarantor_required_above = Decimal("500.00")
    merchant.save(update_fields=["guarantor_required_above"])
    client = signed_in(client, settings, clerk)
    data = plan_data(
        customer=CustomerFactory(merchant=merchant),
        items=[{**PHONE, "serial_number": "sn-1"}],
        number_of_installments="4",
        **guarantor_fields(),
    )

    response = client.post(reverse("installments:plan-create"), data)

    page = html(response)
    assert response.status_code == 200
    assert f"The serial number SN-1 is already on plan {held.reference}, which is still open." in page
    assert InstallmentPlan.objects.count() == 1


def test_the_plan_list_searches_serials_and_sale_references(client, settings, clerk, owner, customer, today):
    plan_make(
        actor=owner,
        customer=customer,
        items=[{**SOLD, "serial_number": "IMEI-77"}],
        total_amount=None,
        sale_reference="POS-1",
    )
    client = signed_in(client, settings, clerk)

    found = html(client.get(reverse("installments:plan-list"), {"search": "imei-77"}))
    missed = html(client.get(reverse("installments:plan-list"), {"search": "IMEI-78"}))

    assert "P-000001" in found
    assert "P-000001" not in missed


def test_the_exposure_panel_shows_the_customer_and_the_typed_guarantor(
    client, settings, clerk, owner, customer, merchant, today
):
    badr = CustomerFactory(merchant=merchant, name="Badr", national_id="B-7")
    plan_make(actor=owner, customer=badr, guarantors=[{"name": "Amina", "phone": customer.phone}])
    client = signed_in(client, settings, clerk)
    data = {"customer": str(customer.pk), **guarantor_fields({"name": "Badr", "national_id": "b-7"})}

    response = client.post(reverse("installments:plan-exposure"), data, HTTP_HX_REQUEST="true")

    page = html(response)
    assert response.status_code == 200
    rows = [" ".join(row.split()) for row in page.split("<tr")[2:]]
    assert [row for row in rows if "$800.00" in row] != []
    assert page.count("overdue: 1") == 2  # Amina as guarantor of Badr's plan, Badr as its customer


def test_a_manager_adds_a_guarantor_on_the_plan_page_and_cannot_remove_it(
    client, settings, manager, owner, customer, today
):
    plan = plan_make(actor=owner, customer=customer)
    client = signed_in(client, settings, manager)

    client.post(reverse("installments:plan-guarantor-add", args=[plan.pk]), {"name": "Lina", "phone": "+14155550188"})
    guarantor = plan.guarantors.get()
    response = client.post(reverse("installments:plan-guarantor-remove", args=[plan.pk, guarantor.pk]), follow=True)

    assert guarantor.name == "Lina"
    assert plan.guarantors.count() == 1
    assert "its guarantors stay on it" in html(response)


# API -------------------------------------------------------------------------------------------------------


def _body(customer, **extra) -> dict:
    return {
        "customer": str(customer.pk),
        "down_payment": "100.00",
        "number_of_installments": 4,
        "installment_frequency": "monthly",
        "start_date": "2026-01-15",
        "items": [{"description": "Phone X", "unit_price": "800.00", "serial_number": " 35 2099 abc "}],
        **extra,
    }


def test_the_api_creates_a_plan_with_serials_a_sale_reference_and_guarantors(api, customer):
    response = api.post(
        PLANS,
        _body(
            customer,
            sale_reference="POS-9",
            guarantors=[{"name": "Karim", "phone": "(415) 555-0199", "national_id": "G-1", "relation": "Uncle"}],
        ),
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["sale_reference"] == "POS-9"
    assert [item["serial_number"] for item in body["items"]] == ["352099ABC"]
    assert [
        {key: value for key, value in guarantor.items() if key not in ("id", "created_at")}
        for guarantor in body["guarantors"]
    ] == [{"name": "Karim", "phone": "+14155550199", "national_id": "G-1", "address": "", "relation": "Uncle"}]


def test_the_api_refuses_a_held_serial_and_a_missing_guarantor_with_400(api, customer, merchant):
    assert api.post(PLANS, _body(customer), format="json").status_code == 201
    merchant.guarantor_required_above = Decimal("500.00")
    merchant.save(update_fields=["guarantor_required_above"])

    twice = api.post(PLANS, _body(CustomerFactory(merchant=merchant)), format="json")
    preview = api.post(f"{PLANS}preview/", {k: v for k, v in _body(customer).items() if k != "customer"}, format="json")
    alone = api.post(PLANS, _body(customer, items=[{"description": "TV", "unit_price": "800.00"}]), format="json")

    assert twice.status_code == 400
    assert twice.json()["items"] == ["The serial number 352099ABC is already on plan P-000001, which is still open."]
    assert alone.status_code == 400
    assert alone.json() == {"guarantors": ["A plan financing more than 500.00 needs a guarantor: add at least one."]}
    assert preview.status_code == 400
    assert preview.json()["items"] == twice.json()["items"]


def test_the_api_search_finds_a_plan_by_serial_or_sale_reference(api, customer, merchant):
    api.post(PLANS, _body(customer, sale_reference="POS-1"), format="json")
    api.post(
        PLANS,
        _body(CustomerFactory(merchant=merchant), items=[{"description": "TV", "unit_price": "800.00"}]),
        format="json",
    )

    def found(term: str) -> list[str]:
        return [plan["reference"] for plan in api.get(PLANS, {"search": term}).json()["results"]]

    assert found("2099 ab") == ["P-000001"]
    assert found("pos-1") == ["P-000001"]
    assert found("nothing-like-it") == []


def test_guarantors_added_and_removed_over_the_api(api, api_client, clerk, customer, merchant):
    plan_id = api.post(PLANS, _body(customer), format="json").json()["id"]

    added = api.post(f"{PLANS}{plan_id}/guarantors/", {"name": "Lina", "phone": "+14155550188"}, format="json")
    guarantor_id = added.json()["guarantors"][0]["id"]
    removed = api.delete(f"{PLANS}{plan_id}/guarantors/{guarantor_id}/")
    api_client.force_authenticate(clerk)
    clerk_add = api_client.post(f"{PLANS}{plan_id}/guarantors/", {"name": "Omar", "phone": "+14155550177"})

    assert added.status_code == 201
    assert removed.status_code == 400
    assert removed.json()["guarantor"] == [
        "Plan P-000001 is active: its guarantors stay on it; only an application's can be removed."
    ]
    assert clerk_add.status_code == 403


def test_the_exposure_endpoint(api, owner, customer, merchant, other_merchant):
    badr = CustomerFactory(merchant=merchant, name="Badr", national_id="B-7", phone="+14155550122")
    plan_make(actor=owner, customer=customer, guarantors=[{"name": "Badr", "phone": "+14155550122"}])

    response = api.get(EXPOSURE, {"customer": str(customer.pk), "national_id": "b-7", "name": "Badr"})
    by_phone = api.get(EXPOSURE, {"phone": "(415) 555-0122"})
    bad = api.get(EXPOSURE, {"phone": "12"})

    none = {"open_plans": 0, "balance": "0.00", "overdue_plans": 0, "defaulted_plans": 0}
    none |= {"is_overdue": False, "is_defaulted": False}
    late = {"open_plans": 1, "balance": "800.00", "overdue_plans": 1, "defaulted_plans": 0}
    late |= {"is_overdue": True, "is_defaulted": False}
    assert response.status_code == 200, response.content
    assert response.json() == {
        "currency": "USD",
        "customer": {
            "name": "Amina Haddad",
            "national_id": "",
            "phone": customer.phone,
            "as_customer": late,
            "as_guarantor": none,
            "is_late": True,
        },
        # Badr has a national id: guarantors are matched by it, and the plan's guarantor was given by phone only.
        "guarantor": {
            "name": "Badr",
            "national_id": "b-7",
            "phone": "",
            "as_customer": none,
            "as_guarantor": none,
            "is_late": False,
        },
    }
    assert by_phone.json()["customer"] is None
    assert by_phone.json()["guarantor"]["as_guarantor"] == late
    assert bad.status_code == 400
    assert badr.pk is not None


def test_the_plan_export_carries_the_sale_reference_and_the_serials(client, settings, clerk, owner, customer, today):
    plan_make(
        actor=owner,
        customer=customer,
        items=[{**SOLD, "serial_number": "SN-B"}, {**SOLD, "serial_number": ""}, {**SOLD, "serial_number": "SN-A"}],
        total_amount=None,
        down_payment="400.00",
        sale_reference="POS-3",
    )
    client = signed_in(client, settings, clerk)

    response = client.get(reverse("installments:plan-list-csv"))

    header, line = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert dict(zip(header, line, strict=True))["sale_reference"] == "POS-3"
    assert dict(zip(header, line, strict=True))["serial_numbers"] == "SN-B SN-A"


# The guarantor policy in the settings ----------------------------------------------------------------------


SETTINGS = {
    "name": "Viejos Recuerdos",
    "currency": "USD",
    "timezone": "UTC",
    "language": "en",
    "country": "US",
    "reminder_days_before": "3",
    "grace_days": "0",
    "late_fee_method": "none",
    "late_fee_amount": "0",
    "late_fee_percent": "0",
    "default_after_days": "90",
}


def test_the_owner_sets_the_guarantor_policy_on_the_settings_page(client, settings, owner, merchant):
    client = signed_in(client, settings, owner)

    saved = client.post(
        reverse("taqsit:merchant-settings"),
        {**SETTINGS, "guarantor_required_above": "1500.00", "guarantor_copy_after_days": "10"},
    )
    refused = client.post(reverse("taqsit:merchant-settings"), {**SETTINGS, "guarantor_required_above": "10.555"})

    merchant.refresh_from_db()
    assert saved.status_code == 302
    assert (merchant.guarantor_required_above, merchant.guarantor_copy_after_days) == (Decimal("1500.00"), 10)
    assert refused.status_code == 200
    assert "10.555" in html(refused)
    assert 'name="guarantor_required_above"' in html(client.get(reverse("taqsit:merchant-settings")))


def test_the_merchant_api_reads_and_changes_the_guarantor_policy(api_client, owner, merchant):
    api_client.force_authenticate(owner)

    changed = api_client.patch(
        "/api/merchant/", {"guarantor_required_above": "2000", "guarantor_copy_after_days": 7}, format="json"
    )
    cleared = api_client.patch("/api/merchant/", {"guarantor_required_above": None}, format="json")

    assert changed.status_code == 200, changed.content
    assert (changed.json()["guarantor_required_above"], changed.json()["guarantor_copy_after_days"]) == ("2000.00", 7)
    assert cleared.json()["guarantor_required_above"] is None
