"""A customer's personal links into the portal: issue, revoke, resolve; the one interface the other apps use.

A token is random (``secrets.token_urlsafe(32)``) and signed with the SECRET_KEY (``Signer`` with its own
salt), so a guess is refused before the database is asked; only its SHA-256 is stored. Revoking a customer's
links also raises ``Customer.portal_epoch``: the portal sessions and borrower-API tokens obtained through the
old links carry the old epoch and stop working at once (portal/auth.py, portal/authentication.py).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import Customer, PortalLink
from taqsit import audit
from taqsit.error_codes import ErrorCode
from taqsit.models import Merchant, User
from taqsit.permissions import Action, user_can
from taqsit.tenancy import merchant_scope

SIGNER_SALT = "taqsit.portal-link"


@dataclass(frozen=True)
class IssuedLink:
    url: str
    token: str
    expires_at: datetime


def token_hash(token: str) -> str:
    """What is stored of a token: its SHA-256, in hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def portal_is_open(merchant: Merchant) -> bool:
    """The merchant's customers may use the portal: the merchant is active and has turned the portal on."""
    return bool(merchant.is_active and merchant.portal_enabled)


def portal_link_url(token: str) -> str:
    """The link's address: SITE_URL in front of the portal's path (relative when SITE_URL is empty)."""
    return settings.SITE_URL + reverse("portal:link", kwargs={"token": token})


def _actor_check(actor: User | None, customer: Customer) -> None:
    """Any member of the customer's merchant's staff (every role), or a platform admin; None is the system."""
    if actor is None:
        return
    if not user_can(actor, Action.READ):
        raise PermissionDenied(_("Your role does not allow this."))
    if not actor.is_superuser and actor.merchant_id != customer.merchant_id:
        raise Customer.DoesNotExist


def _portal_open_require(customer: Customer) -> None:
    if not portal_is_open(customer.merchant):
        raise ValidationError(
            _("The customer portal is turned off for this shop: an owner turns it on in the settings."),
            code=ErrorCode.PORTAL_OFF,
        )


@audit.action("portal.link_issue")
@transaction.atomic
def portal_link_issue(*, customer: Customer, actor: User | None = None) -> IssuedLink:
    """A new link for ``customer``, open for PORTAL_LINK_DAYS; refused while the merchant's portal is off.
    The token is returned once: only its hash is kept."""
    _actor_check(actor, customer)
    _portal_open_require(customer)
    token = signing.Signer(salt=SIGNER_SALT).sign(secrets.token_urlsafe(32))
    expires_at = timezone.now() + timedelta(days=settings.PORTAL_LINK_DAYS)
    PortalLink.objects.create(
        merchant_id=customer.merchant_id,
        customer=customer,
        token_hash=token_hash(token),
        expires_at=expires_at,
        created_by=actor,
    )
    return IssuedLink(url=portal_link_url(token), token=token, expires_at=expires_at)


@audit.action("portal.link_revoke")
@transaction.atomic
def portal_links_revoke(*, customer: Customer, actor: User | None) -> int:
    """Revoke every live link of ``customer`` and end the portal sessions and tokens got from them (the
    customer's portal epoch goes up). Returns how many links were live."""
    _actor_check(actor, customer)
    now = timezone.now()
    revoked = PortalLink.objects.filter(customer=customer, revoked_at__isnull=True, expires_at__gt=now).update(
        revoked_at=now, updated_at=now
    )
    Customer.objects.filter(pk=customer.pk).update(portal_epoch=F("portal_epoch") + 1, updated_at=now)
    customer.refresh_from_db(fields=["portal_epoch", "updated_at"])
    return revoked


def portal_link_resolve(token: str) -> PortalLink | None:
    """The live link ``token`` opens, with its customer and merchant, or None: a bad signature, an unknown,
    revoked or expired link, a merchant whose portal is off or who is inactive. Notes when it was used."""
    token = str(token or "")
    if not token.isascii():  # what a link carries is ASCII; anything else (a lone surrogate) is no token
        return None
    try:
        signing.Signer(salt=SIGNER_SALT).unsign(token)
    except signing.BadSignature:
        return None
    now = timezone.now()
    # No merchant is known before the link is found: its merchant comes from ``portal_link_owner``, a security-
    # definer function that maps a link's hash to its merchant and customer and reveals nothing else
    # (customers/migrations/0005_portal_link_owner_function.py); the link and its customer are then read as the
    # merchant's (and so is the rest of the request once the customer is logged in), in whatever transaction
    # the caller is in.
    hashed = token_hash(token)
    owner = portal_link_owner(hashed)
    if owner is None:
        return None
    merchant_id, customer_id = owner
    live = PortalLink.objects.filter(
        token_hash=hashed, customer_id=customer_id, revoked_at__isnull=True, expires_at__gt=now
    )
    with merchant_scope(merchant_id):
        return _link_open(live, now)


def portal_link_owner(hashed: str) -> tuple[uuid.UUID, uuid.UUID] | None:
    """(merchant id, customer id) of the link not revoked whose token's SHA-256 is ``hashed``, or None; asked of
    the database before any merchant is set (the runtime role sees no link then)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT merchant_id, customer_id FROM portal_link_owner(%s)", [hashed])
        row = cursor.fetchone()
    return (row[0], row[1]) if row else None


def _link_open(live, now) -> PortalLink | None:
    link = live.select_related("customer", "customer__merchant").first()
    if link is None or link.customer.merchant_id != link.merchant_id or not portal_is_open(link.customer.merchant):
        return None
    # The customer opened their link: the trail credits them with its use.
    with audit.context(actor_customer=str(link.customer_id), merchant=str(link.merchant_id), actor=None, role=None):
        PortalLink.objects.filter(pk=link.pk).update(last_used_at=now)
    link.last_used_at = now
    return link


def portal_link_for_message(customer: Customer) -> str | None:
    """A fresh link's address for a reminder, alert or receipt to ``customer``; None when the merchant's portal
    is off or SITE_URL is empty (a message cannot carry a relative address)."""
    if not settings.SITE_URL or not portal_is_open(customer.merchant):
        return None
    return portal_link_issue(customer=customer).url
