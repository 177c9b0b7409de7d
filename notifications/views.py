"""The owner's page of messages to customers: the channels (SMS, WhatsApp, e-mail), receipts, the staff digest,
quiet hours and overdue alerts. Shown inside the merchant's settings page (htmx loads it there and saves it in
place) and on its own."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _

from notifications.forms import NotificationSettingsForm
from notifications.selectors import notification_settings_get
from notifications.services import notification_settings_update
from taqsit.forms import form_errors_add
from taqsit.permissions import Action
from taqsit.views import is_htmx, staff_page


@staff_page(Action.STAFF_MANAGE)
def notification_settings_view(request):
    merchant = request.user.merchant
    form = NotificationSettingsForm(request.POST or None, instance=notification_settings_get(merchant=merchant))
    saved = False
    if request.method == "POST" and form.is_valid():
        try:
            policy = notification_settings_update(actor=request.user, merchant=merchant, **form.cleaned_data)
        except ValidationError as exc:
            form_errors_add(form, exc)
        else:
            if not is_htmx(request):
                messages.success(request, _("The message settings were saved."))
                return redirect("notifications:settings")
            form, saved = NotificationSettingsForm(instance=policy), True
    template = "notifications/_settings.html" if is_htmx(request) else "notifications/settings.html"
    response = render(request, template, {"form": form, "saved": saved})
    patch_vary_headers(response, ["HX-Request"])
    return response
