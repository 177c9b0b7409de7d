"""Imports in the platform admin: read only (an import is made on the merchant's pages or the API)."""

from __future__ import annotations

from django.contrib import admin

from imports.models import ImportJob
from taqsit.admin import LedgerModelAdmin, MerchantFilter


@admin.register(ImportJob)
class ImportJobAdmin(LedgerModelAdmin):
    list_display = ("created_at", "merchant", "kind", "original_name", "status", "total", "created_count")
    list_filter = (MerchantFilter, "kind", "status")
    search_fields = ("original_name", "sha256")
    list_select_related = ("merchant",)
    exclude = ("file",)
    readonly_fields = [field.name for field in ImportJob._meta.fields if field.name != "file"]
