"""The history panel of the plan and customer pages (owners and managers): loaded by htmx into the page, or
shown as a page of its own without JavaScript. Newest first, a page at a time."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from auditlog.selectors import (
    action_label,
    customer_history,
    entry_changes,
    object_label,
    plan_history,
    users_named,
    when_text,
)
from customers.models import Customer
from installments.models import InstallmentPlan
from taqsit.permissions import Action
from taqsit.tenancy import queryset_for_user
from taqsit.views import is_htmx, staff_page

PAGE_SIZE = 20


def _history(request, *, entries, subject: str, back: str):
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    merchant = request.user.merchant
    users = users_named(page, merchant_id=merchant.pk)
    for entry in page:
        entry.label = object_label(entry)
        entry.changes = entry_changes(entry, currency=merchant.currency, users=users)
        entry.action_label = action_label(entry.action)
        entry.when = when_text(entry.created_at)
    context = {"page": page, "subject": subject, "back": back, "url": request.path}
    template = "auditlog/_history.html" if is_htmx(request) else "auditlog/history.html"
    return render(request, template, context)


@staff_page(Action.AUDIT_READ)
def plan_history_view(request, pk):
    plan = get_object_or_404(queryset_for_user(InstallmentPlan.objects.all(), request.user), pk=pk)
    return _history(
        request,
        entries=plan_history(plan=plan),
        subject=plan.reference,
        back=reverse("installments:plan-detail", args=[plan.pk]),
    )


@staff_page(Action.AUDIT_READ)
def customer_history_view(request, pk):
    customer = get_object_or_404(queryset_for_user(Customer.objects.all(), request.user), pk=pk)
    return _history(
        request,
        entries=customer_history(customer=customer),
        subject=customer.name,
        back=reverse("customers:customer-detail", args=[customer.pk]),
    )
