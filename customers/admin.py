"""Customers in the platform admin: created and edited through the customer services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from customers.models import Customer
from customers.services import EDITABLE_FIELDS, customer_create, customer_update, customer_validate
from taqsit.admin import MerchantFilter, PlatformModelAdmin, ServiceSaveMixin, validation_errors_add


class CustomerAdminForm(forms.ModelForm):
    """Checks with ``customer_validate`` (the phone read in the merchant's country, twins on their field), so the
    service called on save finds nothing left to refuse."""

    # Wider than the stored E.164 value: a local number may be typed with spaces and dashes.
    phone = forms.CharField(label=_("phone"), max_length=32, help_text=_("International, or local to the merchant."))

    class Meta:
        model = Customer
        fields = ("merchant", *EDITABLE_FIELDS)

    def _merchant(self) -> Any:
        if "merchant" in self.fields:
            return self.cleaned_data.get("merchant")
        return self.instance.merchant if self.instance.merchant_id else None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        merchant = self._merchant()
        if merchant is None:
            return cleaned
        fields = {name: cleaned.get(name, getattr(self.instance, name)) for name in EDITABLE_FIELDS}
        candidate = Customer(pk=self.instance.pk, merchant=merchant, **fields)
        candidate._state.adding = self.instance._state.adding
        if validation_errors_add(self, customer_validate, customer=candidate):
            # Saved as the service reads it: the phone in E.164.
            cleaned["phone"] = candidate.phone
        return cleaned


@admin.register(Customer)
class CustomerAdmin(ServiceSaveMixin, PlatformModelAdmin):
    form = CustomerAdminForm
    list_display = ("name", "phone", "merchant", "language", "email", "created_at")
    list_filter = (
        MerchantFilter,
        "origin",
        "language",
        "preferred_channel",
        "sms_opt_out",
        "email_opt_out",
        "created_at",
    )
    list_select_related = ("merchant",)
    search_fields = ("name", "phone", "email", "national_id")
    fieldsets = (
        (None, {"fields": ("merchant", "name", "phone", "email", "national_id", "address", "language")}),
        (_("Reminders"), {"fields": ("preferred_channel", "sms_opt_out", "email_opt_out")}),
        (_("Notes"), {"fields": ("notes",)}),
        (_("Record"), {"fields": ("origin", "created_by", "created_at", "updated_at")}),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Customer | None = None) -> tuple[str, ...]:
        readonly = ("origin", "created_by", "created_at", "updated_at")
        # A customer stays with the merchant it was registered with (its plans and payments are there).
        return ("merchant", *readonly) if obj is not None else readonly

    def service_save(self, request: HttpRequest, obj: Customer, form: forms.ModelForm, change: bool) -> Customer:
        fields = {name: form.cleaned_data[name] for name in EDITABLE_FIELDS if name in form.cleaned_data}
        if change:
            return customer_update(actor=request.user, customer=obj, **fields)
        return customer_create(actor=request.user, merchant=form.cleaned_data["merchant"], **fields)
