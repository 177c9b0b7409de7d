"""One username, whatever its capitals; one e-mail per merchant's staff; log-in ignores capitals; password-reset
mails are limited per address without the page telling anything."""

from __future__ import annotations

import html as html_lib

import pytest
from django.core import mail
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.urls import reverse

from taqsit.models import Merchant, Role, User
from taqsit.tests.factories import TEST_PASSWORD, UserFactory
from taqsit.tests.pages import html, signed_in

pytestmark = pytest.mark.django_db

USERNAME_TAKEN = "A user with that username already exists."
EMAIL_TAKEN = "Another member of staff of this merchant has this e-mail address."


def page_text(response) -> str:
    return html_lib.unescape(html(response))


# The database ------------------------------------------------------------------------------------------------


def test_the_database_refuses_a_username_differing_only_in_capitals(owner, other_merchant):
    with pytest.raises(IntegrityError, match="user_username_unique_ignoring_case"), transaction.atomic():
        User.objects.create(username="OWNER", merchant=other_merchant, email="boss@elsewhere.example")


def test_the_database_refuses_a_staff_email_twice_in_one_merchant_only(merchant, other_merchant, clerk):
    # clerk@example.com at another merchant, and empty e-mails, are fine.
    UserFactory(merchant=other_merchant, username="clerk-b", email="CLERK@example.com")
    UserFactory(merchant=merchant, username="no-mail-1", email="")
    UserFactory(merchant=merchant, username="no-mail-2", email="")
    with pytest.raises(IntegrityError, match="user_email_unique_per_merchant"), transaction.atomic():
        User.objects.create(username="clerk-2", merchant=merchant, email="Clerk@Example.com")


# The API -----------------------------------------------------------------------------------------------------


def test_register_refuses_a_username_differing_only_in_capitals(api_client, owner, row_counts):
    before = row_counts()
    body = {"merchant_name": "Owner B Shop", "username": "Owner", "email": "b@example.com", "password": TEST_PASSWORD}

    response = api_client.post("/api/auth/register/", body, format="json")

    assert (response.status_code, response.json()) == (400, {"username": [USERNAME_TAKEN]})
    assert row_counts() == before
    assert not Merchant.objects.filter(name="Owner B Shop").exists()


def test_the_owner_cannot_add_staff_with_a_taken_username_or_email(api_client, owner, clerk, other_merchant):
    api_client.force_authenticate(owner)
    body = {"username": "CLERK", "email": "new@example.com", "password": TEST_PASSWORD, "role": "clerk"}
    assert api_client.post("/api/users/", body, format="json").json() == {"username": [USERNAME_TAKEN]}

    body = {"username": "clerk2", "email": "Clerk@Example.com", "password": TEST_PASSWORD, "role": "clerk"}
    response = api_client.post("/api/users/", body, format="json")
    assert (response.status_code, response.json()) == (400, {"email": [EMAIL_TAKEN]})
    assert not User.objects.filter(username="clerk2").exists()


def test_an_email_of_another_merchants_staff_is_free(api_client, clerk, other_owner):
    api_client.force_authenticate(other_owner)
    body = {"username": "clerk-b", "email": "clerk@example.com", "password": TEST_PASSWORD, "role": "clerk"}

    response = api_client.post("/api/users/", body, format="json")

    assert response.status_code == 201, response.content
    assert User.objects.filter(email="clerk@example.com").count() == 2


def test_the_owner_cannot_give_a_member_a_colleagues_email(api_client, owner, clerk, viewer):
    api_client.force_authenticate(owner)

    response = api_client.patch(f"/api/users/{viewer.pk}/", {"email": "CLERK@example.com"}, format="json")

    assert (response.status_code, response.json()) == (400, {"email": [EMAIL_TAKEN]})
    viewer.refresh_from_db()
    assert viewer.email == "viewer@example.com"
    # Keeping one's own address (in other capitals) is no clash.
    keep = api_client.patch(f"/api/users/{viewer.pk}/", {"email": "Viewer@Example.com"}, format="json")
    assert (keep.status_code, keep.json()["email"]) == (200, "Viewer@example.com")  # the domain in lower case


# The pages and the admin -------------------------------------------------------------------------------------


def test_the_staff_page_shows_the_clash_next_to_the_field(client, settings, owner, manager):
    client = signed_in(client, settings, owner)
    data = {"username": "Manager", "email": "MANAGER@example.com", "role": "clerk", "password": TEST_PASSWORD}

    response = client.post(reverse("taqsit:staff-create"), data)

    assert response.status_code == 200
    body = page_text(response)
    assert USERNAME_TAKEN in body
    assert EMAIL_TAKEN in body
    assert User.objects.filter(username__iexact="manager").count() == 1


def test_the_staff_edit_page_refuses_a_colleagues_email(client, settings, owner, manager, clerk):
    client = signed_in(client, settings, owner)
    data = {"role": "clerk", "email": "manager@EXAMPLE.com", "is_active": "on"}

    response = client.post(reverse("taqsit:staff-update", args=[clerk.pk]), data)

    assert (response.status_code, EMAIL_TAKEN in page_text(response)) == (200, True)
    clerk.refresh_from_db()
    assert clerk.email == "clerk@example.com"


def test_the_admin_refuses_a_username_differing_only_in_capitals(client, superuser, owner, merchant):
    client.force_login(superuser)
    data = {
        "username": "Owner",
        "usable_password": "true",
        "password1": TEST_PASSWORD,
        "password2": TEST_PASSWORD,
        "merchant": str(merchant.pk),
        "role": Role.CLERK,
        "email": "another@example.com",
    }

    response = client.post("/admin/taqsit/user/add/", data)

    assert (response.status_code, USERNAME_TAKEN in page_text(response)) == (200, True)
    assert User.objects.filter(username__iexact="owner").count() == 1


def test_the_admin_refuses_a_staff_email_twice_in_one_merchant(client, superuser, owner, clerk):
    client.force_login(superuser)
    data = {
        "username": "clerk",
        "email": "OWNER@example.com",
        "role": "clerk",
        "is_active": "on",
        "date_joined_0": "2026-01-05",
        "date_joined_1": "09:00:00",
    }

    response = client.post(f"/admin/taqsit/user/{clerk.pk}/change/", data)

    assert (response.status_code, EMAIL_TAKEN in page_text(response)) == (200, True)
    clerk.refresh_from_db()
    assert clerk.email == "clerk@example.com"


# Log-in ------------------------------------------------------------------------------------------------------


def test_log_in_ignores_capitals_on_the_api_and_the_page(api_client, client, owner):
    token = api_client.post("/api/auth/token/", {"username": "OWNER", "password": TEST_PASSWORD}, format="json")
    assert token.status_code == 200
    me = api_client.get("/api/auth/me/", HTTP_AUTHORIZATION=f"Bearer {token.json()['access']}")
    assert me.json()["username"] == "owner"

    page = client.post(reverse("login"), {"username": "Owner", "password": TEST_PASSWORD})
    assert (page.status_code, page["Location"]) == (302, reverse("taqsit:dashboard"))
    wrong = api_client.post("/api/auth/token/", {"username": "OWNER", "password": "guess"}, format="json")
    assert wrong.status_code == 401


def test_the_lockout_counts_every_spelling_of_a_username_together(client, clerk):
    for spelling in ("clerk", "Clerk", "CLERK", "cLeRk", "clERK"):
        client.post(reverse("login"), {"username": spelling, "password": "guess"}, REMOTE_ADDR="10.0.0.1")

    locked = client.post(reverse("login"), {"username": "CLerk", "password": TEST_PASSWORD}, REMOTE_ADDR="10.0.0.1")

    assert locked.status_code == 429


# Password reset ----------------------------------------------------------------------------------------------


@pytest.fixture
def reset_counts():
    """The per-address counts live in the cache: none before the test, none left for the next one."""
    cache.clear()
    yield
    cache.clear()


def test_password_reset_mails_are_limited_per_address_and_the_page_tells_nothing(
    reset_counts, client, settings, clerk, owner
):
    settings.PASSWORD_RESET_MAILS_PER_HOUR = 3
    answers = []
    for email in ("clerk@example.com", "CLERK@example.com", " clerk@example.com", "clerk@example.com"):
        response = client.post(reverse("password_reset"), {"email": email})
        answers.append((response.status_code, response["Location"]))

    assert answers == [(302, reverse("password_reset_done"))] * 4
    assert [message.to for message in mail.outbox] == [["clerk@example.com"]] * 3
    # Another address has its own count; one with no account answers the same and sends nothing.
    client.post(reverse("password_reset"), {"email": "owner@example.com"})
    nobody = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert (nobody.status_code, nobody["Location"]) == (302, reverse("password_reset_done"))
    assert [message.to for message in mail.outbox[3:]] == [["owner@example.com"]]
    done = client.get(reverse("password_reset_done"))
    assert "If an account has this address, a link to choose a new password is on its way." in page_text(done)
