"""The portal activity panel of the customer page, drawn by auditlog, which owns the trail: customers need not
import auditlog (the layers, pyproject.toml). The page has scoped the customer already."""

from __future__ import annotations

from dataclasses import dataclass

from django import template

from auditlog.models import Entry
from auditlog.selectors import customer_portal_activity, portal_activity_label, when_text
from customers.selectors import PortalLinksLive, customer_portal_links_live
from taqsit.permissions import Action, user_can

register = template.Library()

# The panel shows the latest entries; the whole trail is the customer's history page.
PORTAL_ACTIVITY_SHOWN = 20


@dataclass(frozen=True)
class PortalActivity:
    links: PortalLinksLive
    entries: list[Entry]  # each with ``label`` and ``when``; empty for a role that may not read the trail
    can_read: bool


@register.simple_tag(takes_context=True)
def customer_portal_activity_panel(context, customer) -> PortalActivity:
    """The customer's live portal links (how many, when last used) and, for the roles that read the audit trail,
    their last entries with source portal."""
    user = context["request"].user
    can_read = user_can(user, Action.AUDIT_READ)
    entries = customer_portal_activity(customer=customer, limit=PORTAL_ACTIVITY_SHOWN) if can_read else []
    for entry in entries:
        entry.label = portal_activity_label(entry)
        entry.when = when_text(entry.created_at)
    return PortalActivity(links=customer_portal_links_live(customer=customer), entries=entries, can_read=can_read)
