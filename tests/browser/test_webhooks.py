"""Webhooks in a real browser: the owner adds an endpoint and copies its secret, sees a delivery that failed,
and sends it again (htmx swaps its row) once the receiver is back."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from installments.tests.factories import plan_make
from taqsit.celery import app as celery_app
from tests.browser.test_counter import log_in, menu
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.tests.receiver import Receiver

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True  # the receiver is on 127.0.0.1
    receiver = Receiver(port=20418).start()
    yield receiver
    receiver.stop()


@pytest.fixture
def eager_worker():
    """The worker's tasks run where they are sent (the kick after commit delivers at once)."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def test_the_owner_adds_an_endpoint_and_sends_a_failed_delivery_again(
    page: Page, owner, customer, receiver, eager_worker
):
    log_in(page, "owner")
    menu(page, "Webhooks")
    expect(page.locator("h1")).to_have_text("Webhooks")
    page.get_by_role("link", name="Add an endpoint").click()
    page.get_by_label("URL").fill(receiver.url)
    page.get_by_label("plan.created").check()
    page.get_by_role("button", name="Save").click()

    endpoint = WebhookEndpoint.objects.get()
    expect(page.locator("h1")).to_have_text("Endpoint added")
    expect(page.get_by_label("Signing secret")).to_have_value(endpoint.secret)
    page.get_by_role("link", name="Done").click()
    expect(page.locator("#main")).to_contain_text("Nothing sent yet.")

    receiver.status = 500
    plan_make(actor=owner, customer=customer)  # committed: the kick tries it at once, and the receiver fails
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=WebhookDelivery.Status.FAILED)  # a day later

    receiver.status = 200
    page.reload()
    row = page.locator(f"#delivery-{delivery.pk}")
    expect(row).to_contain_text("Given up")
    row.locator("summary").click()
    expect(row).to_contain_text("HTTP 500")
    row.get_by_role("button", name="Send again").click()

    row = page.locator(f"#delivery-{delivery.pk}")
    expect(row).to_have_attribute("data-delivery-status", "delivered")
    expect(row).to_contain_text("Delivered")
    expect(row.get_by_role("button", name="Send again")).to_be_visible()
    assert [item["status"] for item in receiver.received] == [500, 200]
    assert receiver.delivered()[0]["data"]["object"]["customer_name"] == customer.name
