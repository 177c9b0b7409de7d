"""Customer pages: search as you type, list, create, edit, and detail with plans, payments and the balance."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _

from customers.forms import CustomerForm, CustomerSearchForm
from customers.models import Customer
from customers.selectors import customer_list
from customers.services import customer_create, customer_update
from installments.selectors import customer_balance, plan_list
from payments.selectors import payment_list
from taqsit.forms import form_errors_add
from taqsit.permissions import Action
from taqsit.tenancy import queryset_for_user
from taqsit.views import is_htmx, staff_page

PAGE_SIZE = 25
PICKER_SIZE = 8
PAYMENTS_SHOWN = 50


def _customer_for(request, pk) -> Customer:
    return get_object_or_404(queryset_for_user(Customer.objects.all(), request.user), pk=pk)


@staff_page()
def customer_list_view(request):
    """The list; typing in the search box asks again with htmx and swaps only the results."""
    form = CustomerSearchForm(request.GET or None)
    term = form.cleaned_data["q"] if form.is_valid() else ""
    # A term the form refuses (a NUL character, which PostgreSQL cannot compare) lists nothing, under its error.
    if form.is_bound and form.errors:
        customers = Customer.objects.none()
    else:
        customers = customer_list(merchant=request.user.merchant, search=term)
    page = Paginator(customers, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "term": term, "query": urlencode({"q": term}) if term else ""}
    template = "customers/_results.html" if is_htmx(request) else "customers/customer_list.html"
    response = render(request, template, context)
    # One address, two answers (the page, or its results for htmx): caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


@staff_page()
def customer_picker(request):
    """The few customers matching what was typed on the new-plan page, to pick one."""
    form = CustomerSearchForm(request.GET)
    if not form.is_valid():
        # A term the form refuses (a NUL character, which PostgreSQL cannot compare): its error, no matches.
        return render(request, "customers/_picker.html", {"customers": [], "term": "", "form": form})
    term = form.cleaned_data["q"]
    customers = customer_list(merchant=request.user.merchant, search=term)[:PICKER_SIZE] if term else []
    return render(request, "customers/_picker.html", {"customers": customers, "term": term, "form": form})


@staff_page(Action.CUSTOMER_WRITE)
def customer_create_view(request):
    form = CustomerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            customer = customer_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(request, _("Customer %(name)s was added.") % {"name": customer.name})
            return redirect("customers:customer-detail", pk=customer.pk)
    return render(request, "customers/customer_form.html", {"form": form, "customer": None})


@staff_page(Action.CUSTOMER_WRITE)
def customer_update_view(request, pk):
    customer = _customer_for(request, pk)
    form = CustomerForm(request.POST or None, instance=customer)
    if request.method == "POST" and form.is_valid():
        try:
            customer = customer_update(actor=request.user, customer=customer, **form.cleaned_data)
        except ValidationError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(request, _("Customer %(name)s was saved.") % {"name": customer.name})
            return redirect("customers:customer-detail", pk=customer.pk)
    return render(request, "customers/customer_form.html", {"form": form, "customer": customer})


@staff_page()
def customer_detail(request, pk):
    customer = _customer_for(request, pk)
    merchant = request.user.merchant
    plans = list(plan_list(merchant=merchant, customer=customer))
    payments = payment_list(merchant=merchant, customer=customer)
    context = {
        "customer": customer,
        "plans": plans,
        "payments": payments[:PAYMENTS_SHOWN],
        "balance": customer_balance(plans=plans),
    }
    return render(request, "customers/customer_detail.html", context)
