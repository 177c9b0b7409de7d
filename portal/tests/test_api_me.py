"""The borrower API's me/: an empty change is no change (found by the schema's generated requests)."""

import pytest

from customers.models import Customer
from portal.tests.borrower import bearer

pytestmark = pytest.mark.django_db


def test_an_empty_patch_of_me_answers_the_customer_unchanged(api_client, customer, today):
    client = bearer(api_client, customer)

    response = client.patch("/api/portal/me/", {}, format="json")

    assert (response.status_code, response.json()["language"], response.json()["name"]) == (200, "en", "Amina Haddad")
    assert Customer.objects.get(pk=customer.pk).language == "en"
