"""The translations the pages ship: complete Arabic and Spanish catalogues, compiled, and used."""

from __future__ import annotations

import gettext
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils import translation

LOCALE = Path(settings.BASE_DIR) / "locale"


@pytest.mark.parametrize("language", ["ar", "es"])
def test_the_catalogue_is_complete_and_compiled(language):
    po = polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))
    assert po.untranslated_entries() == []
    assert po.fuzzy_entries() == []
    assert po.metadata["Language"] == language
    compiled = gettext.GNUTranslations((LOCALE / language / "LC_MESSAGES" / "django.mo").open("rb"))
    for entry in po.translated_entries():
        # A message with a context ("contract": the contract's own words) is looked up under it.
        if entry.msgid_plural and entry.msgctxt:
            found = compiled.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, 1)
            assert found == _singular(entry, language)
        elif entry.msgid_plural:
            assert compiled.ngettext(entry.msgid, entry.msgid_plural, 1) == _singular(entry, language)
        elif entry.msgctxt:
            assert compiled.pgettext(entry.msgctxt, entry.msgid) == entry.msgstr, (entry.msgctxt, entry.msgid)
        else:
            assert compiled.gettext(entry.msgid) == entry.msgstr, entry.msgid


def _singular(entry, language: str) -> str:
    # Arabic: form 1 is "one"; Spanish: form 0 is "one".
    return entry.msgstr_plural[1 if language == "ar" else 0]


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "Record a payment"), ("ar", "تسجيل دفعة"), ("es", "Registrar un pago")],
)
def test_the_pages_speak_each_language(language, expected):
    with translation.override(language):
        assert translation.gettext("Record a payment") == expected
        assert translation.get_language_bidi() == (language == "ar")
