"""The filters of the in-app notification list."""

from __future__ import annotations

from notifications.models import Notification
from taqsit.filters import FilterSet, StrictBooleanFilter


class NotificationFilter(FilterSet):
    unread = StrictBooleanFilter(
        field_name="read_at", lookup_expr="isnull", help_text="true: only unread; false: only read. Default: all."
    )

    class Meta:
        model = Notification
        fields = ["unread"]
