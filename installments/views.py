"""Plan pages: list (and its CSV export), pending applications, new plan with its live preview, detail, lifecycle
actions, and the collections list with its CSV export. Every rule is in the services and selectors these call."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import F
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, localize
from django.utils.html import format_html
from django.utils.translation import gettext as _

from customers.forms import CustomerInlineForm
from customers.models import Customer
from installments.contract import contract_build, contract_document_context
from installments.contract_files import contract_pdf_response
from installments.exports import installments_csv, plans_csv
from installments.forms import (
    CollectionsFilterForm,
    ContractSignForm,
    GuarantorForm,
    GuarantorFormSet,
    ItemFormSet,
    PayoffForm,
    PlanFilterForm,
    PlanForm,
    PlanOriginFilterForm,
    PlanTermsForm,
    ReasonForm,
    RescheduleForm,
    guarantors_of,
    items_of,
)
from installments.models import Installment, InstallmentPlan
from installments.selectors import (
    Party,
    exposure_list,
    installments_overdue,
    installments_overdue_filter,
    overdue_cutoff,
    plan_actions_allowed,
    plan_list,
    plan_payoff_quote,
    plan_summary,
)
from installments.services import (
    contract_sign,
    guarantor_add,
    guarantor_remove,
    plan_approve,
    plan_cancel,
    plan_create,
    plan_create_with_customer,
    plan_reject,
    plan_reschedule,
)
from installments.services import plan_preview as plan_preview_build
from taqsit.dates import merchant_today
from taqsit.forms import amount_fields_localize, form_errors_add, form_token
from taqsit.money_format import money_figure, money_html
from taqsit.permissions import Action, user_can
from taqsit.phone import phone_normalize
from taqsit.replicas import replica_reads_view
from taqsit.tenancy import queryset_for_user
from taqsit.views import is_htmx, staff_page

Status = InstallmentPlan.Status
PAGE_SIZE = 25
COLLECTIONS_PAGE_SIZE = 50


def _plan_for(request, pk) -> InstallmentPlan:
    plans = queryset_for_user(InstallmentPlan.objects.select_related("customer", "merchant"), request.user)
    return get_object_or_404(plans, pk=pk)


# Lists ----------------------------------------------------------------------------------------------------


def _plans(request):
    form = PlanFilterForm(request.GET or None)
    filters = {name: value for name, value in form.cleaned_data.items() if value} if form.is_valid() else {}
    return form, filters, plan_list(merchant=request.user.merchant, **filters)


@staff_page()
def plan_list_view(request):
    form, filters, plans = _plans(request)
    page = Paginator(plans, PAGE_SIZE).get_page(request.GET.get("page"))
    query = urlencode(filters)
    return render(request, "installments/plan_list.html", {"form": form, "page": page, "query": query})


@staff_page()
def plan_list_csv(request):
    """The plan list with the same filter, streamed."""
    _form, _status, plans = _plans(request)
    merchant = request.user.merchant
    return plans_csv(plans, merchant=merchant, today=merchant_today(merchant))


@staff_page(Action.PLAN_DECIDE)
def plan_pending(request):
    """Applications waiting for a manager, oldest first; ``?origin=portal`` keeps the customers' own."""
    form = PlanOriginFilterForm(request.GET or None)
    origin = form.cleaned_data["origin"] if form.is_valid() else ""
    plans = plan_list(merchant=request.user.merchant, status=Status.PENDING, origin=origin or None)
    page = Paginator(plans.order_by("created_at", "number"), PAGE_SIZE).get_page(request.GET.get("page"))
    query = urlencode({"origin": origin}) if origin else ""
    return render(request, "installments/plan_pending.html", {"form": form, "page": page, "query": query})


# New plan -------------------------------------------------------------------------------------------------


def _plan_forms(request):
    merchant = request.user.merchant
    data = request.POST if request.method == "POST" else None
    initial = {"token": form_token(), "start_date": merchant_today(merchant), "customer": request.GET.get("customer")}
    form = PlanForm(data, initial=initial, merchant=merchant)
    items = ItemFormSet(data, prefix="items", form_kwargs={"merchant": merchant})
    new_customer = CustomerInlineForm(data, prefix="new_customer", initial={"language": merchant.language})
    return form, items, new_customer, _guarantor_formset(data)


def _guarantor_formset(data) -> GuarantorFormSet:
    """The new-plan page's guarantors; a form posted without their block (a script, an older page) has none."""
    posted = data is not None and "guarantors-TOTAL_FORMS" in data
    return GuarantorFormSet(data if posted else None, prefix="guarantors")


def _chosen_customer(request, form: PlanForm) -> Customer | None:
    """The customer picked on the form (or named in ?customer= when the page opens), if it is the merchant's."""
    if hasattr(form, "cleaned_data"):
        value = form.cleaned_data.get("customer")
    else:
        try:
            value = uuid.UUID(request.GET.get("customer") or "")
        except ValueError:
            value = None
    if not value:
        return None
    return queryset_for_user(Customer.objects.all(), request.user).filter(pk=value).first()


def _replayed_plan(request, token: str) -> InstallmentPlan | None:
    """The plan this form already created (a double click or a retried POST)."""
    if not token:
        return None
    return plan_list(merchant=request.user.merchant).filter(idempotency_key=token).first()


@staff_page(Action.PLAN_CREATE)
def plan_create_view(request):
    form, items, new_customer, guarantors = _plan_forms(request)
    if request.method == "POST":
        valid = form.is_valid() & items.is_valid() & (not guarantors.is_bound or guarantors.is_valid())
        customer = _chosen_customer(request, form) if valid else None
        replay = _replayed_plan(request, form.cleaned_data.get("token", "")) if valid else None
        if replay is not None:
            return redirect("installments:plan-detail", pk=replay.pk)
        if valid and customer is None and not new_customer.has_input():
            form.add_error(None, _("Choose a customer or enter a new one."))
            valid = False
        if valid and customer is None:
            valid = new_customer.is_valid()
        if valid:
            creating_customer = customer is None
            plan_fields = {
                "notes": form.cleaned_data["notes"],
                "sale_reference": form.cleaned_data["sale_reference"],
                "guarantors": guarantors_of(guarantors),
                "idempotency_key": form.cleaned_data["token"],
                **form.terms(items_of(items)),
            }
            try:
                if creating_customer:
                    plan = plan_create_with_customer(
                        actor=request.user, customer=new_customer.cleaned_data, **plan_fields
                    )
                else:
                    plan = plan_create(actor=request.user, customer=customer, **plan_fields)
            except ValidationError as exc:
                replay = _replayed_plan(request, form.cleaned_data["token"])
                if replay is not None:  # the twin request won the race
                    return redirect("installments:plan-detail", pk=replay.pk)
                _plan_errors(form, new_customer, exc, customer_first=creating_customer)
            else:
                if plan.status == Status.PENDING:
                    messages.success(request, _("Plan %(ref)s was sent for approval.") % {"ref": plan.reference})
                else:
                    messages.success(request, _("Plan %(ref)s was created.") % {"ref": plan.reference})
                return redirect("installments:plan-detail", pk=plan.pk)
    customer = _chosen_customer(request, form)
    context = {
        "form": form,
        "items": items,
        "new_customer": new_customer,
        "guarantors": guarantors,
        "customer": customer,
    }
    return render(request, "installments/plan_form.html", context)


def _plan_errors(form, new_customer, exc: ValidationError, *, customer_first: bool) -> None:
    """Each message next to what it is about: the new customer's fields, the items, or the terms."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, errors in exc.error_dict.items():
        messages_ = [message for error in errors for message in error.messages]
        if field in ("items", "guarantors"):
            form.add_error(None, messages_)
        elif customer_first and field in new_customer.fields:
            new_customer.add_error(field, messages_)
        elif field == "customer":
            form.add_error(None, messages_)
        else:
            form.add_error(field if field in form.fields else None, messages_)


@staff_page(Action.PLAN_CREATE)
def plan_preview(request):
    """The schedule the terms typed so far would give (htmx); nothing is saved."""
    merchant = request.user.merchant
    form = PlanTermsForm(request.POST, merchant=merchant)
    items = ItemFormSet(request.POST, prefix="items", form_kwargs={"merchant": merchant})
    terms, errors = None, []
    if form.is_valid() & items.is_valid():
        try:
            # Until a price and a number (or amount) of installments are typed there is nothing to preview.
            terms = plan_preview_build(merchant=merchant, **form.terms(items_of(items)))
        except ValidationError as exc:
            errors = _labelled(form, exc)
    else:
        errors = _form_messages(form) + [
            message for item_errors in items.errors for messages_ in item_errors.values() for message in messages_
        ]
    return render(request, "installments/_preview.html", _preview_context(terms, errors=errors))


def _preview_context(terms, *, errors: list[str]) -> dict:
    """The live preview's context: the schedule and its cost of credit, or what stops them."""
    return {
        "schedule": terms.schedule if terms else None,
        "disclosure": terms.disclosure if terms else None,
        "errors": errors,
    }


@staff_page(Action.PLAN_CREATE)
def plan_exposure(request):
    """What the customer and each guarantor typed so far already owe or answer for here (htmx, the new-plan
    page's panel): the customer picked or being added, and each guarantor by national id, else phone."""
    merchant = request.user.merchant
    data = request.POST
    parties = []
    try:
        customer_id = uuid.UUID(data.get("customer") or "")
    except ValueError:
        customer_id = None
    customer = (
        queryset_for_user(Customer.objects.all(), request.user).filter(pk=customer_id).first() if customer_id else None
    )
    if customer is not None:
        parties.append(
            Party(name=customer.name, customer=customer, national_id=customer.national_id, phone=customer.phone)
        )
    else:
        parties += _typed_party(merchant, data, "new_customer-", _("New customer"))
    guarantors = _guarantor_formset(data)
    if guarantors.is_bound and guarantors.is_valid():
        for index, guarantor in enumerate(guarantors.forms, start=1):
            label = _("Guarantor %(number)s") % {"number": index}
            parties += _typed_party(merchant, data, f"{guarantor.prefix}-", label)
    exposures = exposure_list(merchant=merchant, parties=parties)
    return render(request, "installments/_exposure.html", {"exposures": exposures, "currency": merchant.currency})


def _typed_party(merchant, data, prefix: str, label: str) -> list[Party]:
    """A person being typed on the new-plan page (a new customer, a guarantor), if a national id or a phone that
    reads as one is there yet."""
    national_id = (data.get(f"{prefix}national_id") or "").strip()
    phone = (data.get(f"{prefix}phone") or "").strip()
    if phone:
        try:
            phone = phone_normalize(phone, region=merchant.country)
        except ValidationError:
            phone = ""
    if not (national_id or phone):
        return []
    name = (data.get(f"{prefix}name") or "").strip() or label
    return [Party(name=name, national_id=national_id, phone=phone)]


def _form_messages(form) -> list[str]:
    """A form's errors for a preview: each after its field's label."""
    return _labelled(form, ValidationError(form.errors.as_data()))


def _labelled(form, exc: ValidationError) -> list[str]:
    if not hasattr(exc, "error_dict"):
        return list(exc.messages)
    return [
        f"{form.fields[field].label}: {message}" if field in form.fields else message
        for field, errors in exc.error_dict.items()
        for error in errors
        for message in error.messages
    ]


# Detail and lifecycle -------------------------------------------------------------------------------------


def _payoff(plan: InstallmentPlan, data, *, today, rows: list[Installment] | None = None) -> dict:
    """The payoff panel's context: its form (``data``, the query string, or unbound: today) and the quote (from
    ``rows``, all the plan's installments, when the page has them), or the messages that explain why there is
    none."""
    form = PayoffForm(data, initial={"date": today})
    quote, errors = None, []
    if form.is_bound and not form.is_valid():
        errors = _form_messages(form)
    else:
        on = (form.cleaned_data.get("date") if form.is_bound else None) or today
        try:
            quote = plan_payoff_quote(plan=plan, on=on, rows=rows)
        except ValidationError as exc:
            errors = _labelled(form, exc)
    return {"payoff_form": form, "payoff": quote, "payoff_errors": errors}


@staff_page()
def plan_payoff(request, pk):
    """The payoff quote for ``?date=`` (htmx, the plan page's panel); without htmx, the plan page showing it."""
    plan = _plan_for(request, pk)
    if not is_htmx(request):
        query = urlencode({"date": request.GET.get("date", "")})
        return redirect(f"{reverse('installments:plan-detail', kwargs={'pk': plan.pk})}?{query}#payoff")
    context = {**_payoff(plan, request.GET, today=merchant_today(plan.merchant)), "currency": plan.merchant.currency}
    return render(request, "installments/_payoff_quote.html", context)


@staff_page()
def plan_detail(request, pk):
    plan = _plan_for(request, pk)
    today = merchant_today(plan.merchant)
    cutoff = overdue_cutoff(plan.merchant, today=today)
    rows = list(Installment.objects.filter(plan=plan).order_by("superseded_at", "number", "created_at"))
    for row in rows:
        row.display_status = row.display_status_for(cutoff=cutoff, plan_status=plan.status)
    context = {
        "plan": plan,
        "items": plan.items.select_related("product"),
        "guarantors": plan.guarantors.all(),
        **_guarantor_actions(plan, request.user),
        "installments": [row for row in rows if row.superseded_at is None],
        "superseded": [row for row in rows if row.superseded_at is not None],
        # The schedule's foot counts the down payments given back: payments draws it with its panel (plan_payments).
        "rows": rows,
        "summary": plan_summary(plan=plan, today=today),
        "actions": plan_actions_allowed(plan=plan, user=request.user),
        # The day the customer applied, in the shop's time zone.
        "applied_on": timezone.localtime(plan.created_at, plan.merchant.tzinfo).date()
        if plan.origin == InstallmentPlan.Origin.PORTAL
        else None,
    }
    if plan.is_open:
        context.update(_payoff(plan, request.GET if "date" in request.GET else None, today=today, rows=rows))
    return render(request, "installments/plan_detail.html", context)


def _guarantor_actions(plan: InstallmentPlan, user, form: GuarantorForm | None = None) -> dict:
    """The plan page's guarantor form (an application: whoever may create plans; an active or defaulted plan: a
    manager) and whether its guarantors may be removed (an application's only): as ``guarantor_add`` and
    ``guarantor_remove`` decide."""
    pending = plan.status == Status.PENDING
    may_add = plan.status in InstallmentPlan.SERIAL_HOLDING_STATUSES and user_can(
        user, Action.PLAN_CREATE if pending else Action.PLAN_DECIDE
    )
    return {
        "guarantor_form": (form or GuarantorForm()) if may_add else None,
        "guarantor_remove_allowed": pending and user_can(user, Action.PLAN_CREATE),
    }


@staff_page(Action.PLAN_CREATE)
def plan_guarantor_add(request, pk):
    """POST: add a guarantor to the plan (``guarantor_add`` decides who may, and on which plans)."""
    plan = _plan_for(request, pk)
    if request.method != "POST":
        return redirect("installments:plan-detail", pk=plan.pk)
    form = GuarantorForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(message for errors in form.errors.values() for message in errors))
    else:
        try:
            guarantor = guarantor_add(actor=request.user, plan=plan, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("%(name)s was added as a guarantor.") % {"name": guarantor.name})
    return redirect(f"{reverse('installments:plan-detail', kwargs={'pk': plan.pk})}#guarantors-title")


@staff_page(Action.PLAN_CREATE)
def plan_guarantor_remove(request, pk, guarantor_pk):
    """POST: remove a guarantor from an application (``guarantor_remove`` refuses it on any other plan)."""
    plan = _plan_for(request, pk)
    guarantor = get_object_or_404(plan.guarantors.all(), pk=guarantor_pk)
    if request.method == "POST":
        try:
            guarantor_remove(actor=request.user, guarantor=guarantor)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("%(name)s is no longer a guarantor.") % {"name": guarantor.name})
    return redirect("installments:plan-detail", pk=plan.pk)


def _confirm(request, plan, *, action: str, title: str, question: str, form=None, button: str, danger=False):
    context = {
        "plan": plan,
        "title": title,
        "question": question,
        "form": form,
        "button": button,
        "danger": danger,
        "action_url": reverse(f"installments:plan-{action}", kwargs={"pk": plan.pk}),
        "cancel_url": reverse("installments:plan-detail", kwargs={"pk": plan.pk}),
    }
    return render(request, "confirm.html", context)


def _lifecycle(request, pk, *, action: str, service, form_class, done: str, title: str, question: str, **labels):
    """GET: the confirmation page; POST: call the service, then back to the plan with a message."""
    plan = _plan_for(request, pk)
    form = form_class(request.POST or None) if form_class else None
    if request.method == "POST" and (form is None or form.is_valid()):
        try:
            plan = service(actor=request.user, plan=plan, **(form.cleaned_data if form else {}))
        except ValidationError as exc:
            if form is None or not any(field in form.fields for field in getattr(exc, "error_dict", {})):
                messages.error(request, " ".join(exc.messages))
                return redirect("installments:plan-detail", pk=plan.pk)
            form_errors_add(form, exc)
        else:
            messages.success(request, done % {"ref": plan.reference})
            return redirect("installments:plan-detail", pk=plan.pk)
    title = title % {"ref": plan.reference}
    names = {"ref": plan.reference, "customer": plan.customer.name}
    question = question(plan, names) if callable(question) else question % names
    return _confirm(request, plan, action=action, title=title, question=question, form=form, **labels)


def _approve_question(plan: InstallmentPlan, names: dict) -> str:
    """A customer's application with a down payment: the customer is not at the counter, so it is expected."""
    if plan.origin == InstallmentPlan.Origin.PORTAL and plan.down_payment > 0:
        return _(
            "Approve plan %(ref)s for %(customer)s? It becomes active; its down payment of %(down_payment)s is "
            "expected at the counter and is recorded as a payment to confirm when the customer pays it."
        ) % {**names, "down_payment": money_figure(plan.down_payment, plan.merchant.currency)}
    return _("Approve plan %(ref)s for %(customer)s? It becomes active and its down payment is recorded.") % names


@staff_page(Action.PLAN_DECIDE)
def plan_approve_view(request, pk):
    return _lifecycle(
        request,
        pk,
        action="approve",
        service=plan_approve,
        form_class=None,
        done=_("Plan %(ref)s was approved."),
        title=_("Approve plan %(ref)s"),
        question=_approve_question,
        button=_("Approve"),
    )


@staff_page(Action.PLAN_DECIDE)
def plan_reject_view(request, pk):
    return _lifecycle(
        request,
        pk,
        action="reject",
        service=plan_reject,
        form_class=ReasonForm,
        done=_("Plan %(ref)s was rejected."),
        title=_("Reject plan %(ref)s"),
        question=_("Reject the application %(ref)s of %(customer)s?"),
        button=_("Reject"),
        danger=True,
    )


@staff_page(Action.PLAN_DECIDE)
def plan_cancel_view(request, pk):
    return _lifecycle(
        request,
        pk,
        action="cancel",
        service=plan_cancel,
        form_class=ReasonForm,
        done=_("Plan %(ref)s was cancelled."),
        title=_("Cancel plan %(ref)s"),
        question=_("Stop collecting plan %(ref)s of %(customer)s? Its payments stay in the ledger."),
        button=_("Cancel the plan"),
        danger=True,
    )


def _reschedule_initial(plan: InstallmentPlan, *, today) -> dict:
    """The reschedule form starts from the plan as it runs: its frequency, as many installments as are unpaid,
    starting today with the first one on the plan's next due date still ahead."""
    unpaid = Installment.objects.current().filter(plan=plan, amount_paid__lt=F("amount_due"))
    upcoming = unpaid.filter(due_date__gte=today).order_by("due_date").values_list("due_date", flat=True).first()
    return {
        "installment_frequency": plan.installment_frequency,
        "number_of_installments": unpaid.count() or None,
        "start_date": today,
        "first_due_date": upcoming,
    }


@staff_page(Action.PLAN_DECIDE)
def plan_reschedule_view(request, pk):
    plan = _plan_for(request, pk)
    form = RescheduleForm(request.POST or None, initial=_reschedule_initial(plan, today=merchant_today(plan.merchant)))
    if request.method == "POST" and form.is_valid():
        try:
            plan = plan_reschedule(actor=request.user, plan=plan, **form.cleaned_data)
        except ValidationError as exc:
            if not any(field in form.fields for field in getattr(exc, "error_dict", {})):
                messages.error(request, " ".join(exc.messages))
                return redirect("installments:plan-detail", pk=plan.pk)
            form_errors_add(form, exc)
        else:
            messages.success(request, _("Plan %(ref)s was rescheduled.") % {"ref": plan.reference})
            return redirect("installments:plan-detail", pk=plan.pk)
    context = {
        "plan": plan,
        "title": _("Reschedule plan %(ref)s") % {"ref": plan.reference},
        "question": _("Spread what %(customer)s still owes on plan %(ref)s over a new schedule.")
        % {"ref": plan.reference, "customer": plan.customer.name},
        "form": form,
        "button": _("Reschedule"),
        "action_url": reverse("installments:plan-reschedule", kwargs={"pk": plan.pk}),
        "cancel_url": reverse("installments:plan-detail", kwargs={"pk": plan.pk}),
        "preview_url": reverse("installments:plan-reschedule-preview", kwargs={"pk": plan.pk}),
    }
    return render(request, "installments/plan_reschedule.html", context)


class _TrialRunRollbackError(Exception):
    """Raised inside the trial reschedule's transaction to roll it back, carrying the schedule it made."""

    def __init__(self, rows: list[Installment]) -> None:
        super().__init__()
        self.rows = rows


@staff_page(Action.PLAN_DECIDE)
def plan_reschedule_preview(request, pk):
    """The schedule Reschedule would give (htmx): ``plan_reschedule`` itself runs and is rolled back, so the
    preview is exactly what the button does, and nothing is saved (no row, no history, no message)."""
    plan = _plan_for(request, pk)
    form = RescheduleForm(request.POST)
    rows, errors = None, []
    if form.is_valid():
        try:
            with transaction.atomic():
                rescheduled = plan_reschedule(actor=request.user, plan=plan, **form.cleaned_data)
                raise _TrialRunRollbackError(
                    list(Installment.objects.current().filter(plan=rescheduled).order_by("number"))
                )
        except _TrialRunRollbackError as trial:
            rows = trial.rows
        except ValidationError as exc:
            errors = _labelled(form, exc)
    else:
        errors = _form_messages(form)
    context = {"rows": rows, "errors": errors, "currency": plan.merchant.currency}
    return render(request, "installments/_reschedule_preview.html", context)


# The contract ---------------------------------------------------------------------------------------------


def _private(response):
    """A page or file with the customer's personal data: kept by no cache, shared or the browser's."""
    response["Cache-Control"] = "private, no-store"
    return response


@staff_page()
def plan_contract(request, pk):
    """The plan's contract in the customer's language, for the browser's print (print CSS), with its signatures."""
    plan = _plan_for(request, pk)
    contract = contract_build(plan=plan)
    context = {**contract_document_context(contract), "plan": plan, "currency": plan.merchant.currency}
    return _private(render(request, "installments/plan_contract.html", context))


@staff_page()
def plan_contract_pdf(request, pk):
    """The contract as a PDF (WeasyPrint), signed when it has been: what is printed at the counter."""
    plan = _plan_for(request, pk)
    return contract_pdf_response(contract_build(plan=plan))


@staff_page(Action.PLAN_CREATE)
def plan_contract_sign(request, pk):
    """The customer (or a guarantor) signs the contract on the touch screen: the text they read, a pad, a button."""
    plan = _plan_for(request, pk)
    contract = contract_build(plan=plan)
    form = ContractSignForm(request.POST or None, lines=contract.lines, initial={"text_sha256": contract.text_sha256})
    if request.method == "POST" and form.is_valid():
        try:
            signature = contract_sign(actor=request.user, plan=plan, **form.signature())
        except ValidationError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(request, _("%(name)s signed the contract.") % {"name": signature.signer_name})
            return redirect("installments:plan-contract", pk=plan.pk)
    context = {**contract_document_context(contract), "plan": plan, "form": form, "currency": plan.merchant.currency}
    return _private(render(request, "installments/plan_contract_sign.html", context))


# Collections ----------------------------------------------------------------------------------------------


def _collections(request):
    merchant = request.user.merchant
    today = merchant_today(merchant)
    form = CollectionsFilterForm(request.GET or None)
    amount_fields_localize(form, currency=merchant.currency)
    rows = installments_overdue_filter(
        installments_overdue(merchant=merchant, today=today), today=today, **form.filters()
    )
    return form, rows, today


# One row of the collections page. The page shows 50 and a template tag, filter or URL lookup per cell was most of
# what it cost: each row is written here at once, its values escaped by format_html.
COLLECTIONS_ROW_HTML = (
    '<tr><td><a href="{}">{}</a></td><td><a href="tel:{}" dir="ltr">{}</a></td>'
    '<td class="text-nowrap"><a href="{}">{}</a> <span class="text-body-secondary">#{}</span></td>'
    '<td>{}</td><td class="text-end"><span class="badge {}">{}</span></td>'
    '<td class="text-end money">{}{}</td><td>{}</td></tr>'
)


def _url_for_id(name: str):
    """``reverse(name, args=[pk])`` for any pk, from one reverse: the pk is the address's only variable part."""
    marker = uuid.UUID(int=0)
    head, tail = reverse(name, args=[marker]).split(str(marker))
    return lambda pk: f"{head}{pk}{tail}"


def _badge(days: int) -> str:
    """The days-overdue badge's colour: past 90 days, past 30, or not yet."""
    if days > 90:
        return "text-bg-danger"
    return "text-bg-warning" if days > 30 else "text-bg-light border"


def collections_rows(installments, *, currency: str, can_pay: bool) -> list[str]:
    """The page's rows of ``installments`` (from ``installments_overdue``), as HTML: the customer, their phone,
    the plan and row, the due date, the days overdue, what is left (and the late fee left), the payment button
    for a user who may record one."""
    customer_url = _url_for_id("customers:customer-detail")
    plan_url = _url_for_id("installments:plan-detail")
    payment_url = _url_for_id("payments:payment-create")
    late_fee_label, pay_label = _("late fee"), _("Record a payment")
    rows = []
    for row in installments:
        plan, customer, late_fee = row.plan, row.plan.customer, row.late_fee_remaining
        rows.append(
            format_html(
                COLLECTIONS_ROW_HTML,
                customer_url(customer.pk),
                customer.name,
                customer.phone,
                customer.phone,
                plan_url(plan.pk),
                plan.reference,
                localize(row.number),
                date_format(row.due_date, "SHORT_DATE_FORMAT"),
                _badge(row.days_overdue),
                localize(row.days_overdue),
                money_html(row.remaining, currency),
                format_html(
                    '<div class="small text-danger">+ {} {}</div>', money_html(late_fee, currency), late_fee_label
                )
                if late_fee
                else "",
                format_html('<a class="btn btn-sm btn-primary" href="{}">{}</a>', payment_url(plan.pk), pay_label)
                if can_pay
                else "",
            )
        )
    return rows


@staff_page()
@replica_reads_view
def collections(request):
    """Overdue installments across plans, longest overdue first, then largest."""
    form, rows, _today = _collections(request)
    page = Paginator(rows, COLLECTIONS_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "rows": collections_rows(
            page.object_list,
            currency=request.user.merchant.currency,
            can_pay=user_can(request.user, Action.PAYMENT_RECORD),
        ),
        "query": query.urlencode(),
    }
    return render(request, "installments/collections.html", context)


@staff_page()
def collections_csv(request):
    """The collections list with the same filters, streamed row by row (memory stays flat)."""
    _form, rows, today = _collections(request)
    return installments_csv(rows, merchant=request.user.merchant, today=today, name="collections")
