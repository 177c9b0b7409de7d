import pytest

from webhooks.models import WebhookEndpoint
from webhooks.services import endpoint_create
from webhooks.tests.receiver import Receiver


@pytest.fixture(autouse=True)
def _local_receivers_allowed(settings):
    """The local receiver is on 127.0.0.1: allowed here; the tests of refusal turn it off."""
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True


@pytest.fixture
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def endpoint(owner, receiver) -> WebhookEndpoint:
    return endpoint_create(actor=owner, url=receiver.url, events=["payment.posted", "plan.completed", "plan.created"])


@pytest.fixture
def plan_endpoint(owner, receiver) -> WebhookEndpoint:
    """An endpoint that wants only plan.created: one delivery per plan."""
    return endpoint_create(actor=owner, url=receiver.url, events=["plan.created"])
