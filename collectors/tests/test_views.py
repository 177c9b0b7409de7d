"""The worklist's pages: what each role sees and may do, the htmx forms, the plan's panel, the figures."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from collectors.models import Assignment, Contact, Promise
from collectors.services import plans_assign, promise_record
from customers.tests.factories import CustomerFactory
from installments.tests.factories import plan_make
from taqsit.tests.pages import html, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def plans(owner, merchant, today):
    return [
        plan_make(actor=owner, customer=CustomerFactory(merchant=merchant, name=name)) for name in ("Amal", "Basma")
    ]


def test_a_clerk_sees_their_own_plans_unless_they_ask_for_everyones(client, settings, manager, clerk, plans):
    plans_assign(actor=manager, plan_ids=[plans[1].pk], collector=clerk)
    client = signed_in(client, settings, clerk)

    mine = html(client.get(reverse("collectors:worklist")))
    everyone = html(client.get(reverse("collectors:worklist"), {"show": ""}))

    assert "Basma" in mine and "Amal" not in mine
    assert "Amal" in everyone and "Basma" in everyone
    assert 'id="assign-form"' not in everyone  # a clerk does not assign
    assert reverse("collectors:promise-create", args=[plans[0].pk]) in everyone


def test_a_manager_assigns_the_ticked_plans(client, settings, manager, clerk, plans):
    client = signed_in(client, settings, manager)
    page = html(client.get(reverse("collectors:worklist")))
    assert 'id="assign-form"' in page

    response = client.post(
        reverse("collectors:worklist-assign"),
        {"plans": [str(plan.pk) for plan in plans], "collector": str(clerk.pk), "next": "/worklist/?show=unassigned"},
    )

    assert (response.status_code, response["Location"]) == (302, "/worklist/?show=unassigned")
    assert Assignment.objects.filter(collector=clerk).count() == 2
    response = client.post(reverse("collectors:worklist-assign"), {"collector": str(clerk.pk)}, follow=True)
    assert "Choose at least one plan." in html(response)


def test_a_clerk_may_not_assign_and_a_viewer_may_not_record(client, settings, clerk, viewer, plans):
    client = signed_in(client, settings, clerk)
    assert client.post(reverse("collectors:worklist-assign"), {"plans": [str(plans[0].pk)]}).status_code == 403
    client = signed_in(client, settings, viewer)
    assert client.get(reverse("collectors:worklist")).status_code == 200
    url = reverse("collectors:promise-create", args=[plans[0].pk])
    assert client.post(url, {"amount": "10", "promised_on": "2026-03-05", "kind": "call"}).status_code == 403
    assert Assignment.objects.count() == Promise.objects.count() == 0


def test_the_promise_form_over_htmx_shows_errors_then_saves(client, settings, clerk, plans):
    client = signed_in(client, settings, clerk)
    url = reverse("collectors:promise-create", args=[plans[0].pk])

    form = client.get(url, {"next": "/worklist/"}, HTTP_HX_REQUEST="true")
    assert "<h1" not in html(form) and 'id="promise-form"' in html(form)
    bad = client.post(
        url,
        {"amount": "900", "promised_on": "2026-03-05", "kind": "call", "next": "/worklist/"},
        HTTP_HX_REQUEST="true",
    )
    assert "900 is more than the remaining balance 800.00." in html(bad)
    saved = client.post(
        url,
        {"amount": "150", "promised_on": "2026-03-05", "kind": "visit", "next": "/worklist/"},
        HTTP_HX_REQUEST="true",
    )

    assert (saved.status_code, saved["HX-Redirect"]) == (204, "/worklist/")
    promise = Promise.objects.get()
    assert (promise.amount, promise.promised_on, promise.contact.kind) == (Decimal("150.00"), date(2026, 3, 5), "visit")


def test_a_contact_without_script_returns_to_the_plan(client, settings, clerk, plans):
    client = signed_in(client, settings, clerk)
    url = reverse("collectors:contact-create", args=[plans[0].pk])
    assert "<h1" in html(client.get(url))
    response = client.post(url, {"kind": "call", "outcome": "no_answer", "note": ""})
    assert (response.status_code, response["Location"]) == (
        302,
        reverse("installments:plan-detail", args=[plans[0].pk]),
    )
    assert Contact.objects.get().outcome == "no_answer"


def test_the_plan_page_loads_its_follow_up_panel(client, settings, clerk, plans):
    promise_record(actor=clerk, plan=plans[0], amount=Decimal("50.00"), promised_on=date(2026, 3, 4))
    client = signed_in(client, settings, clerk)
    page = html(client.get(reverse("installments:plan-detail", args=[plans[0].pk])))
    panel = html(client.get(reverse("collectors:plan-panel", args=[plans[0].pk])))

    assert reverse("collectors:plan-panel", args=[plans[0].pk]) in page
    assert 'data-promise="open"' in panel
    assert "Promised $50.00 by 03/04/2026" in panel


def test_another_merchants_plan_is_a_404(client, settings, other_owner, plans):
    client = signed_in(client, settings, other_owner)
    for name in ("collectors:plan-panel", "collectors:contact-create", "collectors:promise-create"):
        assert client.get(reverse(name, args=[plans[0].pk])).status_code == 404
    assert "Amal" not in html(client.get(reverse("collectors:worklist"), {"show": ""}))


def test_the_figures_page(client, settings, clerk, plans):
    promise_record(actor=clerk, plan=plans[0], amount=Decimal("50.00"), promised_on=date(2026, 3, 4))
    client = signed_in(client, settings, clerk)
    page = html(client.get(reverse("collectors:figures")))
    assert 'data-week="2026-W09" data-collector="clerk"' in page
    assert "Enter an ISO week such as 2026-W10." in html(client.get(reverse("collectors:figures"), {"week": "last"}))
