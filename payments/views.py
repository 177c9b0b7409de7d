"""Payments at the counter: record one (pre-filled with what is due), its printable receipt, confirm or fail a
pending one (a cheque, a transfer), refund and void.

The form carries a one-time token passed to ``payment_post`` as its idempotency key: a double click or a
browser retry replays the first payment instead of recording a second.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import date_format, time_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.timezone import localtime
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from installments.models import InstallmentPlan
from installments.selectors import plan_payoff_quote, plan_summary
from payments.forms import CharityDisbursementForm, PaymentForm, ReversalForm, SettleForm
from payments.models import Payment
from payments.proofs import proof_response
from payments.selectors import (
    charity_disbursement_list,
    charity_fees_totals,
    payment_for_key,
    payment_list,
    payment_repeat_get,
    payment_standing_after,
    payments_to_confirm,
)
from payments.services import (
    charity_disbursement_record,
    payment_complete,
    payment_fail,
    payment_post,
    payment_refund,
    payment_void,
    plan_settle,
)
from payments.stats import merchant_stats
from taqsit.dates import merchant_today
from taqsit.forms import amount_fields_localize, form_errors_add, form_token
from taqsit.models import Merchant
from taqsit.money_format import money_html
from taqsit.permissions import Action, user_can
from taqsit.tenancy import queryset_for_user
from taqsit.views import StaffPageMixin, is_htmx, staff_page


def _payment_for(request, pk) -> Payment:
    payments = queryset_for_user(payment_list(merchant=request.user.merchant), request.user)
    return get_object_or_404(payments.select_related("merchant", "plan__merchant"), pk=pk)


@staff_page(Action.PAYMENT_RECORD)
def payment_create(request, plan_pk):
    plans = queryset_for_user(InstallmentPlan.objects.select_related("customer", "merchant"), request.user)
    plan = get_object_or_404(plans, pk=plan_pk)
    today = merchant_today(plan.merchant)
    summary = plan_summary(plan=plan, today=today)
    initial = {
        "token": form_token(),
        "payment_date": today,
        "amount": summary.due_now or "",
        "seen_payment": plan.last_payment_number,
    }
    form = PaymentForm(request.POST or None, initial=initial)
    repeat = sent = None
    amount_fields_localize(form, currency=plan.merchant.currency)
    if request.method == "POST" and form.is_valid():
        # A token already used is a replay (a retry, or Back and submit on the same form): payment_post answers
        # with the first payment and records nothing. A fresh token with the same amount just recorded asks first.
        sent = payment_for_key(merchant_id=plan.merchant_id, key=form.cleaned_data["token"])
        if sent is None and not form.cleaned_data["record_again"]:
            repeat = payment_repeat_get(
                plan=plan, amount=form.cleaned_data["amount"], seen_number=form.cleaned_data["seen_payment"]
            )
        if repeat is not None:
            # Shown again with the earlier payment named; ticking "Record it again" sends the same token.
            form.data = form.data.copy()
            form.data["seen_payment"] = plan.last_payment_number
    if request.method == "POST" and form.is_valid() and repeat is None:
        try:
            payment = payment_post(actor=request.user, plan=plan, **form.payment())
        except ValidationError as exc:
            form_errors_add(form, exc, aliases={"idempotency_key": "amount", "payment_number": "amount"})
            if "idempotency_key" in getattr(exc, "error_dict", {}):
                # This form's token was spent on another amount: a fresh one lets the clerk try again.
                form.data = form.data.copy()
                form.data["token"] = form_token()
        else:
            names = {"number": payment.payment_number, "ref": plan.reference}
            if sent is not None and sent.pk == payment.pk:
                names["time"] = time_format(localtime(payment.created_at), "TIME_FORMAT")
                messages.warning(
                    request,
                    _(
                        "This form had already been sent: nothing new was recorded. This is the receipt of payment "
                        "%(number)s of plan %(ref)s, recorded at %(time)s."
                    )
                    % names,
                )
            else:
                messages.success(request, _("Payment %(number)s of plan %(ref)s was recorded.") % names)
            return redirect("payments:payment-receipt", pk=payment.pk)
    context = {"form": form, "plan": plan, "summary": summary, "open": plan.is_open, "repeat": repeat}
    return render(request, "payments/payment_form.html", context)


@staff_page()
def payment_receipt(request, pk):
    """A printable receipt: merchant, customer, amount, allocation, payment number and where the plan stood
    right after it (kept on the payment when it was recorded or completed), however much later it is printed."""
    payment = _payment_for(request, pk)
    plan = payment.plan
    if payment.balance_after is None:  # not expected after the backfill; the ledger still knows
        paid_after, remaining_after = payment_standing_after(payment=payment)
    else:
        paid_after, remaining_after = payment.paid_after, payment.balance_after
    context = {
        "payment": payment,
        "plan": plan,
        "customer": plan.customer,
        "allocations": payment.allocations.all(),
        "paid_after": paid_after,
        "remaining_after": remaining_after,
    }
    return render(request, "payments/receipt.html", context)


def _back_url(request, payment: Payment) -> str:
    """Where a confirmation page returns: the page it came from when it says so (``?next=``, this site's
    only, as the dashboard's list does), else the plan."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("installments:plan-detail", kwargs={"pk": payment.plan_id})


def _reverse(
    request,
    pk,
    *,
    service,
    done: str,
    title: str,
    question: str,
    button: str,
    with_reason=True,
    danger=True,
    portal_note: str = "",
):
    """GET: the confirmation page (with the reason box when the service keeps one); POST: call the service and
    go back with a message. A refusal that is not about the reason is the service's own words, as a message.
    ``portal_note`` follows the question for a payment the customer reported."""
    payment = _payment_for(request, pk)
    if portal_note and payment.origin == Payment.Origin.PORTAL:
        question = f"{question} {portal_note}"
    back = _back_url(request, payment)
    form = ReversalForm(request.POST or None) if with_reason else None
    if request.method == "POST" and (form is None or form.is_valid()):
        extra = {"reason": form.cleaned_data["reason"]} if form is not None else {}
        try:
            payment = service(actor=request.user, payment=payment, **extra)
        except ValidationError as exc:
            if form is None or "reason" not in getattr(exc, "error_dict", {}):
                messages.error(request, " ".join(exc.messages))
                return redirect(back)
            form_errors_add(form, exc)
        else:
            messages.success(request, done % {"number": payment.payment_number, "ref": payment.plan.reference})
            return redirect(back)
    names = {
        "number": payment.payment_number,
        "ref": payment.plan.reference,
        "amount": money_html(payment.amount, payment.merchant.currency),
        "method": payment.get_payment_method_display().lower(),
        "reference": payment.reference or "—",
    }
    context = {
        "plan": payment.plan,
        "title": title % names,
        "question": question % names,
        "form": form,
        "button": button,
        "danger": danger,
        "action_url": request.get_full_path(),
        "cancel_url": back,
    }
    return render(request, "confirm.html", context)


@staff_page(Action.PAYMENT_RECORD)
def payment_complete_view(request, pk):
    return _reverse(
        request,
        pk,
        service=payment_complete,
        done=_("Payment %(number)s of plan %(ref)s was confirmed and allocated."),
        title=_("Confirm payment %(number)s"),
        question=_(
            "Has payment %(number)s of plan %(ref)s (%(amount)s, %(method)s, reference %(reference)s) cleared? "
            "It is allocated to the plan now."
        ),
        button=_("It cleared: confirm"),
        with_reason=False,
        danger=False,
    )


@staff_page(Action.PAYMENT_RECORD)
def payment_fail_view(request, pk):
    return _reverse(
        request,
        pk,
        service=payment_fail,
        done=_("Payment %(number)s of plan %(ref)s was marked failed."),
        title=_("Payment %(number)s failed"),
        question=_(
            "Did payment %(number)s of plan %(ref)s (%(amount)s, %(method)s, reference %(reference)s) fail to "
            "clear? It is marked failed; no money moves."
        ),
        button=_("Mark failed"),
        portal_note=_("The customer reported this transfer: they are told the reason you give."),
    )


@staff_page()
def payment_proof(request, pk):
    """The proof a customer sent with a transfer report, for the merchant's staff only (another merchant's, or a
    payment without one, is a 404): its stored type, never sniffed; images inline, a PDF as a download."""
    proof = _payment_for(request, pk).proof_or_none
    if proof is None:
        raise Http404(_("This payment has no proof."))
    return proof_response(proof)


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
    template_name = "payments/dashboard.html"

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        stats = merchant_stats(merchant=self.merchant)
        context["stats"] = stats
        # Read live, not from the cached statistics: a clerk confirms a cheque and expects it gone from the list.
        context["to_confirm"] = payments_to_confirm(merchant=self.merchant)
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


# Early settlement and charity fees ----------------------------------------------------------------------------


def _settle_quote(plan: InstallmentPlan, data) -> tuple[SettleForm, object, list[str]]:
    """The settle form bound to ``data`` (or unbound: today) and the quote it asks for, or the messages saying why
    there is none."""
    today = merchant_today(plan.merchant)
    if data is not None and "payment_method" not in data:  # the htmx refresh sends the date and rebate only
        data = {**data.dict(), "payment_method": Payment.Method.CASH}
    form = SettleForm(data, initial={"date": today, "payment_method": Payment.Method.CASH})
    amount_fields_localize(form, currency=plan.merchant.currency)
    on, rebate = today, None
    if form.is_bound:
        if not form.is_valid():
            return form, None, [message for errors in form.errors.values() for message in errors]
        on, rebate = form.cleaned_data["date"], form.cleaned_data.get("rebate")
    try:
        return form, plan_payoff_quote(plan=plan, on=on, rebate=rebate, reason=None), []
    except ValidationError as exc:
        return form, None, list(exc.messages)


@staff_page(Action.PAYMENT_RECORD)
def plan_settle_view(request, plan_pk):
    """Settle a plan early: the quote for the date chosen (refreshed by htmx as the date or rebate changes), then
    ``plan_settle`` and the settlement receipt."""
    plans = queryset_for_user(InstallmentPlan.objects.select_related("customer", "merchant"), request.user)
    plan = get_object_or_404(plans, pk=plan_pk)
    currency = plan.merchant.currency
    if request.method == "GET" and is_htmx(request):
        form, quote, errors = _settle_quote(plan, request.GET)
        context = {"payoff": quote, "payoff_errors": errors, "currency": currency}
        return render(request, "installments/_payoff_quote.html", context)
    form, quote, errors = _settle_quote(plan, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            payment = plan_settle(
                actor=request.user,
                plan=plan,
                on=form.cleaned_data["date"],
                method=form.cleaned_data["payment_method"],
                reference=form.cleaned_data["reference"],
                rebate=form.cleaned_data.get("rebate"),
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            form_errors_add(form, exc, aliases={"payment_date": "date"})
        else:
            messages.success(request, _("Plan %(ref)s was settled.") % {"ref": plan.reference})
            return redirect("payments:payment-receipt", pk=payment.pk)
    context = {
        "form": form,
        "plan": plan,
        "payoff": quote,
        "payoff_errors": errors,
        "open": plan.is_open,
        "discretionary": plan.merchant.early_settlement_rebate == Merchant.SettlementRebate.DISCRETIONARY,
        "can_grant": user_can(request.user, Action.PLAN_DECIDE),
    }
    return render(request, "payments/settle_form.html", context)


@staff_page()
def charity_fees_view(request):
    """Charity fees collected, given and still to give, the disbursements, and (owners, managers) a form to record
    one."""
    merchant = request.user.merchant
    can_record = user_can(request.user, Action.PAYMENT_REVERSE)
    form = CharityDisbursementForm(
        request.POST if request.method == "POST" and can_record else None,
        initial={"given_on": merchant_today(merchant)},
    )
    amount_fields_localize(form, currency=merchant.currency)
    if request.method == "POST" and not can_record:
        raise PermissionDenied
    if request.method == "POST" and form.is_valid():
        try:
            charity_disbursement_record(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(request, _("The charity disbursement was recorded."))
            return redirect("payments:charity-fees")
    context = {
        "form": form,
        "can_record": can_record,
        "totals": charity_fees_totals(merchant=merchant),
        "disbursements": charity_disbursement_list(merchant=merchant)[:200],
    }
    return render(request, "payments/charity_fees.html", context)
