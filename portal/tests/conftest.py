"""The portal's fixtures: a merchant with its portal open, codes sent to memory, Celery run in the test."""

import pytest

from customers.models import Customer
from customers.portal_links import portal_link_issue
from notifications.channels.sms import LocmemSmsBackend
from taqsit.celery import app as celery_app
from taqsit.models import Merchant


@pytest.fixture(autouse=True)
def _portal_settings(settings):
    settings.SITE_URL = "https://shop.example"
    settings.PORTAL_LINK_DAYS = 30
    settings.SMS_BACKEND = "locmem"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture(autouse=True)
def _eager_celery():
    previous = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous


@pytest.fixture
def sms_outbox():
    LocmemSmsBackend.outbox.clear()
    yield LocmemSmsBackend.outbox
    LocmemSmsBackend.outbox.clear()


@pytest.fixture
def merchant(merchant):
    """The shared merchant, with its portal open."""
    Merchant.objects.filter(pk=merchant.pk).update(portal_enabled=True)
    merchant.refresh_from_db()
    return merchant


@pytest.fixture
def other_merchant(other_merchant):
    Merchant.objects.filter(pk=other_merchant.pk).update(portal_enabled=True)
    other_merchant.refresh_from_db()
    return other_merchant


@pytest.fixture
def customer(merchant):
    return Customer.objects.create(
        merchant=merchant, name="Amina Haddad", phone="+14155550123", email="amina@example.com", language="en"
    )


@pytest.fixture
def link(customer):
    """A link issued to ``customer`` by the system."""
    return portal_link_issue(customer=customer)
