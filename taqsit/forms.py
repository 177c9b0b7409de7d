"""Forms of the core pages (staff, merchant settings) and what every page form shares.

Forms parse and label; the services validate. A service's ValidationError lands on the form field it names,
so the page shows it next to the input and keeps everything that was typed.
"""

from __future__ import annotations

import re
import uuid
import zoneinfo
from decimal import ROUND_DOWN, Decimal

from babel.numbers import NumberFormatError, format_decimal, get_decimal_symbol, get_group_symbol, parse_decimal
from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils.text import capfirst
from django.utils.translation import get_language, get_language_bidi, to_locale
from django.utils.translation import gettext_lazy as _

from taqsit.error_codes import ErrorCode
from taqsit.models import Language, Merchant, Role
from taqsit.money import minor_unit
from taqsit.services import (
    CONTRACT_CLAUSES_MAX_LENGTH,
    POLICY_FIELDS,
    PROFILE_FIELDS,
    SALE_TERMS_FIELDS,
    password_reset_mail_allow,
)


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


# Arabic-Indic (U+0660...) and Eastern Arabic-Indic (U+06F0...) digits read as 0-9; bidi marks are dropped.
_DIGITS = {**{0x0660 + n: str(n) for n in range(10)}, **{0x06F0 + n: str(n) for n in range(10)}}
_MARKS = dict.fromkeys(map(ord, "\u200e\u200f\u061c\u2066\u2067\u2068\u2069"))
_ARABIC_DECIMAL, _ARABIC_GROUP = "\u066b", "\u066c"
# The example a refusal shows, cut to the currency's decimals: 1,200 / 1,200.50 / 1,200.505.
AMOUNT_EXAMPLE = Decimal("1200.505")


def _page_locale() -> str:
    return to_locale(get_language() or "en")


def amount_format(value: Decimal | int, *, places: int = 2) -> str:
    """``value`` as the page's language writes it in an input: 1,200.50 / 1.200,50, at least ``places``
    decimals and never rounded."""
    pattern = "#,##0." + "0" * places if places else "#,##0"
    return format_decimal(Decimal(value), format=pattern, locale=_page_locale(), decimal_quantization=False)


class AmountInput(forms.TextInput):
    """A text input for an amount: the decimal keypad on a phone, no browser autofill."""

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__({"inputmode": "decimal", "autocomplete": "off", **(attrs or {})})


class AmountField(forms.Field):
    """An amount read in the page's language (Babel's strict parser and the active locale): 1,200.50 in English,
    1.200,50 in Spanish, Latin or Arabic-Indic digits in Arabic. Anything else, or what reads two ways (1,200 in
    Spanish for a currency of two decimals), is a form error showing the expected form. Gives a Decimal."""

    widget = AmountInput

    MAX_LENGTH = 32

    def __init__(self, *, places: int = 2, percent: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        # The currency's minor unit: three decimals after the decimal sign read as a thousands group below three.
        # A percentage (a rate) takes up to three decimals, whatever the currency.
        self.percent = percent
        self.places = 3 if percent else places

    def prepare_value(self, value):
        # Initial values (Decimal, int) are shown as the page reads them; what was typed is shown as typed.
        if isinstance(value, Decimal | int) and not isinstance(value, bool):
            if self.percent:
                return amount_format(Decimal(value).normalize(), places=0)
            return amount_format(value, places=self.places)
        return value

    def example(self) -> str:
        example = AMOUNT_EXAMPLE.quantize(Decimal(1).scaleb(-self.places), rounding=ROUND_DOWN)
        return amount_format(example, places=self.places)

    def invalid(self) -> ValidationError:
        return ValidationError(
            _("Enter an amount such as %(example)s.") % {"example": self.example()}, code=ErrorCode.INVALID_AMOUNT
        )

    def widget_attrs(self, widget) -> dict:
        return {**super().widget_attrs(widget), "maxlength": str(self.MAX_LENGTH)}

    def to_python(self, value) -> Decimal | None:
        if isinstance(value, Decimal):
            return value
        text = "" if value is None else str(value).strip()
        if not text:
            return None
        if len(text) > self.MAX_LENGTH:
            raise self.invalid()
        locale = _page_locale()
        decimal, group = get_decimal_symbol(locale), get_group_symbol(locale)
        text = text.translate(_DIGITS).translate(_MARKS).replace("\u2212", "-")
        if get_language_bidi():
            text = text.replace(_ARABIC_DECIMAL, decimal).replace(_ARABIC_GROUP, group)
        # Only digits, the language's two separators and a leading minus: no exponent, underscore or "NaN".
        pattern = rf"-?[0-9{re.escape(decimal + group)}]*[0-9][0-9{re.escape(decimal + group)}]*"
        if not re.fullmatch(pattern, text):
            raise self.invalid()
        try:
            amount = parse_decimal(text, locale=locale, strict=True)
        except NumberFormatError as exc:
            raise self.invalid() from exc
        integer, _sign, fraction = text.lstrip("-").partition(decimal)
        if group not in text and len(fraction) == 3 and self.places < 3 and integer.strip("0"):
            # "1,200" in Spanish, "1.200" in English: a thousands group or a fraction? Ask.
            raise self.invalid()
        return amount


def amount_fields_localize(form: forms.BaseForm, *, currency: str) -> None:
    """Tell every amount field of ``form`` the currency's minor unit (what reads as a fraction and what does not)."""
    for field in form.fields.values():
        if isinstance(field, AmountField) and not field.percent:
            field.places = minor_unit(currency)


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
    late_fee_amount = AmountField(required=False)
    late_fee_percent = AmountField(required=False, percent=True)
    late_fee_cap = AmountField(required=False)
    guarantor_required_above = AmountField(required=False)  # issue 15

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in ("late_fee_amount", "late_fee_percent", "late_fee_cap", "guarantor_required_above"):
            self.fields[name].label = capfirst(Merchant._meta.get_field(name).verbose_name)
        self.fields["guarantor_required_above"].help_text = Merchant._meta.get_field(
            "guarantor_required_above"
        ).help_text
        if self.instance.pk:
            amount_fields_localize(self, currency=self.instance.currency)
        # Issue 15, murabaha terms and early settlement: left out of a post, each keeps the merchant's value.
        for name in SALE_TERMS_FIELDS:
            self.fields[name].required = False
        self._contract_clauses_fields()

    def _clean_sale_terms_field(self, name: str) -> str:
        return self.cleaned_data.get(name) or getattr(self.instance, name)

    def clean_sale_terms(self) -> str:
        return self._clean_sale_terms_field("sale_terms")

    def clean_late_fee_booking(self) -> str:
        return self._clean_sale_terms_field("late_fee_booking")

    def clean_early_settlement_rebate(self) -> str:
        return self._clean_sale_terms_field("early_settlement_rebate")

    # The contract (issue 15): the merchant's own clauses, one text box per language, kept as one JSON object.
    CLAUSES_PREFIX = "contract_clauses_"

    def _contract_clauses_fields(self) -> None:
        self.fields.pop("contract_clauses", None)
        clauses = self.instance.contract_clauses if isinstance(self.instance.contract_clauses, dict) else {}
        for code, name in Language.choices:
            self.fields[self.CLAUSES_PREFIX + code] = forms.CharField(
                label=_("Contract clauses in %(language)s") % {"language": name},
                required=False,
                max_length=CONTRACT_CLAUSES_MAX_LENGTH,
                initial=clauses.get(code, ""),
                widget=forms.Textarea(attrs={"rows": 4}),
                help_text=_("Printed on every contract written in this language, after the terms above."),
            )

    @property
    def contract_clauses_fields(self) -> list:
        return [self[self.CLAUSES_PREFIX + code] for code in Language.values]

    def clean(self) -> dict:
        cleaned = super().clean()
        clauses = {}
        for code in Language.values:
            text = (cleaned.pop(self.CLAUSES_PREFIX + code, "") or "").strip()
            if text:
                clauses[code] = text
        cleaned["contract_clauses"] = clauses
        return cleaned

    def clean_late_fee_amount(self) -> Decimal:
        return self.cleaned_data.get("late_fee_amount") or Decimal("0")

    def clean_late_fee_percent(self) -> Decimal:
        return self.cleaned_data.get("late_fee_percent") or Decimal("0")

    class Meta:
        model = Merchant
        fields = [*PROFILE_FIELDS, *POLICY_FIELDS]


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's, with at most ``PASSWORD_RESET_MAILS_PER_HOUR`` mails an hour to one address. Past the limit
    nothing is sent and the page answers as always ("if an account has this address..."), revealing nothing."""

    def save(self, **kwargs) -> None:
        if password_reset_mail_allow(email=self.cleaned_data["email"]):
            super().save(**kwargs)
