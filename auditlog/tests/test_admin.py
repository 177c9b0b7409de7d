"""The audit trail in the admin: platform admins only, filterable by merchant, actor, object, action and date."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from auditlog.models import Entry
from customers.services import customer_create, customer_update
from taqsit import audit
from taqsit.tests.pages import html, signed_in

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:auditlog_entry_changelist")


@pytest.fixture
def history(owner, manager, customer, other_owner):
    with audit.context(source="web"):
        customer_update(actor=manager, customer=customer, notes="Pays on Fridays.")
    with audit.context(source="api"):
        customer_create(actor=other_owner, name="Omar Saleh", phone="+14155550199")


def listed(client, **filters) -> list[int]:
    response = client.get(CHANGELIST, filters)
    assert response.status_code == 200
    return sorted(entry.pk for entry in response.context["cl"].result_list)


def everything(**filters) -> list[int]:
    return sorted(Entry.objects.filter(**filters).values_list("pk", flat=True))


def test_only_platform_admins_see_the_trail(client, settings, owner, history):
    owner.is_staff = True
    owner.save(update_fields=["is_staff"])
    response = signed_in(client, settings, owner).get(CHANGELIST)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_the_filters(client, settings, superuser, history, merchant, manager, customer):
    client = signed_in(client, settings, superuser)
    today = timezone.now().date()
    midnight = datetime(today.year, today.month, today.day, tzinfo=UTC)

    assert listed(client) == everything()
    assert listed(client, merchant=str(merchant.pk)) == everything(merchant=merchant)
    assert listed(client, actor=str(manager.pk)) == everything(actor=manager)
    assert listed(client, object_type="customers.customer") == everything(object_type="customers.customer")
    assert listed(client, q=str(customer.pk)) == everything(object_id=str(customer.pk))
    assert listed(client, action="customer.create") == everything(action="customer.create")
    assert listed(client, operation="update", source="web") == everything(operation="update", source="web")
    day = {"created_at__gte": str(midnight), "created_at__lt": str(midnight + timedelta(days=1))}
    assert listed(client, **day) == everything(created_at__date=today)
    assert listed(client, actor="not-an-id") == []


def test_the_actor_filter_offers_the_chosen_merchants_staff(client, settings, superuser, history, merchant):
    client = signed_in(client, settings, superuser)

    without = client.get(CHANGELIST).context["cl"].filter_specs[1]
    with_merchant = client.get(CHANGELIST, {"merchant": str(merchant.pk)}).context["cl"].filter_specs[1]

    assert [title for _pk, title in without.lookup_choices] == ["platform"]
    assert [title for _pk, title in with_merchant.lookup_choices] == ["manager", "owner", "platform"]


def test_an_entry_shows_its_changes_and_context(client, settings, superuser, history, customer):
    client = signed_in(client, settings, superuser)
    entry = Entry.objects.get(object_type="customers.customer", object_id=str(customer.pk), operation="update")

    body = html(client.get(reverse("admin:auditlog_entry_change", args=[entry.pk])))

    assert "<tr><td>Notes</td><td></td><td>Pays on Fridays.</td></tr>" in body
    assert "&quot;action&quot;: &quot;customer.update&quot;" in body
