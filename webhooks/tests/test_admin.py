"""Webhooks in the admin: platform admins read endpoints (never their secret), deliveries and their attempts;
nothing is added, changed or deleted there."""

from __future__ import annotations

import pytest
from django.test import Client

from installments.tests.factories import plan_make
from taqsit.tenancy import merchant_scope
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import deliveries_deliver, endpoint_create

pytestmark = pytest.mark.django_db


def test_a_platform_admin_reads_endpoints_and_deliveries_and_changes_nothing(
    superuser, merchant, owner, customer, receiver
):
    endpoint = endpoint_create(actor=owner, url=receiver.url, events=["plan.created"])
    plan_make(actor=owner, customer=customer)
    with merchant_scope(merchant.pk):
        deliveries_deliver(merchant_id=merchant.pk)
    delivery = WebhookDelivery.objects.get()
    client = Client()
    client.force_login(superuser)

    assert client.get("/admin/webhooks/webhookendpoint/").status_code == 200
    page = client.get(f"/admin/webhooks/webhookendpoint/{endpoint.pk}/change/")
    assert page.status_code == 200
    assert receiver.url.encode() in page.content
    assert endpoint.secret.encode() not in page.content
    assert client.get("/admin/webhooks/webhookdelivery/").status_code == 200
    delivery_page = client.get(f"/admin/webhooks/webhookdelivery/{delivery.pk}/change/")
    assert delivery_page.status_code == 200
    assert b"plan.created" in delivery_page.content
    assert b"{&quot;ok&quot;: true}" in delivery_page.content
    assert client.post(f"/admin/webhooks/webhookendpoint/{endpoint.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/webhooks/webhookendpoint/add/").status_code == 403
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


def test_merchant_staff_do_not_reach_the_admin(client, owner):
    owner.is_staff = True
    owner.save()
    client.force_login(owner)

    response = client.get("/admin/webhooks/webhookendpoint/")
    assert (response.status_code, response["Location"]) == (302, "/admin/login/?next=/admin/webhooks/webhookendpoint/")
