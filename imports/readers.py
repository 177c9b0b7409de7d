"""A CSV or XLSX file as a header and rows of cells. CSV with the csv module (UTF-8, with or without its byte order
mark; comma, semicolon or tab, as a spreadsheet saved it); XLSX with openpyxl, reading the first sheet that is not
the template's notes, cell values as stored (numbers, dates, text)."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from imports.columns import header_normalize


@dataclass(frozen=True)
class Sheet:
    header: list[object]
    header_number: int
    # (row number in the file, the header being 1; cells), empty rows left out
    rows: list[tuple[int, list[object]]]


def _blank(cells: list[object]) -> bool:
    return all(cell is None or str(cell).strip() == "" for cell in cells)


def csv_read(data: bytes) -> Sheet:
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(_('The file is not UTF-8 text: save it as "CSV UTF-8".')) from exc
    first_line = content.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter)
    try:
        lines = list(reader)
    except csv.Error as exc:
        raise ValidationError(_("The file is not a readable CSV file: %(problem)s") % {"problem": exc}) from exc
    return _sheet(lines)


def xlsx_read(data: bytes, *, notes_names: set[str]) -> Sheet:
    # openpyxl is imported here: the pages and the API do not need it loaded to start.
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ValidationError(_("The file is not a readable XLSX workbook.")) from exc
    try:
        sheets = [sheet for sheet in workbook.worksheets if header_normalize(sheet.title) not in notes_names]
        if not sheets:
            raise ValidationError(_("The workbook has no sheet to import."))
        lines = [list(row) for row in sheets[0].iter_rows(values_only=True)]
    finally:
        workbook.close()
    return _sheet(lines)


def _sheet(lines: list[list[object]]) -> Sheet:
    numbered = [(number, cells) for number, cells in enumerate(lines, start=1)]
    while numbered and _blank(numbered[0][1]):
        numbered.pop(0)
    if not numbered:
        raise ValidationError(_("The file is empty."))
    (header_number, header), *rows = numbered
    return Sheet(
        header=list(header),
        header_number=header_number,
        rows=[(number, cells) for number, cells in rows if not _blank(cells)],
    )
