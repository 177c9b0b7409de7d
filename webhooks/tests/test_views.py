"""The owner's webhooks pages: add an endpoint (its secret shown once), edit it, rotate its secret, see every
delivery with its attempts, send one again (htmx), the banner of a disabled endpoint; nobody else's, nobody else."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from installments.tests.factories import plan_make
from taqsit.models import Role
from taqsit.tenancy import merchant_scope
from taqsit.tests.factories import UserFactory
from taqsit.tests.pages import html, signed_in
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import deliveries_deliver, endpoint_create

pytestmark = pytest.mark.django_db

LIST = "/settings/webhooks/"


def test_the_owners_navigation_links_to_the_webhooks(client, settings, owner):
    page = html(signed_in(client, settings, owner).get("/"))
    assert f'href="{LIST}">Webhooks</a>' in page


def test_the_owner_adds_an_endpoint_and_sees_its_secret_once(client, settings, owner, receiver):
    web = signed_in(client, settings, owner)

    response = web.post(
        f"{LIST}new/",
        {"url": receiver.url, "description": "ERP", "events": ["payment.posted", "plan.created"], "is_active": "on"},
    )

    endpoint = WebhookEndpoint.objects.get()
    assert response.status_code == 200
    assert f'value="{endpoint.secret}"' in html(response)
    assert (endpoint.url, endpoint.events, endpoint.description, endpoint.is_active) == (
        receiver.url,
        ["payment.posted", "plan.created"],
        "ERP",
        True,
    )
    assert endpoint.secret not in html(web.get(LIST))
    assert endpoint.secret not in html(web.get(f"{LIST}{endpoint.pk}/"))


def test_a_bad_address_is_a_form_error(client, settings, owner):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    web = signed_in(client, settings, owner)

    response = web.post(f"{LIST}new/", {"url": "https://10.1.2.3/hook", "events": ["plan.created"]})

    assert response.status_code == 200
    assert "10.1.2.3 is not a public address." in html(response)
    assert WebhookEndpoint.objects.count() == 0
    response = web.post(f"{LIST}new/", {"url": "https://hooks.example.com/x"})
    assert "This field is required." in html(response)


def test_the_owner_edits_rotates_and_removes_an_endpoint(client, settings, owner, receiver):
    endpoint = endpoint_create(actor=owner, url=receiver.url, events=["plan.created"])
    old_secret = endpoint.secret
    web = signed_in(client, settings, owner)

    saved = web.post(f"{LIST}{endpoint.pk}/", {"url": receiver.url, "events": ["customer.created"]})
    assert saved.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.events, endpoint.is_active) == (["customer.created"], False)

    rotated = web.post(f"{LIST}{endpoint.pk}/rotate-secret/")
    endpoint.refresh_from_db()
    assert endpoint.secret != old_secret
    assert f'value="{endpoint.secret}"' in html(rotated)

    removed = web.post(f"{LIST}{endpoint.pk}/delete/")
    assert (removed.status_code, removed["Location"]) == (302, LIST)
    assert WebhookEndpoint.objects.count() == 0


def test_the_deliveries_show_their_attempts_and_send_again_swaps_the_row(
    client, settings, merchant, owner, customer, receiver
):
    endpoint = endpoint_create(actor=owner, url=receiver.url, events=["plan.created"])
    plan_make(actor=owner, customer=customer)
    receiver.status = 500
    with merchant_scope(merchant.pk):
        deliveries_deliver(merchant_id=merchant.pk)
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=WebhookDelivery.Status.FAILED)
    web = signed_in(client, settings, owner)

    page = html(web.get(f"{LIST}{endpoint.pk}/"))
    assert "plan.created" in page
    assert "HTTP 500" in page
    assert "Given up" in page
    assert "{&quot;ok&quot;: false}" in page

    row = web.post(reverse("webhooks:delivery-redeliver", args=[delivery.pk]), headers={"HX-Request": "true"})
    assert row.status_code == 200
    assert html(row).startswith(f'<tr id="delivery-{delivery.pk}" data-delivery-status="pending">')
    delivery.refresh_from_db()
    assert delivery.status == "pending"


def test_a_disabled_endpoint_shows_a_banner(client, settings, owner, receiver):
    endpoint = endpoint_create(actor=owner, url=receiver.url, events=["plan.created"])
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        is_active=False, disabled_at=timezone.now(), consecutive_failures=20, failing_since=timezone.now()
    )
    web = signed_in(client, settings, owner)

    for url in (LIST, f"{LIST}{endpoint.pk}/"):
        page = html(web.get(url))
        assert f'data-disabled-endpoint="{endpoint.pk}"' in page
        assert "was disabled after 20 failed deliveries in a row" in page


@pytest.mark.parametrize("role", [Role.MANAGER, Role.CLERK, Role.VIEWER])
def test_only_the_owner_sees_the_pages(client, settings, merchant, owner, receiver, role):
    endpoint = endpoint_create(actor=owner, url=receiver.url, events=["plan.created"])
    web = signed_in(client, settings, UserFactory(merchant=merchant, role=role))

    assert web.get(LIST).status_code == 403
    assert web.get(f"{LIST}{endpoint.pk}/").status_code == 403
    assert web.post(f"{LIST}{endpoint.pk}/rotate-secret/").status_code == 403
    assert 'href="/settings/webhooks/"' not in html(web.get("/"))


def test_another_merchants_endpoints_and_deliveries_are_404s(client, settings, owner, customer, other_owner, receiver):
    endpoint = endpoint_create(actor=owner, url=receiver.url, events=["plan.created"])
    plan_make(actor=owner, customer=customer)
    delivery = WebhookDelivery.objects.get()
    web = signed_in(client, settings, other_owner)

    assert receiver.url not in html(web.get(LIST))
    assert web.get(f"{LIST}{endpoint.pk}/").status_code == 404
    assert web.post(f"{LIST}{endpoint.pk}/rotate-secret/").status_code == 404
    assert web.post(f"{LIST}{endpoint.pk}/delete/").status_code == 404
    assert web.post(reverse("webhooks:delivery-redeliver", args=[delivery.pk])).status_code == 404
    assert WebhookEndpoint.objects.get().secret == endpoint.secret


def test_the_pages_speak_arabic_right_to_left(client, settings, owner, receiver):
    endpoint = endpoint_create(actor=owner, url=receiver.url, events=["plan.created"])
    web = signed_in(client, settings, owner)
    web.cookies[settings.LANGUAGE_COOKIE_NAME] = "ar"

    page = html(web.get(f"{LIST}{endpoint.pk}/"))

    assert 'dir="rtl"' in page
    assert "عنوان الويب هوك" in page
    assert f'<bdi dir="ltr" class="text-break">{receiver.url}</bdi>' in page
