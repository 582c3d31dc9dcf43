"""A past cycle brought in from a workbook: ``pmm-bot import --year Y FILE``.

The workbook is read in the export's own layout (:mod:`pmm_core.outputs.export`), in any of
the three languages: columns are found by their header, sheets by what their columns hold, so
an export of the bot re-imports to the same data. A past cycle's data from elsewhere needs
only these columns, on one sheet or several:

- the Member (its ISO code, or its name in English, French or Spanish);
- a data point (its id, or its label) and its value — a number, yes/no, an option's label;
- a KPI (its id) and its status (done, left blank, in progress, open), with the blank reason
  (its text or code) and, if any, a comment.

Every row is validated as a typed answer is (type, bounds, options), every KPI marked done
must compute from the Member's figures, every KPI left blank needs one of the five reasons.
One problem refuses the whole file and every problem is listed with its sheet and row; what
is read is a whole :class:`~pmm_core.domain.records.CycleData`, closed, that the store writes
in one transaction. Without the export's Members sheet, every Member in the file counts as
having submitted (the file is a closed cycle's data).
"""

from __future__ import annotations

import io
import zipfile
from collections import Counter
from collections.abc import Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from pmm_core.catalog.members import Member
from pmm_core.catalog.models import Catalog, DataPoint
from pmm_core.domain import item_lists
from pmm_core.domain.answers import AnswerError, Valid, Verdict, check_number, validate
from pmm_core.domain.progress import Status
from pmm_core.domain.records import Answer, Cycle, CycleData, CycleState, KpiState, KpiStatus, MemberState, Submission
from pmm_core.domain.results import NotComputable, compute
from pmm_core.outputs.i18n import LANGUAGES, lang
from pmm_core.outputs.labels import KPI_STATUS_NAMES, MEMBER_STATE_NAMES, NOT_COMPUTABLE_NAMES
from pmm_core.outputs.sheets import restore

MAX_PROBLEMS_SHOWN = 200

# What each column holds, by the export's header (a gettext msgid, read in the three
# languages) and by plain names a file from elsewhere may use.
_COLUMNS: dict[str, tuple[str, ...]] = {
    "iso": ("ISO code", "iso", "iso2", "iso code", "member code"),
    "member": ("Member", "member", "country"),
    "data_point": ("Data point", "data point", "data_point", "data point id"),
    "value": ("Value", "value"),
    "kpi": ("KPI", "kpi", "kpi id"),
    "status": ("Status", "status", "kpi status", "kpi_status"),
    "reason": ("Reason", "reason", "blank reason", "blank_reason"),
    "comment": ("Comment", "comment", "blank comment"),
    "at": ("At (UTC)",),
    "submitted_at": ("Submitted at (UTC)", "submitted at", "submitted_at"),
    "item": ("Item",),
}
# Sheets of the export that hold no data to bring back (flags are found again by the checks).
_SKIPPED_SHEETS = ("Flags", "Year on year", "Audit log")
_STATUS_CODES = {
    "confirmed": Status.DONE,
    "done": Status.DONE,
    "blank": Status.BLANK,
    "in_progress": Status.IN_PROGRESS,
    "open": Status.OPEN,
}
_KPI_STATE = {Status.DONE: KpiState.CONFIRMED, Status.BLANK: KpiState.BLANK, Status.IN_PROGRESS: KpiState.IN_PROGRESS}


@dataclass(frozen=True)
class Problem:
    sheet: str
    row: int  # the spreadsheet's row number (1 is the header)
    text: str

    def __str__(self) -> str:
        return f"{self.sheet}, row {self.row}: {self.text}" if self.row else f"{self.sheet}: {self.text}"


class ImportRefused(ValueError):
    """The workbook does not validate; `problems` lists every problem, row by row."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        shown = "\n".join(f"- {p}" for p in problems[:MAX_PROBLEMS_SHOWN])
        more = len(problems) - MAX_PROBLEMS_SHOWN
        tail = f"\n… and {more} more" if more > 0 else ""
        super().__init__(f"{len(problems)} problem(s); nothing was imported:\n{shown}{tail}")


def _fold(text: object) -> str:
    return " ".join(str(text).split()).casefold()


def _translations(msgid: str) -> set[str]:
    return {_fold(lang(code)._(msgid)) for code in LANGUAGES}


@dataclass
class _Reader:
    catalog: Catalog
    members: Mapping[str, Member]
    year: int
    source: str
    now: str
    problems: list[Problem] = field(default_factory=list)
    answers: dict[str, dict[str, tuple[Answer, Problem]]] = field(default_factory=dict)
    statuses: dict[tuple[str, str], tuple[Status, Problem]] = field(default_factory=dict)
    reasons: dict[tuple[str, str], tuple[str, str | None, str, Problem]] = field(default_factory=dict)
    bad_reasons: set[tuple[str, str]] = field(default_factory=set)  # (Member, KPI) with a reason not understood
    submitted: dict[str, str] | None = None  # Member → submitted at, from a Members sheet
    opens: date | None = None
    deadline: date | None = None
    language: str = "en"

    def __post_init__(self) -> None:
        self.headers = {
            concept: {h for name in names for h in (_translations(name) | {_fold(name)})}
            for concept, names in _COLUMNS.items()
        }
        self.by_name = {_fold(m.name(code)): m.iso2 for m in self.members.values() for code in LANGUAGES}
        labels: dict[str, set[str]] = {}
        for dp in self.catalog.data_points.values():
            for code in LANGUAGES:
                labels.setdefault(_fold(dp.label.get(code)), set()).add(dp.id)
        self.dp_by_label = {label: next(iter(ids)) for label, ids in labels.items() if len(ids) == 1}
        self.status_by_text = {_fold(code): status for code, status in _STATUS_CODES.items()}
        for status, msgid in KPI_STATUS_NAMES.items():
            self.status_by_text |= dict.fromkeys(_translations(msgid), status)
        self.reason_by_text = {_fold(r.code): r.code for r in self.catalog.blank_reasons}
        for reason in self.catalog.blank_reasons:
            self.reason_by_text |= {_fold(reason.text.get(code)): reason.code for code in LANGUAGES}
        self.submitted_names = _translations(MEMBER_STATE_NAMES[MemberState.SUBMITTED])
        self.skipped = {t for name in _SKIPPED_SHEETS for t in _translations(name)}
        self.item_lists = {lst.answer_key: lst for lst in self.catalog.item_lists}
        english = {_fold(names[0]) for names in _COLUMNS.values()}
        self.own_headers = {
            code: {_fold(lang(code)._(names[0])) for names in _COLUMNS.values()} - english for code in ("fr", "es")
        }
        self.votes: Counter[str] = Counter()

    def columns(self, header: tuple[object, ...]) -> dict[str, int]:
        """Concept → column index, from a header row (and a vote for the file's language)."""
        columns: dict[str, int] = {}
        for i, cell in enumerate(header):
            if cell is None:
                continue
            folded = _fold(restore(str(cell)))
            self.votes.update(code for code, own in self.own_headers.items() if folded in own)
            for concept, accepted in self.headers.items():
                if folded in accepted:
                    columns.setdefault(concept, i)
        return columns

    def vote(self) -> None:
        """The file's language: the one whose headers it uses (numbers typed as text are read
        in its conventions)."""
        if self.votes:
            self.language = self.votes.most_common(1)[0][0]

    # ---- sheets ----------------------------------------------------------------------------

    def sheet(self, title: str, rows: list[tuple[object, ...]]) -> None:
        if _fold(title) in self.skipped or not rows:
            return
        columns = self.columns(rows[0])
        who = "iso" in columns or "member" in columns
        if "item" in columns and "value" in columns and "data_point" not in columns:
            self._overview(title, rows[1:], columns)
            return
        if who and "submitted_at" in columns and "kpi" not in columns:
            self._members(title, rows[1:], columns)
            return
        data = who and "data_point" in columns and "value" in columns
        kpis = who and "kpi" in columns and ("status" in columns or "reason" in columns)
        if not (data or kpis):
            return
        for n, row in enumerate(rows[1:], start=2):
            if all(c is None or str(c).strip() == "" for c in row):
                continue
            cell = _Cells(row, columns)
            where = Problem(title, n, "")
            member = self._member(cell, where)
            if member is None:
                continue
            if data and cell.text("data_point"):
                self._data_row(member, cell, where)
            if kpis and cell.text("kpi") and (cell.text("status") or cell.text("reason")):
                self._kpi_row(member, cell, where, "status" in columns)

    def _overview(self, title: str, rows: list[tuple[object, ...]], columns: Mapping[str, int]) -> None:
        items = {
            "year": _translations("PMM cycle (reference year)"),
            "opens": _translations("Opens"),
            "deadline": _translations("Deadline"),
        }
        for n, row in enumerate(rows, start=2):
            cell = _Cells(row, columns)
            key = next((k for k, texts in items.items() if _fold(cell.text("item")) in texts), None)
            value = cell.raw("value")
            if key == "year" and value is not None and str(value).strip() != str(self.year):
                self.problems.append(Problem(title, n, f"the workbook is the cycle {value}, not {self.year} (--year)"))
            elif key in ("opens", "deadline") and isinstance(value, datetime | date):
                setattr(self, key, value.date() if isinstance(value, datetime) else value)

    def _members(self, title: str, rows: list[tuple[object, ...]], columns: Mapping[str, int]) -> None:
        self.submitted = self.submitted or {}
        for n, row in enumerate(rows, start=2):
            cell = _Cells(row, columns)
            if cell.raw("iso") is None and cell.raw("member") is None:
                continue
            member = self._member(cell, Problem(title, n, ""))
            at = cell.raw("submitted_at")
            if member is None or at in (None, ""):
                continue
            moment = _moment(at)
            if moment is None:
                self.problems.append(Problem(title, n, f"“{at}” is not a date and time"))
            else:
                self.submitted[member] = moment

    # ---- rows --------------------------------------------------------------------------------

    def _member(self, cell: _Cells, where: Problem) -> str | None:
        code = cell.text("iso").upper()
        if code in self.members:
            return code
        name = cell.text("member")
        if name.upper() in self.members:  # a code in the Member column
            return name.upper()
        if _fold(name) in self.by_name:
            return self.by_name[_fold(name)]
        given = code or name
        self._problem(where, f"unknown Member “{given}” (import the Members first: pmm-bot members import)")
        return None

    def _data_row(self, member: str, cell: _Cells, where: Problem) -> None:
        subject = cell.text("data_point")
        raw = cell.raw("value")
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return  # no value: no answer
        if subject in self.item_lists:
            value = self._item_list(subject, raw, where)
        else:
            dp_id = subject if subject in self.catalog.data_points else self.dp_by_label.get(_fold(subject))
            if dp_id is None:
                self._problem(where, f"unknown data point “{subject}”")
                return
            subject, value = dp_id, self._value(self.catalog.data_points[dp_id], raw, where)
        if value is None:
            return
        at = _moment(cell.raw("at")) or self.now
        known = self.answers.setdefault(member, {}).get(subject)
        if known is not None and known[0].value != value:
            self._problem(
                where,
                f"{subject} is given twice for {member}, with another value in {known[1].sheet}, row {known[1].row}",
            )
            return
        self.answers[member][subject] = (Answer(value, 0, at, self.source), where)

    def _value(self, dp: DataPoint, raw: object, where: Problem) -> str | None:
        if isinstance(raw, bool):
            raw = "yes" if raw else "no"
        if isinstance(raw, datetime | date):
            self._problem(where, f"{dp.id}: a date is not a valid answer")
            return None
        verdict: Verdict | None = None
        if isinstance(raw, int | float) and dp.is_numeric:
            with suppress(InvalidOperation):  # inf, nan
                verdict = check_number(dp, Decimal(repr(raw)) if isinstance(raw, float) else Decimal(raw))
        else:
            verdict = validate(dp, restore(str(raw)).strip(), self.language)
        shown = str(raw)[:60]
        if isinstance(verdict, Valid):
            return verdict.value
        if isinstance(verdict, AnswerError):
            params = {"example": "12400", "text": shown, "limit": "", **verdict.params}
            self._problem(where, f"{dp.id}: “{shown}”: " + lang("en")._(verdict.template).format(**params))
        elif verdict is None:
            self._problem(where, f"{dp.id}: “{shown}” is not a figure")
        else:
            self._problem(where, f"{dp.id}: “{shown}” reads two ways; write it without a thousands separator")
        return None

    def _item_list(self, key: str, raw: object, where: Problem) -> str | None:
        items = item_lists.decode(str(raw))
        lst = self.item_lists[key]
        if items is None or set(items.columns) - {c.id for c in lst.columns}:
            self._problem(where, f"{key}: not a list of {lst.name.en.lower()}")
            return None
        for row in items.rows:
            for column_id, value in zip(items.columns, row, strict=True):
                if value and isinstance(
                    check_number(lst.column(column_id).data_point(lst.id), Decimal(value)), AnswerError
                ):
                    self._problem(where, f"{key}: {column_id} {value} is not a valid figure")
                    return None
        return item_lists.encode(items)

    def _kpi_row(self, member: str, cell: _Cells, where: Problem, has_status: bool) -> None:
        kpi_id = cell.text("kpi").upper()
        if kpi_id not in self.catalog.kpi_by_id:
            self._problem(where, f"unknown KPI “{cell.text('kpi')}”")
            return
        status: Status | None = None
        if has_status and cell.text("status"):
            status = self.status_by_text.get(_fold(cell.text("status")))
            if status is None:
                self._problem(
                    where, f"{kpi_id}: unknown status “{cell.text('status')}” (done, left blank, in progress, open)"
                )
                return
            self.statuses[(member, kpi_id)] = (status, where)
        reason_text = cell.text("reason")
        if reason_text:
            reason = self.reason_by_text.get(_fold(reason_text))
            if reason is None:
                self.bad_reasons.add((member, kpi_id))
                self._problem(where, f"{kpi_id}: unknown blank reason “{reason_text[:80]}” (one of the five reasons)")
                return
            comment = cell.text("comment") or None
            self.reasons[(member, kpi_id)] = (reason, comment, _moment(cell.raw("at")) or self.now, where)

    def _problem(self, where: Problem, text: str) -> None:
        self.problems.append(Problem(where.sheet, where.row, text))

    # ---- the cycle ---------------------------------------------------------------------------

    def cycle_data(self) -> CycleData:
        states: dict[str, dict[str, KpiStatus]] = {}
        keys = set(self.statuses) | set(self.reasons)
        for member, kpi_id in sorted(keys):
            status, where = self.statuses.get((member, kpi_id), (Status.BLANK, None))
            reason = self.reasons.get((member, kpi_id))
            if reason is not None and status is not Status.BLANK:
                self._problem(reason[3], f"{kpi_id} has a blank reason but is not left blank")
                continue
            if status is Status.OPEN:
                continue
            assert where is not None or reason is not None
            here = where or reason[3]  # type: ignore[index]
            if status is Status.BLANK:
                if reason is None and (member, kpi_id) in self.bad_reasons:
                    continue  # told already
                if reason is None:
                    self._problem(here, f"{kpi_id} is left blank without a reason (one of the five reasons)")
                    continue
                code, comment, at, _ = reason
                states.setdefault(member, {})[kpi_id] = KpiStatus(KpiState.BLANK, code, comment, 0, at)
                continue
            if status is Status.DONE:
                values = {dp: a.value for dp, (a, _) in self.answers.get(member, {}).items()}
                result = compute(self.catalog, self.catalog.kpi(kpi_id), values)
                if isinstance(result, NotComputable):
                    why = lang("en")._(NOT_COMPUTABLE_NAMES[result.reason])
                    self._problem(here, f"{kpi_id} is done, but its result cannot be computed ({why})")
                    continue
            states.setdefault(member, {})[kpi_id] = KpiStatus(_KPI_STATE[status], None, None, 0, self.now)
        if self.problems:
            raise ImportRefused(sorted(self.problems, key=lambda p: (p.sheet, p.row)))
        answers = {m: {dp: a for dp, (a, _) in by_dp.items()} for m, by_dp in self.answers.items()}
        if self.submitted is not None:
            submitted = self.submitted
        else:
            submitted = dict.fromkeys(set(answers) | set(states), self.now)
        opens = self.opens or date(self.year + 1, 1, 1)
        deadline = self.deadline if self.deadline and self.deadline > opens else date(opens.year, 12, 31)
        return CycleData(
            cycle=Cycle(0, self.year, opens, deadline, CycleState.CLOSED),
            members=self.members,
            answers=answers,
            states=states,
            submissions={m: Submission(at, 0, None) for m, at in submitted.items()},
        )


@dataclass(frozen=True)
class _Cells:
    row: tuple[object, ...]
    columns: Mapping[str, int]

    def raw(self, concept: str) -> object:
        i = self.columns.get(concept)
        return self.row[i] if i is not None and i < len(self.row) else None

    def text(self, concept: str) -> str:
        value = self.raw(concept)
        return "" if value is None else restore(str(value)).strip()


def _moment(value: object) -> str | None:
    """A cell's time as the store writes it (ISO 8601, UTC, seconds), or None."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    elif isinstance(value, str) and value.strip():
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    else:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _rows(data: bytes) -> Iterable[tuple[str, list[tuple[object, ...]]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ImportRefused([Problem("file", 0, f"not an XLSX workbook ({exc.__class__.__name__})")]) from None
    try:
        for ws in workbook.worksheets:
            yield ws.title, [tuple(row) for row in ws.iter_rows(values_only=True)]
    finally:
        workbook.close()


def read_cycle(
    catalog: Catalog, members: Mapping[str, Member], data: bytes, year: int, source: str, now: str
) -> CycleData:
    """The closed cycle of `year` a workbook holds, validated row by row; raises
    :class:`ImportRefused` listing every problem. `source` marks each answer (the file and
    its digest), `now` stands for times the file does not give."""
    reader = _Reader(catalog, members, year, source, now)
    sheets = list(_rows(data))
    for _, rows in sheets:  # the headers first: they tell the file's language
        if rows:
            reader.columns(rows[0])
    reader.vote()
    for title, rows in sheets:
        reader.sheet(title, rows)
    if not reader.answers and not reader.statuses and not reader.reasons and not reader.problems:
        reader.problems.append(
            Problem(
                "file", 0, "no data found: a sheet needs a Member column with data point and value, or KPI and status"
            )
        )
    return reader.cycle_data()


def describe(data: CycleData) -> str:
    """One line on what an import brings in."""
    answers = sum(len(a) for a in data.answers.values())
    states = sum(len(s) for s in data.states.values())
    members = len(set(data.answers) | set(data.states))
    return (
        f"cycle {data.cycle.year}: {members} Members, {answers} answers, {states} KPI states, "
        f"{len(data.submissions)} submitted"
    )


__all__ = ["ImportRefused", "Problem", "describe", "read_cycle"]
