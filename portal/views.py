"""The portal's pages: a customer's way in (a personal link, a one-time code, self-registration) and home.

Views parse, call a service or selector, and present; ``portal_required`` (portal/auth.py) guards every page
that shows a customer's data.
"""

from __future__ import annotations

import contextlib
from functools import partial

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from customers.portal_links import portal_is_open, portal_link_resolve
from installments.forms import PayoffForm
from installments.selectors import PayoffQuote, plan_payoff_quote
from payments.models import Payment
from portal.auth import (
    SESSION_LANGUAGE,
    SESSION_LAST_MERCHANT,
    portal_customer,
    portal_language,
    portal_language_activate,
    portal_login,
    portal_logout,
    portal_render,
    portal_required,
)
from portal.forms import CodeForm, CodeRequestForm, RegisterForm
from portal.inbox import notification_mark_read_by_customer, notifications_mark_all_read_by_customer
from portal.selectors import (
    customer_notifications,
    customer_payments,
    customer_plan,
    customer_plan_cards,
    customer_receipt,
    customer_unread_count,
    plan_card,
    plan_installments,
    plan_schedule_rows,
)
from portal.services import (
    Purpose,
    code_sent_message,
    destination_normalize,
    portal_code_request,
    portal_code_verify,
    portal_register_complete,
    portal_register_request,
)
from taqsit.dates import merchant_today
from taqsit.forms import form_errors_add
from taqsit.models import Language, Merchant
from taqsit.tenancy import request_merchant_set

# The code on its way: whom it was sent to and why, until it is typed (the destination is never shown back
# as "known" or "unknown").
SESSION_PENDING = "portal_pending_code"
# The messages page shows this many at a time, newest first.
MESSAGES_PER_PAGE = 25


def link_entry(request: HttpRequest, token: str) -> HttpResponse:
    """A personal link: logs the customer in and opens their portal; an expired, revoked or unknown link is a
    page saying so (404), with nothing on why."""
    link = portal_link_resolve(token)
    if link is None:
        portal_language_activate(request, portal_customer(request))
        return portal_render(request, lambda: render(request, "portal/link_invalid.html", status=404))
    portal_login(request, link.customer)
    return redirect("portal:home")


@portal_required
def home(request: HttpRequest) -> HttpResponse:
    """The customer's plans at the merchant: status, what falls due next and how much, what is left, how far
    along, overdue ones marked; each links to its page."""
    customer = request.portal_customer
    cards = customer_plan_cards(customer=customer)
    context = portal_context(request, cards=cards)
    return render(request, "portal/home.html", context)


def _payoff(request: HttpRequest, plan, rows) -> tuple[PayoffForm, PayoffQuote | None]:
    """The payoff quote for the date asked (``?date=``, else the merchant's today), or the form naming what is
    wrong with the date (the staff plan page's form and rule)."""
    form = PayoffForm({"date": request.GET.get("date") or merchant_today(plan.merchant).isoformat()})
    if not plan.is_open or not form.is_valid():
        return form, None
    try:
        return form, plan_payoff_quote(plan=plan, on=form.cleaned_data["date"], rows=rows)
    except ValidationError as exc:
        form_errors_add(form, exc, aliases={"on": "date"})
        return form, None


@portal_required
def plan_detail(request: HttpRequest, plan_id) -> HttpResponse:
    """One of the customer's plans: its figures, the whole schedule with what was paid on each row, its payments
    and what would close it on a date (the payoff quote). Another customer's or merchant's plan: 404."""
    customer = request.portal_customer
    plan = customer_plan(customer=customer, plan_id=plan_id)
    rows = plan_installments(plan=plan)
    payoff_form, quote = _payoff(request, plan, rows)
    context = portal_context(
        request,
        plan=plan,
        card=plan_card(plan=plan, rows=rows),
        schedule=plan_schedule_rows(plan=plan, rows=rows),
        payments=list(customer_payments(customer=customer, plan=plan)),
        payoff_form=payoff_form,
        quote=quote,
    )
    return render(request, "portal/plan_detail.html", context)


@portal_required
def payment_list(request: HttpRequest) -> HttpResponse:
    """The customer's payments on all their plans, newest first: pending ones waiting for the shop to confirm,
    failed ones with the reason, a receipt for each completed one."""
    customer = request.portal_customer
    payments = list(customer_payments(customer=customer))
    return render(request, "portal/payments.html", portal_context(request, payments=payments))


@portal_required
def payment_receipt(request: HttpRequest, payment_id) -> HttpResponse:
    """A printable receipt of one of the customer's completed payments, as the shop's receipt shows it; any
    other payment (pending, failed, reversed, or not theirs): 404."""
    receipt = customer_receipt(customer=request.portal_customer, payment_id=payment_id)
    return render(request, "portal/receipt.html", portal_context(request, receipt=receipt))


@portal_required
def message_list(request: HttpRequest) -> HttpResponse:
    """Every message the shop sent the customer, newest first, the unread ones marked."""
    customer = request.portal_customer
    page = Paginator(customer_notifications(customer=customer), MESSAGES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "portal/messages.html", portal_context(request, page=page))


@portal_required
def message_detail(request: HttpRequest, notification_id) -> HttpResponse:
    """One message, marked read by opening it: a read state only (nothing else changes, the first read time
    stays, an audit entry records it), like opening an e-mail; another customer's message: 404."""
    notification = notification_mark_read_by_customer(customer=request.portal_customer, notification_id=notification_id)
    # What the message is about, to open from it: its plan (a decision, a reminder's installment) and, for a
    # receipt, the payment's receipt while the payment stands completed.
    plan_id = notification.plan_id or (notification.installment.plan_id if notification.installment_id else None)
    payment = notification.payment if notification.payment_id else None
    context = portal_context(
        request,
        notification=notification,
        plan_id=plan_id,
        receipt_id=payment.pk if payment is not None and payment.status == Payment.Status.COMPLETED else None,
    )
    return render(request, "portal/message_detail.html", context)


@require_POST
@portal_required
def messages_read_all(request: HttpRequest) -> HttpResponse:
    """Mark every message read, then back to the list."""
    count = notifications_mark_all_read_by_customer(customer=request.portal_customer)
    if count:
        messages.success(
            request,
            ngettext("%(count)d message marked read.", "%(count)d messages marked read.", count) % {"count": count},
        )
    return redirect("portal:messages")


def logout_view(request: HttpRequest) -> HttpResponse:
    """GET asks to confirm; POST logs the customer out and shows the way back in."""
    customer = portal_customer(request)
    if request.method == "POST":
        merchant_id = customer.merchant_id if customer is not None else None
        portal_logout(request)
        if merchant_id is not None:
            return redirect("portal:merchant-login", merchant_id=merchant_id)
        return redirect("portal:logged-out")
    if customer is None:
        return redirect("portal:logged-out")
    portal_language_activate(request, customer)
    return portal_render(
        request, lambda: render(request, "portal/logout.html", portal_context(request)), customer.merchant
    )


def logged_out(request: HttpRequest) -> HttpResponse:
    portal_language_activate(request)
    return portal_render(request, lambda: render(request, "portal/logged_out.html"))


@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """The portal's language switch: the choice is kept in the session, for the portal only."""
    language = request.POST.get("language")
    if language in Language.values:
        request.session[SESSION_LANGUAGE] = language
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False) or (
        not target.startswith("/portal/")
    ):
        target = "portal:home"
    return redirect(target)


def portal_context(request: HttpRequest, **values) -> dict:
    """What every logged-in portal page's template needs: the customer, their merchant and its currency."""
    customer = request.portal_customer if hasattr(request, "portal_customer") else portal_customer(request)
    merchant = customer.merchant if customer is not None else values.get("merchant")
    return {
        "customer": customer,
        "merchant": merchant,
        "currency": merchant.currency if merchant is not None else "",
        # The menu's count of unopened messages: a callable, so only a page that shows it asks the database.
        "unread_messages": partial(customer_unread_count, customer=customer) if customer is not None else 0,
        **values,
    }


# Log-in with a one-time code, and self-registration ------------------------------------------------------


def _merchant_page(request: HttpRequest, merchant_id, respond) -> HttpResponse:
    """A merchant's public portal page: in the portal's language and the merchant's time zone; a shop unknown,
    inactive or with its portal off is a page saying the portal is not open (404)."""
    merchant = Merchant.objects.filter(pk=merchant_id).first()
    portal_language_activate(request)
    if merchant is None or not portal_is_open(merchant):
        return portal_render(request, lambda: render(request, "portal/closed.html", status=404))
    request.session[SESSION_LAST_MERCHANT] = str(merchant.pk)
    # Codes and registrations are the merchant's of the address: the rest of the request runs for it.
    request_merchant_set(request, merchant.pk)
    return portal_render(request, lambda: respond(merchant), merchant)


def merchant_login(request: HttpRequest, merchant_id) -> HttpResponse:
    """The merchant's portal page: a phone or e-mail address, to send a code to."""

    def respond(merchant: Merchant) -> HttpResponse:
        customer = portal_customer(request)
        if customer is not None and customer.merchant_id == merchant.pk:
            return redirect("portal:home")
        form = CodeRequestForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                destination = destination_normalize(merchant=merchant, destination=form.cleaned_data["destination"])
                portal_code_request(merchant=merchant, destination=destination, purpose=Purpose.LOGIN)
            except ValidationError as exc:
                form_errors_add(form, exc, aliases={"phone": "destination", "email": "destination"})
            else:
                request.session[SESSION_PENDING] = {
                    "merchant": str(merchant.pk),
                    "destination": destination,
                    "purpose": Purpose.LOGIN,
                }
                return redirect("portal:merchant-code", merchant_id=merchant.pk)
        context = {"merchant": merchant, "form": form}
        return render(request, "portal/merchant_login.html", context)

    return _merchant_page(request, merchant_id, respond)


def merchant_code(request: HttpRequest, merchant_id) -> HttpResponse:
    """The code sent: typed here, it logs the customer in (or completes their registration)."""

    def respond(merchant: Merchant) -> HttpResponse:
        pending = request.session.get(SESSION_PENDING) or {}
        if pending.get("merchant") != str(merchant.pk):
            return redirect("portal:merchant-login", merchant_id=merchant.pk)
        form = CodeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                if pending.get("purpose") == Purpose.REGISTER:
                    customer = portal_register_complete(
                        merchant=merchant, destination=pending["destination"], code=form.cleaned_data["code"]
                    )
                else:
                    customer = portal_code_verify(
                        merchant=merchant,
                        destination=pending["destination"],
                        code=form.cleaned_data["code"],
                        purpose=Purpose.LOGIN,
                    )
            except ValidationError as exc:
                form_errors_add(form, exc)
            else:
                request.session.pop(SESSION_PENDING, None)
                portal_login(request, customer)
                return redirect("portal:home")
        context = {"merchant": merchant, "form": form, "sent_message": code_sent_message()}
        return render(request, "portal/merchant_code.html", context)

    return _merchant_page(request, merchant_id, respond)


def merchant_register(request: HttpRequest, merchant_id) -> HttpResponse:
    """A new customer registers themselves, where the merchant allows it; a code to their phone proves it."""

    def respond(merchant: Merchant) -> HttpResponse:
        if not merchant.portal_self_registration:
            return render(request, "portal/closed.html", {"merchant": merchant, "registration": True}, status=404)
        initial = {"language": portal_language(request)}
        form = RegisterForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                portal_register_request(merchant=merchant, **form.cleaned_data)
            except ValidationError as exc:
                form_errors_add(form, exc)
            else:
                phone = form.cleaned_data["phone"]
                with contextlib.suppress(ValidationError):
                    phone = destination_normalize(merchant=merchant, destination=phone)
                request.session[SESSION_PENDING] = {
                    "merchant": str(merchant.pk),
                    "destination": phone,
                    "purpose": Purpose.REGISTER,
                }
                return redirect("portal:merchant-code", merchant_id=merchant.pk)
        return render(request, "portal/merchant_register.html", {"merchant": merchant, "form": form})

    return _merchant_page(request, merchant_id, respond)
