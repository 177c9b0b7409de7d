"""The staff side: a customer's portal link over the API and on the customer's page, the merchant's policy."""

import pytest
from django.urls import reverse

from customers.models import Customer, PortalLink
from customers.tests.factories import CustomerFactory
from taqsit.models import Merchant

pytestmark = pytest.mark.django_db


def _url(customer) -> str:
    return f"/api/customers/{customer.pk}/portal-link/"


@pytest.mark.parametrize("role", ["owner", "manager", "clerk", "viewer"])
def test_every_role_issues_a_link(api_client, request, customer, role):
    api_client.force_authenticate(request.getfixturevalue(role))
    response = api_client.post(_url(customer), format="json")
    assert response.status_code == 201
    body = response.json()
    assert sorted(body) == ["expires_at", "token", "url"]
    assert body["url"] == f"https://shop.example/portal/l/{body['token']}/"
    link = PortalLink.objects.get()
    assert link.expires_at.isoformat().replace("+00:00", "Z") == body["expires_at"]
    assert link.created_by.username == role


def test_revoking_answers_204_and_ends_the_old_link_and_its_tokens(api_client, clerk, customer):
    api_client.force_authenticate(clerk)
    token = api_client.post(_url(customer), format="json").json()["token"]
    portal = type(api_client)()
    tokens = portal.post("/api/portal/auth/link/", {"token": token}, format="json").json()

    response = api_client.delete(_url(customer))

    assert response.status_code == 204
    assert portal.post("/api/portal/auth/link/", {"token": token}, format="json").status_code == 400
    portal.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert portal.get("/api/portal/me/").status_code == 401
    assert Customer.objects.get(pk=customer.pk).portal_epoch == 1


def test_another_merchants_customer_is_a_404(api_client, other_owner, customer):
    api_client.force_authenticate(other_owner)
    assert api_client.post(_url(customer), format="json").status_code == 404
    assert api_client.delete(_url(customer)).status_code == 404
    assert PortalLink.objects.count() == 0


def test_no_link_while_the_portal_is_off(api_client, clerk, customer):
    Merchant.objects.update(portal_enabled=False)
    api_client.force_authenticate(clerk)
    response = api_client.post(_url(customer), format="json")
    assert (response.status_code, response.json()) == (
        409,
        {
            "non_field_errors": [
                "The customer portal is turned off for this shop: an owner turns it on in the settings."
            ]
        },
    )
    assert api_client.delete(_url(customer)).status_code == 204


def test_the_link_takes_no_body(api_client, clerk, customer):
    api_client.force_authenticate(clerk)
    response = api_client.post(_url(customer), {"days": 5}, format="json")
    assert (response.status_code, response.json()) == (400, {"days": ["Unknown field."]})


def test_self_registered_customers_are_filtered_and_badged(api_client, client, clerk, merchant, customer):
    CustomerFactory(merchant=merchant, name="Omar Saleh", origin=Customer.Origin.PORTAL)
    api_client.force_authenticate(clerk)
    body = api_client.get("/api/customers/?origin=portal").json()
    assert [(row["name"], row["origin"]) for row in body["results"]] == [("Omar Saleh", "portal")]
    client.force_login(clerk)
    html = client.get("/customers/").content.decode()
    assert html.count("Self-registered") == 1


def test_the_portal_link_page_shows_the_link_and_its_qr_code_once(client, viewer, customer):
    client.force_login(viewer)
    page = client.get(reverse("customers:customer-detail", args=[customer.pk])).content.decode()
    assert f'href="/customers/{customer.pk}/portal-link/"' in page

    response = client.get(f"/customers/{customer.pk}/portal-link/")
    assert response.status_code == 200
    assert "Create a portal link" in response.content.decode()
    assert PortalLink.objects.count() == 0

    response = client.post(f"/customers/{customer.pk}/portal-link/", {"action": "issue"})
    html = response.content.decode()
    assert response.status_code == 200
    assert '<svg viewBox="' in html and 'class="segno"' in html
    assert "<title>QR code of the portal link</title>" in html
    assert 'href="https://shop.example/portal/l/' in html
    assert "data-print" in html
    assert "style=" not in html
    assert PortalLink.objects.count() == 1

    response = client.post(f"/customers/{customer.pk}/portal-link/", {"action": "revoke"}, follow=True)
    assert "1 portal link was revoked; the customer&#x27;s portal sessions have ended." in response.content.decode()
    assert PortalLink.objects.get().revoked_at is not None


def test_the_portal_link_page_with_the_portal_off(client, clerk, customer):
    Merchant.objects.update(portal_enabled=False)
    client.force_login(clerk)
    page = client.get(reverse("customers:customer-detail", args=[customer.pk])).content.decode()
    assert "/portal-link/" not in page
    response = client.post(f"/customers/{customer.pk}/portal-link/", {"action": "issue"}, follow=True)
    assert "The customer portal is turned off for this shop" in response.content.decode()
    assert PortalLink.objects.count() == 0


def test_another_merchants_page_is_a_404(client, other_owner, customer):
    client.force_login(other_owner)
    assert client.get(f"/customers/{customer.pk}/portal-link/").status_code == 404


def test_the_owner_turns_the_portal_on_in_the_settings(client, api_client, owner, merchant):
    Merchant.objects.update(portal_enabled=False)
    client.force_login(owner)
    page = client.get("/settings/").content.decode()
    assert "Customer portal" in page and 'name="portal_self_registration"' in page
    assert "A new customer signs up on the portal, verified by a code sent to their phone." in page
    api_client.force_authenticate(owner)
    response = api_client.patch(
        "/api/merchant/", {"portal_enabled": True, "portal_self_registration": True}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["portal_enabled"], body["portal_self_registration"], body["portal_transfer_reports"]) == (
        True,
        True,
        True,
    )


def test_only_the_owner_changes_the_portal_policy(api_client, manager):
    api_client.force_authenticate(manager)
    assert api_client.patch("/api/merchant/", {"portal_enabled": False}, format="json").status_code == 403
