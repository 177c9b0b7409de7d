"""Phone numbers are stored in E.164 (+966501234567); local numbers are read with the merchant's country."""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator

E164_REGEX = r"^\+[1-9][0-9]{6,14}$"
e164_validator = RegexValidator(E164_REGEX, "Enter the phone number in international format, e.g. +14155550123.")


def phone_normalize(raw: str, *, region: str | None) -> str:
    """Parse ``raw`` (international, or local to ``region``) and return it in E.164, or raise ValidationError."""
    text = (raw or "").strip()
    if not text:
        raise ValidationError("Enter a phone number.", code="required")
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else (region or None))
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(f"{text!r} is not a phone number.", code="invalid") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(f"{text!r} is not a valid phone number for {region or 'any country'}.", code="invalid")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
