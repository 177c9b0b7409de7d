"""The in-app notifications API: a user sees and reads only their own notifications."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from rest_framework.test import APIClient

from notifications.models import Notification

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today")]

URL = "/api/notifications/"
NOON = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _notification(user, *, day: date, subject: str, read_at=None) -> Notification:
    return Notification.objects.create(
        merchant=user.merchant,
        user=user,
        channel=Notification.Channel.IN_APP,
        kind=Notification.Kind.STAFF_DIGEST,
        day=day,
        status=Notification.Status.SENT,
        subject=subject,
        body=f"Body of {subject}",
        send_after=NOON,
        sent_at=NOON,
        read_at=read_at,
    )


@pytest.fixture
def client(owner):
    api = APIClient()
    api.force_authenticate(owner)
    return api


@pytest.fixture
def inbox(owner, clerk, other_owner):
    with time_machine.travel(datetime(2026, 2, 28, 6, 0, tzinfo=UTC), tick=False):
        older = _notification(owner, day=date(2026, 2, 28), subject="Older", read_at=NOON)
    newer = _notification(owner, day=date(2026, 3, 1), subject="Newer")
    return {
        "older": older,
        "newer": newer,
        "clerks": _notification(clerk, day=date(2026, 3, 1), subject="The clerk's"),
        "other merchants": _notification(other_owner, day=date(2026, 3, 1), subject="Another shop's"),
    }


def test_the_list_is_the_users_own_newest_first(client, inbox):
    response = client.get(URL)

    assert response.status_code == 200
    assert response.json() == {
        "count": 2,
        "next": None,
        "previous": None,
        "results": [
            {
                "id": str(inbox["newer"].pk),
                "kind": "staff_digest",
                "channel": "in_app",
                "day": "2026-03-01",
                "subject": "Newer",
                "body": "Body of Newer",
                "is_read": False,
                "read_at": None,
                "created_at": "2026-03-01T12:00:00Z",
            },
            {
                "id": str(inbox["older"].pk),
                "kind": "staff_digest",
                "channel": "in_app",
                "day": "2026-02-28",
                "subject": "Older",
                "body": "Body of Older",
                "is_read": True,
                "read_at": "2026-03-01T12:00:00Z",
                "created_at": "2026-02-28T06:00:00Z",
            },
        ],
    }


@pytest.mark.parametrize(("unread", "subjects"), [("true", ["Newer"]), ("false", ["Older"]), ("", ["Newer", "Older"])])
def test_the_list_filters_unread(client, inbox, unread, subjects):
    response = client.get(URL, {"unread": unread})

    assert [row["subject"] for row in response.json()["results"]] == subjects


@pytest.mark.parametrize(("unread", "subjects"), [("1", ["Newer"]), ("0", ["Older"]), (" TRUE ", ["Newer"])])
def test_the_unread_filter_reads_booleans_as_django_does(client, inbox, unread, subjects):
    response = client.get(URL, {"unread": unread})

    assert [row["subject"] for row in response.json()["results"]] == subjects


def test_an_unreadable_unread_filter_is_a_400_naming_it(client, inbox):
    response = client.get(URL, {"unread": "maybe"})

    assert (response.status_code, response.json()) == (400, {"unread": ["Enter true or false."]})


def test_customer_messages_are_not_in_the_inbox(client, owner, inbox, customer):
    Notification.objects.create(
        merchant=owner.merchant,
        customer=customer,
        channel=Notification.Channel.SMS,
        kind=Notification.Kind.REMINDER_DUE_TODAY,
        day=date(2026, 3, 1),
        send_after=NOON,
    )

    assert client.get(URL).json()["count"] == 2


def test_reading_marks_it_read_once(client, inbox):
    url = f"{URL}{inbox['newer'].pk}/read/"

    first = client.post(url)
    with time_machine.travel(datetime(2026, 3, 1, 15, 0, tzinfo=UTC), tick=False):
        again = client.post(url)

    assert first.status_code == again.status_code == 200
    assert first.json()["is_read"] is True
    assert first.json()["read_at"] == again.json()["read_at"] == "2026-03-01T12:00:00Z"
    assert client.get(URL, {"unread": "true"}).json()["count"] == 0


@pytest.mark.parametrize("whose", ["clerks", "other merchants"])
def test_someone_elses_notification_is_a_404(client, inbox, whose):
    notification = inbox[whose]

    assert client.get(f"{URL}{notification.pk}/").status_code == 404
    assert client.post(f"{URL}{notification.pk}/read/").status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None


def test_a_malformed_id_is_a_404(client, inbox):
    assert client.post(f"{URL}not-a-uuid/read/").status_code == 404


def test_signing_in_is_required(inbox):
    assert APIClient().get(URL).status_code == 401


def test_the_list_takes_a_fixed_number_of_queries(client, owner, django_assert_max_num_queries):
    for day in range(1, 21):
        _notification(owner, day=date(2026, 2, day), subject=f"Day {day}")

    with django_assert_max_num_queries(4):
        response = client.get(URL)

    assert response.json()["count"] == 20
