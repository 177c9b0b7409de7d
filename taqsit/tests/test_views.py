"""Core pages: the dashboard and its statistics, log-in and passwords, staff, merchant settings, languages."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.staticfiles import finders
from django.core import mail
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from customers.tests.factories import CustomerFactory
from installments.tests.factories import plan_make
from payments.services import payment_post
from payments.stats import merchant_stats
from taqsit.models import Merchant, Role, User
from taqsit.tests.factories import TEST_PASSWORD, UserFactory
from taqsit.tests.pages import html, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(merchant, owner, customer, today):
    """Three plans seen on 2026-03-01 (grace 0 days):

    A: 1000.00, 200.00 down on 2026-01-15, 4 x 200.00 due 15 Feb, Mar, Apr, May: #1 is 14 days overdue.
    B: 500.00, 100.00 down on 2025-11-01, 4 x 100.00 due 1 Dec, Jan, Feb, Mar; 150.00 paid today pays #1 and
       50.00 of #2: #2 (59 days, 50.00 left) and #3 (28 days) are overdue, #4 is due today.
    C: 150.00, 50.00 down on 2025-09-01, 2 x 50.00 due 1 Oct and 1 Nov: both over 90 days overdue.
    """
    plan_make(actor=owner, customer=customer)
    b = plan_make(
        actor=owner,
        customer=CustomerFactory(merchant=merchant),
        total_amount=Decimal("500.00"),
        down_payment=Decimal("100.00"),
        start_date=date(2025, 11, 1),
    )
    payment_post(actor=owner, plan=b, amount=Decimal("150.00"))
    plan_make(
        actor=owner,
        customer=CustomerFactory(merchant=merchant),
        total_amount=Decimal("150.00"),
        down_payment=Decimal("50.00"),
        number_of_installments=2,
        start_date=date(2025, 9, 1),
    )
    merchant.requires_approval = True
    merchant.save(update_fields=["requires_approval"])
    plan_make(actor=owner, customer=customer)
    return merchant


def test_dashboard_statistics_are_exact(book, today):
    stats = merchant_stats(merchant=book)
    assert stats.today == today
    assert (stats.due_today.count, stats.due_today.amount) == (1, Decimal("100.00"))
    assert (stats.due_this_week.count, stats.due_this_week.amount) == (1, Decimal("100.00"))
    assert (stats.overdue.count, stats.overdue.amount) == (5, Decimal("450.00"))
    assert [(bucket.key, bucket.count, bucket.amount) for bucket in stats.aging] == [
        ("1-30", 2, Decimal("300.00")),
        ("31-60", 1, Decimal("50.00")),
        ("61-90", 0, Decimal("0.00")),
        ("90+", 2, Decimal("100.00")),
    ]
    assert stats.outstanding == Decimal("1150.00")
    assert stats.collected_this_month == Decimal("150.00")
    assert stats.pending_applications == 1
    weeks = [(week.week_start, week.amount) for week in stats.collections_by_week]
    assert len(weeks) == 12
    assert weeks[0][0] == date(2025, 12, 8)
    assert weeks[-1][0] == date(2026, 2, 23)
    assert {week: amount for week, amount in weeks if amount} == {
        date(2026, 1, 12): Decimal("200.00"),
        date(2026, 2, 23): Decimal("150.00"),
    }


def test_grace_days_move_the_overdue_line(book):
    book.grace_days = 20
    book.save(update_fields=["grace_days"])
    stats = merchant_stats(merchant=book, today=date(2026, 3, 1))
    # A#1 (14 days) and B#3 (28 days)... only rows more than 20 days past due are overdue.
    assert (stats.overdue.count, stats.overdue.amount) == (4, Decimal("250.00"))


def test_the_dashboard_page_shows_the_figures(client, settings, book, clerk):
    body = html(signed_in(client, settings, clerk).get(reverse("taqsit:dashboard")))
    figures = dict(re.findall(r'data-figure="([a-z-]+)">([^<]+)<', body))
    assert figures == {
        "computed-at": "figures as of noon",  # the clock is frozen at noon
        "overdue-amount": "$450.00",
        "due-today": "$100.00",
        "due-week": "$100.00",
        "collected-month": "$150.00",
        "outstanding": "$1,150.00",
        "pending": "1",
        "collection-rate": "21.43%",
        "collected": "$500.00",
        "late-fees-due": "$0.00",
    }
    assert "$150.00 paid of $700.00 fallen due" in body
    assert '<canvas id="aging-chart"' in body
    assert '<canvas id="weekly-chart"' in body
    assert '<canvas id="expected-chart"' in body
    assert 'id="chart-data"' in body
    assert "vendor/chartjs/chart.umd.min.js" in body


def test_the_dashboard_in_arabic_is_right_to_left_with_arabic_money(client, settings, book, clerk):
    client = signed_in(client, settings, clerk)
    client.cookies["django_language"] = "ar"
    body = html(client.get(reverse("taqsit:dashboard")))
    assert '<html lang="ar" dir="rtl">' in body
    assert "bootstrap.rtl.min.css" in body
    assert "لوحة المتابعة" in body
    # CLDR's Arabic pattern (RLM, number, no-break space, symbol), the symbol isolated for the bidi algorithm.
    assert "\u200f1,150.00\xa0\u2068US$\u2069" in body


def test_the_dashboard_in_spanish_says_when_its_figures_were_computed(client, settings, book, clerk):
    client = signed_in(client, settings, clerk)
    client.cookies["django_language"] = "es"
    body = html(client.get(reverse("taqsit:dashboard")))
    figures = dict(re.findall(r'data-figure="([a-z-]+)">([^<]+)<', body))
    assert figures["computed-at"] == "cifras a las 12:00"  # the clock is frozen at noon


def test_pages_show_times_in_the_merchants_time_zone_and_the_api_keeps_utc(client, settings, book, clerk):
    book.timezone = "America/New_York"  # noon UTC on 1 March is 7 a.m. there (EST)
    book.save(update_fields=["timezone"])
    client = signed_in(client, settings, clerk)

    body = html(client.get(reverse("taqsit:dashboard")))
    figures = dict(re.findall(r'data-figure="([a-z-]+)">([^<]+)<', body))
    assert figures["computed-at"] == "figures as of 7 a.m."

    # The same session on the API: UTC, as the API documents.
    assert client.get("/api/stats/").json()["computed_at"] == "2026-03-01T12:00:00Z"


# The money filter ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "currency", "amount", "expected"),
    [
        ("en", "USD", "1234.5", "$1,234.50"),
        ("es", "USD", "1234.5", "1.234,50\xa0US$"),
        ("ar", "USD", "1234.5", "\u200f1,234.50\xa0\u2068US$\u2069"),
        ("en", "KWD", "1234.5", "KWD1,234.500"),
        ("es", "JPY", "1234", "1.234\xa0JPY"),
        ("en", "JPY", "1234.5", "¥1,235"),
        ("ar", "SAR", "10", "\u200f10.00\xa0\u2068ر.س.\u200f\u2069"),
    ],
)
def test_money_is_written_for_the_language_in_the_currency(language, currency, amount, expected):
    template = Template("{% load taqsit_tags %}{{ amount|money:currency }}")
    with translation.override(language):
        assert template.render(Context({"amount": Decimal(amount), "currency": currency})) == expected


def test_money_of_nothing_is_empty():
    template = Template("{% load taqsit_tags %}[{{ amount|money:currency }}]")
    assert template.render(Context({"amount": None, "currency": "USD"})) == "[]"


# Log-in and passwords ------------------------------------------------------------------------------------


def test_log_in_takes_a_clerk_to_the_dashboard_in_their_language(client, settings, clerk):
    clerk.language = "es"
    clerk.save(update_fields=["language"])
    client = signed_in(client, settings, None)
    assert client.get(reverse("login")).status_code == 200
    response = client.post(reverse("login"), {"username": "clerk", "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("taqsit:dashboard")
    assert response.cookies["django_language"].value == "es"
    body = html(client.get(reverse("taqsit:dashboard")))
    assert '<html lang="es" dir="ltr">' in body
    assert '<h1 class="h3 mb-0">Panel</h1>' in body


def test_a_wrong_password_keeps_the_username(client, settings, clerk):
    client = signed_in(client, settings, None)
    response = client.post(reverse("login"), {"username": "clerk", "password": "nope"})
    assert response.status_code == 200
    body = html(response)
    assert 'value="clerk"' in body
    assert "alert-danger" in body


def test_log_out_is_a_post_and_ends_the_session(client, settings, clerk):
    client = signed_in(client, settings, clerk)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert client.get(reverse("taqsit:dashboard")).status_code == 302


def test_password_reset_by_e_mail(client, settings, clerk):
    client = signed_in(client, settings, None)
    response = client.post(reverse("password_reset"), {"email": clerk.email})
    assert response["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [clerk.email]
    assert message.subject == "Choose a new Taqsit password"
    link = re.search(r"https?://[^/]+(/accounts/password/reset/\S+/)", message.body).group(1)
    form_url = client.get(link)["Location"]  # Django swaps the token for a session marker
    response = client.post(form_url, {"new_password1": "Fresh-Counter-77", "new_password2": "Fresh-Counter-77"})
    assert response["Location"] == reverse("password_reset_complete")
    clerk.refresh_from_db()
    assert clerk.check_password("Fresh-Counter-77")


def test_password_change(client, settings, clerk):
    client = signed_in(client, settings, clerk)
    data = {"old_password": TEST_PASSWORD, "new_password1": "Other-Counter-88", "new_password2": "Other-Counter-88"}
    response = client.post(reverse("password_change"), data)
    assert response["Location"] == reverse("password_change_done")
    clerk.refresh_from_db()
    assert clerk.check_password("Other-Counter-88")


# Staff and settings (owner) ------------------------------------------------------------------------------


def test_the_owner_adds_a_member_of_staff(client, settings, owner):
    client = signed_in(client, settings, owner)
    data = {"username": "nadia", "email": "nadia@example.com", "role": "manager", "password": "Counter-Pass-99"}
    response = client.post(reverse("taqsit:staff-create"), data, follow=True)
    assert response.redirect_chain[-1][0] == reverse("taqsit:staff-list")
    nadia = User.objects.get(username="nadia")
    assert (nadia.merchant, nadia.role) == (owner.merchant, Role.MANAGER)
    assert nadia.check_password("Counter-Pass-99")
    assert "nadia can now log in." in html(response)


def test_a_weak_password_is_refused_and_the_form_keeps_its_input(client, settings, owner):
    client = signed_in(client, settings, owner)
    data = {"username": "nadia", "email": "nadia@example.com", "role": "manager", "password": "123"}
    response = client.post(reverse("taqsit:staff-create"), data)
    assert response.status_code == 200
    body = html(response)
    assert 'value="nadia"' in body
    assert 'value="nadia@example.com"' in body
    assert "This password is too short." in body
    assert not User.objects.filter(username="nadia").exists()


def test_the_owner_changes_a_role_and_deactivates(client, settings, owner, clerk):
    client = signed_in(client, settings, owner)
    response = client.post(reverse("taqsit:staff-update", args=[clerk.pk]), {"role": "viewer"})
    assert response.status_code == 302
    clerk.refresh_from_db()
    assert (clerk.role, clerk.is_active) == (Role.VIEWER, False)


def test_the_last_owner_stays_an_owner(client, settings, owner):
    client = signed_in(client, settings, owner)
    response = client.post(reverse("taqsit:staff-update", args=[owner.pk]), {"role": "clerk", "is_active": "on"})
    assert response.status_code == 200
    assert "A merchant needs at least one active owner." in html(response)
    owner.refresh_from_db()
    assert owner.role == Role.OWNER


def test_merchant_settings_save_the_collection_policy(client, settings, owner, merchant):
    client = signed_in(client, settings, owner)
    data = {
        "name": "Viejos Recuerdos",
        "currency": "USD",
        "timezone": "America/Mexico_City",
        "language": "es",
        "country": "MX",
        "reminder_days_before": "5",
        "grace_days": "3",
        "late_fee_method": "percent",
        "late_fee_amount": "0",
        "late_fee_percent": "2.5",
        "late_fee_cap": "25",
        "default_after_days": "60",
        "requires_approval": "on",
    }
    response = client.post(reverse("taqsit:merchant-settings"), data)
    assert response["Location"] == reverse("taqsit:merchant-settings")
    merchant.refresh_from_db()
    assert (merchant.timezone, merchant.grace_days, merchant.late_fee_method) == ("America/Mexico_City", 3, "percent")
    assert (merchant.late_fee_percent, merchant.late_fee_cap, merchant.requires_approval) == (
        Decimal("2.5"),
        Decimal("25"),
        True,
    )


def test_a_fixed_late_fee_needs_its_amount(client, settings, owner, merchant):
    client = signed_in(client, settings, owner)
    data = {
        "name": "Renamed shop",
        "currency": "USD",
        "timezone": "UTC",
        "language": "en",
        "country": "US",
        "reminder_days_before": "3",
        "grace_days": "0",
        "late_fee_method": "fixed",
        "late_fee_amount": "0",
        "late_fee_percent": "0",
        "default_after_days": "90",
    }
    response = client.post(reverse("taqsit:merchant-settings"), data)
    assert response.status_code == 200
    body = html(response)
    assert "A fixed late fee needs an amount greater than zero." in body
    assert 'value="Renamed shop"' in body
    assert Merchant.objects.get(pk=merchant.pk).name == "Viejos Recuerdos"


def test_the_language_switcher_changes_the_pages_language(client, settings, clerk):
    client = signed_in(client, settings, clerk)
    response = client.post(reverse("set_language"), {"language": "es", "next": reverse("customers:customer-list")})
    assert response["Location"] == reverse("customers:customer-list")
    body = html(client.get(reverse("customers:customer-list")))
    assert '<html lang="es" dir="ltr">' in body
    assert "Clientes" in body
    assert 'action="/i18n/setlang/"' in body


def test_a_member_of_another_merchant_is_not_found(client, settings, owner, other_owner):
    client = signed_in(client, settings, owner)
    assert client.get(reverse("taqsit:staff-update", args=[other_owner.pk])).status_code == 404
    assert other_owner.username not in html(client.get(reverse("taqsit:staff-list")))


def test_the_staff_list_names_every_member(client, settings, owner, manager, clerk, viewer):
    UserFactory(merchant=owner.merchant, username="gone", is_active=False)
    body = html(signed_in(client, settings, owner).get(reverse("taqsit:staff-list")))
    for username in ("owner", "manager", "clerk", "viewer", "gone"):
        assert f"<td>{username}</td>" in body


def test_every_page_links_the_favicon_and_favicon_ico_is_answered(client, settings, clerk):
    settings.SECURE_SSL_REDIRECT = False
    login = html(client.get(reverse("login")))
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in login
    assert '<link rel="icon" href="/static/favicon.ico" sizes="16x16">' in login
    assert '<link rel="icon" href="/static/favicon.svg"' in html(signed_in(client, settings, clerk).get("/"))

    response = client.get("/favicon.ico")

    assert response.status_code == 301
    assert response["Location"] == "/static/favicon.ico"
    # The static files themselves (served by WhiteNoise once collected).
    with open(finders.find("favicon.ico"), "rb") as icon:
        assert icon.read(4) == b"\x00\x00\x01\x00"  # an ICO header
    with open(finders.find("favicon.svg")) as svg:
        assert svg.read().startswith("<svg ")
