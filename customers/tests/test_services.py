"""Customers: phone numbers in E.164, uniqueness within a merchant, roles, and the selectors."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from customers.models import Customer
from customers.selectors import customer_list
from customers.services import customer_create, customer_update
from customers.tests.factories import CustomerFactory
from taqsit.models import Merchant, Role
from taqsit.tests.factories import MerchantFactory, UserFactory

pytestmark = pytest.mark.django_db


# A read only this test made: the API and pages scope by the merchant through the viewsets.
def customer_get(*, merchant: Merchant, pk) -> Customer:
    """One customer of the merchant; another merchant's is ``Customer.DoesNotExist``."""
    return Customer.objects.for_merchant(merchant).get(pk=pk)


# customer_create ------------------------------------------------------------------------------------------


def test_a_local_number_is_read_with_the_merchants_country(clerk, merchant):
    customer = customer_create(
        actor=clerk,
        name="  Youssef Karam  ",
        phone="(415) 555-0123",
        email="youssef@example.com",
        national_id=" ab-123 ",
        address="12 Market Street",
        language="ar",
        notes="Prefers mornings",
        sms_opt_out=True,
    )

    customer.refresh_from_db()
    assert customer.merchant == merchant
    assert customer.created_by == clerk
    assert customer.name == "Youssef Karam"
    assert customer.phone == "+14155550123"
    assert customer.email == "youssef@example.com"
    assert customer.national_id == "ab-123"
    assert customer.address == "12 Market Street"
    assert customer.language == "ar"
    assert customer.notes == "Prefers mornings"
    assert customer.sms_opt_out is True
    assert customer.email_opt_out is False


def test_a_local_number_in_another_country(db):
    merchant = MerchantFactory(country="SA", currency="SAR", timezone="Asia/Riyadh")
    clerk = UserFactory(merchant=merchant, role=Role.CLERK)

    customer = customer_create(actor=clerk, name="Noura", phone="050 123 4567")

    assert customer.phone == "+966501234567"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+966 50 123 4567", "+966501234567"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+1 415-555-0199", "+14155550199"),
        ("  +14155550188  ", "+14155550188"),
    ],
)
def test_an_international_number_is_kept_whatever_the_merchants_country(owner, raw, expected):
    assert customer_create(actor=owner, name="Traveller", phone=raw).phone == expected


@pytest.mark.parametrize("raw", ["12345", "not a phone", "", "+999 1234 5678", "415 555 01234 5"])
def test_an_invalid_phone_is_refused_on_the_phone_field(clerk, raw, row_counts):
    before = row_counts()

    with pytest.raises(ValidationError) as excinfo:
        customer_create(actor=clerk, name="Nobody", phone=raw)

    assert list(excinfo.value.message_dict) == ["phone"]
    assert row_counts() == before


def test_a_duplicate_phone_is_refused_naming_the_other_customer(clerk, customer, row_counts):
    customer.phone = "+14155550123"
    customer.save()
    before = row_counts()

    with pytest.raises(ValidationError) as excinfo:
        customer_create(actor=clerk, name="Someone Else", phone="415.555.0123")

    assert excinfo.value.message_dict == {"phone": ["Amina Haddad already has the phone +14155550123."]}
    assert row_counts() == before


def test_the_same_phone_is_allowed_in_another_merchant(customer, other_owner):
    twin = customer_create(actor=other_owner, name="Amina H.", phone=customer.phone)

    assert twin.merchant == other_owner.merchant
    assert twin.phone == customer.phone
    assert Customer.objects.filter(phone=customer.phone).count() == 2


@pytest.mark.parametrize("national_id", ["ab123", "AB123", " aB123 "])
def test_a_duplicate_national_id_is_refused_whatever_its_case(clerk, merchant, national_id, row_counts):
    CustomerFactory(merchant=merchant, name="Rania Saleh", national_id="Ab123")
    before = row_counts()

    with pytest.raises(ValidationError) as excinfo:
        customer_create(actor=clerk, name="Impostor", phone="+14155550177", national_id=national_id)

    assert excinfo.value.message_dict == {
        "national_id": [f"Rania Saleh already has the national id {national_id.strip()}."]
    }
    assert row_counts() == before


def test_the_same_national_id_is_allowed_in_another_merchant(merchant, other_owner):
    CustomerFactory(merchant=merchant, name="Rania Saleh", national_id="AB123")

    twin = customer_create(actor=other_owner, name="Rania S.", phone="+14155550166", national_id="ab123")

    assert twin.national_id == "ab123"


def test_customers_without_a_national_id_do_not_collide(clerk, customer):
    customer_create(actor=clerk, name="First", phone="+14155550101")
    customer_create(actor=clerk, name="Second", phone="+14155550102", national_id="   ")

    assert Customer.objects.filter(national_id="").count() == 3


def test_every_problem_is_reported_at_once(clerk, customer, row_counts):
    before = row_counts()

    with pytest.raises(ValidationError) as excinfo:
        customer_create(actor=clerk, name=" ", phone=customer.phone, email="nope", language="xx")

    assert set(excinfo.value.message_dict) == {"name", "phone", "email", "language"}
    assert excinfo.value.message_dict["phone"] == [f"Amina Haddad already has the phone {customer.phone}."]
    assert row_counts() == before


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": ""}, "name"),
        ({"email": "not-an-email"}, "email"),
        ({"language": "fr"}, "language"),
        ({"merchant_id": "x"}, "merchant_id"),
        ({"created_by": None}, "created_by"),
    ],
)
def test_customer_create_refuses_bad_fields(owner, fields, field, row_counts):
    before = row_counts()
    arguments = {"name": "Karim", "phone": "+14155550155"}
    arguments.update(fields)

    with pytest.raises(ValidationError) as excinfo:
        customer_create(actor=owner, **arguments)

    assert field in excinfo.value.message_dict
    assert row_counts() == before


def test_a_viewer_may_not_create_a_customer(viewer, row_counts):
    before = row_counts()

    with pytest.raises(PermissionDenied):
        customer_create(actor=viewer, name="Karim", phone="+14155550155")

    assert row_counts() == before


@pytest.mark.parametrize("role", [Role.OWNER, Role.MANAGER, Role.CLERK])
def test_writers_create_customers(merchant, role):
    actor = UserFactory(merchant=merchant, role=role)

    customer = customer_create(actor=actor, name="Karim", phone="+14155550155")

    assert customer.merchant == merchant


def test_a_platform_admin_names_the_merchant(superuser, other_merchant, row_counts):
    before = row_counts()
    with pytest.raises(ValidationError) as excinfo:
        customer_create(actor=superuser, name="Karim", phone="+14155550155")
    assert list(excinfo.value.message_dict) == ["merchant"]
    assert row_counts() == before

    customer = customer_create(actor=superuser, merchant=other_merchant, name="Karim", phone="+14155550155")

    assert customer.merchant == other_merchant


def test_a_staff_member_cannot_choose_another_merchant(clerk, merchant, other_merchant):
    customer = customer_create(actor=clerk, merchant=other_merchant, name="Karim", phone="+14155550155")

    assert customer.merchant == merchant


# customer_update ------------------------------------------------------------------------------------------


def test_customer_update_normalises_the_new_phone(clerk, customer):
    updated = customer_update(actor=clerk, customer=customer, phone="415 555 0144", name=" Amina H. ", notes="VIP")

    customer.refresh_from_db()
    assert updated.pk == customer.pk
    assert customer.phone == "+14155550144"
    assert customer.name == "Amina H."
    assert customer.notes == "VIP"


def test_customer_update_keeps_the_customers_own_phone_and_national_id(clerk, customer):
    customer.national_id = "ZX-9"
    customer.save()

    customer_update(actor=clerk, customer=customer, phone=customer.phone, national_id="zx-9", email_opt_out=True)

    customer.refresh_from_db()
    assert customer.national_id == "zx-9"
    assert customer.email_opt_out is True


def test_customer_update_refuses_another_customers_phone(clerk, merchant, customer):
    other = CustomerFactory(merchant=merchant, name="Basel Omar", phone="+14155550133")
    original = customer.phone

    with pytest.raises(ValidationError) as excinfo:
        customer_update(actor=clerk, customer=customer, phone="(415) 555-0133")

    assert excinfo.value.message_dict == {"phone": [f"Basel Omar already has the phone {other.phone}."]}
    customer.refresh_from_db()
    assert customer.phone == original


def test_customer_update_refuses_another_customers_national_id(clerk, merchant, customer):
    CustomerFactory(merchant=merchant, name="Basel Omar", national_id="K-77")

    with pytest.raises(ValidationError) as excinfo:
        customer_update(actor=clerk, customer=customer, national_id="k-77")

    assert excinfo.value.message_dict == {"national_id": ["Basel Omar already has the national id k-77."]}
    customer.refresh_from_db()
    assert customer.national_id == ""


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"phone": "12"}, "phone"),
        ({"name": "  "}, "name"),
        ({"email": "x@"}, "email"),
        ({"merchant": None}, "merchant"),
        ({"created_by": None}, "created_by"),
    ],
)
def test_customer_update_refuses_bad_fields_and_changes_nothing(clerk, customer, fields, field):
    original = (customer.name, customer.phone, customer.email, customer.merchant_id)

    with pytest.raises(ValidationError) as excinfo:
        customer_update(actor=clerk, customer=customer, **fields)

    assert field in excinfo.value.message_dict
    customer.refresh_from_db()
    assert (customer.name, customer.phone, customer.email, customer.merchant_id) == original


def test_a_viewer_may_not_update_a_customer(viewer, customer):
    with pytest.raises(PermissionDenied):
        customer_update(actor=viewer, customer=customer, name="Changed")

    customer.refresh_from_db()
    assert customer.name == "Amina Haddad"


def test_another_merchants_customer_does_not_exist_for_the_clerk(customer, other_owner):
    with pytest.raises(Customer.DoesNotExist):
        customer_update(actor=other_owner, customer=customer, name="Hijacked")

    customer.refresh_from_db()
    assert customer.name == "Amina Haddad"


# Selectors ------------------------------------------------------------------------------------------------


@pytest.fixture
def directory(merchant, other_merchant):
    """Three customers of the merchant and one of another merchant with lookalike details."""
    return {
        "amina": CustomerFactory(merchant=merchant, name="Amina Haddad", phone="+14155550111", national_id="JD-1001"),
        "basel": CustomerFactory(merchant=merchant, name="Basel Amin", phone="+14155550222", national_id="JD-2002"),
        "carla": CustomerFactory(merchant=merchant, name="Carla Diaz", phone="+442079460958", national_id=""),
        "stranger": CustomerFactory(
            merchant=other_merchant, name="Amina Stranger", phone="+14155550111", national_id="JD-1001"
        ),
    }


def _names(queryset):
    return [customer.name for customer in queryset]


def test_customer_list_without_search_is_the_merchants_customers_by_name(merchant, directory):
    assert _names(customer_list(merchant=merchant)) == ["Amina Haddad", "Basel Amin", "Carla Diaz"]
    assert _names(customer_list(merchant=merchant, search="   ")) == ["Amina Haddad", "Basel Amin", "Carla Diaz"]


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("amin", ["Amina Haddad", "Basel Amin"]),
        ("HADDAD", ["Amina Haddad"]),
        ("  carla  ", ["Carla Diaz"]),
        ("5550222", ["Basel Amin"]),
        ("(415) 555-0111", ["Amina Haddad"]),
        ("+44 20 7946", ["Carla Diaz"]),
        ("415555", ["Amina Haddad", "Basel Amin"]),
        ("jd-2002", ["Basel Amin"]),
        ("JD-", ["Amina Haddad", "Basel Amin"]),
        ("Zainab", []),
    ],
)
def test_customer_list_searches_name_phone_and_national_id(merchant, directory, search, expected):
    assert _names(customer_list(merchant=merchant, search=search)) == expected


def test_customer_list_never_shows_another_merchants_customers(other_merchant, directory):
    assert _names(customer_list(merchant=other_merchant, search="amina")) == ["Amina Stranger"]
    assert _names(customer_list(merchant=other_merchant)) == ["Amina Stranger"]


def test_customer_get_returns_the_merchants_customer(merchant, directory):
    assert customer_get(merchant=merchant, pk=directory["basel"].pk) == directory["basel"]


def test_customer_get_of_another_merchants_customer_does_not_exist(merchant, other_merchant, directory):
    with pytest.raises(Customer.DoesNotExist):
        customer_get(merchant=merchant, pk=directory["stranger"].pk)
    with pytest.raises(Customer.DoesNotExist):
        customer_get(merchant=other_merchant, pk=directory["amina"].pk)
