"""``customer_validate`` (what the admin's form and the services check, writing nothing) and ``customer_search``
(the one customer search of the customer list and the collections list)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from customers.models import Customer
from customers.selectors import customer_search
from customers.services import customer_validate
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_customer_validate_normalises_and_writes_nothing(merchant):
    candidate = Customer(merchant=merchant, name="  Omar Khalil ", phone="(415) 555-0142", national_id=" X-1 ")

    assert customer_validate(customer=candidate) is candidate
    assert (candidate.name, candidate.phone, candidate.national_id) == ("Omar Khalil", "+14155550142", "X-1")
    assert not Customer.objects.exists()


def test_customer_validate_names_the_twins(merchant, customer):
    customer.national_id = "A-77"
    customer.save()
    candidate = Customer(merchant=merchant, name="Omar", phone=customer.phone, national_id="a-77")

    with pytest.raises(ValidationError) as refused:
        customer_validate(customer=candidate)

    assert refused.value.message_dict == {
        "phone": [f"Amina Haddad already has the phone {customer.phone}."],
        "national_id": ["Amina Haddad already has the national id a-77."],
    }


@pytest.mark.parametrize(
    ("term", "national_id", "expected"),
    [
        ("jose", False, ["José Ruiz"]),
        ("555-0111", False, ["José Ruiz"]),
        ("ID-9", False, []),
        ("ID-9", True, ["Lina Saad"]),
        ("", False, ["José Ruiz", "Lina Saad"]),
    ],
)
def test_customer_search_by_name_phone_digits_and_national_id(merchant, term, national_id, expected):
    CustomerFactory(merchant=merchant, name="José Ruiz", phone="+14155550111")
    CustomerFactory(merchant=merchant, name="Lina Saad", phone="+14155550122", national_id="ID-9")

    found = customer_search(Customer.objects.for_merchant(merchant), term, national_id=national_id)

    assert sorted(found.values_list("name", flat=True)) == expected
