"""The portal's rules: one-time codes (request, verify), self-registration, the customer's own changes.

A code is 6 random digits sent by SMS to a phone or by e-mail to an address, from a Celery task after the
request's transaction commits; only its HMAC (with the SECRET_KEY) is kept. The answer to a request is the same
whether or not the phone or address is a customer's, and so is the work (a code row is written either way; an
unknown destination's code is never sent). At most ``REQUESTS_LIMIT`` codes per destination in
``WINDOW``; ``FAILURES_LIMIT`` wrong codes in ``WINDOW`` lock the destination for ``LOCK`` (even the right code is
refused meanwhile); a code works once and for ``CODE_LIFETIME``.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from customers.models import Customer
from customers.portal_links import portal_is_open
from customers.services import customer_self_register, customer_self_register_validate
from notifications.channels.email import email_send
from notifications.channels.sms import sms_backend
from portal.models import PortalCode, PortalCodeFailure
from taqsit import audit
from taqsit.error_codes import ErrorCode
from taqsit.models import Language, Merchant
from taqsit.phone import phone_normalize

logger = logging.getLogger(__name__)

CODE_LIFETIME = timedelta(minutes=10)
WINDOW = timedelta(minutes=15)
LOCK = timedelta(minutes=15)
REQUESTS_LIMIT = 3
FAILURES_LIMIT = 5
REGISTRATION_FIELDS = ("name", "phone", "email", "national_id", "language")

Purpose = PortalCode.Purpose


def code_sent_message() -> str:
    """The one answer to a code request, whoever asked: it says nothing of whether the customer exists."""
    return _(
        "If this phone or e-mail address is known to the shop, a 6-digit code is on its way. It works for 10 minutes."
    )


def destination_normalize(*, merchant: Merchant, destination: str) -> str:
    """A phone in E.164 (read in the merchant's country) or an e-mail address in lower case; refused by name."""
    text = (destination or "").strip()
    if "@" in text:
        try:
            validate_email(text)
        except ValidationError as exc:
            raise ValidationError({"email": _("Enter a valid e-mail address.")}, code=ErrorCode.INVALID) from exc
        return text.lower()
    try:
        return phone_normalize(text, region=merchant.country)
    except ValidationError as exc:
        raise ValidationError({"phone": exc.messages}) from exc


def _portal_open_require(merchant: Merchant, purpose: str) -> None:
    if not portal_is_open(merchant):
        raise ValidationError(_("This shop's customer portal is not open."), code=ErrorCode.PORTAL_OFF)
    if purpose == Purpose.REGISTER and not merchant.portal_self_registration:
        raise ValidationError(
            _("This shop does not take registrations on its portal: ask the shop to register you."),
            code=ErrorCode.PORTAL_OFF,
        )


def _code_hash(*, merchant: Merchant, destination: str, purpose: str, code: str) -> str:
    message = f"{merchant.pk}:{destination}:{purpose}:{code}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def _destination_lock(merchant: Merchant, destination: str) -> None:
    """Serialise the requests and guesses for one destination (the counts below are then exact)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"portal-code:{merchant.pk}:{destination}"])


def customer_by_destination(*, merchant: Merchant, destination: str) -> Customer | None:
    """The merchant's customer with this phone, or the only one with this e-mail address (an address two
    customers share opens neither: the code could not say whose portal to open)."""
    if "@" in destination:
        found = list(Customer.objects.filter(merchant=merchant, email__iexact=destination)[:2])
        return found[0] if len(found) == 1 else None
    return Customer.objects.filter(merchant=merchant, phone=destination).first()


def _minutes(delta: timedelta) -> int:
    return max(1, math.ceil(delta.total_seconds() / 60))


@audit.action("portal.code_request")
def portal_code_request(
    *, merchant: Merchant, destination: str, purpose: str, payload: dict[str, Any] | None = None
) -> None:
    """Send a one-time code to ``destination`` (a phone or an e-mail address) if it is a customer's (for a
    registration: always, to the phone being registered); answer the same and do the same work either way."""
    _portal_open_require(merchant, purpose)
    destination = destination_normalize(merchant=merchant, destination=destination)
    with transaction.atomic():
        _destination_lock(merchant, destination)
        now = timezone.now()
        recent = PortalCode.objects.filter(
            merchant=merchant, destination=destination, created_at__gt=now - WINDOW
        ).order_by("created_at")
        asked = list(recent.values_list("created_at", flat=True)[:REQUESTS_LIMIT])
        if len(asked) >= REQUESTS_LIMIT:
            wait = _minutes(asked[0] + WINDOW - now)
            raise ValidationError(
                ngettext(
                    "Too many codes were asked for: try again in %(minutes)d minute.",
                    "Too many codes were asked for: try again in %(minutes)d minutes.",
                    wait,
                )
                % {"minutes": wait},
                code="too_many_requests",
            )
        customer = customer_by_destination(merchant=merchant, destination=destination)
        code = f"{secrets.randbelow(10**6):06d}"
        record = PortalCode.objects.create(
            merchant=merchant,
            destination=destination,
            purpose=purpose,
            code_hash=_code_hash(merchant=merchant, destination=destination, purpose=purpose, code=code),
            payload=payload,
            expires_at=now + CODE_LIFETIME,
        )
        if purpose == Purpose.REGISTER:
            language = (payload or {}).get("language") or merchant.language
        elif customer is not None:
            language = customer.language
        else:
            return  # unknown: nothing is sent, and the caller answers as for a customer
        transaction.on_commit(lambda: _code_send_enqueue(record, code, language))


def _code_send_enqueue(record: PortalCode, code: str, language: str) -> None:
    from portal.tasks import portal_code_send_task  # tasks import services, not the reverse

    try:
        portal_code_send_task.delay(str(record.merchant_id), record.destination, code, language)
    except Exception as exc:  # the broker down: the customer asks again, nothing else is lost
        logger.warning("The broker took no portal code to send (%s: %s).", type(exc).__name__, exc)


def portal_code_send(*, merchant: Merchant, destination: str, code: str, language: str) -> str:
    """Send a code by SMS (a phone) or e-mail (an address), in ``language``, through the notification channels."""
    with translation.override(language):
        body = _("%(code)s is your code for %(shop)s. It works for 10 minutes; never share it.") % {
            "code": code,
            "shop": merchant.name,
        }
        if "@" in destination:
            subject = _("Your code for %(shop)s") % {"shop": merchant.name}
            return email_send(to=destination, subject=subject, body=body, notification_id=f"portal-code-{merchant.pk}")
        return sms_backend().send(to=destination, body=body)


def _lock_end(*, merchant: Merchant, destination: str, now: datetime) -> datetime | None:
    """When the destination's lock ends: ``LOCK`` after a wrong code that was the ``FAILURES_LIMIT``-th within
    ``WINDOW``; None when not locked."""
    times = list(
        PortalCodeFailure.objects.filter(merchant=merchant, destination=destination, created_at__gt=now - WINDOW - LOCK)
        .order_by("created_at")
        .values_list("created_at", flat=True)
    )
    end = None
    for index in range(FAILURES_LIMIT - 1, len(times)):
        if times[index] - times[index - FAILURES_LIMIT + 1] <= WINDOW and times[index] + LOCK > now:
            end = times[index] + LOCK
    return end


@audit.action("portal.code_verify")
def portal_code_verify(*, merchant: Merchant, destination: str, code: str, purpose: str) -> Customer | dict:
    """The customer a right code logs in (``login``), or the registration details it proves (``register``).

    A wrong code counts against the destination; while it is locked even the right code is refused."""
    _portal_open_require(merchant, purpose)
    destination = destination_normalize(merchant=merchant, destination=destination)
    code = (code or "").strip()
    wrong = _("This code is not right, or it has expired: check it, or ask for a new one.")
    with transaction.atomic():
        _destination_lock(merchant, destination)
        now = timezone.now()
        lock_end = _lock_end(merchant=merchant, destination=destination, now=now)
        if lock_end is not None:
            wait = _minutes(lock_end - now)
            raise ValidationError(
                {
                    "code": ngettext(
                        "Too many wrong codes: try again in %(minutes)d minute.",
                        "Too many wrong codes: try again in %(minutes)d minutes.",
                        wait,
                    )
                    % {"minutes": wait}
                },
                code="locked",
            )
        found = None
        if len(code) == 6 and code.isascii() and code.isdigit():
            found = (
                PortalCode.objects.select_for_update()
                .filter(
                    merchant=merchant,
                    destination=destination,
                    purpose=purpose,
                    used_at__isnull=True,
                    expires_at__gt=now,
                    code_hash=_code_hash(merchant=merchant, destination=destination, purpose=purpose, code=code),
                )
                .first()
            )
        result: Customer | dict | None = None
        if found is not None:
            if purpose == Purpose.REGISTER:
                result = dict(found.payload or {})
            else:
                result = customer_by_destination(merchant=merchant, destination=destination)
        if result is None:
            # Kept: the transaction commits, then the refusal is raised.
            PortalCodeFailure.objects.create(merchant=merchant, destination=destination)
        else:
            PortalCode.objects.filter(pk=found.pk).update(used_at=now)
            PortalCodeFailure.objects.filter(merchant=merchant, destination=destination).delete()
    if result is None:
        raise ValidationError({"code": wrong}, code=ErrorCode.INVALID)
    return result


def registration_clean(*, merchant: Merchant, **fields: Any) -> dict[str, Any]:
    """The self-registration form's details, checked as a clerk's would be (phone, e-mail, name) but without
    telling whether another customer has them: returns them normalised."""
    _portal_open_require(merchant, Purpose.REGISTER)
    data = {name: (fields.get(name) or "") for name in REGISTRATION_FIELDS}
    data["language"] = data["language"] or merchant.language
    if data["language"] not in Language.values:
        raise ValidationError({"language": _("Choose English, Arabic or Spanish.")})
    return customer_self_register_validate(merchant=merchant, **data)


def portal_register_request(*, merchant: Merchant, **fields: Any) -> None:
    """Step one of a self-registration: check the details and send a code to the phone."""
    data = registration_clean(merchant=merchant, **fields)
    portal_code_request(merchant=merchant, destination=data["phone"], purpose=Purpose.REGISTER, payload=data)


@audit.action("portal.register")
def portal_register_complete(*, merchant: Merchant, destination: str, code: str) -> Customer:
    """Step two: the code proves the phone; the customer is created (origin ``portal``), or, when the phone is
    already a customer's, that customer is the one logged in (nothing is duplicated, nothing is revealed)."""
    data = portal_code_verify(merchant=merchant, destination=destination, code=code, purpose=Purpose.REGISTER)
    assert isinstance(data, dict)
    existing = customer_by_destination(merchant=merchant, destination=data.get("phone", ""))
    if existing is not None:
        return existing
    try:
        return customer_self_register(merchant=merchant, **{name: data.get(name, "") for name in REGISTRATION_FIELDS})
    except ValidationError as exc:
        # A national id or e-mail another customer has: the shop sorts it out; the refusal names no one.
        raise ValidationError(
            _("We could not register you with these details: please ask the shop to register you."),
            code=ErrorCode.INVALID,
        ) from exc


@audit.action("portal.language_set")
@transaction.atomic
def portal_customer_language_set(*, customer: Customer, language: str) -> Customer:
    """The customer picks the language their portal and their messages speak."""
    if language not in Language.values:
        raise ValidationError({"language": _("Choose English, Arabic or Spanish.")})
    customer = Customer.objects.select_for_update(of=("self",)).select_related("merchant").get(pk=customer.pk)
    customer.language = language
    customer.save(update_fields=["language", "updated_at"])
    return customer
