"""Portal sessions for the pages: a customer is not a Django auth user.

The session holds the customer's id, merchant id and portal epoch under keys of its own (``SESSION_*``), beside
(never instead of) Django's auth keys: a staff session never counts as a customer (``portal_customer`` reads
only these keys) and a portal session never reaches a staff page (those read Django's auth keys only).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.response import SimpleTemplateResponse
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control

from customers.models import Customer
from customers.portal_links import portal_is_open
from taqsit import audit
from taqsit.models import Merchant
from taqsit.tenancy import merchant_scope, merchant_uuid, request_merchant_set

SESSION_CUSTOMER = "portal_customer_id"
SESSION_MERCHANT = "portal_merchant_id"
SESSION_EPOCH = "portal_epoch"
# The language picked with the portal's switch (en, ar, es); without it, the customer's own language.
SESSION_LANGUAGE = "portal_language"
# The merchant whose portal this browser last used: where an ended session is sent to log in again.
SESSION_LAST_MERCHANT = "portal_last_merchant_id"

_CACHE_ATTR = "_portal_customer"


def portal_login(request: HttpRequest, customer: Customer) -> None:
    """Log ``customer`` in to the portal on this browser (a new session key, as Django's login does); the rest of
    the request runs for the customer's merchant."""
    request_merchant_set(request, customer.merchant_id)
    session = request.session
    if session.get(SESSION_CUSTOMER) not in (None, str(customer.pk)):
        # Another customer was logged in here: their language choice does not carry over.
        session.pop(SESSION_LANGUAGE, None)
    session.cycle_key()
    session[SESSION_CUSTOMER] = str(customer.pk)
    session[SESSION_MERCHANT] = str(customer.merchant_id)
    session[SESSION_EPOCH] = customer.portal_epoch
    session[SESSION_LAST_MERCHANT] = str(customer.merchant_id)
    setattr(request, _CACHE_ATTR, customer)


def portal_logout(request: HttpRequest) -> None:
    """End the portal session on this browser (a staff session in the same browser is left alone)."""
    session = request.session
    for key in (SESSION_CUSTOMER, SESSION_MERCHANT, SESSION_EPOCH):
        session.pop(key, None)
    session.cycle_key()
    setattr(request, _CACHE_ATTR, None)


def portal_customer(request: HttpRequest) -> Customer | None:
    """The customer logged in to the portal on this browser, or None: no portal session, a revoked one (the
    customer's portal epoch went up), or a merchant whose portal is off or who is inactive."""
    if hasattr(request, _CACHE_ATTR):
        return getattr(request, _CACHE_ATTR)
    customer = None
    session = getattr(request, "session", None)
    customer_id = session.get(SESSION_CUSTOMER) if session is not None else None
    merchant_id = merchant_uuid(session.get(SESSION_MERCHANT)) if session is not None else None
    if customer_id and merchant_id:
        # The customer is read for the session's merchant (row-level security: taqsit/tenancy.py); a merchant's
        # public page (``/portal/m/<merchant>/``) keeps running for the merchant of its address otherwise.
        with contextlib.suppress(ValueError, Customer.DoesNotExist), merchant_scope(merchant_id):
            found = Customer.objects.select_related("merchant").get(pk=customer_id, merchant_id=merchant_id)
            if found.portal_epoch == session.get(SESSION_EPOCH) and portal_is_open(found.merchant):
                customer = found
    if customer is not None and not getattr(request, "tenant_merchant_id", None):
        request_merchant_set(request, customer.merchant_id)
    setattr(request, _CACHE_ATTR, customer)
    return customer


def portal_language(request: HttpRequest, customer: Customer | None = None) -> str:
    """The portal's language: the switch's choice, else the customer's own, else what the browser asked for."""
    chosen = request.session.get(SESSION_LANGUAGE) if hasattr(request, "session") else None
    languages = {code for code, _name in Customer._meta.get_field("language").choices}
    if chosen in languages:
        return chosen
    if customer is not None and customer.language in languages:
        return customer.language
    return translation.get_language() or "en"


def portal_language_activate(request: HttpRequest, customer: Customer | None = None) -> str:
    """Speak the portal's language for the rest of the request (LocaleMiddleware's answer header too)."""
    language = portal_language(request, customer)
    translation.activate(language)
    request.LANGUAGE_CODE = language
    return language


def portal_render(request: HttpRequest, respond: Callable[[], HttpResponse], merchant: Merchant | None = None):
    """``respond()`` in the merchant's time zone, rendered there, and never kept by a browser or a proxy."""
    with timezone.override(merchant.tzinfo if merchant is not None else timezone.get_current_timezone()):
        response = respond()
        if isinstance(response, SimpleTemplateResponse) and not response.is_rendered:
            response.render()
    patch_cache_control(response, private=True, no_store=True)
    return response


def portal_ended(request: HttpRequest) -> HttpResponse:
    """Where a page needing a customer sends a browser without one: its merchant's code page when the browser
    used a portal before (and the portal is still open), else a page saying to ask the shop for a new link."""
    merchant_id = request.session.get(SESSION_MERCHANT) or request.session.get(SESSION_LAST_MERCHANT)
    merchant = None
    if merchant_id:
        with contextlib.suppress(ValueError):
            merchant = Merchant.objects.filter(pk=merchant_id).first()
    if merchant is not None and portal_is_open(merchant):
        return redirect("portal:merchant-login", merchant_id=merchant.pk)
    portal_language_activate(request)
    return portal_render(request, lambda: render(request, "portal/ended.html", status=403))


def portal_required(view: Callable) -> Callable:
    """A portal page: needs a logged-in customer (``request.portal_customer``) and speaks their language, in
    their merchant's time zone; every write it makes is credited to the customer in the audit trail."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        customer = portal_customer(request)
        if customer is None:
            return portal_ended(request)
        request.portal_customer = customer
        # Django's user (a staff session in the same browser, else anonymous) is named as the actor when first
        # looked at (auditlog/middleware.py): look now, so that it cannot overwrite the customer's context below.
        request.user.is_authenticated  # noqa: B018
        portal_language_activate(request, customer)
        with audit.context(**customer_audit_values(customer)):
            return portal_render(request, lambda: view(request, *args, **kwargs), customer.merchant)

    return wrapped


def customer_audit_values(customer: Customer) -> dict:
    """The audit context of what a customer does on the portal: the source, the customer, their merchant, and
    no staff actor."""
    return {
        "source": audit.Source.PORTAL,
        "actor_customer": str(customer.pk),
        "merchant": str(customer.merchant_id),
        "actor": None,
        "role": None,
    }
