"""Where a webhook may be sent: HTTPS only (plain http under DEBUG, or to a private receiver allowed as below) and
public addresses only (unless ``WEBHOOK_ALLOW_PRIVATE_TARGETS``, on
under DEBUG), checked when an endpoint is registered and again at every delivery, after DNS resolution, on every
address the name resolves to; the delivery then connects to the address checked (``delivery_send`` in
transport.py), so a name that resolves elsewhere a moment later (DNS rebinding) cannot send it inside.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _


class TargetRefusedError(Exception):
    """The URL may not be sent to; the message says why."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str  # the checked IP address to connect to


def _private(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
        or not address.is_global
    )


def _private_allowed() -> bool:
    return bool(getattr(settings, "WEBHOOK_ALLOW_PRIVATE_TARGETS", settings.DEBUG))


def url_check(url: str) -> tuple[str, str, int, str]:
    """The URL's scheme, host, port and path (with its query); refused when it is not https (outside DEBUG),
    carries credentials, or names an address that is not public. Does not resolve names."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefusedError(_("%(url)s is not a valid URL.") % {"url": url}) from exc
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise TargetRefusedError(_("The URL must start with https:// and name a host."))
    if parts.username or parts.password:
        raise TargetRefusedError(_("The URL must not carry a user name or password."))
    host = parts.hostname
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        private = _private(literal)
    else:
        private = host == "localhost" or host.endswith((".localhost", ".local", ".internal"))
    if private and not _private_allowed():
        raise TargetRefusedError(_("%(host)s is not a public address.") % {"host": host})
    # Plain http only under DEBUG, or to a local receiver that WEBHOOK_ALLOW_PRIVATE_TARGETS lets through.
    if parts.scheme != "https" and not settings.DEBUG and not private:
        raise TargetRefusedError(_("The URL must use https://."))
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path


def target_resolve(url: str) -> Target:
    """The URL checked, its host resolved, and every address it resolves to checked: the first one is where the
    delivery connects. Refused (``TargetRefusedError``) when any is not public."""
    scheme, host, port, path = url_check(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TargetRefusedError(_("%(host)s could not be resolved.") % {"host": host}) from exc
    addresses = []
    for info in infos:
        text = info[4][0].split("%", 1)[0]
        address = ipaddress.ip_address(text)
        if _private(address) and not _private_allowed():
            raise TargetRefusedError(
                _("%(host)s resolves to %(address)s, which is not a public address.") % {"host": host, "address": text}
            )
        if scheme != "https" and not settings.DEBUG and not _private(address):
            raise TargetRefusedError(_("The URL must use https://."))
        addresses.append(text)
    if not addresses:
        raise TargetRefusedError(_("%(host)s could not be resolved.") % {"host": host})
    return Target(scheme=scheme, host=host, port=port, path=path, address=addresses[0])
