"""The admin saves and checks through the services: a merchant is created by ``merchant_create``, the last-owner
rule is ``user_validate``'s alone."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from auditlog.models import Entry
from taqsit.models import Merchant, Role, User
from taqsit.services import merchant_create, user_password_set, user_validate
from taqsit.tests.factories import UserFactory
from taqsit.tests.test_admin import form_data

pytestmark = pytest.mark.django_db


def test_adding_a_merchant_in_the_admin_goes_through_merchant_create(admin_client, admin_user):
    data = {
        "name": "Souk Nour",
        "is_active": "on",
        "currency": "KWD",
        "timezone": "Asia/Kuwait",
        "language": "ar",
        "country": "KW",
        "reminder_days_before": "3",
        "grace_days": "2",
        "default_after_days": "90",
        "late_fee_method": "none",
        "late_fee_amount": "0",
        "late_fee_percent": "0",
        "sale_terms": "conventional",
        "late_fee_booking": "income",
        "early_settlement_rebate": "none",
    }

    response = admin_client.post(reverse("admin:taqsit_merchant_add"), data)

    assert response.status_code == 302
    merchant = Merchant.objects.get(name="Souk Nour")
    assert (merchant.currency, merchant.timezone, merchant.grace_days) == ("KWD", "Asia/Kuwait", 2)
    assert list(
        Entry.objects.filter(object_type="taqsit.merchant", object_id=str(merchant.pk)).values_list(
            "action", "actor_id"
        )
    ) == [("merchant.create", admin_user.pk)]


def test_merchant_create_checks_the_late_fee_rule(superuser):
    with pytest.raises(ValidationError) as refused:
        merchant_create(actor=superuser, name="Souk Nour", late_fee_method="fixed", late_fee_amount=0)

    assert refused.value.message_dict == {"late_fee_amount": ["A fixed late fee needs an amount greater than zero."]}
    assert not Merchant.objects.filter(name="Souk Nour").exists()


def test_only_a_platform_admin_creates_a_merchant_this_way(owner):
    with pytest.raises(PermissionDenied, match=r"^Only a platform admin creates a merchant this way\.$"):
        merchant_create(actor=owner, name="Souk Nour")


def test_user_validate_keeps_the_last_active_owner(owner):
    owner.role = Role.CLERK

    with pytest.raises(ValidationError) as refused:
        user_validate(user=owner)

    assert refused.value.message_dict == {"role": ["A merchant needs at least one active owner."]}
    assert User.objects.get(pk=owner.pk).role == Role.OWNER


def test_user_validate_lets_an_owner_go_when_another_stays(merchant, owner):
    UserFactory(merchant=merchant, role=Role.OWNER, username="second-owner")
    owner.is_active = False

    assert user_validate(user=owner) is None
    assert User.objects.get(pk=owner.pk).is_active is True


def test_adding_staff_in_the_admin_goes_through_user_create(admin_client, admin_user, merchant):
    data = {
        "username": "nadia",
        "usable_password": "true",
        "password1": "a long enough pass phrase 42",
        "password2": "a long enough pass phrase 42",
        "merchant": str(merchant.pk),
        "role": "clerk",
        "email": "nadia@example.com",
    }

    response = admin_client.post(reverse("admin:taqsit_user_add"), data)

    assert response.status_code == 302
    user = User.objects.get(username="nadia")
    assert (user.merchant, user.role, user.email, user.check_password("a long enough pass phrase 42")) == (
        merchant,
        Role.CLERK,
        "nadia@example.com",
        True,
    )
    assert list(
        Entry.objects.filter(object_type="taqsit.user", object_id=str(user.pk)).values_list("action", "actor_id")
    ) == [("user.create", admin_user.pk)]


def test_adding_staff_without_a_password_leaves_it_unusable(admin_client, merchant):
    data = {"username": "nadia", "usable_password": "false", "merchant": str(merchant.pk), "role": "viewer"}

    response = admin_client.post(reverse("admin:taqsit_user_add"), data)

    assert response.status_code == 302
    assert User.objects.get(username="nadia").has_usable_password() is False


def test_changing_staff_in_the_admin_goes_through_user_update(admin_client, admin_user, merchant, owner):
    clerk = UserFactory(merchant=merchant, role=Role.CLERK, username="clerk")
    url = reverse("admin:taqsit_user_change", args=[clerk.pk])
    data = form_data(admin_client.get(url))
    joined = data.pop("date_joined")
    # The split date and time inputs, as the browser posts them.
    data.update(role="manager", first_name="Samir", date_joined_0=joined.date(), date_joined_1=joined.time())

    response = admin_client.post(url, data)

    assert response.status_code == 302
    clerk.refresh_from_db()
    assert (clerk.role, clerk.first_name, clerk.is_active) == (Role.MANAGER, "Samir", True)
    assert list(
        Entry.objects.filter(object_type="taqsit.user", object_id=str(clerk.pk), action="user.update").values_list(
            "actor_id", flat=True
        )
    ) == [admin_user.pk]


def test_a_password_changed_in_the_admin_goes_through_the_service(admin_client, admin_user, merchant, owner):
    clerk = UserFactory(merchant=merchant, role=Role.CLERK, username="clerk")
    url = reverse("admin:auth_user_password_change", args=[clerk.pk])

    response = admin_client.post(
        url, {"password1": "Counter-Key-2026", "password2": "Counter-Key-2026", "usable_password": "true"}
    )

    assert response.status_code == 302
    clerk.refresh_from_db()
    assert clerk.check_password("Counter-Key-2026")
    assert list(
        Entry.objects.filter(object_type="taqsit.user", object_id=str(clerk.pk), action="user.update").values_list(
            "actor_id", flat=True
        )
    ) == [admin_user.pk]


def test_a_weak_password_in_the_admin_is_refused_and_changes_nothing(admin_client, merchant, owner):
    clerk = UserFactory(merchant=merchant, role=Role.CLERK, username="clerk")
    before = clerk.password
    url = reverse("admin:auth_user_password_change", args=[clerk.pk])

    response = admin_client.post(url, {"password1": "12345678", "password2": "12345678", "usable_password": "true"})

    assert response.status_code == 200
    assert "This password is too common." in response.content.decode()
    clerk.refresh_from_db()
    assert clerk.password == before


def test_user_password_set_turns_password_sign_in_off_or_refuses_a_weak_one(admin_user, merchant, owner):
    clerk = UserFactory(merchant=merchant, role=Role.CLERK, username="clerk")

    with pytest.raises(ValidationError) as refused:
        user_password_set(actor=admin_user, user=clerk, password="12345678")
    user_password_set(actor=owner, user=clerk, password=None)

    assert refused.value.message_dict == {
        "password": ["This password is too common.", "This password is entirely numeric."]
    }
    clerk.refresh_from_db()
    assert clerk.has_usable_password() is False


def test_user_password_set_keeps_to_the_owners_merchant(owner, other_owner):
    with pytest.raises(User.DoesNotExist):
        user_password_set(actor=other_owner, user=owner, password="Counter-Key-2026")
