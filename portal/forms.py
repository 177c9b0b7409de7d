"""The portal's forms: a phone or e-mail to send a code to, the code, and a self-registration."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from taqsit.models import Language


class CodeRequestForm(forms.Form):
    destination = forms.CharField(
        label=_("Your phone number or e-mail address"),
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "dir": "ltr"}),
        help_text=_("The one the shop has for you. We send you a 6-digit code."),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("The 6-digit code"),
        min_length=6,
        max_length=6,
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "pattern": "[0-9]{6}",
                "class": "portal-code-input",
                "dir": "ltr",
            }
        ),
    )


class RegisterForm(forms.Form):
    name = forms.CharField(label=_("Full name"), max_length=200)
    phone = forms.CharField(
        label=_("Phone"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "dir": "ltr", "inputmode": "tel"}),
        help_text=_("We send a code to this phone to check it is yours."),
    )
    email = forms.EmailField(label=_("E-mail"), required=False, widget=forms.EmailInput(attrs={"dir": "ltr"}))
    national_id = forms.CharField(label=_("National id"), max_length=50, required=False)
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)
