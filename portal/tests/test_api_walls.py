"""The borrower API's link log-in, refresh and me; the walls between customers' tokens and the staff's."""

import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from customers.models import Customer
from customers.portal_links import portal_links_revoke
from portal.tokens import PortalAccessToken, PortalRefreshToken
from taqsit.models import Merchant

pytestmark = pytest.mark.django_db


def _portal_tokens(api_client, link) -> dict:
    response = api_client.post("/api/portal/auth/link/", {"token": link.token}, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def _bearer(api_client, access: str):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return api_client


def test_a_link_token_gives_portal_tokens(api_client, customer, link):
    tokens = _portal_tokens(api_client, link)
    assert set(tokens) == {"access", "refresh"}
    access = PortalAccessToken(tokens["access"])
    assert access["token_type"] == "portal_access"
    assert access["customer_id"] == str(customer.pk)
    assert access["merchant_id"] == str(customer.merchant_id)
    assert access["portal_epoch"] == 0
    assert PortalRefreshToken(tokens["refresh"])["token_type"] == "portal_refresh"


def test_a_bad_link_token_is_a_400_naming_the_token(api_client, link):
    response = api_client.post("/api/portal/auth/link/", {"token": link.token + "x"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"token": ["This link has expired or is not valid: ask the shop for a new one."]}
    response = api_client.post("/api/portal/auth/link/", {}, format="json")
    assert response.status_code == 400 and "token" in response.json()


def test_me(api_client, customer, link):
    tokens = _portal_tokens(api_client, link)
    response = _bearer(api_client, tokens["access"]).get("/api/portal/me/")
    assert response.status_code == 200
    assert response.json() == {
        "id": str(customer.pk),
        "name": "Amina Haddad",
        "phone": "+14155550123",
        "email": "amina@example.com",
        "language": "en",
        "merchant": str(customer.merchant_id),
        "merchant_name": "Viejos Recuerdos",
        "currency": "USD",
    }
    assert response["Cache-Control"] == "private, no-store"


def test_me_patch_changes_the_language_only(api_client, customer, link):
    _bearer(api_client, _portal_tokens(api_client, link)["access"])
    response = api_client.patch("/api/portal/me/", {"language": "ar"}, format="json")
    assert response.status_code == 200 and response.json()["language"] == "ar"
    assert Customer.objects.get(pk=customer.pk).language == "ar"
    response = api_client.patch("/api/portal/me/", {"name": "Someone Else"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"name": ["This field is read-only."]}
    response = api_client.patch("/api/portal/me/", {"language": "fr"}, format="json")
    assert response.status_code == 400 and "language" in response.json()
    assert Customer.objects.get(pk=customer.pk).name == "Amina Haddad"


def test_refresh_rotates(api_client, customer, link):
    tokens = _portal_tokens(api_client, link)
    response = api_client.post("/api/portal/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert response.status_code == 200
    fresh = response.json()
    assert set(fresh) == {"access", "refresh"} and fresh["refresh"] != tokens["refresh"]
    # The used refresh token is spent.
    again = api_client.post("/api/portal/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert again.status_code == 401
    assert _bearer(api_client, fresh["access"]).get("/api/portal/me/").status_code == 200


def test_revoking_ends_the_tokens_got_from_a_link(api_client, customer, link, clerk):
    tokens = _portal_tokens(api_client, link)
    portal_links_revoke(customer=customer, actor=clerk)
    assert _bearer(api_client, tokens["access"]).get("/api/portal/me/").status_code == 401
    api_client.credentials()
    response = api_client.post("/api/portal/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert response.status_code == 401
    # And the link itself.
    assert api_client.post("/api/portal/auth/link/", {"token": link.token}, format="json").status_code == 400


def test_the_portal_off_ends_the_tokens(api_client, customer, link):
    tokens = _portal_tokens(api_client, link)
    Merchant.objects.update(portal_enabled=False)
    assert _bearer(api_client, tokens["access"]).get("/api/portal/me/").status_code == 401


@pytest.mark.parametrize("path", ["/api/customers/", "/api/auth/me/", "/api/installments/plans/", "/api/merchant/"])
def test_a_portal_token_is_refused_on_staff_endpoints(api_client, link, path):
    tokens = _portal_tokens(api_client, link)
    response = _bearer(api_client, tokens["access"]).get(path)
    assert response.status_code == 401


def test_a_portal_refresh_token_is_refused_by_the_staff_refresh(api_client, link):
    tokens = _portal_tokens(api_client, link)
    response = api_client.post("/api/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert response.status_code == 401


def test_a_staff_token_is_refused_on_the_portal(api_client, clerk, customer):
    refresh = RefreshToken.for_user(clerk)
    response = _bearer(api_client, str(refresh.access_token)).get("/api/portal/me/")
    assert response.status_code == 401
    api_client.credentials()
    response = api_client.post("/api/portal/auth/token/refresh/", {"refresh": str(refresh)}, format="json")
    assert response.status_code == 401


def test_a_staff_session_does_not_authenticate_the_portal_api(client, clerk):
    client.force_login(clerk)
    response = client.get("/api/portal/me/")
    assert response.status_code == 401


def test_no_credentials_is_401(api_client):
    assert api_client.get("/api/portal/me/").status_code == 401


def test_a_token_of_merchant_a_does_not_open_merchant_b(api_client, customer, link, other_merchant):
    token = PortalAccessToken()
    token["customer_id"] = str(customer.pk)
    token["merchant_id"] = str(other_merchant.pk)
    token["portal_epoch"] = 0
    assert _bearer(api_client, str(token)).get("/api/portal/me/").status_code == 401


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("/portal/", "portal"),
        ("/portal/m/x/", "portal"),
        ("/api/portal/me/", "portal"),
        ("/api/customers/", "api"),
        ("/customers/", "web"),
        ("/admin/", "admin"),
        ("/portalx/", "web"),
    ],
)
def test_the_portals_paths_are_its_own_audit_source(path, source):
    from auditlog.middleware import source_of

    assert source_of(path) == source


def test_a_customer_is_nobody_to_the_staffs_scoping_and_role_table(customer):
    from installments.models import InstallmentPlan
    from portal.authentication import PortalPrincipal
    from taqsit.permissions import Action, user_can
    from taqsit.tenancy import queryset_for_user

    principal = PortalPrincipal(customer=customer)
    assert (principal.merchant_id, principal.pk, principal.is_authenticated) == (customer.merchant_id, None, True)
    assert queryset_for_user(Customer.objects.all(), principal).count() == 0
    assert queryset_for_user(InstallmentPlan.objects.all(), principal).count() == 0
    assert [action for action in Action if user_can(principal, action)] == []
