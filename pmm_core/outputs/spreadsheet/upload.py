"""Reading a filled template back: what it would change, checked like typed answers.

Nothing is written anywhere: :func:`read_upload` returns an :class:`UploadSummary` whose
``writes`` and ``blanks`` the caller applies (in one transaction) if the NCP confirms.

A file is refused as a whole (:class:`BadFile`, one :class:`FileProblem`) when it is too large,
not an XLSX, password-protected, a zip bomb, holds far more cells or text than a template,
takes longer than its time limit, was not made by /template, is for another Member or another
cycle, is too long, has merged cells in a data sheet, or has rows whose key is not a PMM
figure. Otherwise each unreadable cell is one :class:`CellProblem` (sheet, cell, code,
parameters) and the other cells still count.

Reading is streamed and bounded (:mod:`pmm_core.outputs.spreadsheet.xlsx`): memory stays small whatever
the file declares, and every row counts, those past a sheet's declared dimension included;
more than 100,000 rows over the data sheets refuse the file.

Lists (one row per declaration or officer) are applied whole or not at all: a list with a bad
row is not applied, and the summary gives its problems row by row (:class:`ListRefusal`).
Rows are checked against their own limits too (gaps ≤ competencies).

Formulas: a value cell holding a formula counts with the result saved in the file (as
Excel and LibreOffice save it); a formula without a saved result is refused for that cell.
A text cell that the template neutralised (a leading apostrophe before ``=``, ``+``, ``-``,
``@``…) is read without that apostrophe (:func:`pmm_core.outputs.sheets.restore`).

Times: a minutes figure in a cell formatted as a time (``2:30``, ``[h]:mm``) is read as the
time it shows (150 min); a date, or a time for another kind of figure, is refused with what
the spreadsheet shows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from enum import StrEnum
from functools import lru_cache
from typing import Any, NamedTuple

from pmm_core.catalog.models import Catalog, DataPoint, DataType, ItemList
from pmm_core.domain import actions, item_lists
from pmm_core.domain.answers import ErrorCode, Valid, canonical, check_number, fold, validate
from pmm_core.domain.records import KpiState, KpiStatus
from pmm_core.domain.results import Computed, compute
from pmm_core.domain.text import LANGUAGES
from pmm_core.outputs.sheets import restore
from pmm_core.outputs.spreadsheet import xlsx
from pmm_core.outputs.spreadsheet.bad_file import BadFile, FileProblem
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

MAX_FILE_BYTES = xlsx.MAX_FILE_BYTES
MAX_UNPACKED = xlsx.MAX_UNPACKED
MAX_PARTS = xlsx.MAX_PARTS
MAX_ROWS = 100_000  # rows over all data sheets, counted from their row numbers
MAX_COLUMNS = 60  # the keys must be within the first 60 columns
META_ROWS = 20

__all__ = [
    "MAX_COLUMNS",
    "MAX_FILE_BYTES",
    "MAX_PARTS",
    "MAX_ROWS",
    "MAX_UNPACKED",
    "BadFile",
    "BlankChange",
    "CellCode",
    "CellProblem",
    "FigureChange",
    "FileProblem",
    "ListChange",
    "ListRefusal",
    "RowProblems",
    "TimeCell",
    "UploadSummary",
    "Where",
    "read_upload",
]


class CellCode(StrEnum):
    """Problems with one cell beyond those of a typed answer (pmm_core.answers.ErrorCode)."""

    FORMULA_NO_VALUE = "formula_no_value"
    DATE_TIME = "date_time"  # params: "date" (ISO) or "time" (h:mm) as the spreadsheet shows it
    TIME_OVER_A_DAY = "time_over_a_day"  # a minutes cell formatted as a time of day holding ≥ 1 day
    CELL_ERROR = "cell_error"
    DUPLICATE = "duplicate"
    UNKNOWN_REASON = "unknown_reason"
    LIST_INCOMPLETE = "list_incomplete"
    OVER_COLUMN = "over_column"  # a list cell over another column of its row (gaps > competencies)
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
class RowProblems:
    """One row of a list, with everything wrong in it."""

    sheet: str
    number: int  # the row's number in the sheet
    item: str  # the row's own reference (declaration, officer), "" if none
    problems: tuple[CellProblem, ...]


@dataclass(frozen=True)
class ListRefusal:
    """A list that is not applied (nothing of it counts), and why, row by row."""

    item_list: str
    sheet: str
    rows: int  # the rows given
    bad_rows: tuple[RowProblems, ...]
    totals: tuple[CellProblem, ...] = ()  # totals the rows give that are not valid figures

    @property
    def problems(self) -> tuple[CellProblem, ...]:
        return (*(p for row in self.bad_rows for p in row.problems), *self.totals)


@dataclass(frozen=True)
class TimeCell:
    """A minutes figure read from a cell formatted as a time."""

    where: Where
    shown: str  # as the spreadsheet shows it: "2:30", "26:30", "0:45:30"
    minutes: str  # the canonical figure read


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
    errors: tuple[CellProblem, ...]  # every problem, those of refused lists included
    computable: tuple[tuple[str, Computed], ...]  # KPIs that become computable, with their results
    recomputed: tuple[tuple[str, Computed, Computed], ...] = ()  # KPIs whose result changes: before, after
    formulas: tuple[Where, ...] = ()  # value cells read from a formula's saved result
    refused_lists: tuple[ListRefusal, ...] = ()
    times: tuple[TimeCell, ...] = ()  # minutes read from time cells (of what is applied)

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
    seconds: float | None = None,
) -> UploadSummary:
    """What the file would change for `member` in the cycle `cycle_year`; raises BadFile
    (TOO_SLOW when reading takes more than `seconds`).

    Text cells are read like typed answers in `lang` (the reader's number format's tag, as
    :attr:`pmm_core.outputs.i18n.Lang.tag`: "es-MX"); number cells as exact decimals (from the
    digits the file holds)."""
    book = xlsx.Workbook(data, seconds)
    _check_metadata(_metadata(book), member, cycle_year)
    reading = _Reading(catalog, lang, book)
    counted = 0
    for sheet in book.sheets:
        if sheet.name != META_SHEET:
            counted += reading.sheet(book.sheet(sheet, MAX_COLUMNS, MAX_ROWS - counted, MAX_ROWS))
    if not reading.data_sheets:
        raise BadFile(FileProblem.NOT_A_TEMPLATE)
    reading.check_ids()
    return reading.summary(member, cycle_year, current_values, current_states)


# ---- the metadata --------------------------------------------------------------------------------


def _metadata(book: xlsx.Workbook) -> dict[str, str]:
    sheet = next((s for s in book.sheets if s.name == META_SHEET), None)
    if sheet is None:
        raise BadFile(FileProblem.NOT_A_TEMPLATE)
    meta: dict[str, str] = {}
    for number, raw in book.sheet(sheet, 2, MAX_ROWS, MAX_ROWS).rows():
        if number > META_ROWS:
            break
        cells = {c.column: _convert(book, c) for c in raw}
        key, value = cells.get(0), cells.get(1)
        if key is not None:
            meta.setdefault(_text(key.value), _text(value.value) if value is not None else "")
    return meta


def _check_metadata(meta: Mapping[str, str], member: str, cycle_year: int) -> None:
    if Meta.MEMBER not in meta or Meta.CYCLE_YEAR not in meta:
        raise BadFile(FileProblem.NOT_A_TEMPLATE)
    if meta.get(Meta.VERSION) != str(TEMPLATE_VERSION):
        raise BadFile(FileProblem.TEMPLATE_VERSION)
    if meta[Meta.MEMBER].upper() != member.upper():
        raise BadFile(FileProblem.WRONG_MEMBER, file_member=meta[Meta.MEMBER], member=member)
    if meta[Meta.CYCLE_YEAR] != str(cycle_year):
        raise BadFile(FileProblem.WRONG_CYCLE, file_year=meta[Meta.CYCLE_YEAR], year=str(cycle_year))


# ---- cells -----------------------------------------------------------------------------------------


class _Cell(NamedTuple):
    value: Any  # Decimal (a number), str (text), bool; None: a formula without a saved result
    coordinate: str
    formula: str | None = None  # the cell holds this formula; `value` is its saved result
    error: bool = False  # an error value such as #DIV/0!
    number_format: str = "General"
    iso_date: bool = False  # a date cell written as ISO 8601 text

    @property
    def empty(self) -> bool:
        return self.value is None or (isinstance(self.value, str) and not self.value.strip())


def _convert(book: xlsx.Workbook, raw: xlsx.Cell | None) -> _Cell | None:
    """The cell as the reader interprets it; None when it holds nothing."""
    if raw is None:
        return None
    text, kind = raw.text, raw.kind
    if raw.formula is None and (text is None or (kind == "s" and not text.strip())):
        return None
    value: Any = None
    if text is not None:
        if kind == "n":
            value = _number(text)
        elif kind == "b":
            value = text.strip().lower() in ("1", "true")
        elif kind == "s" and raw.formula is None:
            value = restore(text)  # the text as it was before the template neutralised it
        else:
            value = text
    return _Cell(
        value,
        raw.coordinate,
        formula=raw.formula,
        error=kind == "e",
        number_format=book.number_format(raw.style),
        iso_date=kind == "d",
    )


def _number(text: str) -> Decimal | str:
    """A number cell's digits as an exact decimal, read as openpyxl reads them (an integer, or
    a float's shortest form); the text itself when it is not a number."""
    try:
        if "." in text or "e" in text or "E" in text:
            return Decimal(repr(float(text)))
        return Decimal(int(text))
    except ValueError:
        return text


class _Format(StrEnum):
    NUMBER = "number"
    PERCENT = "percent"
    DATE = "date"
    TIME = "time"  # a time of day: h:mm, h:mm:ss AM/PM
    ELAPSED = "elapsed"  # a duration: [h]:mm


@lru_cache(maxsize=512)
def _format_kind(number_format: str) -> _Format:
    """What a number format shows: quoted text, escaped characters, colours, conditions and
    locales are left out before its letters are looked at."""
    code = re.sub(r'"[^"]*"|\\.|[_*].', "", number_format.split(";")[0])
    if re.search(r"\[(h+|m+|s+)\]", code, re.IGNORECASE):
        return _Format.ELAPSED
    code = re.sub(r"\[[^\]]*\]", "", code).lower()
    code = code.replace("general", "").replace("am/pm", "").replace("a/p", "")
    if "y" in code or "d" in code or ("m" in code and "h" not in code and "s" not in code):
        return _Format.DATE
    if "h" in code or "s" in code:
        return _Format.TIME
    if "%" in code:
        return _Format.PERCENT
    return _Format.NUMBER


def _seconds(days: Decimal) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 40
        return (days * 86400).quantize(Decimal(1), rounding=ROUND_HALF_UP)


def _minutes(days: Decimal) -> Decimal:
    """A spreadsheet time (a fraction of a day) in minutes, to the second (2 decimals)."""
    if days.adjusted() > 12:  # far beyond any figure: let the bounds refuse it
        return days * 1440
    seconds = _seconds(days)
    if seconds % 60 == 0:
        return seconds / 60
    with localcontext() as ctx:
        ctx.prec = 40
        return (seconds / 60).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _clock(days: Decimal, elapsed: bool) -> str:
    """A time as a spreadsheet shows it: 2:30, 26:30 (a duration), 0:45:30."""
    if abs(days.adjusted()) > 12:
        return canonical(days)
    seconds = int(_seconds(abs(days)))
    if not elapsed:
        seconds %= 86400
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    sign = "-" if days < 0 else ""
    return f"{sign}{hours}:{minutes:02d}" + (f":{secs:02d}" if secs else "")


def _date(serial: Decimal, date1904: bool) -> str:
    """A date serial as an ISO date ("" when it is no date: before 1900, past 9999, Excel's
    phantom 29 February 1900)."""
    if not serial.is_finite() or serial < 1 or serial > 2_958_465:
        return ""
    days = int(serial)
    if date1904:
        return (date(1904, 1, 1) + timedelta(days=days)).isoformat()
    if days == 60:
        return ""
    return (date(1899, 12, 31 if days < 60 else 30) + timedelta(days=days)).isoformat()


# ---- reading the sheets -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Bad:
    code: str
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Given:
    value: str
    where: Where
    formula: bool
    time: TimeCell | None = None


_NO_TIMES: tuple[TimeCell, ...] = ()


@dataclass(slots=True)
class _ListRow:
    sheet: str
    number: int
    item: str
    values: tuple[str | None, ...]  # per column: the canonical value, "?" if invalid, None if empty
    problems: list[CellProblem]
    times: tuple[TimeCell, ...]


@dataclass
class _List:
    item_list: ItemList
    sheet: str  # the (first) sheet holding it
    rows: list[_ListRow] = field(default_factory=list)
    letters: dict[str, str] = field(default_factory=dict)  # column id → letter (on the first sheet)


class _Reading:
    def __init__(self, catalog: Catalog, lang: str, book: xlsx.Workbook) -> None:
        self.catalog, self.lang, self.book = catalog, lang, book
        self.values: dict[str, _Given] = {}
        self.blank: dict[str, tuple[str, str | None, Where]] = {}
        self.comments: dict[str, str] = {}
        self.errors: list[CellProblem] = []
        self.seen: dict[str, Where] = {}
        self.duplicates: set[str] = set()
        self.formulas: list[Where] = []
        self.lists: dict[str, _List] = {}
        self.reasons = _reason_index(catalog)
        self.data_sheets = 0
        self.unknown: list[str] = []  # the first few keys that are no PMM figure
        self.unknown_count = 0
        self.list_keys = {list_key(lst, c.id) for lst in catalog.item_lists for c in lst.columns}
        self.points = {(lst.id, c.id): c.data_point(lst.id) for lst in catalog.item_lists for c in lst.columns}

    def sheet(self, stream: xlsx.SheetStream) -> int:
        """Reads one sheet as it streams; the rows it counts (every row of a data sheet, up to its
        last; the rows looked at in another sheet)."""
        title = stream.sheet.name
        keys: dict[str, int] | None = None
        plans: list[tuple[_List, dict[str, str]]] = []
        first = True
        for number, raw in stream.rows():
            if keys is None:
                if number > KEY_ROW_SEARCH:
                    break
                keys = _keys([_convert(self.book, c) for c in raw], raw)
                if keys is not None and _is_list(keys):
                    for key in keys:
                        if "." in key and key not in self.list_keys:
                            self._unknown(f"{title}: {key[:40]}")
                    plans = self._list_plans(title, keys)
                if keys is not None:
                    stream.wanted = frozenset(keys.values())
                continue
            by_column = {c.column: c for c in raw}
            row: dict[str, _Cell] = {}
            for key, column in keys.items():
                if column in by_column:
                    cell = _convert(self.book, by_column[column])
                    if cell is not None:
                        row[key] = cell
            if not row:
                continue
            if _is_list(keys):
                self._list_row(title, number, plans, row, first)
            else:
                self._dimension_row(title, row)
            first = False
        if keys is None:
            return min(stream.last_row, KEY_ROW_SEARCH)
        self.data_sheets += 1
        if stream.merged_count:
            shown = ", ".join(stream.merged[:3]) + (" …" if stream.merged_count > 3 else "")
            raise BadFile(FileProblem.MERGED_CELLS, sheet=title, cells=shown)
        return stream.last_row

    def _unknown(self, what: str) -> None:
        self.unknown_count += 1
        if len(self.unknown) < 5:
            self.unknown.append(what)

    def check_ids(self) -> None:
        if self.unknown_count:
            shown = ", ".join(self.unknown) + (" …" if self.unknown_count > 5 else "")
            raise BadFile(FileProblem.UNKNOWN_IDS, cells=shown, count=str(self.unknown_count))

    # ---- a dimension sheet ---------------------------------------------------------------------------

    def _dimension_row(self, title: str, row: Mapping[str, _Cell]) -> None:
        id_cell = row.get(Key.ID)
        if id_cell is None:
            return
        subject = _text(id_cell.value)
        where = Where(title, id_cell.coordinate)
        if subject not in self.catalog.data_points and subject not in self.catalog.kpi_by_id:
            self._unknown(f"{where} {subject[:40]}")
            return
        if subject in self.seen:
            self.duplicates.add(subject)
            self.errors.append(
                CellProblem(where, CellCode.DUPLICATE, {"other": str(self.seen[subject])}, subject, subject)
            )
            return
        self.seen[subject] = where
        comment = row.get(Key.COMMENT)
        if comment is not None and comment.formula is None:
            self.comments[subject] = _text(comment.value)
        if subject in self.catalog.kpi_by_id:
            self._blank(title, subject, row.get(Key.BLANK))
        else:
            self._value(title, self.catalog.data_points[subject], row.get(Key.VALUE))

    def _value(self, title: str, dp: DataPoint, cell: _Cell | None) -> None:
        cell = self._resolved(title, cell, dp.id, dp.type, self.errors)
        if cell is None:
            return
        where = Where(title, cell.coordinate)
        answer = _answer(dp, cell, self.lang, self.book.date1904)
        if isinstance(answer, Valid):
            self.values[dp.id] = _Given(answer.value, where, cell.formula is not None, _time(dp, cell, where, answer))
        else:
            self.errors.append(CellProblem(where, answer.code, answer.params, _content(cell), dp.id, dp.type))

    def _blank(self, title: str, kpi: str, cell: _Cell | None) -> None:
        cell = self._resolved(title, cell, kpi, None, self.errors)
        if cell is None:
            return
        where = Where(title, cell.coordinate)
        reason = self.reasons.get(fold(_text(cell.value)))
        if reason is None:
            self.errors.append(CellProblem(where, CellCode.UNKNOWN_REASON, {}, _content(cell), kpi))
        else:
            self.blank[kpi] = (reason, self.comments.pop(kpi, None), where)

    def _resolved(
        self, title: str, cell: _Cell | None, subject: str, kind: DataType | None, problems: list[CellProblem]
    ) -> _Cell | None:
        """The cell to read (a formula's saved result), or None (empty, or a problem recorded)."""
        if cell is None or cell.formula is None:
            return cell
        where = Where(title, cell.coordinate)
        if cell.empty:
            problems.append(CellProblem(where, CellCode.FORMULA_NO_VALUE, {}, _text(cell.formula), subject, kind))
            return None
        self.formulas.append(where)
        return cell

    # ---- a list sheet ---------------------------------------------------------------------------------

    def _list_plans(self, title: str, keys: Mapping[str, int]) -> list[tuple[_List, dict[str, str]]]:
        """The lists a list sheet holds: each with its column id → key (the columns it has)."""
        plans = []
        for item_list in self.catalog.item_lists:
            columns = {c.id: list_key(item_list, c.id) for c in item_list.columns}
            if not set(columns.values()) & set(keys):
                continue
            state = self.lists.get(item_list.id)
            if state is None:
                state = self.lists[item_list.id] = _List(item_list, title)
            if state.sheet == title:
                for column_id, key in columns.items():
                    if key in keys:
                        state.letters.setdefault(column_id, xlsx.column_letter(keys[key]))
            plans.append((state, columns))
        return plans

    def _list_row(
        self, title: str, number: int, plans: list[tuple[_List, dict[str, str]]], row: Mapping[str, _Cell], first: bool
    ) -> None:
        item_cell = row.get(ITEM_KEY)
        item = _text(item_cell.value)[:40] if item_cell is not None and item_cell.formula is None else ""
        for state, columns in plans:
            item_list = state.item_list
            if first and self._header(item_list, columns, row):
                continue
            values: list[str | None] = []
            problems: list[CellProblem] = []
            times: list[TimeCell] = []
            for column in item_list.columns:
                before = len(problems)
                cell = self._resolved(title, row.get(columns[column.id]), item_list.id, column.type, problems)
                if cell is None:
                    values.append("?" if len(problems) > before else None)  # "?": a formula without its result
                    continue
                dp = self.points[(item_list.id, column.id)]
                answer = _answer(dp, cell, self.lang, self.book.date1904)
                if isinstance(answer, Valid):
                    values.append(answer.value)
                    if isinstance(cell.value, Decimal) and dp.type is DataType.MINUTES:
                        shown = _time(dp, cell, Where(title, cell.coordinate), answer)
                        if shown is not None:
                            times.append(shown)
                else:
                    where = Where(title, cell.coordinate)
                    problems.append(
                        CellProblem(where, answer.code, answer.params, _content(cell), item_list.id, column.type)
                    )
                    values.append("?")
            problems += _over_columns(item_list, values, row, columns, title)
            if item or problems or any(v is not None for v in values):  # a reference alone is a row too
                state.rows.append(_ListRow(title, number, item, tuple(values), problems, tuple(times) or _NO_TIMES))

    def _header(self, item_list: ItemList, columns: Mapping[str, str], row: Mapping[str, _Cell]) -> bool:
        """The first row is the header when none of its list cells reads as a figure."""
        cells = [(c, row[columns[c.id]]) for c in item_list.columns if columns[c.id] in row]
        return all(
            isinstance(cell.value, str)
            and not isinstance(_answer(self.points[(item_list.id, column.id)], cell, self.lang), Valid)
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
        lists, refused, list_times = self._lists(current, changes)
        times = list(list_times)
        for dp_id, given in self.values.items():
            dp = self.catalog.data_points[dp_id]
            derived = changes.get(dp_id)
            if derived is None:
                changes[dp_id] = FigureChange(dp_id, current.get(dp_id), given.value, given.where, given.formula)
                if given.time is not None:
                    times.append(given.time)
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
            refused_lists=refused,
            times=tuple(sorted(times, key=lambda t: (t.where.sheet, _row_number(t.where.cell)))),
        )

    def _lists(
        self, current: Mapping[str, str], changes: dict[str, FigureChange]
    ) -> tuple[tuple[ListChange, ...], tuple[ListRefusal, ...], tuple[TimeCell, ...]]:
        """Each list whole or not at all: a list without a problem in any row gives its change and
        its totals (into `changes`); a list with one is refused, with its problems row by row."""
        out: list[ListChange] = []
        refused: list[ListRefusal] = []
        times: list[TimeCell] = []
        for item_list in self.catalog.item_lists:
            state = self.lists.get(item_list.id)
            if state is None or not any(r.problems or any(v is not None for v in r.values) for r in state.rows):
                continue  # no row gives a figure (references alone): the stored list stays
            self._incomplete(state)
            rows = state.rows
            bad = tuple(RowProblems(r.sheet, r.number, r.item, tuple(r.problems)) for r in rows if r.problems)
            if bad:
                refused.append(ListRefusal(item_list.id, state.sheet, len(rows), bad))
                self.errors += [p for r in bad for p in r.problems]
                continue
            ids = tuple(c.id for c in item_list.columns)
            items = item_lists.Items(ids, tuple(tuple(v or "" for v in r.values) for r in rows))
            totals: list[FigureChange] = []
            failed: list[CellProblem] = []
            for dp_id, value in item_lists.totals(item_list, items).items():
                dp = self.catalog.data_points[dp_id]
                column = next((c.id for c in item_list.columns if dp_id in (c.total, c.mean)), ids[0])
                letter = state.letters.get(column, "A")
                where = Where(state.sheet, f"{letter}:{letter}")
                check = check_number(dp, Decimal(value))
                if isinstance(check, Valid):
                    totals.append(FigureChange(dp_id, current.get(dp_id), value, where, from_list=item_list.id))
                else:
                    problem = _problem(check)
                    failed.append(CellProblem(where, problem.code, problem.params, Decimal(value), dp_id, dp.type))
            if failed:
                refused.append(ListRefusal(item_list.id, state.sheet, len(rows), (), tuple(failed)))
                self.errors += failed
                continue
            changes.update({c.data_point: c for c in totals})
            times += [t for r in rows for t in r.times]
            encoded = item_lists.encode(items)
            if current.get(item_list.answer_key) != encoded:
                old = current.get(item_list.answer_key)
                out.append(ListChange(item_list.id, item_list.answer_key, old, encoded, len(rows), state.sheet))
        return tuple(out), tuple(refused), tuple(times)

    def _incomplete(self, state: _List) -> None:
        """A column is given in every row or in none (then the KPIs using it keep their totals):
        each row leaving out a column that others give gets that problem."""
        for i, column in enumerate(state.item_list.columns):
            given = [r.values[i] is not None for r in state.rows]
            if any(given) and not all(given):
                letter = state.letters.get(column.id, "?")
                for row, present in zip(state.rows, given, strict=True):
                    if not present:
                        where = Where(row.sheet, f"{letter}{row.number}")
                        row.problems.append(
                            CellProblem(where, CellCode.LIST_INCOMPLETE, {"column": column.id}, "", state.item_list.id)
                        )
        for row in state.rows:
            row.problems.sort(key=lambda p: _column_of(p.where.cell))

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
        blank again. A list reopens only the KPIs it gives: a column left empty (TF-05's lodging
        times) leaves its KPI blank, with its reason. (Confirmed KPIs whose figures change reopen
        too, at Apply.)"""
        home = homes(self.catalog)
        touched = {home[c.data_point] for c in figures if c.from_list is None}
        for change in lists:
            item_list = next(lst for lst in self.catalog.item_lists if lst.id == change.item_list)
            items = item_lists.decode(change.new)
            if items is not None:
                touched |= {k for k in item_list.kpis if item_lists.usable_for(item_list, k, items)}
        again = {b.kpi for b in blanks}
        reopen = actions.reopened(self.catalog, states, changed=(), given_for=touched - again)
        return tuple(k.id for k in self.catalog.kpis if k.id in reopen)


def _keys(cells: Iterable[_Cell | None], raw: list[xlsx.Cell]) -> dict[str, int] | None:
    keys: dict[str, int] = {}
    for cell, source in zip(cells, raw, strict=True):
        value = cell.value if cell is not None else None
        if isinstance(value, str) and value.strip():
            keys.setdefault(value.strip().lower(), source.column)
    if Key.ID in keys and Key.VALUE in keys:
        return keys
    if ITEM_KEY in keys and any("." in k for k in keys):
        return keys
    return None


def _is_list(keys: Mapping[str, int]) -> bool:
    return Key.ID not in keys


def _over_columns(
    item_list: ItemList, values: list[str | None], row: Mapping[str, _Cell], columns: Mapping[str, str], title: str
) -> list[CellProblem]:
    """A row's own limits: a column that cannot exceed another one of the same row."""
    ids = [c.id for c in item_list.columns]
    out = []
    for i, column in enumerate(item_list.columns):
        if column.at_most is None:
            continue
        value, limit = values[i], values[ids.index(column.at_most)]
        if value in (None, "?") or limit in (None, "?"):
            continue
        assert value is not None and limit is not None
        if Decimal(value) > Decimal(limit):
            cell = row[columns[column.id]]
            params = {"other": column.at_most, "limit": limit}
            out.append(
                CellProblem(
                    Where(title, cell.coordinate),
                    CellCode.OVER_COLUMN,
                    params,
                    Decimal(value),
                    item_list.id,
                    column.type,
                )
            )
    return out


def _time(dp: DataPoint, cell: _Cell, where: Where, answer: Valid) -> TimeCell | None:
    """The time cell a minutes figure was read from, if it was."""
    if dp.type is not DataType.MINUTES or not isinstance(cell.value, Decimal):
        return None
    kind = _format_kind(cell.number_format)
    if kind not in (_Format.TIME, _Format.ELAPSED):
        return None
    return TimeCell(where, _clock(cell.value, kind is _Format.ELAPSED), answer.value)


def _answer(dp: DataPoint, cell: _Cell, lang: str, date1904: bool = False) -> Valid | _Bad:
    """A cell checked like a typed answer; a number cell is an exact decimal from its digits."""
    value = cell.value
    if cell.error:
        return _Bad(CellCode.CELL_ERROR)
    if isinstance(value, bool):
        if dp.type is DataType.YES_NO:
            return Valid("yes" if value else "no")
        return _bad(validate(dp, "TRUE" if value else "FALSE", lang))
    if isinstance(value, (int, float)):
        value = Decimal(str(value))
    if isinstance(value, Decimal):
        return _number_answer(dp, value, cell.number_format, date1904)
    if isinstance(value, (datetime, date, time, timedelta)):
        return _Bad(CellCode.DATE_TIME)
    if cell.iso_date:
        return _Bad(CellCode.DATE_TIME, {"date": str(value)[:10]})
    return _bad(validate(dp, str(value), lang))


def _number_answer(dp: DataPoint, number: Decimal, number_format: str, date1904: bool) -> Valid | _Bad:
    if not number.is_finite():
        return _Bad(ErrorCode.NOT_A_NUMBER)
    kind = _format_kind(number_format)
    if kind in (_Format.TIME, _Format.ELAPSED):
        if dp.type is not DataType.MINUTES:
            return _Bad(CellCode.DATE_TIME, {"time": _clock(number, kind is _Format.ELAPSED)})
        if kind is _Format.TIME and number >= 1:
            return _Bad(CellCode.TIME_OVER_A_DAY, {"days": canonical(number)})
        return _bad(check_number(dp, _minutes(number)))
    if kind is _Format.DATE:
        return _Bad(CellCode.DATE_TIME, {"date": _date(number, date1904)})
    if dp.type is DataType.PERCENT and kind is _Format.PERCENT:
        number = number.scaleb(2)  # a cell formatted as %: Excel stores 98.1 % as 0.981
    if dp.is_numeric:
        return _bad(check_number(dp, number))
    return _bad(validate(dp, canonical(number), "en"))


def _bad(result: object) -> Valid | _Bad:
    return result if isinstance(result, Valid) else _problem(result)


def _problem(result: object) -> _Bad:
    """A check result that is not Valid, as a code and its parameters (the answer checks may
    grow new kinds of results, e.g. an ambiguous number: each is a problem with its code)."""
    code = getattr(result, "code", None)
    params = getattr(result, "params", None) or {}
    return _Bad(str(code) if code is not None else CellCode.UNREADABLE, {str(k): str(v) for k, v in params.items()})


def _content(cell: _Cell) -> str | Decimal:
    value = cell.value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        value = Decimal(str(value))
    if isinstance(value, Decimal):
        return value if value.is_finite() else str(value)
    text = _text(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Decimal):
        try:
            return str(int(value)) if value == value.to_integral_value() else str(value)
        except (InvalidOperation, OverflowError):
            return str(value)
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


def _column_of(coordinate: str) -> str:
    letters = re.match(r"[A-Z]*", coordinate)
    return letters.group().rjust(3) if letters else ""
