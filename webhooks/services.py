"""Webhooks: the owner's endpoints (register, edit, rotate the secret, remove) and the delivery of the outbox.

Delivery (``deliveries_deliver``, one merchant at a time) takes one due delivery at a time with ``FOR UPDATE SKIP
LOCKED``, so any number of workers share the work without sending anything twice, and never one whose endpoint
has an earlier delivery of the same plan (or object) still pending: each endpoint gets a plan's events in the
order they happened. A failed attempt is retried with exponential backoff and jitter for WEBHOOK_RETRY_HOURS after
the first attempt, then given up. An endpoint that fails WEBHOOK_DISABLE_AFTER_FAILURES times in a row with no
success for WEBHOOK_DISABLE_AFTER_HOURS is disabled and its owners are told by e-mail (and a banner on the page).
"""

from __future__ import annotations

import json
import logging
import random
import time
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from taqsit.events import EVENT_TYPES
from taqsit.models import Merchant, Role, User
from taqsit.permissions import Action, permission_require
from taqsit.services import fields_refuse, model_save
from taqsit.tenancy import merchant_scope
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from webhooks.receivers import endpoints_forget
from webhooks.signing import EVENT_ID_HEADER, EVENT_TYPE_HEADER, SIGNATURE_HEADER, secret_generate, signature_header
from webhooks.targets import TargetRefusedError, url_check
from webhooks.transport import delivery_send

logger = logging.getLogger(__name__)

ENDPOINT_FIELDS = ("url", "events", "description", "is_active")
Status = WebhookDelivery.Status


def _endpoint_check(endpoint: WebhookEndpoint) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    endpoint.url = (endpoint.url or "").strip()
    try:
        url_check(endpoint.url)
    except TargetRefusedError as exc:
        errors["url"] = [str(exc)]
    events = list(dict.fromkeys(endpoint.events or []))
    unknown = [name for name in events if name not in EVENT_TYPES]
    if unknown:
        errors["events"] = [_("Unknown events: %(events)s.") % {"events": ", ".join(map(str, unknown))}]
    elif not events:
        errors["events"] = [_("Choose at least one event.")]
    endpoint.events = events
    endpoint.description = (endpoint.description or "").strip()
    return errors


def _same_merchant(actor: User, endpoint: WebhookEndpoint) -> None:
    if not actor.is_superuser and endpoint.merchant_id != actor.merchant_id:
        raise WebhookEndpoint.DoesNotExist("No WebhookEndpoint matches the given query.")


@transaction.atomic
def endpoint_create(
    *, actor: User, url: str, events: list[str], description: str = "", is_active: bool = True
) -> WebhookEndpoint:
    """Register an endpoint of the owner's merchant with a new secret (shown once, by the caller)."""
    permission_require(actor, Action.STAFF_MANAGE)
    if actor.merchant_id is None:
        raise ValidationError({"merchant": _("Choose the merchant.")})
    endpoint = WebhookEndpoint(
        merchant_id=actor.merchant_id,
        url=url,
        events=events,
        description=description,
        is_active=is_active,
        secret=secret_generate(),
        created_by=actor,
    )
    model_save(instance=endpoint, validate=_endpoint_check, exclude=["secret", "merchant", "created_by"])
    endpoints_forget(merchant_id=endpoint.merchant_id)
    return endpoint


@transaction.atomic
def endpoint_update(*, actor: User, endpoint: WebhookEndpoint, **fields: Any) -> WebhookEndpoint:
    """Edit an endpoint; turning it on again clears its failures and the banner that told of its disabling."""
    permission_require(actor, Action.STAFF_MANAGE)
    _same_merchant(actor, endpoint)
    fields_refuse(data=fields, fields=ENDPOINT_FIELDS)
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    was_active = endpoint.is_active
    for name, value in fields.items():
        setattr(endpoint, name, value)
    if endpoint.is_active and not was_active:
        endpoint.consecutive_failures = 0
        endpoint.failing_since = None
        endpoint.disabled_at = None
        endpoint.disabled_reason = ""
    model_save(instance=endpoint, validate=_endpoint_check, exclude=["secret", "merchant", "created_by"])
    endpoints_forget(merchant_id=endpoint.merchant_id)
    return endpoint


@transaction.atomic
def endpoint_secret_rotate(*, actor: User, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """A new secret (shown once); deliveries are signed with it from now on."""
    permission_require(actor, Action.STAFF_MANAGE)
    _same_merchant(actor, endpoint)
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    endpoint.secret = secret_generate()
    endpoint.save(update_fields=["secret", "updated_at"])
    return endpoint


@transaction.atomic
def endpoint_delete(*, actor: User, endpoint: WebhookEndpoint) -> None:
    """Remove an endpoint, its deliveries and their log."""
    permission_require(actor, Action.STAFF_MANAGE)
    _same_merchant(actor, endpoint)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).delete()
    endpoints_forget(merchant_id=endpoint.merchant_id)


@transaction.atomic
def delivery_redeliver(*, actor: User, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again ("send again"): pending once more, due now, with a fresh day of retries."""
    permission_require(actor, Action.STAFF_MANAGE)
    if not actor.is_superuser and delivery.merchant_id != actor.merchant_id:
        raise WebhookDelivery.DoesNotExist("No WebhookDelivery matches the given query.")
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
    delivery.status = Status.PENDING
    delivery.next_attempt_at = timezone.now()
    delivery.first_attempt_at = None
    delivery.save(update_fields=["status", "next_attempt_at", "first_attempt_at", "updated_at"])
    transaction.on_commit(lambda: deliveries_kick(merchant_id=delivery.merchant_id))
    return delivery


# Delivery ------------------------------------------------------------------------------------------------------


def deliveries_kick(*, merchant_id) -> None:
    """Ask a worker to deliver the merchant's due deliveries now; with the broker down the sweep does it."""
    from webhooks.tasks import webhooks_deliver_task  # tasks import services, not the reverse

    try:
        webhooks_deliver_task.delay(str(merchant_id))
    except Exception as exc:  # kombu's OperationalError, or whatever else the transport raises
        logger.warning("The broker took no webhook task (%s: %s): the sweep delivers.", type(exc).__name__, exc)


def retry_delay(attempts: int) -> float:
    """Seconds before the next attempt after ``attempts`` failed ones: WEBHOOK_RETRY_BACKOFF doubling, capped at
    WEBHOOK_RETRY_BACKOFF_MAX, each between half and all of that (jitter, so endpoints coming back are not hit by
    every retry at once)."""
    base = min(settings.WEBHOOK_RETRY_BACKOFF * 2 ** max(attempts - 1, 0), settings.WEBHOOK_RETRY_BACKOFF_MAX)
    return base * (0.5 + random.random() / 2)  # noqa: S311 (jitter, not a secret)


def _due(merchant_id, now: datetime):
    earlier = WebhookDelivery.objects.filter(
        endpoint_id=OuterRef("endpoint_id"),
        ordering_key=OuterRef("ordering_key"),
        status=Status.PENDING,
        sequence__lt=OuterRef("sequence"),
    )
    return (
        WebhookDelivery.objects.filter(
            merchant_id=merchant_id, status=Status.PENDING, next_attempt_at__lte=now, endpoint__is_active=True
        )
        .exclude(Exists(earlier))
        .order_by("sequence")
    )


def deliveries_deliver(*, merchant_id, limit: int = 500, seconds: float = 120) -> int:
    """Deliver the merchant's due deliveries, one transaction each, oldest first, for at most ``limit`` attempts
    or ``seconds``; returns the attempts made. An endpoint that fails is not tried again in the same run (its
    other deliveries wait for the next one), so a receiver that is down costs one timeout a run, not one per
    delivery."""
    made = 0
    failing: set = set()
    stop_at = time.monotonic() + seconds
    while made < limit and time.monotonic() < stop_at:
        with transaction.atomic():
            delivery = (
                _due(merchant_id, timezone.now())
                .exclude(endpoint_id__in=failing)
                .select_for_update(skip_locked=True, of=("self",))
                .select_related("endpoint", "event")
                .first()
            )
            if delivery is None:
                break
            if not delivery_attempt(delivery=delivery).succeeded:
                failing.add(delivery.endpoint_id)
            made += 1
    return made


def delivery_attempt(*, delivery: WebhookDelivery) -> WebhookAttempt:
    """One attempt of a locked delivery: sign, send, log; delivered, retried later, or given up."""
    endpoint = delivery.endpoint
    body = json.dumps(delivery.event.payload, separators=(",", ":"), sort_keys=False).encode()
    headers = {
        SIGNATURE_HEADER: signature_header(secret=endpoint.secret, body=body),
        EVENT_ID_HEADER: str(delivery.event_id),
        EVENT_TYPE_HEADER: delivery.event.type,
        "User-Agent": "Taqsit-Webhooks/1",
    }
    result = delivery_send(url=endpoint.url, body=body, headers=headers)
    now = timezone.now()
    attempt = WebhookAttempt.objects.create(
        merchant_id=delivery.merchant_id,
        delivery=delivery,
        attempted_at=now,
        status_code=result.status_code,
        duration_ms=result.duration_ms,
        error=result.error,
        response_excerpt=result.excerpt[:500],
        succeeded=result.succeeded,
    )
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.first_attempt_at = delivery.first_attempt_at or now
    delivery.last_status_code = result.status_code
    if result.succeeded:
        delivery.status = Status.DELIVERED
        delivery.delivered_at = now
        if endpoint.consecutive_failures or endpoint.failing_since:
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=0, failing_since=None)
    else:
        if now - delivery.first_attempt_at >= timedelta(hours=settings.WEBHOOK_RETRY_HOURS):
            delivery.status = Status.FAILED
        else:
            delivery.next_attempt_at = now + timedelta(seconds=retry_delay(delivery.attempts))
        _endpoint_failed(endpoint, now)
    delivery.save(
        update_fields=[
            "attempts",
            "last_attempt_at",
            "first_attempt_at",
            "last_status_code",
            "status",
            "delivered_at",
            "next_attempt_at",
            "updated_at",
        ]
    )
    return attempt


def _endpoint_failed(endpoint: WebhookEndpoint, now: datetime) -> None:
    """Count a failure; disable the endpoint past both limits and tell its owners once committed."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    endpoint.consecutive_failures += 1
    endpoint.failing_since = endpoint.failing_since or now
    fields = ["consecutive_failures", "failing_since", "updated_at"]
    if (
        endpoint.is_active
        and endpoint.consecutive_failures >= settings.WEBHOOK_DISABLE_AFTER_FAILURES
        and now - endpoint.failing_since >= timedelta(hours=settings.WEBHOOK_DISABLE_AFTER_HOURS)
    ):
        endpoint.is_active = False
        endpoint.disabled_at = now
        since = f"{endpoint.failing_since:%Y-%m-%d %H:%M} UTC"
        endpoint.disabled_reason = f"{endpoint.consecutive_failures} failed attempts in a row since {since}."
        fields += ["is_active", "disabled_at", "disabled_reason"]
        endpoints_forget(merchant_id=endpoint.merchant_id)
        transaction.on_commit(lambda: endpoint_disabled_tell(endpoint_id=endpoint.pk, merchant_id=endpoint.merchant_id))
    endpoint.save(update_fields=fields)


def endpoint_disabled_tell(*, endpoint_id, merchant_id) -> int:
    """E-mail the merchant's active owners that an endpoint was disabled, each in their merchant's language.
    Returns the e-mails sent."""
    with merchant_scope(merchant_id):
        endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
        merchant = Merchant.objects.get(pk=merchant_id)
        owners = list(
            User.objects.filter(merchant_id=merchant_id, role=Role.OWNER, is_active=True)
            .exclude(email="")
            .values_list("email", flat=True)
        )
    if not owners:
        return 0
    with translation.override(merchant.language):
        subject = _("Webhook endpoint disabled: %(url)s") % {"url": endpoint.url}
        body = _(
            "Every delivery to %(url)s has failed since %(since)s (%(count)s attempts in a row), so it was disabled "
            "and nothing more is sent to it. Fix the receiver, then turn the endpoint on again on the "
            "Webhooks page: deliveries still pending are sent then, and given-up ones can be sent again."
        ) % {
            "url": endpoint.url,
            "since": f"{endpoint.failing_since:%Y-%m-%d %H:%M} UTC" if endpoint.failing_since else "-",
            "count": endpoint.consecutive_failures,
        }
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, owners, fail_silently=True)
    return len(owners)


def deliveries_sweep(*, now: datetime | None = None) -> list[str]:
    """The merchants with a due delivery (across merchants: run under ``platform_scope``); each is then
    delivered by a task of its own (``deliveries_kick``)."""
    now = now or timezone.now()
    return [
        str(merchant_id)
        for merchant_id in WebhookDelivery.objects.filter(
            status=Status.PENDING, next_attempt_at__lte=now, endpoint__is_active=True
        )
        .order_by("merchant_id")
        .values_list("merchant_id", flat=True)
        .distinct()
    ]
