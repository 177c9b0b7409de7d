"""Register, tokens, me, logout, the staff endpoints, and the login throttles."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from rest_framework import throttling
from rest_framework_simplejwt.tokens import RefreshToken

from taqsit.models import Merchant, Role, User
from taqsit.tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

REGISTER = "/api/auth/register/"
TOKEN = "/api/auth/token/"
REFRESH = "/api/auth/token/refresh/"
LOGOUT = "/api/auth/logout/"
ME = "/api/auth/me/"
USERS = "/api/users/"


def bearer(client, access: str) -> None:
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")


# Register ------------------------------------------------------------------------------------------------


def test_register_creates_a_merchant_and_its_owner_and_signs_them_in(api_client, today):
    body = {
        "merchant_name": "Dar Al Aqsat",
        "username": "layla",
        "email": "layla@example.com",
        "password": TEST_PASSWORD,
        "currency": "KWD",
        "timezone": "Asia/Kuwait",
        "language": "ar",
    }

    response = api_client.post(REGISTER, body, format="json")

    assert response.status_code == 201, response.content
    owner = User.objects.get(username="layla")
    merchant = Merchant.objects.get()
    answer = response.json()
    assert set(answer) == {"user", "access", "refresh"}
    assert answer["user"] == {
        "id": str(owner.pk),
        "username": "layla",
        "email": "layla@example.com",
        "first_name": "",
        "last_name": "",
        "role": "owner",
        "is_superuser": False,
        "merchant": {
            "id": str(merchant.pk),
            "name": "Dar Al Aqsat",
            "currency": "KWD",
            "timezone": "Asia/Kuwait",
            "language": "ar",
            "country": "US",
            "reminder_days_before": 3,
            "grace_days": 0,
            "late_fee_method": "none",
            "late_fee_amount": "0.000",
            "late_fee_percent": "0.000",
            "late_fee_cap": None,
            "default_after_days": 90,
            "requires_approval": False,
            "guarantor_required_above": None,
            "guarantor_copy_after_days": None,
            "portal_enabled": False,
            "portal_self_registration": False,
            "portal_transfer_reports": True,
            "sale_terms": "conventional",
            "late_fee_booking": "income",
            "early_settlement_rebate": "none",
            "contract_clauses": {},
        },
    }
    assert (owner.merchant, owner.role, owner.check_password(TEST_PASSWORD)) == (merchant, Role.OWNER, True)
    bearer(api_client, answer["access"])
    assert api_client.get(ME).json()["username"] == "layla"


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        ({"merchant_name": ""}, {"merchant_name": ["This field may not be blank."]}),
        ({"email": "nope"}, {"email": ["Enter a valid email address."]}),
        ({"currency": "XXY"}, {"currency": ["'XXY' is not an ISO 4217 currency code."]}),
        ({"timezone": "Mars/Olympus"}, {"timezone": ["Mars/Olympus is not a known time zone."]}),
        ({"language": "fr"}, {"language": ['"fr" is not a valid choice.']}),
        (
            {"password": "123"},
            {
                "password": [
                    "This password is too short. It must contain at least 8 characters.",
                    "This password is too common.",
                    "This password is entirely numeric.",
                ]
            },
        ),
        ({"username": "owner"}, {"username": ["A user with that username already exists."]}),
    ],
)
def test_register_refuses_bad_input_naming_the_field_and_creates_nothing(api_client, owner, overrides, errors):
    body = {"merchant_name": "Dar", "username": "layla", "email": "layla@example.com", "password": TEST_PASSWORD}
    merchants = Merchant.objects.count()

    response = api_client.post(REGISTER, {**body, **overrides}, format="json")

    assert (response.status_code, response.json()) == (400, errors)
    assert (Merchant.objects.count(), User.objects.filter(username="layla").exists()) == (merchants, False)


# Tokens, me, logout --------------------------------------------------------------------------------------


def test_token_me_refresh_and_logout(api_client, manager):
    tokens = api_client.post(TOKEN, {"username": "manager", "password": TEST_PASSWORD}, format="json")

    assert tokens.status_code == 200
    assert set(tokens.json()) == {"access", "refresh"}
    bearer(api_client, tokens.json()["access"])
    me = api_client.get(ME).json()
    assert (me["id"], me["username"], me["role"], me["merchant"]["name"]) == (
        str(manager.pk),
        "manager",
        "manager",
        "Viejos Recuerdos",
    )

    rotated = api_client.post(REFRESH, {"refresh": tokens.json()["refresh"]}, format="json")
    replayed = api_client.post(REFRESH, {"refresh": tokens.json()["refresh"]}, format="json")

    assert rotated.status_code == 200
    assert set(rotated.json()) == {"access", "refresh"}
    assert (replayed.status_code, replayed.json()) == (
        401,
        {"detail": "Token is blacklisted", "code": "token_not_valid"},
    )

    logout = api_client.post(LOGOUT, {"refresh": rotated.json()["refresh"]}, format="json")
    after = api_client.post(REFRESH, {"refresh": rotated.json()["refresh"]}, format="json")

    assert (logout.status_code, logout.content) == (204, b"")
    assert (after.status_code, after.json()["code"]) == (401, "token_not_valid")


def test_a_wrong_password_gets_no_token(api_client, owner):
    response = api_client.post(TOKEN, {"username": "owner", "password": "guess"}, format="json")

    assert (response.status_code, response.json()) == (
        401,
        {"detail": "No active account found with the given credentials"},
    )


def test_an_inactive_user_gets_no_token(api_client, clerk):
    clerk.is_active = False
    clerk.save()

    response = api_client.post(TOKEN, {"username": "clerk", "password": TEST_PASSWORD}, format="json")

    assert response.status_code == 401


def test_a_bad_access_token_is_a_401(api_client, owner):
    bearer(api_client, "not-a-token")

    response = api_client.get(ME)

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_logout_refuses_a_bad_token_or_another_users_token(api_client, owner, clerk):
    api_client.force_authenticate(owner)

    bad = api_client.post(LOGOUT, {"refresh": "not-a-token"}, format="json")
    theirs = api_client.post(LOGOUT, {"refresh": str(RefreshToken.for_user(clerk))}, format="json")
    missing = api_client.post(LOGOUT, {}, format="json")

    assert (bad.status_code, bad.json()) == (400, {"refresh": ["Token is invalid"]})
    assert (theirs.status_code, theirs.json()) == (400, {"refresh": ["The token belongs to another user."]})
    assert (missing.status_code, missing.json()) == (400, {"refresh": ["This field is required."]})


# Staff ---------------------------------------------------------------------------------------------------


@pytest.fixture
def client(api_client, owner, today):
    api_client.force_authenticate(owner)
    return api_client


def test_the_owner_adds_staff(client, merchant):
    response = client.post(
        USERS,
        {
            "username": "yusuf",
            "email": "yusuf@example.com",
            "password": TEST_PASSWORD,
            "role": "manager",
            "first_name": "Yusuf",
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    user = User.objects.get(username="yusuf")
    assert response.json() == {
        "id": str(user.pk),
        "username": "yusuf",
        "email": "yusuf@example.com",
        "role": "manager",
        "first_name": "Yusuf",
        "last_name": "",
        "is_active": True,
        "date_joined": "2026-03-01T12:00:00Z",
    }
    assert (user.merchant, user.check_password(TEST_PASSWORD)) == (merchant, True)


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        ({"password": None}, {"password": ["This field is required."]}),
        ({"role": "boss"}, {"role": ['"boss" is not a valid choice.']}),
        ({"username": "clerk"}, {"username": ["A user with that username already exists."]}),
        (
            {"password": "yusuf"},
            {
                "password": [
                    "The password is too similar to the username.",
                    "This password is too short. It must contain at least 8 characters.",
                ]
            },
        ),
    ],
)
def test_adding_staff_refuses_bad_input_naming_the_field(client, clerk, overrides, errors):
    body = {"username": "yusuf", "email": "yusuf@example.com", "password": TEST_PASSWORD, "role": "clerk"}
    body = {key: value for key, value in {**body, **overrides}.items() if value is not None}

    response = client.post(USERS, body, format="json")

    assert (response.status_code, response.json()) == (400, errors)
    assert not User.objects.filter(username="yusuf").exists()


def test_the_owner_changes_a_role_and_deactivates_staff(client, clerk):
    promoted = client.patch(f"{USERS}{clerk.pk}/", {"role": "manager", "last_name": "Ali"}, format="json")
    gone = client.patch(f"{USERS}{clerk.pk}/", {"is_active": False}, format="json")
    renamed = client.patch(f"{USERS}{clerk.pk}/", {"username": "someone"}, format="json")

    assert (promoted.status_code, promoted.json()["role"], promoted.json()["last_name"]) == (200, "manager", "Ali")
    assert (gone.status_code, gone.json()["is_active"]) == (200, False)
    assert (renamed.status_code, renamed.json()) == (400, {"username": ["This field is read-only."]})
    token = client.post(TOKEN, {"username": "clerk", "password": TEST_PASSWORD}, format="json")
    assert token.status_code == 401


def test_the_last_owner_stays_an_owner(client, owner):
    response = client.patch(f"{USERS}{owner.pk}/", {"role": "manager"}, format="json")

    assert (response.status_code, response.json()) == (400, {"role": ["A merchant needs at least one active owner."]})
    owner.refresh_from_db()
    assert owner.role == Role.OWNER


def test_a_new_password_is_validated_and_set(client, clerk):
    weak = client.patch(f"{USERS}{clerk.pk}/", {"password": "12345678"}, format="json")
    strong = client.patch(f"{USERS}{clerk.pk}/", {"password": "Another-Pass-2027"}, format="json")

    assert (weak.status_code, weak.json()) == (
        400,
        {"password": ["This password is too common.", "This password is entirely numeric."]},
    )
    assert strong.status_code == 200
    clerk.refresh_from_db()
    assert clerk.check_password("Another-Pass-2027")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["clerk", "manager", "owner", "viewer"]),
        ("role=clerk", ["clerk"]),
        ("is_active=false", ["viewer"]),
        ("search=mana", ["manager"]),
        ("ordering=-username", ["viewer", "owner", "manager", "clerk"]),
    ],
)
def test_staff_list_filters(client, manager, clerk, viewer, other_owner, query, expected):
    viewer.is_active = False
    viewer.save()

    response = client.get(f"{USERS}?{query}")

    assert response.status_code == 200
    assert [user["username"] for user in response.json()["results"]] == expected


def test_there_is_no_deleting_staff(client, clerk):
    response = client.delete(f"{USERS}{clerk.pk}/")

    assert (response.status_code, response.json()) == (405, {"detail": 'Method "DELETE" not allowed.'})


# Throttling ----------------------------------------------------------------------------------------------


@pytest.fixture
def rates(settings):
    """Three login attempts a minute per username; the per-address limit out of the way."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "1000/hour", "auth_ip": "100/minute", "auth_user": "3/minute"},
    }


def test_the_token_endpoint_throttles_each_username_with_retry_after(api_client, owner, manager, rates):
    with time_machine.travel(datetime(2026, 3, 1, 12, tzinfo=UTC), tick=False) as clock:
        attempts = [
            api_client.post(TOKEN, {"username": "owner", "password": "guess"}, format="json").status_code
            for _ in range(3)
        ]
        throttled = api_client.post(TOKEN, {"username": "owner", "password": TEST_PASSWORD}, format="json")
        shouting = api_client.post(TOKEN, {"username": " OWNER ", "password": TEST_PASSWORD}, format="json")
        elsewhere = api_client.post(
            TOKEN, {"username": "owner", "password": TEST_PASSWORD}, format="json", REMOTE_ADDR="10.9.8.7"
        )
        colleague = api_client.post(TOKEN, {"username": "manager", "password": TEST_PASSWORD}, format="json")

        assert attempts == [401, 401, 401]
        assert (throttled.status_code, throttled["Retry-After"]) == (429, "60")
        assert throttled.json() == {"detail": "Request was throttled. Expected available in 60 seconds."}
        assert (shouting.status_code, elsewhere.status_code, colleague.status_code) == (429, 429, 200)

        clock.shift(timedelta(seconds=30))
        later = api_client.post(TOKEN, {"username": "owner", "password": TEST_PASSWORD}, format="json")
        assert (later.status_code, later["Retry-After"]) == (429, "30")

        clock.shift(timedelta(seconds=31))
        assert (
            api_client.post(TOKEN, {"username": "owner", "password": TEST_PASSWORD}, format="json").status_code == 200
        )


def test_register_is_throttled_per_address(api_client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "1000/hour", "auth_ip": "2/minute", "auth_user": "100/minute"},
    }
    body = {"merchant_name": "Dar", "email": "d@example.com", "password": TEST_PASSWORD}

    with time_machine.travel(datetime(2026, 3, 1, 12, tzinfo=UTC), tick=False):
        codes = [
            api_client.post(REGISTER, {**body, "username": f"user-{n}"}, format="json").status_code for n in range(3)
        ]
        other_address = api_client.post(REGISTER, {**body, "username": "user-9"}, format="json", REMOTE_ADDR="10.1.1.1")

    assert codes == [201, 201, 429]
    assert other_address.status_code == 201


class _CacheDown:
    """A cache whose server is down, as Django's Redis backend behaves then."""

    def get(self, *args, **kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    set = add = get


def test_a_cache_outage_lets_requests_through_instead_of_failing_them(api_client, owner, rates, monkeypatch, caplog):
    monkeypatch.setattr(throttling.SimpleRateThrottle, "cache", _CacheDown())

    with time_machine.travel(datetime(2026, 3, 1, 12, tzinfo=UTC), tick=False):
        # More attempts than the limits allow (3 per username, see ``rates``): none is refused, none fails.
        logins = [
            api_client.post(TOKEN, {"username": "owner", "password": TEST_PASSWORD}, format="json") for _ in range(5)
        ]
        bearer(api_client, logins[-1].json()["access"])
        me = api_client.get(ME)

    assert [response.status_code for response in logins] == [200] * 5
    assert me.status_code == 200
    assert "Rate limit user not applied, the cache is unavailable: ConnectionError" in caplog.text


def test_the_owner_changes_the_collection_policy_through_the_api(owner, api_client):
    api_client.force_authenticate(owner)

    response = api_client.patch(
        "/api/merchant/", {"late_fee_method": "fixed", "late_fee_amount": "5.00", "grace_days": 3}, format="json"
    )

    assert response.status_code == 200
    assert (response.data["late_fee_method"], response.data["late_fee_amount"], response.data["grace_days"]) == (
        "fixed",
        "5.00",
        3,
    )
    owner.merchant.refresh_from_db()
    assert (owner.merchant.late_fee_amount, owner.merchant.grace_days) == (Decimal("5.00"), 3)


def test_a_fixed_late_fee_without_an_amount_is_refused_on_its_field(owner, api_client):
    api_client.force_authenticate(owner)

    response = api_client.patch("/api/merchant/", {"late_fee_method": "fixed"}, format="json")

    assert response.status_code == 400
    assert response.data == {"late_fee_amount": ["A fixed late fee needs an amount greater than zero."]}


def test_a_client_cannot_escape_the_address_limit_by_writing_x_forwarded_for(api_client, owner, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "1000/hour", "auth_ip": "3/minute", "auth_user": "100/minute"},
    }
    with time_machine.travel(datetime(2026, 3, 1, 12, tzinfo=UTC), tick=False):
        answers = [
            api_client.post(
                TOKEN,
                {"username": f"guess-{n}", "password": "guess"},
                format="json",
                HTTP_X_FORWARDED_FOR=f"10.0.0.{n}",
            ).status_code
            for n in range(4)
        ]

    assert answers == [401, 401, 401, 429]
