"""Payments at the counter: record one (pre-filled with what is due), its printable receipt, refund and void.

The form carries a one-time token passed to ``payment_post`` as its idempotency key: a double click or a
browser retry replays the first payment instead of recording a second.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from installments.models import InstallmentPlan
from installments.selectors import plan_summary
from payments.forms import PaymentForm, ReversalForm
from payments.models import Payment
from payments.selectors import payment_list, payment_standing_after
from payments.services import payment_post, payment_refund, payment_void
from payments.stats import merchant_stats
from taqsit.dates import merchant_today
from taqsit.forms import amount_fields_localize, form_errors_add, form_token
from taqsit.permissions import Action
from taqsit.tenancy import queryset_for_user
from taqsit.views import StaffPageMixin, staff_page


def _payment_for(request, pk) -> Payment:
    payments = queryset_for_user(payment_list(merchant=request.user.merchant), request.user)
    return get_object_or_404(payments.select_related("merchant", "plan__merchant"), pk=pk)


@staff_page(Action.PAYMENT_RECORD)
def payment_create(request, plan_pk):
    plans = queryset_for_user(InstallmentPlan.objects.select_related("customer", "merchant"), request.user)
    plan = get_object_or_404(plans, pk=plan_pk)
    today = merchant_today(plan.merchant)
    summary = plan_summary(plan=plan, today=today)
    # What is due now: everything overdue (fees included), else the next installment; never more than is owed.
    due = summary.overdue_amount or summary.next_amount_due
    initial = {"token": form_token(), "payment_date": today, "amount": min(due, summary.remaining_balance) or ""}
    form = PaymentForm(request.POST or None, initial=initial)
    amount_fields_localize(form, currency=plan.merchant.currency)
    if request.method == "POST" and form.is_valid():
        try:
            payment = payment_post(actor=request.user, plan=plan, **form.payment())
        except ValidationError as exc:
            form_errors_add(form, exc, aliases={"idempotency_key": "amount", "payment_number": "amount"})
            if "idempotency_key" in getattr(exc, "error_dict", {}):
                # This form's token was spent on another amount: a fresh one lets the clerk try again.
                form.data = form.data.copy()
                form.data["token"] = form_token()
        else:
            messages.success(
                request,
                _("Payment %(number)s of plan %(ref)s was recorded.")
                % {"number": payment.payment_number, "ref": plan.reference},
            )
            return redirect("payments:payment-receipt", pk=payment.pk)
    context = {"form": form, "plan": plan, "summary": summary, "open": plan.is_open}
    return render(request, "payments/payment_form.html", context)


@staff_page()
def payment_receipt(request, pk):
    """A printable receipt: merchant, customer, amount, allocation, payment number and the balance left."""
    payment = _payment_for(request, pk)
    plan = payment.plan
    paid_after, remaining_after = payment_standing_after(payment=payment)
    context = {
        "payment": payment,
        "plan": plan,
        "customer": plan.customer,
        "summary": plan_summary(plan=plan),
        "allocations": payment.allocations.all(),
        "paid_after": paid_after,
        "remaining_after": remaining_after,
    }
    return render(request, "payments/receipt.html", context)


def _reverse(request, pk, *, service, done: str, title: str, question: str, button: str):
    payment = _payment_for(request, pk)
    form = ReversalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            payment = service(actor=request.user, payment=payment, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            if "reason" not in getattr(exc, "error_dict", {}):
                messages.error(request, " ".join(exc.messages))
                return redirect("installments:plan-detail", pk=payment.plan_id)
            form_errors_add(form, exc)
        else:
            messages.success(request, done % {"number": payment.payment_number, "ref": payment.plan.reference})
            return redirect("installments:plan-detail", pk=payment.plan_id)
    names = {"number": payment.payment_number, "ref": payment.plan.reference}
    context = {
        "plan": payment.plan,
        "title": title % names,
        "question": question % names,
        "form": form,
        "button": button,
        "danger": True,
        "action_url": request.path,
        "cancel_url": reverse("installments:plan-detail", kwargs={"pk": payment.plan_id}),
    }
    return render(request, "confirm.html", context)


@staff_page(Action.PAYMENT_REVERSE)
def payment_refund_view(request, pk):
    return _reverse(
        request,
        pk,
        service=payment_refund,
        done=_("Payment %(number)s of plan %(ref)s was refunded."),
        title=_("Refund payment %(number)s"),
        question=_("Give payment %(number)s of plan %(ref)s back? Its allocations are reversed."),
        button=_("Refund"),
    )


@staff_page(Action.PAYMENT_REVERSE)
def payment_void_view(request, pk):
    return _reverse(
        request,
        pk,
        service=payment_void,
        done=_("Payment %(number)s of plan %(ref)s was voided."),
        title=_("Void payment %(number)s"),
        question=_("Void payment %(number)s of plan %(ref)s, recorded in error? Its allocations are reversed."),
        button=_("Void"),
    )


# Dashboard: where the money stands --------------------------------------------------------------------


class DashboardView(StaffPageMixin, TemplateView):
    template_name = "taqsit/dashboard.html"

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        stats = merchant_stats(merchant=self.merchant, allow_stale=True)
        context["stats"] = stats
        context["chart_data"] = {
            "currency": stats.currency,
            "locale": get_language(),
            "aging": {
                "labels": [_("%(range)s days") % {"range": bucket.key} for bucket in stats.aging],
                "amounts": [str(bucket.amount) for bucket in stats.aging],
                "counts": [bucket.count for bucket in stats.aging],
                "label": _("Overdue amount"),
            },
            "weekly": {
                "labels": [date_format(week.week_start, "SHORT_DATE_FORMAT") for week in stats.collections_by_week],
                "amounts": [str(week.amount) for week in stats.collections_by_week],
                "label": _("Collected"),
            },
            "expected": {
                "labels": [date_format(week.start, "SHORT_DATE_FORMAT") for week in stats.expected_by_week],
                "amounts": [str(week.amount) for week in stats.expected_by_week],
                "label": _("Expected"),
            },
        }
        return context
