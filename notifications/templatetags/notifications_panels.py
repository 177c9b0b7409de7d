"""The messages panel of the customer page, drawn by notifications, which owns the rows (the customers app need
not import notifications: the layers, pyproject.toml). The page has scoped the customer already."""

from __future__ import annotations

from django import template

from notifications.selectors import customer_messages

register = template.Library()

# The customer's page shows the latest messages; the admin lists them all.
CUSTOMER_MESSAGES_SHOWN = 20


@register.simple_tag
def customer_messages_panel(customer) -> list:
    """The latest messages to the customer (SMS, WhatsApp, e-mail), newest first, each with the SMS sent instead
    of it or the WhatsApp message it replaced."""
    return list(customer_messages(customer=customer)[:CUSTOMER_MESSAGES_SHOWN])
