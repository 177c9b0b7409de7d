"""Forms of the core pages (staff, merchant settings) and what every page form shares.

Forms parse and label; the services validate. A service's ValidationError lands on the form field it names,
so the page shows it next to the input and keeps everything that was typed.
"""

from __future__ import annotations

import uuid
import zoneinfo

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _

from taqsit.models import Language, Merchant, Role
from taqsit.services import POLICY_FIELDS, PROFILE_FIELDS, password_reset_mail_allow


def form_errors_add(form: forms.BaseForm, exc: ValidationError, *, aliases: dict[str, str] | None = None) -> None:
    """Put a service's errors on the fields they name (through ``aliases`` when the names differ); the rest
    above the form."""
    aliases = aliases or {}
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, errors in exc.error_dict.items():
        name = aliases.get(field, field)
        messages = [message for error in errors for message in error.messages]
        form.add_error(name if name in form.fields else None, messages)


def form_token() -> str:
    """A fresh key for one form: sent back with it, it makes a double click or a browser retry a replay."""
    return f"web-{uuid.uuid4().hex}"


class UsernameLengthMixin:
    """A username longer than any account's is a form error before it is looked up: Django's log-in form only
    sets the input's maxlength, and the lockout would try to record the whole text."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["username"]
        field.validators.append(MaxLengthValidator(field.max_length))


class LoginForm(UsernameLengthMixin, AuthenticationForm):
    pass


class AdminLoginForm(UsernameLengthMixin, AdminAuthenticationForm):
    pass


class TokenField(forms.CharField):
    widget = forms.HiddenInput

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("required", True)
        super().__init__(**kwargs)


class ServiceModelForm(forms.ModelForm):
    """A ModelForm for its fields and labels only: the model is validated and saved by a service."""

    def _post_clean(self) -> None:
        # The service runs full_clean() with its own rules (a local phone number becomes E.164 first...).
        return None


class StaffCreateForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.CLERK)
    password = forms.CharField(
        label=_("Password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )


class StaffUpdateForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    language = forms.ChoiceField(
        label=_("Language"), choices=[("", _("The merchant's language")), *Language.choices], required=False
    )
    is_active = forms.BooleanField(label=_("Active (may log in)"), required=False)
    password = forms.CharField(
        label=_("New password"),
        strip=False,
        required=False,
        help_text=_("Leave empty to keep the current password."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def changes(self) -> dict:
        data = dict(self.cleaned_data)
        if not data.get("password"):
            data.pop("password", None)
        return data


def _timezone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class MerchantSettingsForm(ServiceModelForm):
    timezone = forms.ChoiceField(label=_("Time zone"), choices=_timezone_choices)

    class Meta:
        model = Merchant
        fields = [*PROFILE_FIELDS, *POLICY_FIELDS]


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's, with at most ``PASSWORD_RESET_MAILS_PER_HOUR`` mails an hour to one address. Past the limit
    nothing is sent and the page answers as always ("if an account has this address..."), revealing nothing."""

    def save(self, **kwargs) -> None:
        if password_reset_mail_allow(email=self.cleaned_data["email"]):
            super().save(**kwargs)
