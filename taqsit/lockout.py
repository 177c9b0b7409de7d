"""The username the log-in lockout (django-axes) counts failures under."""

from __future__ import annotations

from collections.abc import Mapping

from axes.conf import settings
from axes.models import AccessAttempt
from django.http import HttpRequest

# The lockout's tables keep the username in a column this long; a longer one would fail the insert (a 500).
USERNAME_COLUMN_LENGTH = AccessAttempt._meta.get_field("username").max_length


def lockout_username(request: HttpRequest, credentials: dict | None = None) -> str | None:
    """The username as axes reads it by default, in lower case (log-in ignores capitals, so ``Owner`` and ``OWNER``
    must not each get their own tries), cut to the lockout's column. No account has a longer one (usernames are at
    most 150 characters), so the cut never merges a real user's count with another's."""
    field = settings.AXES_USERNAME_FORM_FIELD
    if credentials:
        username = credentials.get(field)
    else:
        data = getattr(request, "data", request.POST)
        username = data.get(field) if isinstance(data, Mapping) else None
    if username is None:
        return None
    return str(username).lower()[:USERNAME_COLUMN_LENGTH]
