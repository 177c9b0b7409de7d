"""Choosing WhatsApp: the merchant's channels on its settings page, in the API and the admin; the customer's
preferred channel on the customer form, in the API and the admin; and the fallback shown in the messages' list."""

from __future__ import annotations

import pytest
from django.urls import reverse

from customers.models import Customer
from customers.tests.factories import CustomerFactory
from notifications.models import Notification, NotificationSettings

pytestmark = pytest.mark.django_db

URL = "/api/notification-settings/"
DEFAULTS = {
    "sms_enabled": True,
    "whatsapp_enabled": False,
    "email_enabled": True,
    "phone_channel": "whatsapp",
    "receipts_enabled": True,
    "staff_digest_enabled": True,
    "quiet_hours_start": "21:00",
    "quiet_hours_end": "08:00",
    "overdue_alert_days": [1, 7, 30],
}


# The merchant's channels ----------------------------------------------------------------------------------------


def test_the_settings_page_loads_the_message_settings_and_saves_them_in_place(client, owner, merchant):
    client.force_login(owner)
    page = client.get(reverse("taqsit:merchant-settings")).content.decode()
    assert 'id="message-settings" hx-get="/settings/messages/" hx-trigger="load"' in page

    fragment = client.get("/settings/messages/", HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200
    html = fragment.content.decode()
    assert "<html" not in html
    assert 'name="whatsapp_enabled"' in html
    assert 'name="phone_channel"' in html

    saved = client.post(
        "/settings/messages/",
        {
            "sms_enabled": "on",
            "whatsapp_enabled": "on",
            "phone_channel": "sms",
            "receipts_enabled": "on",
            "quiet_hours_start": "22:00",
            "quiet_hours_end": "07:00",
            "overdue_alert_days": "1,7",
        },
        HTTP_HX_REQUEST="true",
    )

    assert saved.status_code == 200
    assert "The message settings were saved." in saved.content.decode()
    policy = NotificationSettings.objects.get(merchant=merchant)
    assert (
        policy.sms_enabled,
        policy.whatsapp_enabled,
        policy.email_enabled,
        policy.phone_channel,
        policy.staff_digest_enabled,
        policy.overdue_alert_days,
    ) == (True, True, False, "sms", False, [1, 7])


def test_the_message_settings_page_names_a_bad_field_and_works_without_htmx(client, owner, merchant):
    client.force_login(owner)

    refused = client.post(
        "/settings/messages/", {"phone_channel": "fax", "quiet_hours_start": "22:00", "overdue_alert_days": "1"}
    )

    assert refused.status_code == 200
    form = refused.context["form"]
    assert form.errors["phone_channel"] == ["Select a valid choice. fax is not one of the available choices."]
    assert not NotificationSettings.objects.filter(merchant=merchant).exists()

    saved = client.post("/settings/messages/", {"whatsapp_enabled": "on", "phone_channel": "whatsapp"})
    assert (saved.status_code, saved["Location"]) == (302, "/settings/messages/")
    policy = NotificationSettings.objects.get(merchant=merchant)
    # Empty quiet hours: none (both or neither, the policy's rule).
    assert (policy.whatsapp_enabled, policy.quiet_hours_start, policy.quiet_hours_end) == (True, None, None)


@pytest.mark.parametrize("role", ["manager", "clerk", "viewer"])
def test_only_the_owner_opens_the_message_settings(client, request, role):
    client.force_login(request.getfixturevalue(role))

    assert client.get("/settings/messages/").status_code == 403
    assert client.post("/settings/messages/", {"whatsapp_enabled": "on", "phone_channel": "sms"}).status_code == 403


def test_the_api_reads_and_changes_the_merchants_channels(api_client, owner, viewer, merchant):
    api_client.force_authenticate(viewer)
    assert api_client.get(URL).json() == DEFAULTS

    api_client.force_authenticate(owner)
    response = api_client.patch(URL, {"whatsapp_enabled": True, "phone_channel": "sms"}, format="json")

    assert (response.status_code, response.json()) == (
        200,
        {**DEFAULTS, "whatsapp_enabled": True, "phone_channel": "sms"},
    )
    assert NotificationSettings.objects.get(merchant=merchant).whatsapp_enabled is True


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"phone_channel": "fax"}, {"phone_channel": ['"fax" is not a valid choice.']}),
        ({"whatsapp_enabled": "maybe"}, {"whatsapp_enabled": ["Must be a valid boolean."]}),
        ({"whatsap_enabled": True}, {"whatsap_enabled": ["Unknown field. Did you mean whatsapp_enabled?"]}),
        ({"quiet_hours_start": None}, {"quiet_hours_start": ["Give both ends of the quiet hours, or neither."]}),
        (
            {"quiet_hours_start": "25:00"},
            {"quiet_hours_start": ["Time has wrong format. Use one of these formats instead: hh:mm."]},
        ),
        ({"quiet_hours_end": None}, {"quiet_hours_end": ["Give both ends of the quiet hours, or neither."]}),
    ],
)
def test_the_api_refuses_a_bad_setting_naming_it(api_client, owner, merchant, body, errors):
    api_client.force_authenticate(owner)

    response = api_client.patch(URL, body, format="json")

    assert (response.status_code, response.json()) == (400, errors)
    assert not NotificationSettings.objects.filter(merchant=merchant, whatsapp_enabled=True).exists()


def test_one_merchants_owner_changes_only_their_own_channels(api_client, owner, merchant, other_owner, other_merchant):
    NotificationSettings.objects.create(merchant=merchant, whatsapp_enabled=False)
    api_client.force_authenticate(other_owner)

    assert api_client.patch(URL, {"whatsapp_enabled": True}, format="json").status_code == 200

    assert dict(NotificationSettings.objects.values_list("merchant_id", "whatsapp_enabled")) == {
        merchant.pk: False,
        other_merchant.pk: True,
    }


# The customer's preferred channel --------------------------------------------------------------------------------


def test_the_customer_form_keeps_the_preferred_channel(client, clerk, merchant):
    client.force_login(clerk)
    form = client.get(reverse("customers:customer-create")).content.decode()
    assert '<option value="" selected>The shop&#x27;s choice</option>' in form

    response = client.post(
        reverse("customers:customer-create"),
        {"name": "Lucía Pérez", "phone": "+14155550199", "language": "es", "preferred_channel": "sms"},
    )

    assert response.status_code == 302
    assert Customer.objects.get(name="Lucía Pérez").preferred_channel == "sms"


def test_the_customer_api_takes_the_preferred_channel(api_client, clerk, customer):
    api_client.force_authenticate(clerk)
    url = f"/api/customers/{customer.pk}/"

    assert api_client.get(url).json()["preferred_channel"] == ""
    assert api_client.patch(url, {"preferred_channel": "whatsapp"}, format="json").json()["preferred_channel"] == (
        "whatsapp"
    )
    refused = api_client.patch(url, {"preferred_channel": "pigeon"}, format="json")
    assert (refused.status_code, refused.json()) == (400, {"preferred_channel": ['"pigeon" is not a valid choice.']})
    assert api_client.get("/api/customers/", {"preferred_channel": "whatsapp"}).json()["count"] == 1


def _fallen_back(merchant, customer) -> tuple[Notification, Notification]:
    """A WhatsApp message that failed for good, and the SMS sent instead."""
    whatsapp = Notification.objects.create(
        merchant=merchant,
        customer=customer,
        channel=Notification.Channel.WHATSAPP,
        kind=Notification.Kind.PAYMENT_FAILED,
        day="2026-03-01",
        status=Notification.Status.FAILED,
        last_error="WhatsAppError: The WhatsApp provider answered HTTP 400, error 131026: Message undeliverable",
        send_after="2026-03-01T12:00:00Z",
    )
    sms = Notification.objects.create(
        merchant=merchant,
        customer=customer,
        channel=Notification.Channel.SMS,
        kind=Notification.Kind.PAYMENT_FAILED,
        day="2026-03-01",
        send_after="2026-03-01T12:00:00Z",
        fallback_for=whatsapp,
    )
    return whatsapp, sms


def test_the_admin_shows_the_choices_and_the_sms_sent_instead(admin_client, merchant, customer):
    customer_page = admin_client.get(f"/admin/customers/customer/{customer.pk}/change/").content.decode()
    assert 'name="preferred_channel"' in customer_page
    _fallen_back(merchant, customer)

    listing = admin_client.get("/admin/notifications/notification/").content.decode()

    assert listing.count("SMS instead of WhatsApp") == 1
    assert listing.count("Replaced by SMS") == 1
    settings_page = admin_client.get("/admin/notifications/notificationsettings/add/").content.decode()
    assert 'name="whatsapp_enabled"' in settings_page
    assert 'name="phone_channel"' in settings_page


def test_a_customer_of_another_merchant_is_not_filtered_in(api_client, clerk, other_merchant):
    CustomerFactory(merchant=other_merchant, preferred_channel="whatsapp")
    api_client.force_authenticate(clerk)

    assert api_client.get("/api/customers/", {"preferred_channel": "whatsapp"}).json()["count"] == 0


def test_the_customer_page_lists_the_messages_with_the_sms_sent_instead(
    client, clerk, merchant, customer, other_merchant, django_assert_max_num_queries
):
    whatsapp, sms = _fallen_back(merchant, customer)
    stranger = CustomerFactory(merchant=other_merchant)
    _fallen_back(other_merchant, stranger)
    client.force_login(clerk)

    with django_assert_max_num_queries(40):
        page = client.get(reverse("customers:customer-detail", args=[customer.pk])).content.decode()

    panel = page[page.index('id="customer-messages"') :]
    assert panel.count("<tr data-message=") == 2
    assert f'<tr data-message="{sms.pk}" data-channel="sms">' in panel
    assert f'<tr data-message="{whatsapp.pk}" data-channel="whatsapp">' in panel
    assert panel.count('data-fallback="instead"') == 1
    assert panel.count('data-fallback="replaced"') == 1
    assert "error 131026: Message undeliverable" in panel
    assert client.get(reverse("customers:customer-detail", args=[stranger.pk])).status_code == 404
