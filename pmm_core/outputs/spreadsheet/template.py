"""The XLSX template an NCP fills offline, and (read-only) the receipt of a submission.

Both are one workbook: an instructions (or receipt) sheet, one sheet per dimension with one
row per data point under its KPI, one sheet per item list, and the hidden metadata sheet.
Labels are locked (sheet protection without a password); the value, blank-reason and comment
cells of the template are unlocked. See docs/spreadsheet.md for the layout and its keys.

Every cell is written through :func:`_write` or :func:`_append`, which neutralise text as the
exports do (:func:`pmm_core.outputs.sheets.safe`): a blank comment or a stored text starting with
``=``, ``+``, ``-`` or ``@`` gets a leading apostrophe and never becomes a formula; the upload
takes the apostrophe off again (:func:`pmm_core.outputs.sheets.restore`). Numbers stay numbers.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from babel.dates import format_datetime
from openpyxl import Workbook
from openpyxl.cell.cell import Cell as OpenpyxlCell
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from pmm_core.catalog.members import Member
from pmm_core.catalog.models import Catalog, DataPoint, DataType, ItemList, Kpi, Year
from pmm_core.domain import item_lists
from pmm_core.domain.progress import status_of
from pmm_core.domain.records import Cycle, KpiState, KpiStatus
from pmm_core.domain.results import Computed, compute
from pmm_core.outputs.i18n import Lang
from pmm_core.outputs.labels import KPI_STATUS_NAMES, UNIT_NAMES, after_colon, data_point_unit, labelled
from pmm_core.outputs.sheets import Cell, safe, sheet_title
from pmm_core.outputs.spreadsheet import texts
from pmm_core.outputs.spreadsheet.layout import (
    FIRST_ROW,
    HEADER_ROW,
    ITEM_KEY,
    KEY_ROW,
    META_SHEET,
    TEMPLATE_VERSION,
    Key,
    Meta,
    Row,
    RowKind,
    list_key,
    plan,
)

_WIDTHS = {
    Key.KPI: 10,
    Key.ID: 12,
    Key.LABEL: 60,
    Key.YEAR: 7,
    Key.UNIT: 12,
    Key.EXPECTED: 26,
    Key.CURRENT: 22,
    Key.VALUE: 22,
    Key.BLANK: 40,
    Key.COMMENT: 40,
}
_COLUMN = {key: i + 1 for i, key in enumerate(Key)}
_BOLD, _ITALIC, _GREY = Font(bold=True), Font(italic=True), Font(italic=True, color="808080")
_KPI_FILL = PatternFill("solid", fgColor="DDEBF7")
_INPUT_FILL = PatternFill("solid", fgColor="FFF9DB")
_UNLOCKED = Protection(locked=False)
_WRAP = Alignment(wrap_text=True, vertical="top")
_NUMBER_FORMAT = {DataType.COUNT: "#,##0"}  # other numbers: "#,##0.00"


@dataclass(frozen=True)
class ReceiptInfo:
    submitted_at: str  # ISO 8601, as stored
    digest: str


def build_template(
    catalog: Catalog,
    member: Member,
    cycle: Cycle,
    values: Mapping[str, str],
    states: Mapping[str, KpiStatus],
    L: Lang,
) -> bytes:
    """The Member's template for the cycle, in L's language, with the current values shown."""
    return write_workbook(catalog, member, cycle, values, states, L, None)


def write_workbook(
    catalog: Catalog,
    member: Member,
    cycle: Cycle,
    values: Mapping[str, str],
    states: Mapping[str, KpiStatus],
    L: Lang,
    receipt: ReceiptInfo | None,
) -> bytes:
    writer = _Writer(catalog, cycle, values, states, L, receipt)
    workbook = Workbook()
    first = workbook.active
    assert first is not None
    writer.meta(workbook.create_sheet(META_SHEET), member)
    for sheet in plan(catalog):
        writer.dimension_sheet(workbook.create_sheet(sheet.title), sheet.rows)
    for item_list in catalog.item_lists:
        writer.list_sheet(workbook.create_sheet(item_list.sheet), item_list)
    if receipt is None:
        writer.instructions(first, member)
    else:
        writer.receipt_sheet(first, member, receipt)
        workbook.security = WorkbookProtection(lockStructure=True)
    workbook.move_sheet(META_SHEET, offset=len(workbook.sheetnames))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def stored_cell(dp: DataPoint, stored: str, L: Lang) -> int | float | str:
    """A stored answer as a cell: a number when a float holds it exactly, else text."""
    if dp.type is DataType.YES_NO:
        return L._(texts.YES) if stored == "yes" else L._(texts.NO)
    if dp.type is DataType.SCALE:
        choice = dp.choice(stored)
        return choice.label.get(L.code) if choice else stored
    try:
        number = Decimal(stored)
    except InvalidOperation:  # a stored value the catalog no longer reads as a number
        return stored
    return _number_cell(number) if number.is_finite() else stored


def _number_cell(number: Decimal) -> int | float | str:
    """An int, or a float when it holds the number exactly, else the canonical text."""
    if number == number.to_integral_value() and abs(number) < 2**53:
        return int(number)
    return float(number) if Decimal(repr(float(number))) == number else format(number.normalize(), "f")


class _Writer:
    def __init__(
        self,
        catalog: Catalog,
        cycle: Cycle,
        values: Mapping[str, str],
        states: Mapping[str, KpiStatus],
        L: Lang,
        receipt: ReceiptInfo | None,
    ) -> None:
        self.catalog, self.cycle, self.values, self.states, self.L = catalog, cycle, values, states, L
        self.receipt = receipt
        self.lists: dict[str, str] = {}  # name of a dropdown list → its range on the metadata sheet
        self.validations: dict[str, DataValidation] = {}

    # ---- metadata and dropdown lists --------------------------------------------------

    def meta(self, ws: Worksheet, member: Member) -> None:
        ws.sheet_state = "veryHidden"
        rows: list[tuple[str, str | int]] = [
            (Meta.KIND, "receipt" if self.receipt else "template"),
            (Meta.VERSION, TEMPLATE_VERSION),
            (Meta.MEMBER, member.iso2),
            (Meta.CYCLE_YEAR, self.cycle.year),
            (Meta.LANG, self.L.code),
        ]
        if self.receipt:
            rows += [(Meta.SUBMITTED_AT, self.receipt.submitted_at), (Meta.DIGEST, self.receipt.digest)]
        for key, value in rows:
            _append(ws, [str(key), value])
        lists: dict[str, list[str]] = {
            "yes_no": [self.L._(texts.YES), self.L._(texts.NO)],
            "blank": [r.text.get(self.L.code) for r in self.catalog.blank_reasons],
        }
        for dp in self.catalog.data_points.values():
            if dp.type is DataType.SCALE:
                lists.setdefault(_choices_name(dp), [c.label.get(self.L.code) for c in dp.choices])
        for column, (name, entries) in enumerate(lists.items(), start=4):
            letter = get_column_letter(column)
            for row, entry in enumerate(entries, start=1):
                _write(ws, row, column, entry)
            self.lists[name] = f"{quote_sheetname(META_SHEET)}!${letter}$1:${letter}${len(entries)}"

    def _dropdown(self, ws: Worksheet, name: str, coordinate: str) -> None:
        key = f"{ws.title}\0{name}"
        if key not in self.validations:
            dv = DataValidation(type="list", formula1=self.lists[name], allow_blank=True, showErrorMessage=True)
            dv.error = self.L._(texts.CELL["not_a_choice"] if name != "blank" else texts.CELL["unknown_reason"])
            ws.add_data_validation(dv)
            self.validations[key] = dv
        self.validations[key].add(coordinate)

    # ---- a dimension sheet ----------------------------------------------------------------

    def dimension_sheet(self, ws: Worksheet, rows: tuple[Row, ...]) -> None:
        headers = texts.RECEIPT_HEADERS if self.receipt else texts.HEADERS
        for key in Key:
            _write(ws, KEY_ROW, _COLUMN[key], str(key))
            if key is not Key.ID:  # a row without a key is not read: the header row is skipped
                _write(ws, HEADER_ROW, _COLUMN[key], self.L._(headers[key])).font = _BOLD
            ws.column_dimensions[get_column_letter(_COLUMN[key])].width = _WIDTHS[key]
        for offset, row in enumerate(rows):
            self._row(ws, FIRST_ROW + offset, row)
        last = FIRST_ROW + len(rows) - 1
        ws.row_dimensions[KEY_ROW].hidden = True
        ws.column_dimensions[get_column_letter(_COLUMN[Key.ID])].hidden = True
        ws.freeze_panes = f"{get_column_letter(_COLUMN[Key.YEAR])}{FIRST_ROW}"
        ws.auto_filter.ref = f"A{HEADER_ROW}:{get_column_letter(len(Key))}{last}"
        self._protect(ws)

    def _row(self, ws: Worksheet, r: int, row: Row) -> None:
        def put(key: Key, value: str | int | float | None) -> None:
            if value is not None and value != "":
                _write(ws, r, _COLUMN[key], value)

        L = self.L
        if row.kind is RowKind.KPI:
            put(Key.KPI, row.kpi.id)
            put(Key.ID, row.kpi.id)
            put(Key.LABEL, row.kpi.name.get(L.code))
            put(Key.UNIT, L._(UNIT_NAMES[row.kpi.result.unit]))
            put(Key.CURRENT, self._kpi_current(row.kpi))
            state = self.states.get(row.kpi.id)
            if self.receipt and state and state.status is KpiState.BLANK:
                put(Key.BLANK, self._reason_text(state.reason))
                put(Key.COMMENT, state.comment)
            for cell in ws[r]:
                cell.font, cell.fill = _BOLD, _KPI_FILL
            self._input(ws, r, Key.BLANK, "blank")
            self._input(ws, r, Key.COMMENT, None)
        elif row.kind is RowKind.DATA_POINT:
            dp = row.data_point
            assert dp is not None
            stored = self.values.get(dp.id)
            put(Key.KPI, " · ".join(row.kpis))
            put(Key.ID, dp.id)
            put(Key.LABEL, dp.label.get(L.code))
            put(Key.YEAR, self.cycle.year - 1 if dp.year is Year.PREVIOUS else self.cycle.year)
            put(Key.UNIT, data_point_unit(dp, L))
            put(Key.EXPECTED, L._(texts.EXPECTED[dp.type]).format(currency=dp.currency))
            if stored is not None:
                put(Key.VALUE if self.receipt else Key.CURRENT, stored_cell(dp, stored, L))
            if dp.is_numeric:
                for key in (Key.CURRENT, Key.VALUE):
                    ws.cell(row=r, column=_COLUMN[key]).number_format = _NUMBER_FORMAT.get(dp.type, "#,##0.00")
            dropdown = "yes_no" if dp.type is DataType.YES_NO else _choices_name(dp) if dp.choices else None
            self._input(ws, r, Key.VALUE, dropdown)
            self._input(ws, r, Key.COMMENT, None)
        elif row.kind is RowKind.SECTION:
            assert row.title is not None
            put(Key.KPI, row.kpi.id)
            put(Key.LABEL, row.title.get(L.code))
            ws.cell(row=r, column=_COLUMN[Key.LABEL]).font = _ITALIC
        else:
            put(Key.KPI, row.kpi.id)
            if row.count == 1 and row.first is not None:
                text = L._(texts.REFERENCE_ONE).format(label=row.first.label.get(L.code), kpi=row.home)
            else:
                text = L._(texts.REFERENCE_MANY).format(n=row.count, kpi=row.home)
            put(Key.LABEL, text)
            ws.cell(row=r, column=_COLUMN[Key.LABEL]).font = _GREY
        ws.cell(row=r, column=_COLUMN[Key.LABEL]).alignment = _WRAP

    def _input(self, ws: Worksheet, r: int, key: Key, dropdown: str | None) -> None:
        """An input cell of the template (a no-op in the receipt, where everything is locked)."""
        if self.receipt:
            return
        cell = ws.cell(row=r, column=_COLUMN[key])
        cell.protection, cell.fill = _UNLOCKED, _INPUT_FILL
        if dropdown:
            self._dropdown(ws, dropdown, cell.coordinate)

    def _kpi_current(self, kpi: Kpi) -> str:
        L = self.L
        state = self.states.get(kpi.id)
        status = L._(KPI_STATUS_NAMES[status_of(state)])
        if state and state.status is KpiState.BLANK:
            return labelled(L, status, after_colon(self._reason_text(state.reason)))
        result = self._result(kpi)
        if result is None:
            return status
        shown = f"{status} · {L.result(result)}"
        return f"{shown} ({L._(texts.FROM_TOTALS)})" if result.from_totals else shown

    def _result(self, kpi: Kpi) -> Computed | None:
        try:
            result = compute(self.catalog, kpi, self.values)
        except (KeyError, ArithmeticError):  # a stored value the catalog no longer accepts
            return None
        return result if isinstance(result, Computed) else None

    def _reason_text(self, code: str | None) -> str:
        reason = next((r for r in self.catalog.blank_reasons if r.code == code), None)
        return reason.text.get(self.L.code) if reason else code or ""

    def _protect(self, ws: Worksheet) -> None:
        """Sheet protection without a password: the NCP can lift it to sort or to reformat."""
        ws.protection.sheet = True
        ws.protection.formatColumns = False
        ws.protection.formatRows = False
        ws.protection.autoFilter = False
        ws.protection.sort = False

    # ---- a list sheet -----------------------------------------------------------------------

    def list_sheet(self, ws: Worksheet, item_list: ItemList) -> None:
        L = self.L
        _append(ws, [ITEM_KEY, *(list_key(item_list, c.id) for c in item_list.columns)])
        _append(ws, [item_list.item.get(L.code), *(c.label.get(L.code) for c in item_list.columns)])
        for cell in ws[HEADER_ROW]:
            cell.font, cell.alignment = _BOLD, _WRAP
        ws.column_dimensions["A"].width = 28
        for i in range(len(item_list.columns)):
            ws.column_dimensions[get_column_letter(i + 2)].width = 26
        items = item_lists.stored(item_list, self.values)
        if items is not None and item_lists.agrees(item_list, items, self.values):  # else typed totals rule
            for n, row in enumerate(items.rows, start=1):
                given = dict(zip(items.columns, row, strict=True))
                _append(ws, [n, *(_decimal_cell(given.get(c.id, "")) for c in item_list.columns)])
        ws.row_dimensions[KEY_ROW].hidden = True
        ws.freeze_panes = f"A{FIRST_ROW}"
        if self.receipt:
            self._protect(ws)

    # ---- the first sheet ---------------------------------------------------------------------

    def instructions(self, ws: Worksheet, member: Member) -> None:
        L = self.L
        ws.title = sheet_title(L._(texts.INSTRUCTIONS))
        self._title(ws, member)
        _append(ws, [L._(texts.DEADLINE).format(date=L.date(self.cycle.deadline))])
        _append(ws, [])
        example = L.number(Decimal("1234.5"))
        for line in texts.HOW_TO:
            _append(ws, [L._(line).format(example=example)])
        _append(ws, [])
        _append(ws, [L._(texts.LISTS)])
        ws.cell(row=ws.max_row, column=1).font = _BOLD
        for item_list in self.catalog.item_lists:
            _append(ws, [labelled(L, item_list.sheet, item_list.name.get(L.code))])
            _append(ws, [item_list.help.get(L.code)])
        _append(ws, [])
        _append(ws, [L._(texts.BLANK_REASONS)])
        ws.cell(row=ws.max_row, column=1).font = _BOLD
        for n, reason in enumerate(self.catalog.blank_reasons, start=1):
            _append(ws, [f"{n}. {reason.text.get(L.code)}"])
        self._text_column(ws)

    def receipt_sheet(self, ws: Worksheet, member: Member, receipt: ReceiptInfo) -> None:
        L = self.L
        ws.title = sheet_title(L._(texts.RECEIPT))
        self._title(ws, member)
        _append(ws, [L._(texts.RECEIPT_TITLE)])
        _append(ws, [L._(texts.SUBMITTED_AT), _moment(receipt.submitted_at, L)])
        _append(ws, [L._(texts.DIGEST), receipt.digest])
        _append(ws, [L._(texts.DIGEST_HOW)])
        _append(ws, [])
        counts = dict.fromkeys((texts.COUNT_RESULTS, texts.COUNT_BLANK, texts.COUNT_OTHER), 0)
        for kpi in self.catalog.kpis:
            state = self.states.get(kpi.id)
            if state and state.status is KpiState.BLANK:
                counts[texts.COUNT_BLANK] += 1
            elif self._result(kpi) is not None:
                counts[texts.COUNT_RESULTS] += 1
            else:
                counts[texts.COUNT_OTHER] += 1
        for label, n in counts.items():
            _append(ws, [L._(label), n])
        _append(ws, [])
        _append(ws, [L._(texts.COUNT_BLANK)])
        ws.cell(row=ws.max_row, column=1).font = _BOLD
        for kpi in self.catalog.kpis:
            state = self.states.get(kpi.id)
            if state and state.status is KpiState.BLANK:
                _append(ws, [f"{kpi.id} · {kpi.name.get(L.code)}", self._reason_text(state.reason), state.comment])
        self._text_column(ws)
        ws.column_dimensions["B"].width = 70
        self._protect(ws)

    def _title(self, ws: Worksheet, member: Member) -> None:
        _append(ws, [self.L._(texts.TITLE).format(member=member.name(self.L.code), year=self.cycle.year)])
        ws.cell(row=1, column=1).font = Font(bold=True, size=14)

    def _text_column(self, ws: Worksheet) -> None:
        ws.column_dimensions["A"].width = 110
        for (cell,) in ws.iter_rows(min_row=2, max_col=1):
            cell.alignment = _WRAP


def _choices_name(dp: DataPoint) -> str:
    return "choices:" + ",".join(c.code for c in dp.choices)


def _decimal_cell(stored: str) -> int | float | str | None:
    return _number_cell(Decimal(stored)) if stored else None


def _moment(iso: str, L: Lang) -> str:
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return f"{format_datetime(moment, 'medium', tzinfo=UTC, locale=L.numbers.locale_id)} UTC"


def _write(ws: Worksheet, row: int, column: int, value: Cell) -> OpenpyxlCell:
    """Every cell of the workbook is written here or by :func:`_append`: text is neutralised
    (:func:`pmm_core.outputs.sheets.safe`), so that no text, typed by a user or not, becomes a formula;
    the upload reads it back as it was (:func:`pmm_core.outputs.sheets.restore`)."""
    return ws.cell(row=row, column=column, value=safe(value))


def _append(ws: Worksheet, values: Sequence[Cell]) -> None:
    ws.append([safe(v) for v in values])
