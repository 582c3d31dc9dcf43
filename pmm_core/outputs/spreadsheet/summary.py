"""The NCP's view of an upload: what would change, the errors with their cells, the new results.

Plain text (the chat layer escapes it for its parse mode and pages it if long).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, localcontext

from babel.dates import format_date

from pmm_core.catalog.members import Member
from pmm_core.catalog.models import Catalog
from pmm_core.domain.answers import MESSAGES, NUMBER_PARAMS, ErrorCode
from pmm_core.domain.results import Computed
from pmm_core.outputs.i18n import Lang
from pmm_core.outputs.spreadsheet import texts
from pmm_core.outputs.spreadsheet.upload import (
    BadFile,
    CellCode,
    CellProblem,
    FigureChange,
    ListRefusal,
    RowProblems,
    TimeCell,
    UploadSummary,
)

EXAMPLE = Decimal("1234.5")
TIMES_SHOWN = 10  # time cells listed, then "… and n more"


def render_summary(summary: UploadSummary, catalog: Catalog, L: Lang, limit: int = 40) -> str:
    """The summary in L's language; each list shows at most `limit` lines, then "… and n more"."""
    member = Member(summary.member, "").name(L.code)
    lines = [L._(texts.SUMMARY_TITLE).format(member=member, year=summary.cycle_year)]
    if not summary.has_changes and not summary.errors:
        lines.append(L._(texts.NOTHING))
    in_lists = {id(p) for refusal in summary.refused_lists for p in refusal.problems}
    errors = [p for p in summary.errors if id(p) not in in_lists]
    sections: list[tuple[str, list[str]]] = [
        (_plural(L, texts.NEW, len(summary.new)), [_figure(c, catalog, L) for c in summary.new]),
        (_plural(L, texts.CHANGED, len(summary.changed)), [_figure(c, catalog, L) for c in summary.changed]),
        (L._(texts.LIST_CHANGES), [_list(c.item_list, c.rows, catalog, L) for c in summary.lists]),
        (_plural(L, texts.BLANKS, len(summary.blanks)), [_blank(b.kpi, b.reason, catalog, L) for b in summary.blanks]),
        (L._(texts.REOPENED), [_kpi(k, catalog, L) for k in summary.reopened]),
        (_plural(L, texts.ERRORS, len(errors)), [render_problem(p, catalog, L) for p in errors]),
        *((_refused(r, catalog, L), _refused_rows(r, catalog, L)) for r in summary.refused_lists),
        (L._(texts.COMPUTABLE), [_result(k, r, catalog, L) for k, r in summary.computable]),
        (L._(texts.RECOMPUTED), [_change(k, b, a, catalog, L) for k, b, a in summary.recomputed]),
    ]
    for title, items in sections:
        if items:
            lines += ["", title, *(f"• {item}" for item in items[:limit])]
            if len(items) > limit:
                lines.append(L._(texts.MORE).format(n=len(items) - limit))
    if summary.unchanged:
        lines += ["", _plural(L, texts.UNCHANGED, len(summary.unchanged))]
    if summary.formulas:
        cells = ", ".join(str(w) for w in summary.formulas[:limit])
        lines += ["", L._(texts.FORMULAS).format(cells=cells)]
    if summary.times:
        shown = TIMES_SHOWN
        cells = ", ".join(_time(t, L) for t in summary.times[:shown])
        more = len(summary.times) - shown
        lines += ["", L._(texts.TIMES).format(cells=cells) + (" " + L._(texts.MORE).format(n=more) if more > 0 else "")]
    return "\n".join(lines)


def render_problem(problem: CellProblem, catalog: Catalog, L: Lang) -> str:
    """One line: ``TF!H7 · TF-02: -5 — a count cannot be negative``."""
    subject = _subject(problem.subject, catalog)
    content = _content(problem, L)
    head = f"{problem.where} · {subject}" + (f": {content}" if content != "" else "")
    return f"{head} — {_reason(problem, catalog, L)}"


def _content(problem: CellProblem, L: Lang) -> str:
    return _number(L, problem.content) if isinstance(problem.content, Decimal) else problem.content


def _refused(refusal: ListRefusal, catalog: Catalog, L: Lang) -> str:
    item_list = next(lst for lst in catalog.item_lists if lst.id == refusal.item_list)
    rows = _plural(L, texts.LIST_ROWS, refusal.rows)
    return L._(texts.LIST_REFUSED).format(list=item_list.name.get(L.code), sheet=refusal.sheet, rows=rows)


def _refused_rows(refusal: ListRefusal, catalog: Catalog, L: Lang) -> list[str]:
    """Row by row: ``row 9 (D7): B9: -5 — a time cannot be negative; C9 — …``; then the totals."""
    lines = [_row(row, catalog, L) for row in refusal.bad_rows]
    return lines + [render_problem(p, catalog, L) for p in refusal.totals]


def _row(row: RowProblems, catalog: Catalog, L: Lang) -> str:
    parts = []
    for problem in row.problems:
        content = _content(problem, L)
        parts.append(
            f"{problem.where.cell}" + (f": {content}" if content != "" else "") + f" — {_reason(problem, catalog, L)}"
        )
    problems = "; ".join(parts)
    if row.item:
        return L._(texts.ROW).format(row=row.number, item=row.item, problems=problems)
    return L._(texts.ROW_NO_ITEM).format(row=row.number, problems=problems)


def _date(iso: str, L: Lang) -> str:
    """A date as the reader writes dates (a text that is no date, as it is)."""
    try:
        return format_date(date.fromisoformat(iso), "medium", locale=L.numbers.locale_id)
    except ValueError:
        return iso


def _time(cell: TimeCell, L: Lang) -> str:
    return f"{cell.where} {cell.shown} → " + L._("{n} min").format(n=L.number(Decimal(cell.minutes)))


def render_bad_file(error: BadFile, L: Lang) -> str:
    """Why the file is refused; Members by their names in the reader's language."""
    params = {
        k: L.number(int(v)) if k == "limit" else Member(v, "").name(L.code) if k in ("member", "file_member") else v
        for k, v in error.params.items()
    }
    return L._(texts.FILE[error.problem]).format(**params)


def _reason(problem: CellProblem, catalog: Catalog, L: Lang) -> str:
    params = dict(problem.params)
    example = L.number(EXAMPLE)
    if problem.code == ErrorCode.NEGATIVE and problem.data_type in texts.NEGATIVE:
        return L._(texts.NEGATIVE[problem.data_type])
    if problem.code in (CellCode.LIST_INCOMPLETE, CellCode.OVER_COLUMN):
        item_list = next((lst for lst in catalog.item_lists if lst.id == problem.subject), None)
        for key in ("column", "other"):
            column = next((c for c in item_list.columns if c.id == params.get(key)), None) if item_list else None
            if column is not None:
                params[key] = column.label.get(L.code)
    if problem.code == CellCode.DATE_TIME and params.get("date"):
        return L._(texts.DATE_SHOWN).format(date=_date(params["date"], L))
    if problem.code == CellCode.DATE_TIME and params.get("time"):
        return L._(texts.TIME_SHOWN).format(time=params["time"])
    for key in ("days", "limit"):
        if key in params and problem.code in (CellCode.TIME_OVER_A_DAY, CellCode.OVER_COLUMN):
            params[key] = _number(L, Decimal(params[key]))
    if problem.code == CellCode.TOTAL_DIFFERS:
        params["value"] = _number(L, Decimal(params["value"]))
    for key in ("limit", "value"):
        if key in params and problem.code in (ErrorCode.TOO_LARGE, ErrorCode.TOO_SMALL):
            params[key] = _number(L, Decimal(params[key]))
    for key in NUMBER_PARAMS:
        if key in params:
            params[key] = _number(L, Decimal(params[key]))
    template = texts.CELL.get(problem.code)
    if template is None:  # a code of the answer checks without a short text here: its chat message
        known = {c.value: c for c in ErrorCode}
        template = MESSAGES[known[problem.code]] if problem.code in known else texts.CELL[CellCode.UNREADABLE]
    return L._(template).format_map(_Defaults(params, example=example, text=str(problem.content)))


def _number(L: Lang, value: Decimal) -> str:
    """Any number a cell may hold (1E+300 included) in L's format."""
    with localcontext() as ctx:
        ctx.prec = max(ctx.prec, abs(value.adjusted()) + 10)
        return L.number(value)


class _Defaults(dict[str, str]):
    """Format parameters; a placeholder without a value stays visible instead of raising."""

    def __init__(self, params: dict[str, str], **defaults: str) -> None:
        super().__init__({**defaults, **params})

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _plural(L: Lang, forms: tuple[str, str], n: int) -> str:
    return L.ngettext(forms[0], forms[1], n).format(n=n)


def _subject(subject: str, catalog: Catalog) -> str:
    """The KPI(s) a problem is about: TF-02 for a data point, the list's KPIs for a list."""
    if subject in catalog.kpi_by_id:
        return subject
    kpis = [k.id for k in catalog.kpis_using(subject)]
    if not kpis:
        kpis = [k.id for k in catalog.kpis if subject in {dp.id for dp in catalog.breakdown_data_points(k)}]
    if not kpis:
        kpis = [k for k, lst in catalog.item_list_of.items() if lst.id == subject]
    return ", ".join(kpis) or subject


def _figure(change: FigureChange, catalog: Catalog, L: Lang) -> str:
    dp = catalog.data_points[change.data_point]
    head = f"{_subject(dp.id, catalog)} · {dp.label.get(L.code)}: "
    new = L.value(dp, change.new)
    if change.from_list is not None:
        new = f"{new} ({L._(texts.FROM_LIST)})"
    return head + (f"{L.value(dp, change.old)} → {new}" if change.old is not None else new)


def _list(list_id: str, rows: int, catalog: Catalog, L: Lang) -> str:
    item_list = next(lst for lst in catalog.item_lists if lst.id == list_id)
    return f"{item_list.sheet} · {item_list.name.get(L.code)}: {_plural(L, texts.LIST_ROWS, rows)}"


def _kpi(kpi_id: str, catalog: Catalog, L: Lang) -> str:
    return f"{kpi_id} · {catalog.kpi(kpi_id).name.get(L.code)}"


def _blank(kpi_id: str, reason: str, catalog: Catalog, L: Lang) -> str:
    text = next((r.text.get(L.code) for r in catalog.blank_reasons if r.code == reason), reason)
    return f"{_kpi(kpi_id, catalog, L)}: {text}"


def _result(kpi_id: str, result: Computed, catalog: Catalog, L: Lang) -> str:
    return f"{_kpi(kpi_id, catalog, L)}: {_shown(result, L)}"


def _change(kpi_id: str, before: Computed, after: Computed, catalog: Catalog, L: Lang) -> str:
    return f"{_kpi(kpi_id, catalog, L)}: {_shown(before, L)} → {_shown(after, L)}"


def _shown(result: Computed, L: Lang) -> str:
    shown = L.result(result)
    return f"{shown} ({L._(texts.FROM_TOTALS)})" if result.from_totals else shown
