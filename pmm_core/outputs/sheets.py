"""Tables written safely as XLSX (openpyxl, write-only) or CSV, for people to open in Excel.

Safety (CSV/formula injection, OWASP): a text cell that starts with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return is prefixed with an apostrophe, in XLSX and in CSV, so that no text
typed by a user (a name, a blank comment, a flag note) ever becomes a formula; control
characters that XML cannot hold are dropped first. Numbers, dates and times stay typed values.
The spreadsheet template and receipt (:mod:`pmm_core.outputs.spreadsheet`) write their cells through
:func:`safe` too, and read them back through :func:`restore`.

Every sheet has a bold, frozen header row and an autofilter; dates and times are real date
cells (times in UTC, without a time zone, which Excel does not store). CSV files carry a byte
order mark and use the separator and decimal mark the language's Excel expects (``;`` and
``,`` for French and Spanish).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from pmm_core.domain.number_format import from_tag

Cell = str | int | float | date | datetime | None

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PERCENT = "0.0%"  # a share stored as a fraction (0.66) shown as 66.0 %

_BAD_TITLE = re.compile(r"[\[\]:*?/\\]")
_MAX_WIDTH = 60
_SAMPLE_ROWS = 500  # rows looked at to size the columns


@dataclass(frozen=True)
class Sheet:
    title: str
    header: Sequence[str]
    rows: Sequence[Sequence[Cell]]
    formats: Mapping[int, str] = field(default_factory=dict)  # column index → number format


def neutralise(text: str) -> str:
    """Text that a spreadsheet will not read as a formula, without the control characters that an
    XLSX file cannot hold."""
    text = ILLEGAL_CHARACTERS_RE.sub("", text)
    return "'" + text if text.startswith(FORMULA_START) else text


def restore(text: str) -> str:
    """A text cell read back as it was before :func:`neutralise`: without the apostrophe put
    before a formula start. (Excel, when the cell is edited, keeps that apostrophe as a hidden
    quote prefix, and the text comes back without it anyway.)"""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_START) else text


def safe(value: Cell) -> Cell:
    """A cell value with its text neutralised; numbers, dates and times unchanged."""
    return neutralise(value) if isinstance(value, str) else value


def utc_time(iso: str | None) -> datetime | None:
    """An ISO time as a naive UTC datetime for a spreadsheet cell; None if empty or unreadable."""
    if not iso:
        return None
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def sheet_title(title: str, taken: Sequence[str] = ()) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\, unique in the workbook."""
    base = _BAD_TITLE.sub("-", title).strip("'")[:31] or "-"
    name, i = base, 2
    while name.lower() in {t.lower() for t in taken}:
        suffix = f" ({i})"
        name, i = base[: 31 - len(suffix)] + suffix, i + 1
    return name


def _width(value: Cell) -> int:
    if isinstance(value, datetime):
        return 16
    if isinstance(value, date):
        return 10
    if isinstance(value, float):
        return min(len(f"{value:.2f}"), 15)
    return max((len(line) for line in str(value).splitlines()), default=0)


def _sheet(workbook: Workbook, sheet: Sheet, taken: list[str]) -> None:
    ws: WriteOnlyWorksheet = workbook.create_sheet(sheet_title(sheet.title, taken))
    taken.append(ws.title)
    columns = len(sheet.header)
    for i in range(columns):
        sample = [sheet.header[i], *(row[i] for row in sheet.rows[:_SAMPLE_ROWS] if row[i] is not None)]
        ws.column_dimensions[get_column_letter(i + 1)].width = min(max(_width(v) for v in sample) + 2, _MAX_WIDTH)
    ws.freeze_panes = "A2"
    if columns:
        ws.auto_filter.ref = f"A1:{get_column_letter(columns)}{len(sheet.rows) + 1}"
    bold = Font(bold=True)
    header = []
    for title in sheet.header:
        cell = WriteOnlyCell(ws, value=neutralise(title))
        cell.font = bold
        header.append(cell)
    ws.append(header)
    for row in sheet.rows:
        values: list[Cell | WriteOnlyCell] = [safe(v) for v in row]  # dates get a date format from openpyxl
        for i, number_format in sheet.formats.items():
            if values[i] is not None:
                cell = WriteOnlyCell(ws, value=values[i])
                cell.number_format = number_format
                values[i] = cell
        ws.append(values)


def workbook_bytes(sheets: Sequence[Sheet]) -> bytes:
    """An XLSX file of `sheets`, written in openpyxl's write-only (streaming) mode."""
    workbook = Workbook(write_only=True)
    taken: list[str] = []
    for sheet in sheets:
        _sheet(workbook, sheet, taken)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _csv_value(value: Cell, decimal: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return format(Decimal(repr(value)).normalize(), "f").replace(".", decimal)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    return neutralise(value)


def csv_bytes(sheet: Sheet, lang: str) -> bytes:
    """One table as CSV for Excel in `lang` (a language or a number format's tag, "es-MX"):
    UTF-8 with a byte order mark, `;` and a decimal comma where the decimal mark is a comma
    (French, Spanish), `,` and a decimal point where it is a point (English, Mexico's Spanish)."""
    decimal = from_tag(lang).decimal
    separator = ";" if decimal == "," else ","
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=separator, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in sheet.header])
    for row in sheet.rows:
        writer.writerow([_csv_value(v, decimal) for v in row])
    return buffer.getvalue().encode("utf-8-sig")
