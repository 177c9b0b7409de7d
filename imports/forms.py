"""The upload form: the kind of rows, the file, and the language its amounts and dates are written in."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from imports.models import ImportJob
from taqsit.models import Language


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("What the file holds"), choices=ImportJob.Kind.choices)
    file = forms.FileField(
        label=_("CSV or XLSX file"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )
    language = forms.ChoiceField(
        label=_("Language of the file"),
        choices=Language.choices,
        help_text=_("Amounts and dates are read as this language writes them."),
    )
