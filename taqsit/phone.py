"""Phone numbers are stored in E.164 (+966501234567); local numbers are read with the merchant's country."""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from taqsit.error_codes import ErrorCode

E164_REGEX = r"^\+[1-9][0-9]{6,14}$"
# Lazy: the validator is built once, at import; its message is shown in the language of each request.
e164_validator = RegexValidator(
    E164_REGEX, gettext_lazy("Enter the phone number in international format, e.g. +14155550123.")
)


def phone_normalize(raw: str, *, region: str | None) -> str:
    """Parse ``raw`` (international, or local to ``region``) and return it in E.164, or raise ValidationError."""
    text = (raw or "").strip()
    if not text:
        raise ValidationError(_("Enter a phone number."), code=ErrorCode.REQUIRED)
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else (region or None))
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(
            _("%(phone)s is not a phone number.") % {"phone": repr(text)}, code=ErrorCode.INVALID
        ) from exc
    if not phonenumbers.is_valid_number(number):
        if region:
            message = _("%(phone)s is not a valid phone number for %(country)s.") % {
                "phone": repr(text),
                "country": region,
            }
        else:
            message = _("%(phone)s is not a valid phone number for any country.") % {"phone": repr(text)}
        raise ValidationError(message, code=ErrorCode.INVALID)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
