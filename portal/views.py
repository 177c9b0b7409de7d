"""The portal's pages: a customer's way in (a personal link, a one-time code, self-registration) and home.

Views parse, call a service or selector, and present; ``portal_required`` (portal/auth.py) guards every page
that shows a customer's data.
"""

from __future__ import annotations

import contextlib

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from customers.portal_links import portal_is_open, portal_link_resolve
from installments.selectors import plan_list, plan_summary
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
from portal.services import (
    Purpose,
    code_sent_message,
    destination_normalize,
    portal_code_request,
    portal_code_verify,
    portal_register_complete,
    portal_register_request,
)
from taqsit.forms import form_errors_add
from taqsit.models import Language, Merchant

# The code on its way: whom it was sent to and why, until it is typed (the destination is never shown back
# as "known" or "unknown").
SESSION_PENDING = "portal_pending_code"


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
    """The customer's plans at the merchant: status, what falls due next and how much, what is left."""
    customer = request.portal_customer
    merchant = customer.merchant
    plans = list(plan_list(merchant=merchant, customer=customer))
    rows = []
    for plan in plans:
        plan.merchant = merchant  # already loaded: one query fewer per plan
        plan.customer = customer
        rows.append((plan, plan_summary(plan=plan)))
    return render(request, "portal/home.html", portal_context(request, rows=rows))


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
