"""The payment ledger in the platform admin: read-only; confirming or failing a pending payment, refunds and voids
are actions calling the ledger services.

The plan's change page gets its payments here (payments may import installments, not the reverse): the plan
admin is registered again with a payments inline added.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.template.defaultfilters import filesizeformat
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from installments.admin import InstallmentPlanAdmin, PlanNumberSearchMixin
from installments.models import InstallmentPlan
from payments.models import CharityDisbursement, Payment, PaymentAllocation
from payments.proofs import proof_response
from payments.services import payment_complete, payment_fail, payment_refund, payment_void
from taqsit.admin import (
    LedgerModelAdmin,
    MerchantFilter,
    ReadOnlyTabularInline,
    ReasonActionForm,
    money_display,
    service_action_run,
)


def _payment_label(payment: Payment) -> str:
    return f"Payment {payment.payment_number} of {payment.plan}"


class PlanPaymentInline(ReadOnlyTabularInline):
    model = Payment
    fields = (
        "payment_number",
        "payment_date",
        "amount_display",
        "payment_method",
        "status",
        "is_down_payment",
        "reference",
        "received_by",
    )
    readonly_fields = fields

    amount_display = money_display("amount", _("amount"))

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("merchant", "received_by").order_by("payment_number")


class PaymentAllocationInline(ReadOnlyTabularInline):
    model = PaymentAllocation
    fk_name = "payment"
    show_change_link = False
    fields = ("installment", "kind", "amount_display", "reversal_of", "created_at")
    readonly_fields = fields

    amount_display = money_display("amount", _("amount"))

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("merchant", "installment", "reversal_of")


admin.site.unregister(InstallmentPlan)


@admin.register(InstallmentPlan)
class InstallmentPlanWithPaymentsAdmin(InstallmentPlanAdmin):
    inlines = [*InstallmentPlanAdmin.inlines, PlanPaymentInline]


@admin.register(Payment)
class PaymentAdmin(PlanNumberSearchMixin, LedgerModelAdmin):
    action_form = ReasonActionForm
    actions = ("complete_payments", "fail_payments", "refund_payments", "void_payments")
    list_display = (
        "plan",
        "payment_number",
        "amount_display",
        "payment_date",
        "payment_method",
        "status",
        "received_by",
        "merchant",
        "is_down_payment",
    )
    list_filter = (
        "status",
        MerchantFilter,
        "payment_method",
        "origin",
        "is_down_payment",
        "payment_date",
        "reversed_at",
    )
    list_select_related = ("plan", "merchant", "received_by")
    search_fields = ("reference", "plan__customer__name", "plan__customer__phone")
    inlines = [PaymentAllocationInline]
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "merchant",
                    "plan",
                    "payment_number",
                    "amount_display",
                    "payment_date",
                    "payment_method",
                    "status",
                    "is_down_payment",
                    "origin",
                    "reference",
                    "notes",
                    "received_by",
                    "proof_display",
                )
            },
        ),
        (_("Refund or void"), {"fields": ("reversed_at", "reversed_by", "reversal_reason")}),
        (_("Confirmed or failed"), {"fields": ("settled_at", "settled_by")}),
        (
            _("Receipt figures"),
            {
                "fields": (
                    "paid_after",
                    "balance_after",
                    "installments_paid_after",
                    "next_due_date_after",
                    "next_amount_due_after",
                )
            },
        ),
        (_("Record"), {"fields": ("idempotency_key", "created_at", "updated_at")}),
    )
    readonly_fields = tuple(name for _title, options in fieldsets for name in options["fields"])

    amount_display = money_display("amount", _("amount"))

    def get_urls(self) -> list:
        proof = path(
            "<path:object_id>/proof/",
            self.admin_site.admin_view(self.proof_view),
            name="payments_payment_proof",
        )
        return [proof, *super().get_urls()]

    def proof_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The proof a customer sent, for whoever may view the payment here (private: no URL of its own)."""
        payment = self.get_object(request, object_id)
        if payment is None or not self.has_view_permission(request, payment) or payment.proof_or_none is None:
            raise Http404
        return proof_response(payment.proof)

    @admin.display(description=_("proof"))
    def proof_display(self, obj: Payment) -> str:
        proof = obj.proof_or_none
        if proof is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a> · {} · {} · SHA-256 {}',
            reverse("admin:payments_payment_proof", args=[obj.pk]),
            proof.original_name or _("the file"),
            proof.content_type,
            filesizeformat(proof.size),
            proof.sha256,
        )

    @admin.action(description=_("Confirm the selected pending payments (they cleared)"))
    def complete_payments(self, request: HttpRequest, queryset: QuerySet) -> None:
        # Each row through the service, in its own transaction under its plan's lock, oldest first (as the
        # cheques came in): one that no longer fits its plan is refused in the service's words, the others go through.
        service_action_run(
            self,
            request,
            queryset.select_related("plan").order_by("payment_date", "created_at", "payment_number"),
            service=payment_complete,
            target="payment",
            done=_("Confirmed"),
            describe=_payment_label,
        )

    @admin.action(description=_("Mark the selected pending payments failed (give the reason)"))
    def fail_payments(self, request: HttpRequest, queryset: QuerySet) -> None:
        service_action_run(
            self,
            request,
            queryset.select_related("plan"),
            service=payment_fail,
            target="payment",
            done=_("Marked failed"),
            with_reason=True,
            describe=_payment_label,
        )

    @admin.action(description=_("Refund the selected payments (give the reason)"))
    def refund_payments(self, request: HttpRequest, queryset: QuerySet) -> None:
        service_action_run(
            self,
            request,
            queryset.select_related("plan"),
            service=payment_refund,
            target="payment",
            done=_("Refunded"),
            with_reason=True,
            describe=_payment_label,
        )

    @admin.action(description=_("Void the selected payments (give the reason)"))
    def void_payments(self, request: HttpRequest, queryset: QuerySet) -> None:
        service_action_run(
            self,
            request,
            queryset.select_related("plan"),
            service=payment_void,
            target="payment",
            done=_("Voided"),
            with_reason=True,
            describe=_payment_label,
        )


@admin.register(PaymentAllocation)
class PaymentAllocationAdmin(PlanNumberSearchMixin, LedgerModelAdmin):
    plan_number_lookup = "payment__plan__number"
    list_display = (
        "payment",
        "plan_display",
        "installment",
        "kind",
        "amount_display",
        "reversal_of",
        "merchant",
        "created_at",
    )
    list_filter = ("kind", MerchantFilter, ("reversal_of", admin.EmptyFieldListFilter), "created_at")
    list_select_related = ("payment", "payment__plan", "installment", "reversal_of", "merchant")
    search_fields = ("payment__reference", "payment__plan__customer__name")
    fields = (
        "merchant",
        "payment",
        "plan_display",
        "installment",
        "kind",
        "amount_display",
        "reversal_of",
        "created_at",
    )
    readonly_fields = fields

    amount_display = money_display("amount", _("amount"))

    @admin.display(description=_("plan"), ordering="payment__plan__number")
    def plan_display(self, obj: PaymentAllocation) -> str:
        return str(obj.payment.plan)


@admin.register(CharityDisbursement)
class CharityDisbursementAdmin(LedgerModelAdmin):
    """Charity fees given away: recorded by owners and managers on the charity page or the API, read here."""

    list_display = ("given_on", "recipient", "amount_display", "merchant", "recorded_by", "created_at")
    list_filter = (MerchantFilter, "given_on")
    list_select_related = ("merchant", "recorded_by")
    search_fields = ("recipient", "note")
    fields = ("merchant", "given_on", "recipient", "amount_display", "note", "recorded_by", "created_at")
    readonly_fields = fields

    amount_display = money_display("amount", _("amount"))
