"""Products, plans, their schedules and late fees in the platform admin.

Plans are created by the staff pages and the API, not here; their terms, totals and status are history and change
only through the lifecycle actions, which call the same services as the pages.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Case, DateField, ExpressionWrapper, F, OuterRef, QuerySet, Subquery, Value, When
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from installments.models import Installment, InstallmentPlan, LateFee, PlanItem, Product
from installments.selectors import installments_with_display_status, plan_summary
from installments.services import (
    PRODUCT_FIELDS,
    plan_approve,
    plan_cancel,
    plan_mark_defaulted,
    plan_reject,
    plan_update,
    product_create,
    product_update,
    product_validate,
)
from taqsit.admin import (
    LedgerModelAdmin,
    MerchantFilter,
    PlatformModelAdmin,
    ReadOnlyTabularInline,
    ReasonActionForm,
    ServiceSaveMixin,
    money_display,
    service_action_run,
    validation_errors_add,
)
from taqsit.money import MoneyField
from taqsit.money_format import money_coded

_PLAN_NUMBER = re.compile(r"(?:P-?)?0*(\d{1,9})", re.IGNORECASE)


def plan_number_from(term: str) -> int | None:
    """``P-000042``, ``p42`` or ``42`` -> 42; anything else is not a plan number."""
    match = _PLAN_NUMBER.fullmatch((term or "").strip())
    return int(match.group(1)) if match else None


class PlanNumberSearchMixin:
    """Searching ``P-000042`` (or ``42``) finds that plan, besides the usual text search."""

    plan_number_lookup = "plan__number"

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str) -> tuple[QuerySet, bool]:
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        number = plan_number_from(search_term)
        if number is not None:
            found |= queryset.filter(**{self.plan_number_lookup: number})
        return found, may_have_duplicates


# Products ------------------------------------------------------------------------------------------------


class ProductAdminForm(forms.ModelForm):
    """Checks with ``product_validate``: an exact, positive price and a SKU unique per merchant."""

    class Meta:
        model = Product
        fields = ("merchant", *PRODUCT_FIELDS)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if "merchant" in self.fields:
            merchant = cleaned.get("merchant")
        else:
            merchant = self.instance.merchant if self.instance.merchant_id else None
        if merchant is None:
            return cleaned
        fields = {name: cleaned.get(name, getattr(self.instance, name)) for name in PRODUCT_FIELDS}
        candidate = Product(pk=self.instance.pk, merchant=merchant, **fields)
        candidate._state.adding = self.instance._state.adding
        validation_errors_add(self, product_validate, product=candidate)
        return cleaned


@admin.register(Product)
class ProductAdmin(ServiceSaveMixin, PlatformModelAdmin):
    form = ProductAdminForm
    list_display = ("name", "sku", "price_display", "merchant", "is_active")
    list_filter = (MerchantFilter, "is_active")
    list_select_related = ("merchant",)
    search_fields = ("name", "sku")
    fields = ("merchant", "name", "sku", "price", "is_active", "created_at", "updated_at")

    price_display = money_display("price", _("price"))

    def get_readonly_fields(self, request: HttpRequest, obj: Product | None = None) -> tuple[str, ...]:
        readonly = ("created_at", "updated_at")
        return ("merchant", *readonly) if obj is not None else readonly

    def service_save(self, request: HttpRequest, obj: Product, form: forms.ModelForm, change: bool) -> Product:
        fields = {name: form.cleaned_data[name] for name in PRODUCT_FIELDS if name in form.cleaned_data}
        if change:
            return product_update(actor=request.user, product=obj, **fields)
        return product_create(actor=request.user, merchant=form.cleaned_data["merchant"], **fields)


# Plans ---------------------------------------------------------------------------------------------------


def _plan_currency(obj: Any) -> str:
    return obj.plan.merchant.currency


class PlanItemInline(ReadOnlyTabularInline):
    model = PlanItem
    show_change_link = False
    fields = ("product", "description", "quantity", "unit_price_display", "line_total_display")
    readonly_fields = fields

    unit_price_display = money_display("unit_price", _("unit price"), currency_of=_plan_currency)
    line_total_display = money_display("line_total", _("line total"), currency_of=_plan_currency)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("plan__merchant", "product")


class InstallmentInline(ReadOnlyTabularInline):
    model = Installment
    fields = (
        "number",
        "due_date",
        "amount_due_display",
        "principal_display",
        "interest_display",
        "amount_paid_display",
        "late_fee_display",
        "display_status_display",
        "paid_on",
        "superseded_at",
    )
    readonly_fields = fields

    amount_due_display = money_display("amount_due", _("amount due"))
    principal_display = money_display("principal", _("principal"))
    interest_display = money_display("interest", _("interest"))
    amount_paid_display = money_display("amount_paid", _("amount paid"))
    late_fee_display = money_display("late_fee", _("late fees charged"))

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        rows = super().get_queryset(request).select_related("merchant").order_by("superseded_at", "number")
        return installments_with_display_status(rows, merchant=None)

    @admin.display(description=_("status"), ordering="display_status")
    def display_status_display(self, obj: Installment) -> str:
        return obj.display_status_label


class PlanAdminForm(forms.ModelForm):
    class Meta:
        model = InstallmentPlan
        fields = ("notes",)


@admin.register(InstallmentPlan)
class InstallmentPlanAdmin(ServiceSaveMixin, PlanNumberSearchMixin, PlatformModelAdmin):
    form = PlanAdminForm
    action_form = ReasonActionForm
    actions = ("approve_plans", "reject_plans", "cancel_plans", "mark_plans_defaulted")
    list_display = (
        "reference_display",
        "customer",
        "merchant",
        "status",
        "total_payable_display",
        "amount_paid_display",
        "remaining_balance_display",
        "next_due_date_display",
    )
    list_filter = (
        "status",
        "origin",
        MerchantFilter,
        "installment_frequency",
        "finance_charge_method",
        "start_date",
        "due_date",
        "created_at",
    )
    list_select_related = ("customer", "merchant")
    search_fields = ("customer__name", "customer__phone")
    plan_number_lookup = "number"
    inlines = [PlanItemInline, InstallmentInline]
    fieldsets = (
        (
            None,
            {"fields": ("reference_display", "merchant", "customer", "status", "origin", "status_reason", "notes")},
        ),
        (_("Where it stands"), {"fields": ("summary",)}),
        (
            _("Terms"),
            {
                "fields": (
                    "total_amount_display",
                    "down_payment_display",
                    "finance_charge_method",
                    "interest_rate",
                    "finance_charge_display",
                    "apr",
                    "total_payable_display",
                    "installment_amount_display",
                    "number_of_installments",
                    "installment_frequency",
                    "start_date",
                    "first_due_date",
                    "due_date",
                )
            },
        ),
        (
            _("Record"),
            {
                "fields": (
                    "created_by",
                    "created_at",
                    "decided_by",
                    "decided_at",
                    "status_changed_at",
                    "rescheduled_at",
                    "updated_at",
                )
            },
        ),
    )
    # Everything but the notes: terms change by reschedule, status by the actions, totals by the ledger.
    readonly_fields = tuple(
        name for _title, options in fieldsets for name in options["fields"] if name not in {"notes"}
    )

    total_amount_display = money_display("total_amount", _("total amount"))
    down_payment_display = money_display("down_payment", _("down payment"))
    finance_charge_display = money_display("finance_charge", _("finance charge amount"))
    total_payable_display = money_display("total_payable", _("total payable"))
    installment_amount_display = money_display("installment_amount", _("installment amount"))
    amount_paid_display = money_display("amount_paid", _("amount paid"))
    remaining_balance_display = money_display("remaining_balance", _("remaining balance"), ordering="remaining")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        next_due = (
            Installment.objects.current()
            .filter(plan=OuterRef("pk"), amount_paid__lt=F("amount_due"))
            .order_by("due_date", "number")
            .values("due_date")[:1]
        )
        return (
            super()
            .get_queryset(request)
            .select_related("customer", "merchant")
            .annotate(
                next_due_date=Case(
                    When(status__in=InstallmentPlan.OPEN_STATUSES, then=Subquery(next_due)),
                    default=Value(None),
                    output_field=DateField(),
                ),
                remaining=ExpressionWrapper(
                    F("total_payable") + F("late_fees") - F("amount_paid") - F("rebates"), output_field=MoneyField()
                ),
            )
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Plans are created by the staff pages and the API, where the schedule is previewed and validated.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: InstallmentPlan | None = None) -> bool:
        # A plan that moved money is cancelled, never deleted.
        return False

    @admin.display(description=_("plan"), ordering="number")
    def reference_display(self, obj: InstallmentPlan) -> str:
        return obj.reference

    @admin.display(description=_("next due date"), ordering="next_due_date")
    def next_due_date_display(self, obj: InstallmentPlan) -> Any:
        return getattr(obj, "next_due_date", None)

    @admin.display(description=_("summary"))
    def summary(self, obj: InstallmentPlan) -> str:
        if obj is None or obj._state.adding:
            return "-"
        summary = plan_summary(plan=obj)
        currency = summary.currency
        rows = [
            (_("Total amount"), money_coded(summary.total_amount, currency)),
            (_("Down payment"), money_coded(summary.down_payment, currency)),
            (_("Finance charge"), money_coded(summary.finance_charge, currency)),
            (_("Total payable"), money_coded(summary.total_payable, currency)),
            (_("Amount paid"), money_coded(summary.amount_paid, currency)),
            (_("Late fees charged"), money_coded(summary.late_fees, currency)),
            (_("Remaining balance"), money_coded(summary.remaining_balance, currency)),
            (_("Installments paid"), f"{summary.installments_paid} / {summary.total_installments}"),
            (_("Next payment due"), summary.next_payment_due or "-"),
            (_("Next amount due"), money_coded(summary.next_amount_due, currency)),
            (_("Overdue"), money_coded(summary.overdue_amount, currency)),
        ]
        return format_html(
            '<table class="plan-summary">{}</table>',
            format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows),
        )

    def service_save(
        self, request: HttpRequest, obj: InstallmentPlan, form: forms.ModelForm, change: bool
    ) -> InstallmentPlan:
        return plan_update(actor=request.user, plan=obj, notes=form.cleaned_data.get("notes", ""))

    @admin.action(description=_("Approve the selected applications"))
    def approve_plans(self, request: HttpRequest, queryset: QuerySet) -> None:
        service_action_run(self, request, queryset, service=plan_approve, target="plan", done=_("Approved"))

    @admin.action(description=_("Reject the selected applications (give the reason)"))
    def reject_plans(self, request: HttpRequest, queryset: QuerySet) -> None:
        service_action_run(
            self, request, queryset, service=plan_reject, target="plan", done=_("Rejected"), with_reason=True
        )

    @admin.action(description=_("Cancel the selected plans (give the reason)"))
    def cancel_plans(self, request: HttpRequest, queryset: QuerySet) -> None:
        service_action_run(
            self, request, queryset, service=plan_cancel, target="plan", done=_("Cancelled"), with_reason=True
        )

    @admin.action(description=_("Mark the selected plans defaulted"))
    def mark_plans_defaulted(self, request: HttpRequest, queryset: QuerySet) -> None:
        service_action_run(
            self,
            request,
            queryset,
            service=plan_mark_defaulted,
            target="plan",
            done=_("Marked defaulted"),
            with_reason=True,
        )


# Schedules and fees --------------------------------------------------------------------------------------


@admin.register(Installment)
class InstallmentAdmin(PlanNumberSearchMixin, LedgerModelAdmin):
    list_display = (
        "plan",
        "number",
        "customer_display",
        "merchant",
        "due_date",
        "amount_due_display",
        "amount_paid_display",
        "late_fee_display",
        "display_status_display",
        "paid_on",
        "superseded_at",
    )
    list_filter = (
        "status",
        MerchantFilter,
        ("superseded_at", admin.EmptyFieldListFilter),
        "due_date",
        "paid_on",
    )
    list_select_related = ("plan", "plan__customer", "merchant")
    search_fields = ("plan__customer__name", "plan__customer__phone")
    fields = (
        "merchant",
        "plan",
        "number",
        "due_date",
        "status",
        "amount_due_display",
        "principal_display",
        "interest_display",
        "amount_paid_display",
        "principal_paid_display",
        "interest_paid_display",
        "late_fee_display",
        "late_fee_paid_display",
        "paid_on",
        "superseded_at",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields

    amount_due_display = money_display("amount_due", _("amount due"))
    principal_display = money_display("principal", _("principal"))
    interest_display = money_display("interest", _("interest"))
    amount_paid_display = money_display("amount_paid", _("amount paid"))
    principal_paid_display = money_display("principal_paid", _("principal paid"))
    interest_paid_display = money_display("interest_paid", _("interest paid"))
    late_fee_display = money_display("late_fee", _("late fees charged"))
    late_fee_paid_display = money_display("late_fee_paid", _("late fees paid"))

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return installments_with_display_status(super().get_queryset(request), merchant=None)

    @admin.display(description=_("status"), ordering="display_status")
    def display_status_display(self, obj: Installment) -> str:
        return obj.display_status_label

    @admin.display(description=_("customer"), ordering="plan__customer__name")
    def customer_display(self, obj: Installment) -> str:
        return str(obj.plan.customer)


@admin.register(LateFee)
class LateFeeAdmin(PlanNumberSearchMixin, LedgerModelAdmin):
    list_display = ("plan", "installment", "merchant", "period", "amount_display", "charged_by", "created_at")
    list_filter = (MerchantFilter, "period")
    list_select_related = ("plan", "installment", "merchant", "charged_by")
    search_fields = ("plan__customer__name", "plan__customer__phone")
    fields = ("merchant", "plan", "installment", "period", "amount_display", "charged_by", "created_at")
    readonly_fields = fields

    amount_display = money_display("amount", _("amount"))
