"""The owner's webhooks pages (Settings, Webhooks): endpoints, their secret shown once, and every delivery with
its attempts and a "send again" button (htmx swaps the row)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from taqsit.forms import form_errors_add
from taqsit.permissions import Action
from taqsit.views import is_htmx, staff_page
from webhooks.forms import EndpointForm
from webhooks.selectors import delivery_list, endpoint_list
from webhooks.services import (
    delivery_redeliver,
    endpoint_create,
    endpoint_delete,
    endpoint_secret_rotate,
    endpoint_update,
)


@staff_page(Action.STAFF_MANAGE)
def endpoint_list_view(request: HttpRequest) -> HttpResponse:
    endpoints = list(endpoint_list(merchant=request.user.merchant))
    disabled = [endpoint for endpoint in endpoints if endpoint.disabled_at is not None and not endpoint.is_active]
    return render(request, "webhooks/endpoint_list.html", {"endpoints": endpoints, "disabled": disabled})


def _secret_page(request: HttpRequest, endpoint, title: str) -> HttpResponse:
    return render(request, "webhooks/endpoint_secret.html", {"endpoint": endpoint, "title": title})


@staff_page(Action.STAFF_MANAGE)
def endpoint_create_view(request: HttpRequest) -> HttpResponse:
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = endpoint_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form_errors_add(form, exc)
        else:
            return _secret_page(request, endpoint, _("Endpoint added"))
    return render(request, "webhooks/endpoint_form.html", {"form": form, "endpoint": None})


@staff_page(Action.STAFF_MANAGE)
def endpoint_detail_view(request: HttpRequest, pk) -> HttpResponse:
    endpoint = get_object_or_404(endpoint_list(merchant=request.user.merchant), pk=pk)
    initial = {
        "url": endpoint.url,
        "description": endpoint.description,
        "events": endpoint.events,
        "is_active": endpoint.is_active,
    }
    form = EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint_update(actor=request.user, endpoint=endpoint, **form.cleaned_data)
        except ValidationError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(request, _("The endpoint was saved."))
            return redirect("webhooks:endpoint-detail", pk=endpoint.pk)
    deliveries = Paginator(delivery_list(merchant=request.user.merchant, endpoint=endpoint), 25)
    page = deliveries.get_page(request.GET.get("page"))
    return render(request, "webhooks/endpoint_detail.html", {"endpoint": endpoint, "form": form, "page_obj": page})


@require_POST
@staff_page(Action.STAFF_MANAGE)
def endpoint_rotate_view(request: HttpRequest, pk) -> HttpResponse:
    endpoint = get_object_or_404(endpoint_list(merchant=request.user.merchant), pk=pk)
    endpoint = endpoint_secret_rotate(actor=request.user, endpoint=endpoint)
    return _secret_page(request, endpoint, _("New secret"))


@require_POST
@staff_page(Action.STAFF_MANAGE)
def endpoint_delete_view(request: HttpRequest, pk) -> HttpResponse:
    endpoint = get_object_or_404(endpoint_list(merchant=request.user.merchant), pk=pk)
    endpoint_delete(actor=request.user, endpoint=endpoint)
    messages.success(request, _("The endpoint %(url)s was removed.") % {"url": endpoint.url})
    return redirect("webhooks:endpoint-list")


@require_POST
@staff_page(Action.STAFF_MANAGE)
def delivery_redeliver_view(request: HttpRequest, pk) -> HttpResponse:
    deliveries = delivery_list(merchant=request.user.merchant)
    delivery = delivery_redeliver(actor=request.user, delivery=get_object_or_404(deliveries, pk=pk))
    delivery = deliveries.get(pk=delivery.pk)
    if is_htmx(request):
        return render(request, "webhooks/_delivery_row.html", {"delivery": delivery})
    messages.success(request, _("The delivery will be sent again."))
    return redirect("webhooks:endpoint-detail", pk=delivery.endpoint_id)
