"""The WhatsApp provider's status webhook, ``/hooks/whatsapp/`` (docs/api.md, "WhatsApp"): public, called by Meta.

- ``GET`` is the subscription's check: ``hub.mode=subscribe`` and ``hub.verify_token`` equal to
  WHATSAPP_VERIFY_TOKEN answer ``hub.challenge`` as plain text; anything else a 403.
- ``POST`` carries statuses (sent, delivered, read, failed) of the messages sent, signed by the provider:
  ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body with WHATSAPP_APP_SECRET>``. A missing or wrong
  signature is a 403 (compared in constant time) and nothing is read. Each status names a message by the id the
  provider gave when it was sent: its merchant is found from that id alone (``notification_provider_owner``), never
  from anything else in the body, and the status is recorded as that merchant's. An unknown id is ignored: the
  answer is a 200 all the same (the provider would otherwise send it again and again).

No session, no CSRF (the provider has neither), no JWT: throttled per address (``whatsapp_webhook``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import UTC, datetime

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import permissions
from rest_framework.views import APIView

from notifications.selectors import notification_provider_owner
from notifications.services import WhatsAppStatus, whatsapp_status_record
from taqsit.api import AuthIPThrottle
from taqsit.tenancy import merchant_scope

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Hub-Signature-256"


class WhatsAppWebhookThrottle(AuthIPThrottle):
    """Calls per client address (Meta batches statuses, so a busy day stays well under)."""

    scope = "whatsapp_webhook"


def signature_is_valid(body: bytes, header: str | None) -> bool:
    """True when ``header`` is ``sha256=`` and the hex HMAC-SHA256 of ``body`` with the app's secret; never with no
    secret configured. Compared in constant time."""
    secret = settings.WHATSAPP_APP_SECRET
    if not secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.removeprefix("sha256=").strip().lower().encode())


def _time(value, default: datetime) -> datetime:
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return default


def statuses_read(payload, *, now: datetime) -> list[WhatsAppStatus]:
    """The statuses of a webhook's body (``entry[].changes[].value.statuses[]``); what is not shaped as one (the
    customers' own messages, other fields) is left out."""
    found = []
    entries = payload.get("entry") if isinstance(payload, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        for change in changes if isinstance(changes, list) else []:
            value = change.get("value") if isinstance(change, dict) else None
            statuses = value.get("statuses") if isinstance(value, dict) else None
            for item in statuses if isinstance(statuses, list) else []:
                if not isinstance(item, dict) or not item.get("id") or not isinstance(item.get("status"), str):
                    continue
                errors = item.get("errors")
                error = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
                code = error.get("code")
                details = (
                    error.get("error_data", {}).get("details") if isinstance(error.get("error_data"), dict) else ""
                )
                found.append(
                    WhatsAppStatus(
                        provider_id=str(item["id"])[:255],
                        status=item["status"],
                        at=_time(item.get("timestamp"), now),
                        error_code=code if isinstance(code, int) and not isinstance(code, bool) else None,
                        error=" ".join(str(part) for part in (error.get("title"), details) if part)[:500],
                    )
                )
    return found


class WhatsAppWebhookView(APIView):
    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [WhatsAppWebhookThrottle]

    @extend_schema(exclude=True)
    def get(self, request):
        params = request.query_params
        token = params.get("hub.verify_token", "")
        expected = settings.WHATSAPP_VERIFY_TOKEN
        if (
            params.get("hub.mode") != "subscribe"
            or not expected
            or not hmac.compare_digest(token.encode(), expected.encode())
        ):
            return HttpResponse("Forbidden", status=403, content_type="text/plain")
        return HttpResponse(params.get("hub.challenge", ""), content_type="text/plain")

    @extend_schema(exclude=True)
    def post(self, request):
        body = request.body  # the raw bytes the signature is over, before anything parses them
        if not signature_is_valid(body, request.headers.get(SIGNATURE_HEADER)):
            return HttpResponse("Forbidden", status=403, content_type="text/plain")
        try:
            payload = json.loads(body)
        except ValueError:
            return JsonResponse({"detail": "The body is not JSON."}, status=400)
        now = timezone.now()
        recorded = 0
        for update in statuses_read(payload, now=now):
            owner = notification_provider_owner(update.provider_id)
            if owner is None:
                logger.info("WhatsApp status %s of unknown message %s ignored.", update.status, update.provider_id)
                continue
            merchant_id, notification_id = owner
            with merchant_scope(merchant_id):
                whatsapp_status_record(notification_id=notification_id, update=update, now=now)
            recorded += 1
        return JsonResponse({"recorded": recorded})
