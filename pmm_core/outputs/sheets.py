"""Tables written safely as XLSX (openpyxl, write-only) or CSV, for people to open in Excel.

Safety (CSV/formula injection, OWASP): a text cell that starts with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return is prefixed with an apostrophe, in XLSX and in CSV, so that no text
typed by a user (a name, a blank comment, a flag note) ever becomes a formula; control
characters that XML cannot hold are dropped first. Numbers, dates and times stay typed values.
The spreadsheet template and receipt (:mod:`pmm_core.outputs.spreadsheet`) write their cells through
:func:`safe` too, and read them back through :func:`restore`.

Every sheet has a bold, frozen header row and an autofilter; dates and times are real date
cells (times in UTC, without a time zone, which Excel does not store). The XLSX is written
directly (:func:`workbook_bytes`: SpreadsheetML strings, inline text, one style per kind of
cell), about ten times faster than openpyxl's streaming writer, whose per-cell XML
serialisation made a 1,000-Member export take over half a minute. CSV files carry a byte
order mark and use the separator and decimal mark the language's Excel expects (``;`` and
``,`` for French and Spanish).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from pmm_core.domain.number_format import from_tag

Cell = str | int | float | date | datetime | None

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PERCENT = "0.0%"  # a share stored as a fraction (0.66) shown as 66.0 %

_BAD_TITLE = re.compile(r"[\[\]:*?/\\]")
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")  # as openpyxl: not in XML 1.0
_MAX_WIDTH = 60
_SAMPLE_ROWS = 500  # rows looked at to size the columns


@dataclass(frozen=True)
class Sheet:
    title: str
    header: Sequence[str]
    rows: Sequence[Sequence[Cell]]
    formats: Mapping[int, str] = field(default_factory=dict)  # column index → number format
    stamp: str = ""  # a line above the header (what the publication is), on screen and in print
    print_header: str = ""  # printed at the top of every page (the stamp's when it has one)


def neutralise(text: str) -> str:
    """Text that a spreadsheet will not read as a formula, without the control characters that an
    XLSX file cannot hold."""
    if not text.isprintable():  # only then can it hold a control character
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


_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_EPOCH = datetime(1899, 12, 30)  # Excel's day 0 (its 1900 leap-year bug included)
_DATE, _DATETIME = "yyyy-mm-dd", "yyyy-mm-dd h:mm:ss"  # as openpyxl writes them


def _esc(text: str) -> str:
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if '"' in text:
        text = text.replace('"', "&quot;")
    return text


def get_column_letter(index: int) -> str:
    """Excel's name of the column `index` (1 → A, 27 → AA)."""
    name = ""
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


class _Styles:
    """The workbook's cell formats: 0 plain, 1 the bold header, 2 the publication's stamp
    (italic, dark blue), then one per number format."""

    def __init__(self) -> None:
        self.formats: dict[str, int] = {}  # number format → style index

    def of(self, number_format: str) -> int:
        if number_format not in self.formats:
            self.formats[number_format] = 3 + len(self.formats)
        return self.formats[number_format]

    def xml(self) -> str:
        fmts = "".join(f'<numFmt numFmtId="{164 + i}" formatCode="{_esc(f)}"/>' for i, f in enumerate(self.formats))
        xfs = "".join(
            f'<xf numFmtId="{164 + i}" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
            for i in range(len(self.formats))
        )
        return (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<styleSheet xmlns="{_MAIN}">'
            f'<numFmts count="{len(self.formats)}">{fmts}</numFmts>'
            '<fonts count="3"><font><sz val="11"/><name val="Calibri"/></font>'
            '<font><b/><sz val="11"/><name val="Calibri"/></font>'
            '<font><i/><sz val="11"/><color rgb="FF1F4E79"/><name val="Calibri"/></font></fonts>'
            '<fills count="2"><fill><patternFill patternType="none"/></fill>'
            '<fill><patternFill patternType="gray125"/></fill></fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            f'<cellXfs count="{3 + len(self.formats)}"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
            '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
            f'<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1"/>{xfs}</cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
            "</styleSheet>"
        )


def _cell(ref: str, value: Cell, style: int) -> str:
    s = f' s="{style}"' if style else ""
    if isinstance(value, str):
        space = ' xml:space="preserve"' if value[:1].isspace() or value[-1:].isspace() else ""
        return f'<c r="{ref}" t="inlineStr"{s}><is><t{space}>{_esc(value)}</t></is></c>'
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"{s}><v>{int(value)}</v></c>'
    if isinstance(value, datetime):
        moment = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
        return f'<c r="{ref}"{s}><v>{(moment - _EPOCH).total_seconds() / 86400!r}</v></c>'
    if isinstance(value, date):
        return f'<c r="{ref}"{s}><v>{(value - _EPOCH.date()).days}</v></c>'
    number = str(value) if isinstance(value, Decimal) else repr(value)
    return f'<c r="{ref}"{s}><v>{number}</v></c>'


def _sheet_xml(sheet: Sheet, styles: _Styles) -> str:
    columns = len(sheet.header)
    letters = [get_column_letter(i + 1) for i in range(max(columns, 1))]
    widths = []
    for i in range(columns):
        sample = [sheet.header[i], *(row[i] for row in sheet.rows[:_SAMPLE_ROWS] if row[i] is not None)]
        width = min(max(_width(v) for v in sample) + 2, _MAX_WIDTH)
        widths.append(f'<col min="{i + 1}" max="{i + 1}" width="{width}" customWidth="1"/>')
    formats = {i: styles.of(f) for i, f in sheet.formats.items()}
    date_style, datetime_style = styles.of(_DATE), styles.of(_DATETIME)
    top = 2 if sheet.stamp else 1  # the header's row, under the publication's stamp if any
    first = top + 1
    out = [
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}">',
        f'<sheetViews><sheetView workbookViewId="0"><pane ySplit="{top}" topLeftCell="A{first}" activePane="bottomLeft" '
        f'state="frozen"/><selection pane="bottomLeft" activeCell="A{first}" sqref="A{first}"/></sheetView></sheetViews>',
        '<sheetFormatPr defaultRowHeight="15"/>',
        f"<cols>{''.join(widths)}</cols>" if widths else "",
        "<sheetData>",
        f'<row r="1">{_cell("A1", neutralise(sheet.stamp), 2)}</row>' if sheet.stamp else "",
        f'<row r="{top}">',
        *(_cell(f"{letters[i]}{top}", neutralise(title), 1) for i, title in enumerate(sheet.header)),
        "</row>",
    ]
    plain = [f' s="{formats[i]}"' if i in formats else "" for i in range(columns)]
    texts: dict[str, str] = {}  # a text → its cell's content: names, ids and labels repeat on every row
    for r, row in enumerate(sheet.rows, start=first):
        cells = [f'<row r="{r}">']
        for i, value in enumerate(row):
            if value is None or value == "":  # as openpyxl: an empty text is no cell
                continue
            kind = type(value)
            if kind is str:  # most cells: inline text, neutralised
                inner = texts.get(value)  # type: ignore[arg-type]
                if inner is None:
                    text = neutralise(value)  # type: ignore[arg-type]
                    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
                    inner = texts[value] = f"<is><t{space}>{_esc(text)}</t></is></c>"  # type: ignore[index]
                cells.append(f'<c r="{letters[i]}{r}" t="inlineStr"{plain[i]}>{inner}')
            elif kind is int or kind is float:
                cells.append(f'<c r="{letters[i]}{r}"{plain[i]}><v>{value!r}</v></c>')
            else:
                if isinstance(value, datetime):
                    style = formats.get(i, datetime_style)
                elif isinstance(value, date):
                    style = formats.get(i, date_style)
                else:
                    style = formats.get(i, 0)
                cells.append(_cell(f"{letters[i]}{r}", safe(value), style))
        cells.append("</row>")
        out.append("".join(cells))
    out.append("</sheetData>")
    if columns:
        out.append(f'<autoFilter ref="A{top}:{letters[columns - 1]}{len(sheet.rows) + top}"/>')
    if sheet.stamp or sheet.print_header:  # printed at the top of every page; & is a code there
        printed = neutralise(sheet.print_header or sheet.stamp).replace("&", "&&")
        out.append(f"<headerFooter><oddHeader>{_esc('&C' + printed)}</oddHeader></headerFooter>")
    out.append("</worksheet>")
    return "".join(out)


def workbook_bytes(sheets: Sequence[Sheet]) -> bytes:
    """An XLSX file of `sheets`: each with its bold, frozen header, autofilter and column
    widths, texts neutralised (:func:`safe`), dates and times as date cells."""
    styles = _Styles()
    titles: list[str] = []
    parts: list[tuple[str, str]] = []
    for n, sheet in enumerate(sheets, start=1):
        titles.append(sheet_title(sheet.title, titles))
        parts.append((f"xl/worksheets/sheet{n}.xml", _sheet_xml(sheet, styles)))
    head = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    sheet_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
    types = (
        f'{head}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        + "".join(f'<Override PartName="/{name}" ContentType="{sheet_type}"/>' for name, _ in parts)
        + "</Types>"
    )
    rels = (
        f'{head}<Relationships xmlns="{_PKG_REL}"><Relationship Id="rId1" '
        f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    workbook = (
        f'{head}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
        + "".join(f'<sheet name="{_esc(t)}" sheetId="{n}" r:id="rId{n}"/>' for n, t in enumerate(titles, start=1))
        + "</sheets></workbook>"
    )
    workbook_rels = (
        f'{head}<Relationships xmlns="{_PKG_REL}">'
        + "".join(
            f'<Relationship Id="rId{n}" Type="{_REL}/worksheet" Target="worksheets/sheet{n}.xml"/>'
            for n in range(1, len(parts) + 1)
        )
        + f'<Relationship Id="rId{len(parts) + 1}" Type="{_REL}/styles" Target="styles.xml"/></Relationships>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", types)
        archive.writestr("_rels/.rels", rels)
        archive.writestr("xl/workbook.xml", workbook)
        archive.writestr("xl/_rels/workbook.xml.rels", workbook_rels)
        for name, xml in parts:
            archive.writestr(name, xml)
        archive.writestr("xl/styles.xml", styles.xml())
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
