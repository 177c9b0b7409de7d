"""The portal's Celery tasks: thin, each calls one service."""

from __future__ import annotations

from celery import shared_task

from portal.services import portal_code_send
from taqsit.models import Merchant
from taqsit.tenancy import merchant_scope


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def portal_code_send_task(merchant_id: str, destination: str, code: str, language: str) -> str:
    """Send a one-time code; a code that could not be sent is asked for again by the customer."""
    with merchant_scope(merchant_id):  # the task runs for the code's merchant (row-level security)
        merchant = Merchant.objects.get(pk=merchant_id)
        return portal_code_send(merchant=merchant, destination=destination, code=code, language=language)
