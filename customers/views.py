"""Customer pages: search as you type, list, create, edit, and detail (its plans, balance and payments panels are
drawn by installments and payments)."""

from __future__ import annotations

from urllib.parse import urlencode

import segno
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from customers.forms import CustomerForm, CustomerSearchForm
from customers.models import Customer
from customers.portal_links import portal_link_issue, portal_links_revoke
from customers.selectors import customer_list
from customers.services import customer_create, customer_update
from taqsit.forms import form_errors_add
from taqsit.permissions import Action
from taqsit.tenancy import queryset_for_user
from taqsit.views import is_htmx, staff_page

PAGE_SIZE = 25
PICKER_SIZE = 8


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
    """The customer; their plans and balance, and their payments, are drawn by installments and payments (their
    template tags), which own them."""
    customer = _customer_for(request, pk)
    return render(request, "customers/customer_detail.html", {"customer": customer})


def qr_svg(text: str) -> str:
    """``text`` as a QR code, an inline SVG element (no external request, no inline style: CSP-safe)."""
    # A full QR code (make_qr): phones' cameras do not all read the Micro QR codes segno.make may choose.
    code = segno.make_qr(text, error="m")
    return code.svg_inline(scale=4, border=2, omitsize=True, title=_("QR code of the portal link"))


@staff_page()
def customer_portal_link(request, pk):
    """A customer's personal portal link: any member of staff creates one (shown once, with its QR code, to
    print or show the customer) or revokes them all."""
    customer = _customer_for(request, pk)
    issued = None
    if request.method == "POST":
        try:
            if request.POST.get("action") == "revoke":
                count = portal_links_revoke(customer=customer, actor=request.user)
                messages.success(
                    request,
                    ngettext(
                        "%(count)d portal link was revoked; the customer's portal sessions have ended.",
                        "%(count)d portal links were revoked; the customer's portal sessions have ended.",
                        count,
                    )
                    % {"count": count},
                )
                return redirect("customers:customer-portal-link", pk=customer.pk)
            issued = portal_link_issue(customer=customer, actor=request.user)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return redirect("customers:customer-portal-link", pk=customer.pk)
    context = {"customer": customer, "issued": issued}
    if issued is not None:
        context["link_url"] = issued.url if issued.url.startswith("http") else request.build_absolute_uri(issued.url)
        context["qr"] = qr_svg(context["link_url"])
    return render(request, "customers/customer_portal_link.html", context)
