"""Message templates per kind, channel and language (en, ar, es), and rendering them.

Each language is one module holding ``MESSAGES[kind][part]``, ``str.format`` templates with named fields; every
language has the same kinds, parts and fields (a test checks). Amounts and dates are written the language's way
by Babel (CLDR): "$1,234.50" / "1.234,50 US$", "March 15, 2026" / "15 de marzo de 2026" / "15 مارس 2026".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from babel.dates import format_date

from notifications.messages import ar, en, es

CATALOG: dict[str, dict[str, dict[str, str]]] = {"en": en.MESSAGES, "ar": ar.MESSAGES, "es": es.MESSAGES}
DEFAULT_LANGUAGE = "en"


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


def language_for(language: str | None) -> str:
    """The catalog language for a customer's or user's language, English when there is none."""
    return language if language in CATALOG else DEFAULT_LANGUAGE


def date_text(day: date, language: str) -> str:
    return format_date(day, format="long", locale=language_for(language))


def message_render(*, kind: str, channel: str, language: str, fields: dict[str, str]) -> Message:
    """The subject and body of ``kind`` for ``channel`` in ``language`` (SMS and in-app bodies are short)."""
    templates = CATALOG[language_for(language)][kind]
    body_part = {"email": "email", "sms": "sms"}.get(channel, "body")
    return Message(
        subject=templates["subject"].format_map(fields).strip(), body=templates[body_part].format_map(fields).strip()
    )
