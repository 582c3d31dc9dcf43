"""Reading a filled template back: what it would change, checked like typed answers.

Nothing is written anywhere: :func:`read_upload` returns an :class:`UploadSummary` whose
``writes`` and ``blanks`` the caller applies (in one transaction) if the NCP confirms.

A file is refused as a whole (:class:`BadFile`, one :class:`FileProblem`) before any cell is
interpreted when it is too large, not an XLSX, password-protected, a zip bomb, not made by
/template, for another Member or another cycle, too long, has merged cells in a data sheet,
or has rows whose key is not a PMM figure. Otherwise each unreadable cell is one
:class:`CellProblem` (sheet, cell, code, parameters) and the other cells still count.

Safety: the file's size is checked first; an OLE compound file (password-protected XLSX or
old .xls) is recognised by its signature; the zip directory's declared sizes are checked
before openpyxl opens anything (Python's zipfile never inflates an entry past its declared
size); XML entity expansion is bounded by expat (≥ 2.4). Rows are counted while streaming
(read-only mode), so a sheet claiming a million rows is refused after 100,000.

Formulas: a value cell holding a formula counts with the result saved in the file (as
Excel and LibreOffice save it); a formula without a saved result is refused for that cell.
A text cell that the template neutralised (a leading apostrophe before ``=``, ``+``, ``-``,
``@``…) is read without that apostrophe (:func:`pmm_core.outputs.sheets.restore`).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import partial
from typing import Any, TypeVar

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook

from pmm_core.catalog.models import Catalog, DataPoint, DataType, ItemList
from pmm_core.domain import actions, item_lists
from pmm_core.domain.answers import ErrorCode, Valid, canonical, check_number, fold, validate
from pmm_core.domain.records import KpiState, KpiStatus
from pmm_core.domain.results import Computed, compute
from pmm_core.domain.text import LANGUAGES
from pmm_core.outputs.sheets import restore
from pmm_core.outputs.spreadsheet.layout import (
    ITEM_KEY,
    KEY_ROW_SEARCH,
    META_SHEET,
    TEMPLATE_VERSION,
    Key,
    Meta,
    homes,
    list_key,
)

MAX_FILE_BYTES = 20 * 1024 * 1024  # the largest file a bot may download from Telegram
MAX_ROWS = 100_000  # rows read over all data sheets
MAX_UNPACKED = 200 * 1024 * 1024  # total declared uncompressed size of the zip's parts
MAX_PARTS = 1_000
MAX_COLUMNS = 60  # the keys must be within the first 60 columns
_OLE_SIGNATURE = bytes.fromhex("d0cf11e0a1b11ae1")
_ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")
T = TypeVar("T")
_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\s[^>]*?ref="([A-Z]+[0-9]+(?::[A-Z]+[0-9]+)?)"')


class FileProblem(StrEnum):
    TOO_LARGE = "too_large"
    ENCRYPTED = "encrypted"
    OLD_EXCEL = "old_excel"
    NOT_XLSX = "not_xlsx"
    ZIP_BOMB = "zip_bomb"
    NOT_A_TEMPLATE = "not_a_template"
    TEMPLATE_VERSION = "template_version"
    WRONG_MEMBER = "wrong_member"
    WRONG_CYCLE = "wrong_cycle"
    TOO_MANY_ROWS = "too_many_rows"
    MERGED_CELLS = "merged_cells"
    UNKNOWN_IDS = "unknown_ids"


class BadFile(ValueError):
    """The file is refused as a whole; nothing in it counts."""

    def __init__(self, problem: FileProblem, **params: str) -> None:
        super().__init__(f"{problem}: {params}" if params else str(problem))
        self.problem = problem
        self.params = params


class CellCode(StrEnum):
    """Problems with one cell beyond those of a typed answer (pmm_core.domain.answers.ErrorCode)."""

    FORMULA_NO_VALUE = "formula_no_value"
    DATE_TIME = "date_time"
    CELL_ERROR = "cell_error"
    DUPLICATE = "duplicate"
    UNKNOWN_REASON = "unknown_reason"
    LIST_INCOMPLETE = "list_incomplete"
    TOTAL_DIFFERS = "total_differs"
    UNREADABLE = "unreadable"  # an answer check result without a code


@dataclass(frozen=True)
class Where:
    sheet: str
    cell: str

    def __str__(self) -> str:
        return f"{self.sheet}!{self.cell}"


@dataclass(frozen=True)
class CellProblem:
    where: Where
    code: str  # an ErrorCode or a CellCode value
    params: Mapping[str, str]
    content: str | Decimal  # the cell as read (a number when the cell holds one)
    subject: str  # the data point, KPI or item list the cell is for
    data_type: DataType | None = None  # of the data point or list column, when there is one


@dataclass(frozen=True)
class FigureChange:
    data_point: str
    old: str | None  # None: a new figure
    new: str
    where: Where
    from_formula: bool = False
    from_list: str | None = None  # the item list that gives this total


@dataclass(frozen=True)
class BlankChange:
    kpi: str
    reason: str
    comment: str | None
    where: Where


@dataclass(frozen=True)
class ListChange:
    item_list: str
    key: str  # where the list is stored with the answers (ItemList.answer_key)
    old: str | None
    new: str
    rows: int
    sheet: str


@dataclass(frozen=True)
class UploadSummary:
    member: str
    cycle_year: int
    new: tuple[FigureChange, ...]
    changed: tuple[FigureChange, ...]
    unchanged: tuple[str, ...]  # data points given with their current value
    lists: tuple[ListChange, ...]
    blanks: tuple[BlankChange, ...]
    reopened: tuple[str, ...]  # KPIs left blank that get new figures under them (→ in progress)
    comments: Mapping[str, str]  # data point or KPI id → comment (blank comments are in `blanks`)
    errors: tuple[CellProblem, ...]
    computable: tuple[tuple[str, Computed], ...]  # KPIs that become computable, with their results
    recomputed: tuple[tuple[str, Computed, Computed], ...] = ()  # KPIs whose result changes: before, after
    formulas: tuple[Where, ...] = ()  # value cells read from a formula's saved result

    @property
    def writes(self) -> dict[str, str]:
        """What Apply stores with the answers: key → canonical value (figures, then lists)."""
        out = {c.data_point: c.new for c in (*self.new, *self.changed)}
        out.update({c.key: c.new for c in self.lists})
        return out

    @property
    def has_changes(self) -> bool:
        return bool(self.new or self.changed or self.lists or self.blanks or self.reopened)


def read_upload(
    catalog: Catalog,
    data: bytes,
    *,
    member: str,
    cycle_year: int,
    current_values: Mapping[str, str],
    current_states: Mapping[str, KpiStatus],
    lang: str,
) -> UploadSummary:
    """What the file would change for `member` in the cycle `cycle_year`; raises BadFile.

    Text cells are read like typed answers in `lang` (the reader's number format's tag, as
    :attr:`pmm_core.outputs.i18n.Lang.tag`: "es-MX"); number cells as
    exact decimals (``Decimal(str(cell))``)."""
    archive = _archive(data)
    workbook = _open(data, data_only=False)
    try:
        _check_metadata(_metadata(workbook), member, cycle_year)
        sheets = _guarded(lambda: _data_sheets(workbook))
        _check_merged(archive, sheets)
    finally:
        workbook.close()
    if not sheets:
        raise BadFile(FileProblem.NOT_A_TEMPLATE)
    _check_ids(catalog, sheets)
    formulas = {(s.title, c.coordinate) for s in sheets for c in s.cells() if c.formula}
    cached = _cached_values(data, formulas) if formulas else {}
    reading = _Reading(catalog, lang, cached)
    for sheet in sheets:
        reading.sheet(sheet)
    return reading.summary(member, cycle_year, current_values, current_states)


# ---- the container ---------------------------------------------------------------------------


def _archive(data: bytes) -> zipfile.ZipFile:
    if len(data) > MAX_FILE_BYTES:
        raise BadFile(FileProblem.TOO_LARGE, limit=str(MAX_FILE_BYTES // 2**20))
    if data.startswith(_OLE_SIGNATURE):
        raise BadFile(FileProblem.ENCRYPTED if _ENCRYPTION_INFO in data else FileProblem.OLD_EXCEL)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        parts = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError, NotImplementedError):
        raise BadFile(FileProblem.NOT_XLSX) from None  # NotImplementedError: a zip feature or version it lacks
    if len(parts) > MAX_PARTS or sum(p.file_size for p in parts) > MAX_UNPACKED:
        raise BadFile(FileProblem.ZIP_BOMB, limit=str(MAX_UNPACKED // 2**20))
    if any(p.flag_bits & 0x1 for p in parts):
        raise BadFile(FileProblem.ENCRYPTED)
    names = {p.filename for p in parts}
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/workbook") for n in names):
        raise BadFile(FileProblem.NOT_XLSX)
    return archive


def _open(data: bytes, *, data_only: bool) -> Workbook:
    return _guarded(lambda: load_workbook(io.BytesIO(data), read_only=True, data_only=data_only, keep_links=False))


def _guarded(read: Callable[[], T]) -> T:
    """openpyxl on a malformed part raises almost anything (KeyError, ValueError, ParseError…):
    all of it means the same to the NCP, "not a workbook we can read"."""
    try:
        return read()
    except BadFile:
        raise
    except Exception as exc:
        raise BadFile(FileProblem.NOT_XLSX) from exc


def _metadata(workbook: Workbook) -> dict[str, str]:
    if META_SHEET not in workbook.sheetnames:
        raise BadFile(FileProblem.NOT_A_TEMPLATE)
    rows = workbook[META_SHEET].iter_rows(max_row=20, max_col=2, values_only=True)
    return {_text(key): _text(value) for key, value in _guarded(lambda: list(rows)) if key is not None}


def _check_metadata(meta: Mapping[str, str], member: str, cycle_year: int) -> None:
    if Meta.MEMBER not in meta or Meta.CYCLE_YEAR not in meta:
        raise BadFile(FileProblem.NOT_A_TEMPLATE)
    if meta.get(Meta.VERSION) != str(TEMPLATE_VERSION):
        raise BadFile(FileProblem.TEMPLATE_VERSION)
    if meta[Meta.MEMBER].upper() != member.upper():
        raise BadFile(FileProblem.WRONG_MEMBER, file_member=meta[Meta.MEMBER], member=member)
    if meta[Meta.CYCLE_YEAR] != str(cycle_year):
        raise BadFile(FileProblem.WRONG_CYCLE, file_year=meta[Meta.CYCLE_YEAR], year=str(cycle_year))


# ---- raw sheets ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Cell:
    value: Any
    coordinate: str
    formula: bool = False
    error: bool = False  # an error value such as #DIV/0!
    number_format: str = "General"

    @property
    def empty(self) -> bool:
        return self.value is None or (isinstance(self.value, str) and not self.value.strip())


@dataclass
class _Sheet:
    title: str
    path: str  # the worksheet's part in the zip
    keys: dict[str, int]  # key → 0-based column
    rows: list[dict[str, _Cell]] = field(default_factory=list)  # key → non-empty cell

    def cells(self) -> Iterator[_Cell]:
        for row in self.rows:
            yield from row.values()

    @property
    def is_list(self) -> bool:
        return Key.ID not in self.keys


def _data_sheets(workbook: Workbook) -> list[_Sheet]:
    """The sheets with a key row (a dimension sheet: `id` and `value`; a list sheet: `item` and
    `<list>.<column>` keys), with their non-empty cells under a key; row count enforced."""
    sheets: list[_Sheet] = []
    counted = 0
    for ws in workbook.worksheets:
        if ws.title == META_SHEET or not hasattr(ws, "iter_rows"):
            continue
        if ws.max_row is not None and ws.max_row > MAX_ROWS:
            raise BadFile(FileProblem.TOO_MANY_ROWS, limit=str(MAX_ROWS))
        sheet: _Sheet | None = None
        for index, row in enumerate(ws.iter_rows(max_col=MAX_COLUMNS)):
            counted += 1
            if counted > MAX_ROWS:
                raise BadFile(FileProblem.TOO_MANY_ROWS, limit=str(MAX_ROWS))
            if sheet is None:
                keys = _keys(row)
                if keys is not None:
                    # openpyxl keeps the sheet's part name only privately; the merged-cell test fails if it goes
                    sheet = _Sheet(ws.title, str(getattr(ws, "_worksheet_path", "")), keys)
                elif index + 1 >= KEY_ROW_SEARCH:
                    break
                continue
            cells = {}
            for key, column in sheet.keys.items():
                if column < len(row):
                    cell = _cell(row[column])
                    if cell is not None:
                        cells[key] = cell
            if cells:
                sheet.rows.append(cells)
        if sheet is not None:
            sheets.append(sheet)
    return sheets


def _keys(row: tuple[Any, ...]) -> dict[str, int] | None:
    keys: dict[str, int] = {}
    for column, cell in enumerate(row):
        value = getattr(cell, "value", None)
        if isinstance(value, str) and value.strip():
            keys.setdefault(value.strip().lower(), column)
    if Key.ID in keys and Key.VALUE in keys:
        return keys
    if ITEM_KEY in keys and any("." in k for k in keys):
        return keys
    return None


def _cell(cell: Any) -> _Cell | None:
    value = getattr(cell, "value", None)
    kind = getattr(cell, "data_type", None)
    if value is None or (isinstance(value, str) and not value.strip() and kind != "f"):
        return None
    if isinstance(value, str) and kind != "f":
        value = restore(value)  # the text as it was before the template neutralised it
    coordinate = getattr(cell, "coordinate", "?")
    return _Cell(value, coordinate, kind == "f", kind == "e", getattr(cell, "number_format", "General") or "General")


def _check_merged(archive: zipfile.ZipFile, sheets: list[_Sheet]) -> None:
    """Merged cells shift what a row holds: refused in the data sheets (read-only mode does not
    see them, so the sheet's XML is searched; its text cannot hold a raw "<")."""
    for sheet in sheets:
        if not sheet.path:
            continue
        xml = _guarded(partial(archive.read, sheet.path.lstrip("/")))
        found = _MERGE.findall(xml)
        if found:
            cells = ", ".join(ref.decode() for ref in found[:3]) + (" …" if len(found) > 3 else "")
            raise BadFile(FileProblem.MERGED_CELLS, sheet=sheet.title, cells=cells)


def _check_ids(catalog: Catalog, sheets: list[_Sheet]) -> None:
    known_keys = {list_key(lst, c.id) for lst in catalog.item_lists for c in lst.columns}
    unknown: list[str] = []
    for sheet in sheets:
        if sheet.is_list:
            unknown += [f"{sheet.title}: {k}" for k in sheet.keys if "." in k and k not in known_keys]
            continue
        for row in sheet.rows:
            cell = row.get(Key.ID)
            if cell is not None:
                key = _text(cell.value)
                if key not in catalog.data_points and key not in catalog.kpi_by_id:
                    unknown.append(f"{sheet.title}!{cell.coordinate} {key[:40]}")
    if unknown:
        shown = ", ".join(unknown[:5]) + (" …" if len(unknown) > 5 else "")
        raise BadFile(FileProblem.UNKNOWN_IDS, cells=shown, count=str(len(unknown)))


def _cached_values(data: bytes, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], _Cell]:
    """The results saved in the file for the formula cells `wanted` ((sheet, coordinate))."""
    workbook = _open(data, data_only=True)

    def read() -> dict[tuple[str, str], _Cell]:
        out: dict[tuple[str, str], _Cell] = {}
        for title in sorted({t for t, _ in wanted}):
            for row in workbook[title].iter_rows(max_col=MAX_COLUMNS, max_row=MAX_ROWS):
                for cell in row:
                    found = _cell(cell)
                    if found is not None and (title, found.coordinate) in wanted:
                        out[(title, found.coordinate)] = found
        return out

    try:
        return _guarded(read)
    finally:
        workbook.close()


# ---- interpreting the cells ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Bad:
    code: str
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Given:
    value: str
    where: Where
    formula: bool


class _Reading:
    def __init__(self, catalog: Catalog, lang: str, cached: Mapping[tuple[str, str], _Cell]) -> None:
        self.catalog, self.lang, self.cached = catalog, lang, cached
        self.values: dict[str, _Given] = {}
        self.blank: dict[str, tuple[str, str | None, Where]] = {}
        self.comments: dict[str, str] = {}
        self.errors: list[CellProblem] = []
        self.seen: dict[str, Where] = {}
        self.duplicates: set[str] = set()
        self.formulas: list[Where] = []
        self.items: dict[str, list[tuple[str, int, dict[str, str]]]] = {}  # list → (sheet, row, column → value)
        self.broken_lists: set[str] = set()
        self.list_sheets: dict[str, str] = {}  # list → the (first) sheet holding it
        self.letters: dict[tuple[str, str, str], str] = {}  # (sheet, list, column) → column letter
        self.reasons = _reason_index(catalog)

    def sheet(self, sheet: _Sheet) -> None:
        if sheet.is_list:
            self._list_sheet(sheet)
            return
        for row in sheet.rows:
            id_cell = row.get(Key.ID)
            if id_cell is None:
                continue
            subject = _text(id_cell.value)
            where = Where(sheet.title, id_cell.coordinate)
            if subject in self.seen:
                self.duplicates.add(subject)
                self.errors.append(
                    CellProblem(where, CellCode.DUPLICATE, {"other": str(self.seen[subject])}, subject, subject)
                )
                continue
            self.seen[subject] = where
            comment = row.get(Key.COMMENT)
            if comment is not None and not comment.formula:
                self.comments[subject] = _text(comment.value)
            if subject in self.catalog.kpi_by_id:
                self._blank(sheet, subject, row.get(Key.BLANK))
            else:
                self._value(sheet, self.catalog.data_points[subject], row.get(Key.VALUE))

    def _value(self, sheet: _Sheet, dp: DataPoint, cell: _Cell | None) -> None:
        cell = self._resolved(sheet, cell, dp.id, dp.type)
        if cell is None:
            return
        where = Where(sheet.title, cell.coordinate)
        answer = _answer(dp, cell, self.lang)
        if isinstance(answer, Valid):
            self.values[dp.id] = _Given(answer.value, where, cell.formula)
        else:
            self.errors.append(CellProblem(where, answer.code, answer.params, _content(cell), dp.id, dp.type))

    def _blank(self, sheet: _Sheet, kpi: str, cell: _Cell | None) -> None:
        cell = self._resolved(sheet, cell, kpi, None)
        if cell is None:
            return
        where = Where(sheet.title, cell.coordinate)
        reason = self.reasons.get(fold(_text(cell.value)))
        if reason is None:
            self.errors.append(CellProblem(where, CellCode.UNKNOWN_REASON, {}, _content(cell), kpi))
        else:
            self.blank[kpi] = (reason, self.comments.pop(kpi, None), where)

    def _resolved(self, sheet: _Sheet, cell: _Cell | None, subject: str, kind: DataType | None) -> _Cell | None:
        """The cell to read: a formula's saved result, or None (empty, or a problem recorded)."""
        if cell is None or not cell.formula:
            return cell
        where = Where(sheet.title, cell.coordinate)
        saved = self.cached.get((sheet.title, cell.coordinate))
        if saved is None or saved.empty:
            self.errors.append(CellProblem(where, CellCode.FORMULA_NO_VALUE, {}, _text(cell.value), subject, kind))
            return None
        self.formulas.append(where)
        return _Cell(saved.value, cell.coordinate, True, saved.error, saved.number_format)

    def _list_sheet(self, sheet: _Sheet) -> None:
        for item_list in self.catalog.item_lists:
            keys = {c.id: list_key(item_list, c.id) for c in item_list.columns}
            if not set(keys.values()) & set(sheet.keys):
                continue
            self.list_sheets.setdefault(item_list.id, sheet.title)
            for column_id, key in keys.items():
                if key in sheet.keys:
                    self.letters[(sheet.title, item_list.id, column_id)] = get_column_letter(sheet.keys[key] + 1)
            rows = self.items.setdefault(item_list.id, [])
            points = {c.id: c.data_point(item_list.id) for c in item_list.columns}
            for index, row in enumerate(sheet.rows):
                if index == 0 and self._header(item_list, keys, row):
                    continue
                given: dict[str, str] = {}
                for column in item_list.columns:
                    cell = self._resolved(sheet, row.get(keys[column.id]), item_list.id, column.type)
                    if cell is None:
                        continue
                    answer = _answer(points[column.id], cell, self.lang)
                    if isinstance(answer, Valid):
                        given[column.id] = answer.value
                    else:
                        where = Where(sheet.title, cell.coordinate)
                        problem = CellProblem(
                            where, answer.code, answer.params, _content(cell), item_list.id, column.type
                        )
                        self.errors.append(problem)
                        self.broken_lists.add(item_list.id)
                        given[column.id] = "?"
                if given:
                    rows.append((sheet.title, _row_number(next(iter(row.values())).coordinate), given))

    def _header(self, item_list: ItemList, keys: Mapping[str, str], row: Mapping[str, _Cell]) -> bool:
        """The first row is the header when none of its list cells reads as a figure."""
        cells = [(c, row[keys[c.id]]) for c in item_list.columns if keys[c.id] in row]
        return all(
            isinstance(cell.value, str)
            and not isinstance(_answer(column.data_point(item_list.id), cell, self.lang), Valid)
            for column, cell in cells
        )

    # ---- the summary -------------------------------------------------------------------------

    def summary(
        self,
        member: str,
        cycle_year: int,
        current: Mapping[str, str],
        states: Mapping[str, KpiStatus],
    ) -> UploadSummary:
        for subject in self.duplicates:  # the first row of a duplicated key does not count either
            self.values.pop(subject, None)
            self.blank.pop(subject, None)
        changes: dict[str, FigureChange] = {}
        lists = self._lists(current, changes)
        for dp_id, given in self.values.items():
            dp = self.catalog.data_points[dp_id]
            derived = changes.get(dp_id)
            if derived is None:
                changes[dp_id] = FigureChange(dp_id, current.get(dp_id), given.value, given.where, given.formula)
            elif derived.new != given.value:
                params = {"sheet": derived.where.sheet, "value": derived.new}
                content = Decimal(given.value) if dp.is_numeric else given.value
                self.errors.append(CellProblem(given.where, CellCode.TOTAL_DIFFERS, params, content, dp_id, dp.type))
        new = tuple(c for c in changes.values() if c.old is None)
        changed = tuple(c for c in changes.values() if c.old is not None and c.old != c.new)
        unchanged = tuple(c.data_point for c in changes.values() if c.old == c.new)
        blanks = self._blanks(states)
        reopened = self._reopened(states, (*new, *changed), lists, blanks)
        after_values = {**current, **{c.data_point: c.new for c in (*new, *changed)}}
        after_values.update({c.key: c.new for c in lists})
        before_blank = {k: s.reason for k, s in states.items() if s.status is KpiState.BLANK}
        after_blank = {k: r for k, r in before_blank.items() if k not in reopened}
        after_blank.update({b.kpi: b.reason for b in blanks})
        computable, recomputed = [], []
        for kpi in self.catalog.kpis:
            before = compute(self.catalog, kpi, current, before_blank.get(kpi.id))
            after = compute(self.catalog, kpi, after_values, after_blank.get(kpi.id))
            if isinstance(after, Computed) and not isinstance(before, Computed):
                computable.append((kpi.id, after))
            elif isinstance(after, Computed) and isinstance(before, Computed) and after.value != before.value:
                recomputed.append((kpi.id, before, after))
        return UploadSummary(
            member=member,
            cycle_year=cycle_year,
            new=new,
            changed=changed,
            unchanged=unchanged,
            lists=lists,
            blanks=blanks,
            reopened=reopened,
            comments=dict(self.comments),
            errors=tuple(self.errors),
            computable=tuple(computable),
            recomputed=tuple(recomputed),
            formulas=tuple(self.formulas),
        )

    def _lists(self, current: Mapping[str, str], changes: dict[str, FigureChange]) -> tuple[ListChange, ...]:
        """Each complete, valid list: its change, and its totals into `changes`."""
        out = []
        for item_list in self.catalog.item_lists:
            rows = self.items.get(item_list.id)
            if not rows or not self._complete(item_list, rows) or item_list.id in self.broken_lists:
                continue
            ids = tuple(c.id for c in item_list.columns)
            items = item_lists.Items(ids, tuple(tuple(given.get(c, "") for c in ids) for _, _, given in rows))
            sheet = self.list_sheets[item_list.id]
            totals: list[FigureChange] = []
            for dp_id, value in item_lists.totals(item_list, items).items():
                dp = self.catalog.data_points[dp_id]
                column = next((c.id for c in item_list.columns if dp_id in (c.total, c.mean)), ids[0])
                letter = self.letters.get((sheet, item_list.id, column), "A")
                where = Where(sheet, f"{letter}:{letter}")
                check = check_number(dp, Decimal(value))
                if isinstance(check, Valid):
                    totals.append(FigureChange(dp_id, current.get(dp_id), value, where, from_list=item_list.id))
                else:
                    problem = _problem(check)
                    self.errors.append(CellProblem(where, problem.code, problem.params, Decimal(value), dp_id, dp.type))
            if len(totals) < len(item_lists.totals(item_list, items)):
                continue
            changes.update({c.data_point: c for c in totals})
            encoded = item_lists.encode(items)
            if current.get(item_list.answer_key) != encoded:
                old = current.get(item_list.answer_key)
                out.append(ListChange(item_list.id, item_list.answer_key, old, encoded, len(rows), sheet))
        return tuple(out)

    def _complete(self, item_list: ItemList, rows: list[tuple[str, int, dict[str, str]]]) -> bool:
        """A column is given in every row or in none (then the KPIs using it keep their totals)."""
        complete = True
        for column in item_list.columns:
            given = [column.id in values for _, _, values in rows]
            if any(given) and not all(given):
                complete = False
                for (sheet, number, _), present in zip(rows, given, strict=True):
                    if not present:
                        letter = self.letters.get((sheet, item_list.id, column.id), "?")
                        where = Where(sheet, f"{letter}{number}")
                        params = {"column": column.id}
                        self.errors.append(CellProblem(where, CellCode.LIST_INCOMPLETE, params, "", item_list.id))
        return complete

    def _blanks(self, states: Mapping[str, KpiStatus]) -> tuple[BlankChange, ...]:
        out = []
        for kpi in self.catalog.kpis:
            if kpi.id not in self.blank:
                continue
            reason, comment, where = self.blank[kpi.id]
            state = states.get(kpi.id)
            same = state is not None and state.status is KpiState.BLANK and state.reason == reason
            if not (same and comment in (None, state.comment if state else None)):
                out.append(BlankChange(kpi.id, reason, comment, where))
        return tuple(out)

    def _reopened(
        self,
        states: Mapping[str, KpiStatus],
        figures: tuple[FigureChange, ...],
        lists: tuple[ListChange, ...],
        blanks: tuple[BlankChange, ...],
    ) -> tuple[str, ...]:
        """KPIs left blank that get new figures on their own rows (as in chat, answering a blank
        KPI reopens it: :func:`pmm_core.domain.actions.reopened`), unless the file leaves them
        blank again. (Confirmed KPIs whose figures change reopen too, at Apply.)"""
        home = homes(self.catalog)
        touched = {home[c.data_point] for c in figures if c.from_list is None}
        touched |= {
            kpi for c in lists for kpi in self.catalog.item_list_of if self.catalog.item_list_of[kpi].id == c.item_list
        }
        again = {b.kpi for b in blanks}
        reopen = actions.reopened(self.catalog, states, changed=(), given_for=touched - again)
        return tuple(k.id for k in self.catalog.kpis if k.id in reopen)


def _answer(dp: DataPoint, cell: _Cell, lang: str) -> Valid | _Bad:
    """A cell checked like a typed answer; a number cell is an exact decimal from its text."""
    value = cell.value
    if cell.error:
        return _Bad(CellCode.CELL_ERROR)
    if isinstance(value, bool):
        if dp.type is DataType.YES_NO:
            return Valid("yes" if value else "no")
        return _bad(validate(dp, "TRUE" if value else "FALSE", lang))
    if isinstance(value, (int, float)):
        number = Decimal(str(value))
        if not number.is_finite():
            return _Bad(ErrorCode.NOT_A_NUMBER)
        if dp.type is DataType.PERCENT and _percent_format(cell.number_format):
            number = number.scaleb(2)  # a cell formatted as %: Excel stores 98.1 % as 0.981
        if dp.is_numeric:
            return _bad(check_number(dp, number))
        return _bad(validate(dp, canonical(number), "en"))
    if isinstance(value, (datetime, date, time, timedelta)):
        return _Bad(CellCode.DATE_TIME)
    return _bad(validate(dp, str(value), lang))


def _bad(result: object) -> Valid | _Bad:
    return result if isinstance(result, Valid) else _problem(result)


def _problem(result: object) -> _Bad:
    """A check result that is not Valid, as a code and its parameters (the answer checks may
    grow new kinds of results, e.g. an ambiguous number: each is a problem with its code)."""
    code = getattr(result, "code", None)
    params = getattr(result, "params", None) or {}
    return _Bad(str(code) if code is not None else CellCode.UNREADABLE, {str(k): str(v) for k, v in params.items()})


def _percent_format(number_format: str) -> bool:
    """The format shows the value as a percentage (a % outside quotes and escapes)."""
    return "%" in re.sub(r'"[^"]*"|\\.', "", number_format)


def _content(cell: _Cell) -> str | Decimal:
    value = cell.value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = Decimal(str(value))
        return number if number.is_finite() else str(value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    text = _text(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _reason_index(catalog: Catalog) -> dict[str, str]:
    """A blank reason as chosen from the list (any language), or its number or code."""
    index: dict[str, str] = {}
    for n, reason in enumerate(catalog.blank_reasons, start=1):
        index[str(n)] = index[reason.code] = reason.code
        for lang in LANGUAGES:
            index[fold(reason.text.get(lang))] = reason.code
    return index


def _row_number(coordinate: str) -> int:
    digits = re.search(r"[0-9]+$", coordinate)
    return int(digits.group()) if digits else 0
