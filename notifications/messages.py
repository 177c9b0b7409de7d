"""Messages to customers and staff (reminders, overdue alerts, the digest) and rendering them.

The English texts are gettext msgids here; their Arabic and Spanish live in ``locale/*/LC_MESSAGES/django.po``
beside every other string, and a message is rendered under ``translation.override()`` in its reader's language.
They are ``str.format`` templates with named fields (customer, merchant, plan, number, amount, due_date; the digest:
day, new_overdue, new_overdue_amount, overdue, pending_approvals). Amounts and dates are written the language's way
by Babel (CLDR): "$1,234.50" / "1.234,50 US$", "March 15, 2026" / "15 de marzo de 2026" / "15 مارس 2026".
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date

from babel.dates import format_date
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

DEFAULT_LANGUAGE = "en"

# Translators: the fields in braces are filled in; keep them as they are. SMS texts should stay short.
TEMPLATES = {
    "reminder_upcoming": {
        "subject": _("Payment reminder: {amount} due on {due_date}"),
        "email": _(
            "Dear {customer},\n"
            "\n"
            "This is a reminder that installment {number} of your plan {plan} with {merchant}, {amount}, "
            "is due on {due_date}.\n"
            "\n"
            "Thank you,\n"
            "{merchant}"
        ),
        "sms": _("{merchant}: installment {number} of plan {plan}, {amount}, is due on {due_date}."),
    },
    "reminder_due_today": {
        "subject": _("Payment due today: {amount}"),
        "email": _(
            "Dear {customer},\n"
            "\n"
            "Installment {number} of your plan {plan} with {merchant}, {amount}, is due today, {due_date}.\n"
            "\n"
            "Thank you,\n"
            "{merchant}"
        ),
        "sms": _("{merchant}: installment {number} of plan {plan}, {amount}, is due today ({due_date})."),
    },
    "overdue_alert": {
        "subject": _("Overdue payment: {amount} was due on {due_date}"),
        "email": _(
            "Dear {customer},\n"
            "\n"
            "Installment {number} of your plan {plan} with {merchant} was due on {due_date} and is not paid yet. "
            "Amount outstanding: {amount}.\n"
            "\n"
            "Please pay as soon as you can, or contact us.\n"
            "{merchant}"
        ),
        "sms": _("{merchant}: installment {number} of plan {plan} was due on {due_date}. Outstanding: {amount}."),
    },
    "staff_digest": {
        "subject": _("{merchant}: summary for {day}"),
        "body": _(
            "New overdue installments: {new_overdue} ({new_overdue_amount}).\n"
            "All overdue installments: {overdue}.\n"
            "Plans waiting for approval: {pending_approvals}."
        ),
    },
}


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


def language_for(language: str | None) -> str:
    """The language a message is written in for a customer's or user's language, English when there is none."""
    return language if language in dict(settings.LANGUAGES) else DEFAULT_LANGUAGE


class _Catalog(Mapping):
    """``CATALOG[language][kind][part]``: the templates as the gettext catalogue of ``language`` has them."""

    def __getitem__(self, language: str) -> dict[str, dict[str, str]]:
        if language not in dict(settings.LANGUAGES):
            raise KeyError(language)
        with translation.override(language):
            return {kind: {part: str(text) for part, text in parts.items()} for kind, parts in TEMPLATES.items()}

    def __iter__(self) -> Iterator[str]:
        return iter(dict(settings.LANGUAGES))

    def __len__(self) -> int:
        return len(settings.LANGUAGES)


CATALOG = _Catalog()


def date_text(day: date, language: str) -> str:
    return format_date(day, format="long", locale=language_for(language))


def message_render(*, kind: str, channel: str, language: str, fields: dict[str, str]) -> Message:
    """The subject and body of ``kind`` for ``channel`` in ``language`` (SMS and in-app bodies are short)."""
    templates = TEMPLATES[kind]
    body_part = {"email": "email", "sms": "sms"}.get(channel, "body")
    with translation.override(language_for(language)):
        subject, body = str(templates["subject"]), str(templates[body_part])
    return Message(subject=subject.format_map(fields).strip(), body=body.format_map(fields).strip())
