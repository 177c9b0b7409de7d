"""The downloadable templates: per kind, CSV or XLSX, in a language. Headers in that language, an example row
written as that language writes amounts, and the notes on formats (a column of the CSV, a sheet of the XLSX)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import override

from imports.columns import COLUMNS, HELP_LABEL, Column
from imports.models import ImportJob
from installments.schedule import Frequency
from taqsit.forms import amount_format

AMOUNT_KEYS = {"price", "total_amount", "down_payment", "paid_so_far"}
CONTENT_TYPES = {
    ImportJob.Format.CSV: "text/csv; charset=utf-8",
    ImportJob.Format.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _example(column: Column) -> str:
    if column.key in AMOUNT_KEYS and column.example:
        return amount_format(Decimal(column.example), places=2)
    if column.key == "frequency":
        return str(Frequency(column.example).label)
    return column.example


def _notes(kind: str) -> list[tuple[str, str]]:
    return [(str(column.label), ("* " if column.required else "") + str(column.help)) for column in COLUMNS[kind]] + [
        ("*", _("Required column. Replace the example row by your own rows; the columns may come in any order."))
    ]


def template_file(*, kind: str, file_format: str, language: str) -> tuple[str, bytes]:
    """The template's file name and content."""
    with override(language):
        columns = COLUMNS[kind]
        header = [str(column.label) for column in columns]
        example = [_example(column) for column in columns]
        notes = _notes(kind)
        name = f"taqsit-{kind}-{language}.{file_format}"
        if file_format == ImportJob.Format.XLSX:
            return name, _xlsx(str(ImportJob.Kind(kind).label), header, example, str(HELP_LABEL), notes)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([*header, str(HELP_LABEL)])
        writer.writerow([*example, f"{notes[0][0]}: {notes[0][1]}"])
        for label, text in notes[1:]:
            writer.writerow([*[""] * len(header), f"{label}: {text}"])
        # A byte order mark: spreadsheets then open the file as UTF-8 (Arabic and accents intact).
        return name, ("\ufeff" + out.getvalue()).encode()


def _xlsx(title: str, header: list[str], example: list[str], notes_title: str, notes: list[tuple[str, str]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31]
    sheet.append(header)
    sheet.append(example)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    notes_sheet = workbook.create_sheet(notes_title[:31])
    for row in notes:
        notes_sheet.append(list(row))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
