"""The audit trail: one row per inserted, updated or deleted row of a domain table, written by the database.

Rows are written by PostgreSQL triggers on the domain tables (auditlog/capture.py), never by the application,
and are never changed or deleted: see ``Entry.Meta.triggers``.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pgtrigger
from django.conf import settings
from django.contrib.postgres.indexes import BrinIndex
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from taqsit.audit import Source


class DecimalJSONDecoder(json.JSONDecoder):
    """Numbers with a fraction come back as Decimal: ``250.000`` stays ``250.000`` (money), not ``250.0``."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("parse_float", Decimal)
        super().__init__(*args, **kwargs)


SOURCE_CHOICES = [
    (Source.WEB.value, _("Page")),
    (Source.API.value, _("API")),
    (Source.ADMIN.value, _("Admin")),
    (Source.JOB.value, _("Job")),
    (Source.SHELL.value, _("Shell")),
    (Source.PORTAL.value, _("Portal")),
]


class Entry(models.Model):
    class Operation(models.TextChoices):
        INSERT = "insert", _("Created")
        UPDATE = "update", _("Changed")
        DELETE = "delete", _("Deleted")
        # Written by the archival and the restore themselves (auditlog/archive.py): the trail's own history.
        ARCHIVE = "archive", _("Archived")
        RESTORE = "restore", _("Restored")

    id = models.BigAutoField(primary_key=True)
    created_at = models.DateTimeField(_("when"), db_default=Now())
    # The tenant of the row written (not of the actor): the merchant whose history this is. No database
    # constraint: the trail outlives whatever it describes, and an archive restores into any database.
    merchant = models.ForeignKey(
        "taqsit.Merchant",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("merchant"),
    )
    object_type = models.CharField(_("object type"), max_length=100)  # the model's label: "payments.payment"
    object_id = models.CharField(_("object id"), max_length=64)
    operation = models.CharField(_("operation"), max_length=10, choices=Operation.choices)
    # Insert: the new row. Update: the changed columns only, before and after. Delete: the row deleted.
    before = models.JSONField(_("before"), null=True, blank=True, decoder=DecimalJSONDecoder)
    after = models.JSONField(_("after"), null=True, blank=True, decoder=DecimalJSONDecoder)
    # The context (taqsit/audit.py), in columns to filter on and whole in ``context``.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    role = models.CharField(_("role"), max_length=20, blank=True)
    source = models.CharField(_("source"), max_length=10, blank=True, choices=SOURCE_CHOICES)
    action = models.CharField(_("action"), max_length=100, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    context = models.JSONField(_("context"), null=True, blank=True)
    context_id = models.UUIDField(_("context id"), null=True, blank=True)
    # The customer who acted, on the portal or the borrower API (the context's ``actor_customer``): no staff actor.
    actor_customer_id = models.UUIDField(_("customer who acted"), null=True, blank=True)
    # What the history panels of the plan and customer pages look for.
    plan_id = models.UUIDField(_("plan"), null=True, blank=True)
    customer_id = models.UUIDField(_("customer"), null=True, blank=True)
    # Set when an archive is loaded back (`manage.py audit_restore`); the archival leaves such rows a while.
    restored_at = models.DateTimeField(_("restored at"), null=True, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["merchant", "-id"], name="audit_merchant_recent"),
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
            models.Index(fields=["plan_id", "-id"], condition=Q(plan_id__isnull=False), name="audit_plan"),
            models.Index(fields=["customer_id", "-id"], condition=Q(customer_id__isnull=False), name="audit_customer"),
            models.Index(
                fields=["actor_customer_id", "-id"],
                condition=Q(actor_customer_id__isnull=False),
                name="audit_actor_customer",
            ),
            # Append-only and written in time order: a BRIN index finds a month for the archival at almost no
            # cost on each insert.
            BrinIndex(fields=["created_at"], name="audit_created_brin"),
        ]
        triggers = [
            # Append-only, twice. The application's role has INSERT and SELECT on this table and nothing else
            # (taqsit/rls.py): no UPDATE, DELETE or TRUNCATE, which no setting a session can change gives back.
            # This trigger guards every other role too, superusers included (the owner, a psql session); the
            # archival deletes through the owner's function audit_trail_archived_delete (auditlog/migrations/0003),
            # only entries matching a verified archive. TRUNCATE is left to the owner: the test suite's flush.
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.get_operation_display()} {self.object_type} {self.object_id}"
