"""Messages to customers and staff (reminders, overdue alerts, decisions, receipts, the digest) and rendering them.

The English texts are gettext msgids here; their Arabic and Spanish live in ``locale/*/LC_MESSAGES/django.po``
beside every other string, and a message is rendered under ``translation.override()`` in its reader's language.
They are ``str.format`` templates with named fields (customer, merchant, plan, number, amount, due_date; the digest:
day, new_overdue, new_overdue_amount, overdue, pending_approvals; decisions and payments: their own, below).
Amounts and dates are written the language's way by Babel (CLDR): "$1,234.50" / "1.234,50 US$",
"March 15, 2026" / "15 de marzo de 2026" / "15 مارس 2026".

A kind may have variants of its bodies (``sms_paid_off``: a receipt for the payment that closes the plan). Every
message to a customer ends with the line "Your account: <link>" to the customer's portal when the merchant's
portal gives one (``_portal_url``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date

from babel.dates import format_date
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from customers.portal_links import portal_link_for_message

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
    # A plan's decision: amount is the plan's cash price; next_amount / next_due_date its first installment.
    "plan_approved": {
        "subject": _("Your plan {plan} is approved"),
        "email": _(
            "Dear {customer},\n"
            "\n"
            "Your application for plan {plan} with {merchant}, {amount}, is approved. "
            "The first installment, {next_amount}, is due on {next_due_date}.\n"
            "\n"
            "Thank you,\n"
            "{merchant}"
        ),
        "sms": _(
            "{merchant}: your plan {plan}, {amount}, is approved. First installment: {next_amount} on {next_due_date}."
        ),
    },
    "plan_rejected": {
        "subject": _("Your application {plan} is not approved"),
        "email": _(
            "Dear {customer},\n"
            "\n"
            "Your application for plan {plan} with {merchant}, {amount}, is not approved.\n"
            "Reason: {reason}\n"
            "\n"
            "Please contact us with any question.\n"
            "{merchant}"
        ),
        "sms": _("{merchant}: your application {plan}, {amount}, is not approved. Reason: {reason}"),
    },
    # A receipt: amount, payment_date, method and receipt (plan-number) of the payment; balance is what is still
    # owed after it, next_amount / next_due_date the next installment. Variants: paid_off (nothing left owed) and
    # owed (something owed but no installment left to name, e.g. a late fee).
    "payment_receipt": {
        "subject": _("Receipt {receipt}: {amount} received"),
        "email": _(
            "Dear {customer},\n"
            "\n"
            "We received your payment of {amount} on {payment_date} ({method}) for plan {plan} with {merchant}. "
            "Receipt number: {receipt}.\n"
            "\n"
            "Still owed: {balance}. Next installment: {next_amount}, due on {next_due_date}.\n"
            "\n"
            "Thank you,\n"
            "{merchant}"
        ),
        "sms": _(
            "{merchant}: {amount} received on {payment_date} ({method}), plan {plan}. "
            "Still owed: {balance}. Next: {next_amount} on {next_due_date}."
        ),
        "email_paid_off": _(
            "Dear {customer},\n"
            "\n"
            "We received your payment of {amount} on {payment_date} ({method}) for plan {plan} with {merchant}. "
            "Receipt number: {receipt}.\n"
            "\n"
            "Your plan is fully paid.\n"
            "\n"
            "Thank you,\n"
            "{merchant}"
        ),
        "sms_paid_off": _(
            "{merchant}: {amount} received on {payment_date} ({method}), plan {plan}. "
            "The plan is fully paid. Thank you!"
        ),
        "email_owed": _(
            "Dear {customer},\n"
            "\n"
            "We received your payment of {amount} on {payment_date} ({method}) for plan {plan} with {merchant}. "
            "Receipt number: {receipt}.\n"
            "\n"
            "Still owed: {balance}.\n"
            "\n"
            "Thank you,\n"
            "{merchant}"
        ),
        "sms_owed": _(
            "{merchant}: {amount} received on {payment_date} ({method}), plan {plan}. Still owed: {balance}."
        ),
    },
    # A payment the customer reported that the shop could not confirm, with the shop's reason.
    "payment_failed": {
        "subject": _("Payment not confirmed: {amount} for plan {plan}"),
        "email": _(
            "Dear {customer},\n"
            "\n"
            "The payment of {amount} of {payment_date} ({method}) for your plan {plan} with {merchant} could not be "
            "confirmed.\n"
            "Reason: {reason}\n"
            "\n"
            "Please contact us.\n"
            "{merchant}"
        ),
        "sms": _(
            "{merchant}: the payment of {amount} of {payment_date} for plan {plan} is not confirmed. Reason: {reason}"
        ),
    },
    # To a plan's guarantor, once, when an installment is overdue past the merchant's limit: whose plan, what is
    # outstanding (guarantor is the guarantor's name, customer the customer's).
    "guarantor_overdue": {
        "subject": _("{customer}'s installment is overdue: {amount}"),
        "email": _(
            "Dear {guarantor},\n"
            "\n"
            "You are the guarantor of plan {plan} of {customer} with {merchant}. Installment {number} was due on "
            "{due_date} and is not paid. Amount outstanding: {amount}.\n"
            "\n"
            "{merchant}"
        ),
        "sms": _(
            "{merchant}: {guarantor}, as guarantor of plan {plan} of {customer}: installment {number} was due on "
            "{due_date} and is unpaid. Outstanding: {amount}."
        ),
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


# WhatsApp sends template messages: a text registered with the provider once per language, with numbered
# parameters ({{1}}, {{2}}...) filled in per message. Each message's template (notifications/channels/whatsapp.py,
# ``template_name``: taqsit_<key> by default) says what its SMS says, and its parameters are the SMS text's fields
# in this order (docs/api.md lists them for registering the templates). The portal's link is not among them: a
# template's text is fixed, and a message without a link would need a template of its own.
WHATSAPP_PARAMETERS = {
    "reminder_upcoming": ("merchant", "number", "plan", "amount", "due_date"),
    "reminder_due_today": ("merchant", "number", "plan", "amount", "due_date"),
    "overdue_alert": ("merchant", "number", "plan", "due_date", "amount"),
    "plan_approved": ("merchant", "plan", "amount", "next_amount", "next_due_date"),
    "plan_rejected": ("merchant", "plan", "amount", "reason"),
    "payment_receipt": (
        "merchant",
        "amount",
        "payment_date",
        "method",
        "plan",
        "balance",
        "next_amount",
        "next_due_date",
    ),
    "payment_receipt_paid_off": ("merchant", "amount", "payment_date", "method", "plan"),
    "payment_receipt_owed": ("merchant", "amount", "payment_date", "method", "plan", "balance"),
    "payment_failed": ("merchant", "amount", "payment_date", "plan", "reason"),
}


def whatsapp_template_key(kind: str, variant: str = "") -> str:
    """The message a WhatsApp template stands for: its kind, or kind_variant (a receipt that closes the plan)."""
    return f"{kind}_{variant}" if variant else kind


def whatsapp_parameters(*, kind: str, variant: str = "", fields: Mapping[str, str]) -> list[str]:
    """The body parameters of the WhatsApp template of ``kind`` (``variant``): the SMS text's fields, in order (an
    empty one, a rejection without a reason, as "-": the provider refuses an empty parameter)."""
    return [fields[name] or "-" for name in WHATSAPP_PARAMETERS[whatsapp_template_key(kind, variant)]]


# Translators: the last line of every message to a customer; {url} is the link to their account.
PORTAL_LINE = _("Your account: {url}")


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


def message_render(
    *,
    kind: str,
    channel: str,
    language: str,
    fields: dict[str, str],
    variant: str = "",
    portal_url: str | None = None,
) -> Message:
    """The subject and body of ``kind`` (its ``variant``'s body when given) for ``channel`` in ``language`` (SMS
    and in-app bodies are short; a WhatsApp message says what the SMS says); with ``portal_url``, the body ends with
    the line "Your account: <url>"."""
    templates = TEMPLATES[kind]
    body_part = {"email": "email", "sms": "sms", "whatsapp": "sms"}.get(channel, "body")
    if variant:
        body_part = f"{body_part}_{variant}"
    with translation.override(language_for(language)):
        subject, body = str(templates["subject"]), str(templates[body_part])
        portal_line = str(PORTAL_LINE)
    body = body.format_map(fields).strip()
    if portal_url:
        # A line of its own: after a blank line in an e-mail (below the signature), on the next line in an SMS.
        separator = "\n\n" if channel == "email" else "\n"
        body = f"{body}{separator}{portal_line.format(url=portal_url)}"
    return Message(subject=subject.format_map(fields).strip(), body=body)


def _portal_url(customer) -> str | None:
    """A fresh link to ``customer``'s portal for a message, or None (the merchant's portal is off, or SITE_URL is
    not set)."""
    return portal_link_for_message(customer)


def portal_url_for(customer) -> str | None:
    """The portal link every message to ``customer`` ends with (None: no line)."""
    return _portal_url(customer)
