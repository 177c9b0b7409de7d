"""The notifications admin: platform admins only, history read-only, failed messages sent again by an action."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.test import Client

from notifications.models import Notification, NotificationSettings

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today")]

NOON = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def admin_client(superuser):
    client = Client()
    client.force_login(superuser)
    return client


@pytest.fixture
def failed(merchant, customer):
    return Notification.objects.create(
        merchant=merchant,
        customer=customer,
        channel=Notification.Channel.SMS,
        kind=Notification.Kind.REMINDER_UPCOMING,
        day=date(2026, 3, 1),
        status=Notification.Status.FAILED,
        attempts=5,
        last_error="SmsError: The SMS provider answered HTTP 503: down",
        send_after=NOON,
    )


@pytest.mark.parametrize(
    "url",
    [
        "/admin/notifications/notification/",
        "/admin/notifications/notificationsettings/",
        "/admin/django_celery_beat/periodictask/",
    ],
)
def test_the_pages_open_for_a_platform_admin(admin_client, failed, merchant, url):
    NotificationSettings.objects.create(merchant=merchant)

    assert admin_client.get(url).status_code == 200


def test_a_notification_is_read_only(admin_client, failed):
    response = admin_client.get(f"/admin/notifications/notification/{failed.pk}/change/")

    assert response.status_code == 200
    assert b"SmsError: The SMS provider answered HTTP 503: down" in response.content
    assert (
        admin_client.post(f"/admin/notifications/notification/{failed.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert Notification.objects.filter(pk=failed.pk).exists()


def test_merchant_staff_cannot_open_it(owner, failed):
    owner.is_staff = True
    owner.save()
    client = Client()
    client.force_login(owner)

    response = client.get("/admin/notifications/notification/")

    # Refused (403 from these admin classes; the admin site may send non-admins to its login page instead).
    assert response.status_code in {302, 403}
    assert b"SmsError" not in response.content


def test_send_again_queues_the_failed_messages(admin_client, failed):
    response = admin_client.post(
        "/admin/notifications/notification/", {"action": "send_again", "_selected_action": [str(failed.pk)]}
    )

    assert response.status_code == 302
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.dispatched_at, failed.send_after) == (
        Notification.Status.QUEUED,
        0,
        None,
        NOON,
    )


def test_a_merchants_policy_is_edited_in_the_admin(admin_client, merchant):
    assert admin_client.get("/admin/notifications/notificationsettings/add/").status_code == 200

    response = admin_client.post(
        "/admin/notifications/notificationsettings/add/",
        {
            "merchant": str(merchant.pk),
            "sms_enabled": "on",
            "whatsapp_enabled": "on",
            "phone_channel": "sms",
            "staff_digest_enabled": "on",
            "quiet_hours_start": "22:00",
            "quiet_hours_end": "07:30",
            "overdue_alert_days": "3,14",
        },
    )

    assert response.status_code == 302
    policy = NotificationSettings.objects.get(merchant=merchant)
    assert (
        policy.sms_enabled,
        policy.whatsapp_enabled,
        policy.phone_channel,
        policy.email_enabled,
        policy.quiet_hours_start.isoformat(),
        policy.quiet_hours_end.isoformat(),
        policy.overdue_alert_days,
    ) == (True, True, "sms", False, "22:00:00", "07:30:00", [3, 14])


def test_receipts_are_turned_off_and_on_in_the_merchants_policy(admin_client, merchant):
    policy = NotificationSettings.objects.create(merchant=merchant)
    url = f"/admin/notifications/notificationsettings/{policy.pk}/change/"
    page = admin_client.get(url)
    assert page.status_code == 200
    assert b'name="receipts_enabled"' in page.content
    assert policy.receipts_enabled is True

    response = admin_client.post(
        url,
        {
            "merchant": str(merchant.pk),
            "sms_enabled": "on",
            "email_enabled": "on",
            "phone_channel": "whatsapp",
            "quiet_hours_start": "21:00",
            "quiet_hours_end": "08:00",
            "overdue_alert_days": "1,7,30",
        },
    )

    assert response.status_code == 302
    policy.refresh_from_db()
    assert (policy.receipts_enabled, policy.sms_enabled, policy.email_enabled) == (False, True, True)
