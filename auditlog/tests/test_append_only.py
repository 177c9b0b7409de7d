"""The trail is append-only: the database refuses an UPDATE or DELETE of an entry, whoever sends it, and no
page, API call or admin screen offers one. The application's role has no such privilege at all; the trigger
that refuses them to every other role is tested in test_append_only_roles.py."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from auditlog.models import Entry
from customers.services import customer_update
from taqsit.tests.pages import signed_in

pytestmark = pytest.mark.django_db

REFUSED = "permission denied for table auditlog_entry"


@pytest.fixture
def entry(owner, customer) -> Entry:
    customer_update(actor=owner, customer=customer, notes="Pays on Fridays.")
    return Entry.objects.get(object_type="customers.customer", operation="update")


@pytest.mark.parametrize(
    "sql",
    [
        'UPDATE auditlog_entry SET after = \'{"notes": "Never paid."}\' WHERE id = %s',
        "UPDATE auditlog_entry SET actor_id = NULL WHERE id = %s",
        "DELETE FROM auditlog_entry WHERE id = %s",
        "DELETE FROM auditlog_entry WHERE id >= %s",
    ],
)
def test_the_database_refuses_to_alter_or_delete_an_entry(entry, sql):
    with pytest.raises(DatabaseError, match=REFUSED), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [entry.pk])

    entry.refresh_from_db()
    assert entry.after == {"notes": "Pays on Fridays."}


def test_the_orm_is_refused_too(entry, owner):
    with pytest.raises(DatabaseError, match=REFUSED), transaction.atomic():
        Entry.objects.filter(pk=entry.pk).update(actor=None)
    with pytest.raises(DatabaseError, match=REFUSED), transaction.atomic():
        entry.delete()
    with pytest.raises(DatabaseError, match=REFUSED), transaction.atomic():
        entry.action = "customer.create"
        entry.save()

    entry.refresh_from_db()
    assert (entry.action, entry.actor_id) == ("customer.update", owner.pk)


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_the_api_only_reads(api_client, owner, entry, method):
    api_client.force_authenticate(owner)
    for url in (reverse("api:audit-entry-list"), reverse("api:audit-entry-detail", args=[entry.pk])):
        response = getattr(api_client, method)(url, {"action": "x"}, format="json")
        assert response.status_code == 405

    assert Entry.objects.filter(pk=entry.pk, action="customer.update").exists()


def test_the_admin_only_shows(client, settings, superuser, entry):
    client = signed_in(client, settings, superuser)
    change = reverse("admin:auditlog_entry_change", args=[entry.pk])

    assert client.get(reverse("admin:auditlog_entry_add")).status_code == 403
    assert client.get(reverse("admin:auditlog_entry_delete", args=[entry.pk])).status_code == 403
    assert client.post(reverse("admin:auditlog_entry_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
    page = client.get(change)
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert 'name="_save"' not in page.content.decode()
    assert client.post(change, {"action": "customer.create"}).status_code == 403
    # No bulk action (not even "delete selected") on the list.
    assert client.get(reverse("admin:auditlog_entry_changelist")).context["action_form"] is None

    entry.refresh_from_db()
    assert entry.action == "customer.update"
