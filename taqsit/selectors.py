"""Reads of the core app that more than one command or app needs."""

from __future__ import annotations

import contextlib
import uuid

from django.core.management.base import CommandError
from django.db.models import Q

from taqsit.models import Merchant


def merchant_find(value: str) -> Merchant:
    """The merchant named ``value`` (any case) or with that id, for the management commands."""
    query = Q(name__iexact=value)
    with contextlib.suppress(ValueError):  # not an id: a name
        query |= Q(pk=uuid.UUID(value))
    matches = list(Merchant.objects.filter(query)[:2])
    if not matches:
        raise CommandError(f"No merchant named or with id {value!r}.")
    if len(matches) > 1:
        raise CommandError(f"More than one merchant is named {value!r}: give its id.")
    return matches[0]
