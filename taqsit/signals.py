"""Domain signals sent once the write that caused them is committed (the services' announcements: a plan
decided, a payment recorded or settled), for the apps above to react to."""

from __future__ import annotations

import contextvars
from typing import Any

from django.db import transaction
from django.dispatch import Signal


def send_on_commit(signal: Signal, *, sender: Any, **kwargs: Any) -> None:
    """Send ``signal`` when the current transaction commits (never for a rolled-back write), in the context of
    the moment the write was made: context variables set then (who acts, a caller muting the customers'
    messages) are what the receivers see, whenever the commit runs the callback. A receiver's error is logged;
    it does not undo or fail the write."""
    context = contextvars.copy_context()
    transaction.on_commit(lambda: context.run(signal.send, sender=sender, **kwargs), robust=True)
