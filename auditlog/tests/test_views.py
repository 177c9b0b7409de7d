"""The history panel of the plan and customer pages: for owners and managers, loaded by htmx (or a page of its
own), what changed in the page's language; another merchant's plan is a 404."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from auditlog.models import Entry
from auditlog.selectors import entry_changes, users_named
from customers.services import customer_update
from installments.tests.factories import plan_make
from payments.models import Payment
from payments.services import payment_post
from taqsit import audit
from taqsit.tests.pages import html, signed_in

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def plan(owner, customer, today):
    with audit.context(source="web"):
        plan = plan_make(actor=owner, customer=customer)
        payment_post(actor=owner, plan=plan, amount=Decimal("150.00"))
    return plan


@pytest.mark.parametrize("role", ["owner", "manager"])
def test_the_plan_page_loads_the_history_for_owners_and_managers(client, settings, plan, owner, manager, role):
    user = {"owner": owner, "manager": manager}[role]
    page = html(signed_in(client, settings, user).get(reverse("installments:plan-detail", args=[plan.pk])))
    url = reverse("auditlog:plan-history", args=[plan.pk])
    assert f'hx-get="{url}" hx-trigger="load"' in page
    assert f'<a href="{url}">Show the history</a>' in page


@pytest.mark.parametrize("role", ["clerk", "viewer"])
def test_clerks_and_viewers_get_no_history(client, settings, plan, customer, clerk, viewer, role):
    client = signed_in(client, settings, {"clerk": clerk, "viewer": viewer}[role])
    for page, history in (
        ("installments:plan-detail", "auditlog:plan-history"),
        ("customers:customer-detail", "auditlog:customer-history"),
    ):
        obj = plan if "plan" in page else customer
        assert "Show the history" not in html(client.get(reverse(page, args=[obj.pk])))
        assert client.get(reverse(history, args=[obj.pk]), **HTMX).status_code == 403


def test_the_plan_history_shows_what_changed_newest_first(client, settings, plan, manager):
    client = signed_in(client, settings, manager)

    response = client.get(reverse("auditlog:plan-history", args=[plan.pk]), **HTMX)

    assert response.status_code == 200
    assert [entry.pk for entry in response.context["page"]] == list(
        Entry.objects.filter(plan_id=plan.pk).order_by("-id").values_list("pk", flat=True)[:20]
    )
    body = html(response)
    assert "<html" not in body  # a fragment for htmx
    # The payment's effect on the plan: its running total, before and after, under the field's own name.
    assert "<tr><td>Amount paid</td><td>$200.00</td><td>$350.00</td></tr>" in body
    assert '<span data-action="payment.post">Payment recorded</span>' in body
    assert "Changed</strong>: Installment plan" in body
    assert "Show older entries" not in body


def test_older_entries_come_a_page_at_a_time(client, settings, plan, owner, monkeypatch):
    monkeypatch.setattr("auditlog.views.PAGE_SIZE", 5)
    client = signed_in(client, settings, owner)
    url = reverse("auditlog:plan-history", args=[plan.pk])
    newest = list(Entry.objects.filter(plan_id=plan.pk).order_by("-id").values_list("pk", flat=True))
    assert len(newest) > 10

    first = client.get(url, **HTMX)
    second = client.get(url, {"page": 2}, **HTMX)

    assert [entry.pk for entry in first.context["page"]] == newest[:5]
    assert [entry.pk for entry in second.context["page"]] == newest[5:10]
    # The link replaces itself with the next entries and the next link.
    assert (
        f'hx-get="{url}?page=2" hx-target="closest .history-more" hx-swap="outerHTML">Show older entries</a>'
        in html(first)
    )


def test_the_history_speaks_the_pages_language(client, settings, plan, owner):
    client = signed_in(client, settings, owner)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"

    body = html(client.get(reverse("auditlog:plan-history", args=[plan.pk]), **HTMX))

    with translation.override("es"):
        assert translation.gettext("Field") != "Field"
        assert f'<th scope="col">{translation.gettext("Field")}</th>' in body
        assert translation.gettext("Changed") in body


def test_the_customer_history_without_javascript_is_a_page(client, settings, owner, customer):
    customer_update(actor=owner, customer=customer, notes="Pays on Fridays.")
    client = signed_in(client, settings, owner)

    page = html(client.get(reverse("customers:customer-detail", args=[customer.pk])))
    body = html(client.get(reverse("auditlog:customer-history", args=[customer.pk])))

    assert reverse("auditlog:customer-history", args=[customer.pk]) in page
    assert '<h1 class="h3 mb-0">History of Amina Haddad</h1>' in body
    assert "<tr><td>Notes</td><td>—</td><td>Pays on Fridays.</td></tr>" not in body
    assert "<tr><td>Notes</td><td></td><td>Pays on Fridays.</td></tr>" in body
    assert "Created</strong>: Customer" in body


def test_another_merchants_plan_has_no_history_here(client, settings, plan, other_owner):
    client = signed_in(client, settings, other_owner)
    assert client.get(reverse("auditlog:plan-history", args=[plan.pk]), **HTMX).status_code == 404
    assert client.get(reverse("auditlog:customer-history", args=[plan.customer_id]), **HTMX).status_code == 404


def test_the_history_costs_a_fixed_number_of_queries(client, settings, plan, owner, django_assert_max_num_queries):
    client = signed_in(client, settings, owner)
    client.get(reverse("auditlog:plan-history", args=[plan.pk]), **HTMX)  # the session, once
    # One of them names the staff the entries mention (received by, created by...), whatever their number.
    with django_assert_max_num_queries(7):
        response = client.get(reverse("auditlog:plan-history", args=[plan.pk]), **HTMX)
    assert response.status_code == 200


def test_the_arabic_history_writes_day_then_month_names_actions_and_staff(client, settings, plan, owner, merchant):
    client = signed_in(client, settings, owner)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ar"

    body = html(client.get(reverse("auditlog:plan-history", args=[plan.pk]), **HTMX))

    newest = Entry.objects.filter(plan_id=plan.pk).order_by("-id").first()
    local = newest.created_at.astimezone(merchant.tzinfo)
    # Day/month like every other Arabic date (Django's d‏/m‏/Y), not the month-first default.
    assert f'<time datetime="{newest.created_at.isoformat()}">{local:%d}\u200f/{local:%m}\u200f/{local:%Y} ' in body
    assert '<span data-action="payment.post">تسجيل دفعة</span>' in body
    # The payment's "received by" names the member of staff; no user id is shown.
    with translation.override("ar"):
        received_by = str(Payment._meta.get_field("received_by").verbose_name)
    assert f'<dt class="col-5">{received_by.capitalize()}</dt><dd class="col-7">{owner}</dd>' in body
    assert str(owner.pk) not in body
    # Every field is named in Arabic, those Django names by itself ("interest paid", "id") included.
    labels = re.findall(r'<dt class="col-5">([^<]*)</dt>', body) + re.findall(r"<tr><td>([^<]*)</td>", body)
    assert len(labels) > 20
    assert [label for label in labels if re.search("[A-Za-z]", label)] == []


def test_another_merchants_user_is_not_named(plan, owner, other_owner):
    entry = Entry.objects.filter(object_type="payments.payment", operation="insert").first()
    entry.after["received_by_id"] = str(other_owner.pk)
    assert users_named([entry], merchant_id=plan.merchant_id) == {}
    entry.after["received_by_id"] = str(owner.pk)
    assert users_named([entry], merchant_id=plan.merchant_id) == {str(owner.pk): str(owner)}
    shown = {change.field: change.after for change in entry_changes(entry, users={str(owner.pk): "Owner O."})}
    assert shown["received_by_id"] == "Owner O."
