"""``GET /api/audit-log/`` and ``GET /api/audit-log/{id}/``: the merchant's audit trail, for owners and managers.

Read only, whatever the role: the trail is written by the database and never changed (auditlog/models.py).
"""

from __future__ import annotations

from rest_framework import mixins, viewsets

from auditlog.filters import EntryFilter
from auditlog.models import Entry
from auditlog.serializers import EntrySerializer
from taqsit.api import TenantViewSetMixin
from taqsit.permissions import Action
from taqsit.replicas import replica_reads_view


class AuditEntryViewSet(TenantViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Every write to the merchant's data, newest first: filter by ``actor``, ``object_type`` and ``object_id``,
    ``action``, ``source``, ``operation``, ``plan``, ``customer``, ``created_after`` and ``created_before``;
    ``search`` finds words in the action, the object type and the actor's username, or an exact object or
    request id."""

    queryset = Entry.objects.select_related("actor")
    serializer_class = EntrySerializer
    read_permission = Action.AUDIT_READ
    filterset_class = EntryFilter
    search_fields = ["action", "object_type", "actor__username", "=object_id", "=request_id"]
    ordering_fields = ["id", "created_at"]
    ordering = ["-id"]

    @replica_reads_view
    def list(self, request, *args, **kwargs):
        """The trail from a read replica when there is one: a few seconds behind at most, and the user's own
        writes of the last seconds are read from the primary."""
        return super().list(request, *args, **kwargs)
