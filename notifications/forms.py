"""The merchant's notification policy as a form: fields and labels only; ``notification_settings_update`` checks
and saves."""

from __future__ import annotations

from django import forms

from notifications.models import NotificationSettings
from notifications.services import SETTINGS_FIELDS
from taqsit.forms import ServiceModelForm


class NotificationSettingsForm(ServiceModelForm):
    class Meta:
        model = NotificationSettings
        fields = list(SETTINGS_FIELDS)
        widgets = {
            "quiet_hours_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "quiet_hours_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }
