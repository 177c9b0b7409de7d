"""Portal links: issued signed and random, stored as a hash, resolved until they expire or are revoked."""

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from customers.models import Customer, PortalLink
from customers.portal_links import (
    portal_link_for_message,
    portal_link_issue,
    portal_link_owner,
    portal_link_resolve,
    portal_links_revoke,
    token_hash,
)
from taqsit.models import Merchant
from taqsit.tenancy import no_merchant_scope

pytestmark = pytest.mark.django_db


def test_a_link_is_signed_random_and_stored_only_as_its_hash(customer, clerk):
    issued = portal_link_issue(customer=customer, actor=clerk)
    value, signature = issued.token.rsplit(":", 1)
    assert len(value) == 43 and len(signature) == 43
    assert issued.url == f"https://shop.example/portal/l/{issued.token}/"
    link = PortalLink.objects.get()
    assert link.token_hash == hashlib.sha256(issued.token.encode()).hexdigest()
    assert link.customer == customer and link.merchant_id == customer.merchant_id and link.created_by == clerk
    assert link.expires_at == issued.expires_at
    # Nowhere in the table is the token, nor its random part.
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(l)::text FROM customers_portallink l")
        (row,) = cursor.fetchone()
    assert issued.token not in row and value not in row
    # Two links are two different tokens.
    assert portal_link_issue(customer=customer).token != issued.token


def test_a_link_resolves_to_its_customer_and_notes_its_use(customer, link):
    found = portal_link_resolve(link.token)
    assert found.customer == customer
    assert PortalLink.objects.get().last_used_at == found.last_used_at is not None


def test_a_link_lasts_portal_link_days(customer, settings):
    settings.PORTAL_LINK_DAYS = 2
    start = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        issued = portal_link_issue(customer=customer)
        assert issued.expires_at == start + timedelta(days=2)
    with time_machine.travel(start + timedelta(days=2) - timedelta(seconds=1), tick=False):
        assert portal_link_resolve(issued.token) is not None
    with time_machine.travel(start + timedelta(days=2), tick=False):
        assert portal_link_resolve(issued.token) is None


def test_a_tampered_or_unknown_token_is_refused(link):
    value, signature = link.token.rsplit(":", 1)
    assert portal_link_resolve(f"{value}x:{signature}") is None
    assert (
        portal_link_resolve(f"{value}:{signature[:-1]}A" if signature[-1] != "A" else f"{value}:{signature[:-1]}B")
        is None
    )
    assert portal_link_resolve(value) is None
    assert portal_link_resolve("") is None
    # Signed right, but never issued.
    from django.core import signing

    assert portal_link_resolve(signing.Signer(salt="taqsit.portal-link").sign("made-up")) is None


def test_revoking_ends_every_live_link_and_raises_the_epoch(customer, clerk):
    first, second = portal_link_issue(customer=customer), portal_link_issue(customer=customer)
    assert portal_links_revoke(customer=customer, actor=clerk) == 2
    assert portal_link_resolve(first.token) is None and portal_link_resolve(second.token) is None
    assert Customer.objects.get(pk=customer.pk).portal_epoch == 1
    assert PortalLink.objects.filter(revoked_at__isnull=False).count() == 2
    # A link issued after works.
    assert portal_link_resolve(portal_link_issue(customer=customer).token).customer == customer


def test_a_link_opens_nothing_once_the_portal_is_off_or_the_merchant_inactive(customer, link):
    Merchant.objects.filter(pk=customer.merchant_id).update(portal_enabled=False)
    assert portal_link_resolve(link.token) is None
    Merchant.objects.filter(pk=customer.merchant_id).update(portal_enabled=True, is_active=False)
    assert portal_link_resolve(link.token) is None
    Merchant.objects.filter(pk=customer.merchant_id).update(is_active=True)
    assert portal_link_resolve(link.token).customer == customer


def test_no_link_while_the_portal_is_off(customer):
    Merchant.objects.filter(pk=customer.merchant_id).update(portal_enabled=False)
    customer.merchant.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        portal_link_issue(customer=customer)
    assert refused.value.messages == [
        "The customer portal is turned off for this shop: an owner turns it on in the settings."
    ]
    assert portal_link_for_message(customer) is None
    assert PortalLink.objects.count() == 0


def test_a_message_link_needs_site_url(customer, settings):
    url = portal_link_for_message(customer)
    token = url.removeprefix("https://shop.example/portal/l/").removesuffix("/")
    assert portal_link_resolve(token).customer == customer
    settings.SITE_URL = ""
    assert portal_link_for_message(customer) is None
    assert PortalLink.objects.count() == 1


def test_an_empty_site_url_gives_a_relative_link(customer, settings):
    settings.SITE_URL = ""
    issued = portal_link_issue(customer=customer)
    assert issued.url == f"/portal/l/{issued.token}/"


def test_another_merchants_staff_cannot_issue_or_revoke(customer, other_owner):
    with pytest.raises(Customer.DoesNotExist):
        portal_link_issue(customer=customer, actor=other_owner)
    with pytest.raises(Customer.DoesNotExist):
        portal_links_revoke(customer=customer, actor=other_owner)
    assert PortalLink.objects.count() == 0


def test_every_role_may_issue_and_revoke(customer, viewer):
    issued = portal_link_issue(customer=customer, actor=viewer)
    assert portal_links_revoke(customer=customer, actor=viewer) == 1
    assert portal_link_resolve(issued.token) is None


def test_an_inactive_member_of_staff_may_not(customer, clerk):
    clerk.is_active = False
    with pytest.raises(PermissionDenied):
        portal_link_issue(customer=customer, actor=clerk)


def test_a_link_resolves_inside_a_transaction_for_its_merchant(customer, link, settings):
    """The link's merchant comes from ``portal_link_owner`` on the request's own connection, not from the
    platform role's (which cannot be entered inside a transaction): a link opens inside one too."""
    settings.TAQSIT_PLATFORM_SHARES_DEFAULT = False  # the platform path as in production: its own connection
    with transaction.atomic():
        found = portal_link_resolve(link.token)
        assert found.customer == customer
        assert PortalLink.objects.filter(pk=found.pk, last_used_at__isnull=False).exists()


def test_the_link_owner_function_tells_a_live_links_merchant_and_customer_and_nothing_else(
    customer, link, other_merchant
):
    hashed = token_hash(link.token)
    with no_merchant_scope():
        # The runtime role with no merchant set sees no link, no customer: the function is the one way in.
        assert PortalLink.objects.count() == 0 and Customer.objects.count() == 0
        assert portal_link_owner(hashed) == (customer.merchant_id, customer.pk)
        assert portal_link_owner(hashed.upper()) is None
        assert portal_link_owner(hashed[:-1]) is None
        assert portal_link_owner("%") is None
        assert portal_link_owner("") is None
    # A revoked link's owner is not told; an expired one's is (its expiry is judged by the application's clock,
    # for the merchant), and the link opens nothing.
    revoked = portal_link_issue(customer=customer)
    portal_links_revoke(customer=customer, actor=None)
    expired = portal_link_issue(customer=customer)
    PortalLink.objects.filter(token_hash=token_hash(expired.token)).update(expires_at=timezone.now())
    with no_merchant_scope():
        assert portal_link_owner(token_hash(revoked.token)) is None
        assert portal_link_owner(hashed) is None
        assert portal_link_owner(token_hash(expired.token)) == (customer.merchant_id, customer.pk)
    assert portal_link_resolve(expired.token) is None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_function_result(p.oid), p.prosecdef, p.proconfig, "
            "has_function_privilege(current_user, p.oid, 'EXECUTE'), "
            "EXISTS (SELECT FROM aclexplode(p.proacl) a WHERE a.grantee = 0) "
            "FROM pg_proc p WHERE p.proname = 'portal_link_owner'"
        )
        described = cursor.fetchall()
    # Two ids out, run as its owner with a fixed search path, executable by the runtime role and not by PUBLIC.
    assert described == [
        ("TABLE(merchant_id uuid, customer_id uuid)", True, ["search_path=pg_catalog, public"], True, False)
    ]
