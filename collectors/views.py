"""The collector's pages: the worklist (phone-sized, for visits), its bulk assignment, the contact and promise
forms (htmx fragments, full pages without script), the plan page's panel, and the figures. Every rule is in the
services and selectors these call."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from collectors.forms import AssignForm, ContactForm, FiguresForm, PromiseForm, WorklistFilterForm
from collectors.models import Promise
from collectors.selectors import Show, collector_figures, collectors_list, plan_collection, worklist
from collectors.services import contact_record, plans_assign, promise_record
from installments.models import InstallmentPlan
from taqsit.dates import merchant_today
from taqsit.forms import amount_fields_localize, form_errors_add
from taqsit.models import Role
from taqsit.permissions import Action, user_can
from taqsit.views import is_htmx, staff_page

WORKLIST_PAGE_SIZE = 30


def _next_url(request, default: str) -> str:
    """Where a form returns: the page it came from when it says so (this site's only), else ``default``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _plan_for(request, pk) -> InstallmentPlan:
    return get_object_or_404(
        InstallmentPlan.objects.for_merchant(request.user.merchant).select_related("customer", "merchant"), pk=pk
    )


@staff_page()
def worklist_view(request):
    """The overdue plans to follow up: a broken promise first, then those without a promise waiting, then those
    waiting; a clerk sees their own plans unless they ask for more."""
    merchant, user = request.user.merchant, request.user
    today = merchant_today(merchant)
    collectors = list(collectors_list(merchant=merchant))
    data = request.GET.copy()
    if "show" not in data and user.role == Role.CLERK:
        data["show"] = Show.MINE
    form = WorklistFilterForm(data, collectors=collectors)
    plans = worklist(merchant=merchant, today=today, user=user, **form.filters())
    page = Paginator(plans, WORKLIST_PAGE_SIZE).get_page(request.GET.get("page"))
    for plan in page.object_list:
        plan.days_overdue = (today - plan.oldest_due).days
        plan.collector = getattr(getattr(plan, "collector_assignment", None), "collector", None)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "plans": page.object_list,
        "collectors": collectors,
        "query": query.urlencode(),
        "here_url": request.get_full_path(),
        "can_assign": user_can(user, Action.COLLECTION_ASSIGN),
        "can_record": user_can(user, Action.COLLECTION_RECORD),
        "today": today,
    }
    return render(request, "collectors/worklist.html", context)


@require_POST
@staff_page(Action.COLLECTION_ASSIGN)
def worklist_assign(request):
    """Give the ticked plans to a collector (or to nobody)."""
    merchant = request.user.merchant
    form = AssignForm(request.POST, plans=request.POST.getlist("plans"), collectors=collectors_list(merchant=merchant))
    back = _next_url(request, reverse("collectors:worklist"))
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    try:
        plans_assign(
            actor=request.user, plan_ids=form.cleaned_data["plans"], collector=form.cleaned_data["collector"] or None
        )
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
    else:
        count = len(form.cleaned_data["plans"])
        messages.success(request, _("%(count)s plan(s) assigned.") % {"count": count})
    return redirect(back)


@staff_page()
def plan_panel(request, pk):
    """The plan page's follow-up panel (loaded by htmx): the collector, the current promise, the last promises
    and contacts, and the buttons to record more."""
    plan = _plan_for(request, pk)
    context = {
        **plan_collection(plan=plan, today=merchant_today(plan.merchant)),
        "plan": plan,
        "can_record": user_can(request.user, Action.COLLECTION_RECORD) and plan.is_open,
        "next": reverse("installments:plan-detail", args=[plan.pk]),
    }
    return render(request, "collectors/_plan_panel.html", context)


def _record(request, pk, *, form_class, template: str, save) -> HttpResponse:
    """A contact or promise form: an htmx fragment in the worklist or the plan's panel, a page without script.
    Saved, the page that asked is loaded again (the worklist re-sorts), with the message."""
    plan = _plan_for(request, pk)
    form = form_class(request.POST or None)
    amount_fields_localize(form, currency=plan.merchant.currency)
    back = _next_url(request, reverse("installments:plan-detail", args=[plan.pk]))
    if request.method == "POST" and form.is_valid():
        try:
            message = save(plan, form.cleaned_data)
        except ValidationError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(request, message)
            if is_htmx(request):
                response = HttpResponse(status=204)
                response["HX-Redirect"] = back
                return response
            return redirect(back)
    context = {"plan": plan, "form": form, "next": back, "fragment": is_htmx(request)}
    return render(request, template, context)


@staff_page(Action.COLLECTION_RECORD)
def contact_create(request, pk):
    def save(plan, data) -> str:
        contact = contact_record(actor=request.user, plan=plan, **data)
        return _("%(kind)s recorded: %(outcome)s.") % {
            "kind": contact.get_kind_display(),
            "outcome": contact.get_outcome_display().lower(),
        }

    return _record(request, pk, form_class=ContactForm, template="collectors/contact_form.html", save=save)


@staff_page(Action.COLLECTION_RECORD)
def promise_create(request, pk):
    def save(plan, data) -> str:
        promise = promise_record(actor=request.user, plan=plan, **data)
        return _("Promise of %(customer)s recorded for %(date)s.") % {
            "customer": plan.customer.name,
            "date": promise.promised_on.isoformat(),
        }

    return _record(request, pk, form_class=PromiseForm, template="collectors/promise_form.html", save=save)


@staff_page()
def figures_view(request):
    """Each collector's promises made, kept and broken, amounts promised and recovered, and contacts, per week."""
    merchant = request.user.merchant
    today = merchant_today(merchant)
    collectors = list(collectors_list(merchant=merchant))
    form = FiguresForm(request.GET or None, collectors=collectors)
    week, weeks, collector = today, 8, None
    if form.is_bound and form.is_valid():
        week = form.cleaned_data["week"] or today
        weeks = form.cleaned_data["weeks"] or 8
        collector = form.cleaned_data["collector"] or None
    figures = collector_figures(merchant=merchant, today=today, last_week=week, weeks=weeks, collector=collector)
    return render(request, "collectors/figures.html", {"form": form, "figures": figures, "statuses": Promise.Status})
