"""The portal's action pages: a customer applies for a plan (with the clerk's live schedule preview) and reports
a payment made by bank transfer or mobile wallet.

Views parse, call the service (``plan_apply``, ``payment_report``) and present; the service's ValidationError
lands on the field it names. The customer and the merchant are always the session's (``portal_required``).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from customers.models import Customer
from installments.models import InstallmentPlan
from installments.services import application_terms, plan_apply, plan_preview
from payments.services import payment_report
from portal.auth import portal_required
from portal.forms import ApplyForm, ReportForm
from portal.selectors import customer_plans
from portal.views import portal_context
from taqsit.dates import merchant_today
from taqsit.forms import form_errors_add

# The service's names for what the apply form calls otherwise: a product is the application's one item.
APPLY_ALIASES = {"items": "product"}


@portal_required
def apply(request: HttpRequest) -> HttpResponse:
    """Apply for a new plan: it goes to the shop's approval queue as a pending plan; home shows it waiting."""
    customer = request.portal_customer
    merchant = customer.merchant
    form = ApplyForm(request.POST or None, merchant=merchant)
    if request.method == "POST" and form.is_valid():
        try:
            plan_apply(customer=customer, **form.application())
        except ValidationError as exc:
            form_errors_add(form, exc, aliases=APPLY_ALIASES)
        else:
            messages.success(
                request,
                _("Your application was sent to %(shop)s; you will be told when it is approved or rejected.")
                % {"shop": merchant.name},
            )
            return redirect("portal:home")
    return render(request, "portal/apply.html", portal_context(request, form=form))


@require_POST
@portal_required
def apply_preview(request: HttpRequest) -> HttpResponse:
    """The schedule the terms typed so far would give (htmx), by the rule the clerk's preview uses
    (``plan_preview``) for the customer's own merchant; nothing is saved."""
    merchant = request.portal_customer.merchant
    form = ApplyForm(request.POST, merchant=merchant)
    preview, errors = None, []
    if form.is_valid():
        try:
            terms = application_terms(merchant=merchant, **form.application())
            preview = plan_preview(merchant=merchant, **terms)
        except ValidationError as exc:
            errors = _labelled(form, exc)
    else:
        # A field not filled in yet is no error while the customer types: the preview waits for it.
        typed = {
            field: problems
            for field, problems in form.errors.as_data().items()
            if any(problem.code != "required" for problem in problems)
        }
        errors = _labelled(form, ValidationError(typed)) if typed else []
    context = portal_context(
        request,
        schedule=preview.schedule if preview else None,
        disclosure=preview.disclosure if preview else None,
        errors=errors,
    )
    return render(request, "installments/_preview.html", context)


def _labelled(form: ApplyForm, exc: ValidationError) -> list[str]:
    """Each message after the label of the field it is about, as the page names it."""
    if not hasattr(exc, "error_dict"):
        return list(exc.messages)
    labelled = []
    for field, errors in exc.error_dict.items():
        name = APPLY_ALIASES.get(field, field)
        for error in errors:
            for message in error.messages:
                labelled.append(f"{form.fields[name].label}: {message}" if name in form.fields else message)
    return labelled


def _open_plans(customer: Customer) -> QuerySet[InstallmentPlan]:
    """The customer's plans a payment can be reported for: their own, at their merchant, being collected."""
    return customer_plans(customer=customer).filter(status__in=InstallmentPlan.OPEN_STATUSES)


@portal_required
def report(request: HttpRequest) -> HttpResponse:
    """Report a payment made by bank transfer or mobile wallet, with its proof: a pending payment the shop
    confirms. ``?plan=<id>`` picks the plan (one of the customer's open plans; anything else is ignored)."""
    customer = request.portal_customer
    merchant = customer.merchant
    if not merchant.portal_transfer_reports:
        return render(request, "portal/report_off.html", portal_context(request), status=403)
    plans = _open_plans(customer)
    initial = {"payment_date": merchant_today(merchant)}
    chosen = request.GET.get("plan")
    if chosen:
        initial["plan"] = next((plan for plan in plans if str(plan.pk) == chosen), None)
    form = ReportForm(request.POST or None, request.FILES or None, customer=customer, plans=plans, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            payment_report(
                customer=customer,
                plan=data["plan"],
                amount=data["amount"],
                payment_date=data["payment_date"],
                payment_method=data["payment_method"],
                reference=data["reference"],
                proof=data["proof"],
            )
        except ValidationError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(request, _("Sent: the shop will confirm it."))
            return redirect("portal:home")
    context = portal_context(request, form=form, has_plans=plans.exists())
    return render(request, "portal/report.html", context)
