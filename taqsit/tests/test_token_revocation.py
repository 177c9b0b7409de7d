"""A password change ends every API session of the user: old access tokens are refused, old refresh tokens
neither refresh nor revive, whoever changed the password and wherever."""

from __future__ import annotations

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from taqsit.models import User
from taqsit.tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

TOKEN = "/api/auth/token/"
REFRESH = "/api/auth/token/refresh/"
ME = "/api/auth/me/"
NEW_PASSWORD = "Brand-New-Pass-2026"
PASSWORD_CHANGED = "The password has changed since this token was issued: log in again."


def tokens_get(api_client, username: str, password: str = TEST_PASSWORD) -> dict:
    response = api_client.post(TOKEN, {"username": username, "password": password}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def me_status(api_client, access: str) -> int:
    return api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {access}").status_code


def assert_revoked(api_client, tokens: dict) -> None:
    """Neither the access token nor the refresh token works any longer."""
    me = api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert (me.status_code, me.json()["code"]) == (401, "password_changed")
    refresh = api_client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json")
    assert (refresh.status_code, refresh.json()["detail"]) == (401, PASSWORD_CHANGED)


def assert_new_password_signs_in(api_client, username: str) -> None:
    fresh = tokens_get(api_client, username, NEW_PASSWORD)
    assert me_status(api_client, fresh["access"]) == 200
    refreshed = api_client.post(REFRESH, {"refresh": fresh["refresh"]}, format="json")
    assert refreshed.status_code == 200
    assert me_status(api_client, refreshed.json()["access"]) == 200


def test_the_owner_changing_a_clerks_password_on_the_api_ends_the_clerks_sessions(api_client, owner, clerk):
    clerk_tokens = tokens_get(api_client, "clerk")
    owner_tokens = tokens_get(api_client, "owner")

    response = api_client.patch(
        f"/api/users/{clerk.pk}/",
        {"password": NEW_PASSWORD},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {owner_tokens['access']}",
    )

    assert response.status_code == 200, response.content
    assert_revoked(api_client, clerk_tokens)
    assert_new_password_signs_in(api_client, "clerk")
    # The owner's own sessions are untouched.
    assert me_status(api_client, owner_tokens["access"]) == 200


def test_a_change_that_is_not_the_password_keeps_the_sessions(api_client, owner, clerk):
    clerk_tokens = tokens_get(api_client, "clerk")
    api_client.force_authenticate(owner)
    assert api_client.patch(f"/api/users/{clerk.pk}/", {"first_name": "Samir"}, format="json").status_code == 200
    api_client.force_authenticate(None)

    assert me_status(api_client, clerk_tokens["access"]) == 200
    assert api_client.post(REFRESH, {"refresh": clerk_tokens["refresh"]}, format="json").status_code == 200


def test_a_user_changing_their_password_on_the_page_ends_their_api_sessions(api_client, client, clerk):
    tokens = tokens_get(api_client, "clerk")
    client.force_login(clerk)

    response = client.post(
        "/accounts/password/change/",
        {"old_password": TEST_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert (response.status_code, response["Location"]) == (302, "/accounts/password/change/done/")
    assert_revoked(api_client, tokens)
    assert_new_password_signs_in(api_client, "clerk")


def test_a_password_reset_ends_the_users_api_sessions(api_client, client, clerk):
    tokens = tokens_get(api_client, "clerk")
    clerk.refresh_from_db()  # the log-in moved last_login, which the reset token signs
    uid = urlsafe_base64_encode(force_bytes(clerk.pk))
    link = client.get(f"/accounts/password/reset/{uid}/{default_token_generator.make_token(clerk)}/")
    assert link.status_code == 302  # to the same page with the token kept in the session

    response = client.post(link["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert (response.status_code, response["Location"]) == (302, "/accounts/password/reset/complete/")
    assert_revoked(api_client, tokens)
    assert_new_password_signs_in(api_client, "clerk")


def test_a_platform_admin_changing_a_password_in_the_admin_ends_the_users_api_sessions(
    api_client, client, clerk, superuser
):
    tokens = tokens_get(api_client, "clerk")
    client.force_login(superuser)

    response = client.post(
        f"/admin/taqsit/user/{clerk.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )

    assert response.status_code == 302, response.content
    assert User.objects.get(pk=clerk.pk).check_password(NEW_PASSWORD)
    assert_revoked(api_client, tokens)
    assert_new_password_signs_in(api_client, "clerk")


def test_a_refresh_token_of_a_user_that_no_longer_exists_is_refused(api_client, owner, clerk):
    tokens = tokens_get(api_client, "clerk")
    User.objects.filter(pk=clerk.pk).delete()

    refresh = api_client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json")

    assert (refresh.status_code, refresh.json()) == (401, {"detail": "No active account found for the given token."})
