"""Shared fixtures: a merchant with one user per role, and a second merchant to prove tenancy."""

import pytest

from customers.tests.factories import CustomerFactory
from taqsit.models import Role
from taqsit.tests.factories import MerchantFactory, UserFactory


@pytest.fixture
def merchant(db):
    return MerchantFactory(name="Viejos Recuerdos")


@pytest.fixture
def owner(merchant):
    return UserFactory(merchant=merchant, role=Role.OWNER, username="owner")


@pytest.fixture
def manager(merchant):
    return UserFactory(merchant=merchant, role=Role.MANAGER, username="manager")


@pytest.fixture
def clerk(merchant):
    return UserFactory(merchant=merchant, role=Role.CLERK, username="clerk")


@pytest.fixture
def viewer(merchant):
    return UserFactory(merchant=merchant, role=Role.VIEWER, username="viewer")


@pytest.fixture
def customer(merchant):
    return CustomerFactory(merchant=merchant, name="Amina Haddad")


@pytest.fixture
def other_merchant(db):
    return MerchantFactory(name="Another Shop")


@pytest.fixture
def other_owner(other_merchant):
    return UserFactory(merchant=other_merchant, role=Role.OWNER, username="other-owner")


@pytest.fixture
def superuser(db):
    return UserFactory(merchant=None, role=Role.OWNER, username="platform", is_superuser=True, is_staff=True)
