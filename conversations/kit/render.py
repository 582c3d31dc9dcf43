"""Texts the NCP reads: KPI card, question, result with its filled-in formula, progress,
explanation. HTML parse mode; every catalog or user text is escaped."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from datetime import date
from decimal import Decimal

from conversations.kit.text import esc
from pmm_core.catalog.models import (
    Catalog,
    DataPoint,
    DataType,
    Disclosure,
    ExpressionCalc,
    ItemColumn,
    ItemList,
    Kpi,
    NoteKind,
    NoteWhen,
    Year,
)
from pmm_core.domain import item_lists
from pmm_core.domain.item_lists import Items
from pmm_core.domain.progress import Snapshot, Status
from pmm_core.domain.results import (
    Computed,
    NotComputable,
    Reason,
    Result,
    compute,
    numeric_value,
    tool_scores_by_dimension,
)
from pmm_core.domain.text import Text
from pmm_core.outputs.i18n import Lang
from pmm_core.outputs.labels import UNIT_NAMES, labelled

STATUS_ICON = {Status.DONE: "✅", Status.BLANK: "➖", Status.IN_PROGRESS: "✏️", Status.OPEN: "▫️"}
_LETTER = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*\b")


def kpi_title(kpi: Kpi, L: Lang) -> str:
    return f"<b>{kpi.id} · {esc(kpi.name.get(L.code))}</b>"


def data_point_year(dp: DataPoint, year: int) -> int:
    return year - 1 if dp.year is Year.PREVIOUS else year


def unit_hint(dp: DataPoint, L: Lang) -> str:
    hints = {
        DataType.COUNT: L._("a whole number"),
        DataType.AMOUNT: L._("an amount in {currency}").format(currency=dp.currency),
        DataType.MINUTES: L._("minutes, up to 2 decimals"),
        DataType.PERCENT: L._("a percentage from 0 to 100"),
        DataType.NUMBER: L._("a number, up to 2 decimals"),
        DataType.YES_NO: L._("yes or no"),
        DataType.SCALE: L._("one of the options"),
    }
    return hints[dp.type]


def status_label(L: Lang, status: Status) -> str:
    return {
        Status.DONE: L._("done"),
        Status.BLANK: L._("left blank"),
        Status.IN_PROGRESS: L._("in progress"),
        Status.OPEN: L._("open"),
    }[status]


def kpi_card(L: Lang, catalog: Catalog, kpi: Kpi, snap: Snapshot, year: int) -> str:
    points = catalog.main_data_points(kpi)
    known = [dp for dp in points if dp.id in snap.answers]
    lines = [
        kpi_title(kpi, L),
        f"<i>{esc(kpi.summary.get(L.code))}</i>",
        "",
        L.ngettext("{n} figure to give for {year}.", "{n} figures to give for {year}.", len(points)).format(
            n=len(points), year=year
        ),
    ]
    status = snap.status(kpi)
    if status is not Status.OPEN:
        lines.append(L._("Status: {status}").format(status=status_label(L, status)))
    if known and len(known) < len(points):
        lines.append("")
        lines.append(L._("You told us earlier (kept unless you change them):"))
        lines += [
            "• " + labelled(L, esc(dp.label.get(L.code)), f"<b>{esc(L.value(dp, snap.answers[dp.id].value))}</b>")
            for dp in known
        ]
    return "\n".join(lines)


def question_text(
    L: Lang,
    kpi: Kpi,
    dp: DataPoint,
    index: int,
    total: int,
    year: int,
    current: str | None,
    breakdown: Text | None = None,
    last: str | None = None,
) -> str:
    """The question screen's text; `last` is the line with last cycle's value ("2024: 12 400")."""
    head = f"{kpi.id} · " + (f"{esc(breakdown.get(L.code))} · " if breakdown else "")
    lines = [
        head + L._("Question {i} of {n}").format(i=index + 1, n=total),
        "",
        f"<b>{esc(dp.question.get(L.code))}</b>",
        L._("Year: {year} · Answer: {unit}").format(year=data_point_year(dp, year), unit=unit_hint(dp, L)),
    ]
    help_text = dp.help.get(L.code)
    if help_text and help_text != dp.question.get(L.code) and help_text != dp.label.get(L.code):
        lines += ["", f"<i>{esc(help_text)}</i>"]
    if current is not None:
        lines += ["", L._("Current answer: {value}").format(value=f"<b>{esc(L.value(dp, current))}</b>")]
    if last is not None:
        lines += ["↺ " + last] if current is not None else ["", "↺ " + last]
    if dp.is_numeric:
        lines += ["", L._("Type the figure, for example {example}.").format(example=L.example(dp))]
    return "\n".join(lines)


def filled_formula(L: Lang, catalog: Catalog, kpi: Kpi, values: dict[str, str]) -> str:
    """The formula with the NCP's figures in place of its letters."""
    calc = kpi.calculation
    if not isinstance(calc, ExpressionCalc):
        return ""

    def figure(match: re.Match[str]) -> str:
        letter = match.group(0)
        dp_id = calc.variables.get(letter)
        if dp_id is None or dp_id not in values:
            return letter
        dp = catalog.data_points[dp_id]
        return L.number(numeric_value(dp, values[dp_id], calc.scoring))

    return _LETTER.sub(figure, calc.formula).replace("*", " × ").replace("/", " / ")


def result_line(L: Lang, catalog: Catalog, result: Result) -> str:
    if isinstance(result, Computed):
        return L._("Result: {value}").format(value=f"<b>{esc(L.result(result))}</b>")
    return L._("The result cannot be computed: {why}").format(why=not_computable_reason(L, catalog, result))


def not_computable_reason(L: Lang, catalog: Catalog, result: NotComputable) -> str:
    labels = ", ".join(esc(catalog.data_points[i].label.get(L.code)) for i in result.data_points[:5])
    if result.reason is Reason.DIVISION_BY_ZERO:
        return L._("it would divide by zero, because this figure is 0: {figures}.").format(figures=labels)
    if result.reason is Reason.BLANK:
        return L._("the KPI was left blank.")
    return L.ngettext(
        "{n} figure is still missing: {figures}.", "{n} figures are still missing: {figures}.", len(result.data_points)
    ).format(n=len(result.data_points), figures=labels)


def _from_items(catalog: Catalog, kpi: Kpi, result: Result) -> bool:
    """The result is the mean over the KPI's list of rows (TF-04…06, OD-02), not its totals."""
    return isinstance(result, Computed) and kpi.id in catalog.item_list_of and not result.from_totals


def _column_letter(column: ItemColumn) -> str:
    """ "Xᵢ" for the column labelled "X_i: competencies with a gap"; else its id."""
    head = column.label.en.split(":", 1)[0].strip()
    return head.replace("_i", "ᵢ") if re.fullmatch(r"[A-Z]_i", head) else column.id


def items_formula(L: Lang, item_list: ItemList, kpi: Kpi, items: Items) -> tuple[str, str]:
    """The per-item formula as PMM v.1 writes it, Σ(Xᵢ / Yᵢ × 100) / N, and filled with the
    rows (the first three and the last when there are more than six)."""
    formula = item_list.kpis[kpi.id]
    letters = {c.id: _column_letter(c) for c in item_list.columns}

    def shown(text: str) -> str:
        return text.replace("*", " × ").replace("/", " / ")

    term = shown(_LETTER.sub(lambda m: letters.get(m.group(0), m.group(0)), formula))
    single = formula in letters
    symbolic = f"Σ{term} / N" if single else f"Σ({term}) / N"

    def filled(row: tuple[str, ...]) -> str:
        numbers = dict(zip(items.columns, row, strict=True))
        return shown(
            _LETTER.sub(
                lambda m: L.number(Decimal(numbers[m.group(0)])) if m.group(0) in numbers else m.group(0), formula
            )
        )

    rows = items.rows
    terms = [filled(r) for r in rows] if len(rows) <= 6 else [*(filled(r) for r in rows[:3]), "…", filled(rows[-1])]
    return symbolic, f"({' + '.join(terms)}) / {L.number(len(rows))}"


def result_text(L: Lang, catalog: Catalog, kpi: Kpi, snap: Snapshot, result: Result) -> str:
    """The result screen's text; `result` is the KPI computed from `snap` by the caller.
    A KPI defined over items shows the path its result took: the per-item mean over the
    NCP's list of rows, with those rows, or the totals formula, marked as such."""
    values = snap.values
    lines = [kpi_title(kpi, L), ""]
    calc = kpi.calculation
    item_list = catalog.item_list_of.get(kpi.id)
    items = item_lists.stored(item_list, values) if item_list is not None else None
    if _from_items(catalog, kpi, result) and item_list is not None and items is not None:
        assert isinstance(result, Computed)
        symbolic, filled = items_formula(L, item_list, kpi, items)
        lines.append(
            L.ngettext(
                "Computed row by row from your list “{list}” ({n} row), as PMM v.1 defines it:",
                "Computed row by row from your list “{list}” ({n} rows), as PMM v.1 defines it:",
                len(items.rows),
            ).format(list=esc(item_list.name.get(L.code)), n=L.number(len(items.rows)))
        )
        lines += [f"<code>{esc(symbolic)}</code>", f"<code>{esc(filled)}</code> = <b>{esc(L.result(result))}</b>"]
    elif isinstance(calc, ExpressionCalc):
        for letter, dp_id in calc.variables.items():
            dp = catalog.data_points[dp_id]
            shown = esc(L.value(dp, values[dp_id])) if dp_id in values else "—"
            lines.append(f"{letter} = " + labelled(L, esc(dp.label.get(L.code)), shown))
        lines += ["", f"<code>{esc(calc.formula)}</code>"]
        if isinstance(result, Computed):
            lines.append(
                f"<code>{esc(filled_formula(L, catalog, kpi, values))}</code> = <b>{esc(L.result(result))}</b>"
            )
            if result.from_totals:
                lines.append(L._("Computed from the totals you gave, not from a list of rows."))
    lines += ["", result_line(L, catalog, result)]
    if isinstance(result, Computed) and not isinstance(calc, ExpressionCalc):
        for dim, part in tool_scores_by_dimension(catalog, kpi, values).items():
            if isinstance(part, Computed):
                name = catalog.dimension_by_id[dim].short.get(L.code)
                lines.append("• " + labelled(L, esc(name), esc(L.result(part))))
    caveats = caveats_text(L, kpi, result)
    if caveats:
        lines += ["", caveats]
    return "\n".join(lines)


def progress_bar(done: int, total: int, width: int = 10) -> str:
    """Full only when everything is done (51 of 51, never 47), and not empty once one is:
    the blocks done are rounded down, but at least one and at most width - 1 until the end."""
    if not total or done <= 0:
        filled = 0
    elif done >= total:
        filled = width
    else:
        filled = min(max(width * done // total, 1), width - 1)
    return "▓" * filled + "░" * (width - filled)


def progress_text(L: Lang, catalog: Catalog, snap: Snapshot, per_dimension: bool = False) -> str:
    """The Member's progress, or a contributor's over their scope (`snap.scope`)."""
    counts = snap.counts()
    total = len(snap.kpis)
    finished = counts[Status.DONE] + counts[Status.BLANK]
    open_count = counts[Status.OPEN] + counts[Status.IN_PROGRESS]
    summary = L.ngettext("{done} of {total} KPI", "{done} of {total} KPIs", total).format(
        done=counts[Status.DONE], total=total
    )
    summary += " · " + L.ngettext("{n} blank", "{n} blank", counts[Status.BLANK]).format(n=counts[Status.BLANK])
    summary += " · " + L.ngettext("{n} open", "{n} open", open_count).format(n=open_count)
    lines = [f"{progress_bar(finished, total)} {summary}"]
    if per_dimension:
        lines.append("")
        for dim in catalog.dimensions:
            kpis = [k for k in catalog.kpis_of(dim.id) if snap.in_scope(k.id)]
            if not kpis:
                continue
            c = snap.counts(kpis)
            lines.append(
                labelled(L, esc(dim.short.get(L.code)), progress_bar(c[Status.DONE] + c[Status.BLANK], len(kpis), 5))
                + " "
                + L.ngettext("{n} done", "{n} done", c[Status.DONE]).format(n=c[Status.DONE])
                + ", "
                + L.ngettext("{n} blank", "{n} blank", c[Status.BLANK]).format(n=c[Status.BLANK])
                + ", "
                + L.ngettext(
                    "{n} open of {total}", "{n} open of {total}", open_of := c[Status.OPEN] + c[Status.IN_PROGRESS]
                ).format(n=open_of, total=len(kpis))
            )
    return "\n".join(lines)


def explanation(L: Lang, catalog: Catalog, kpi: Kpi) -> str:
    """Everything a user may want to know about a KPI, in their language."""
    code = L.code
    dimension = catalog.dimension_by_id[kpi.dimension].name.get(code)
    parts = [kpi_title(kpi, L), f"<i>{esc(kpi.summary.get(code))}</i>"]
    where = esc(dimension)
    if kpi.outcome:
        where += " → " + esc(catalog.outcome_by_id[kpi.outcome].name.get(code))
    parts.append(where)
    parts.append(heading(L._("Definition")) + f"\n{esc(kpi.description.get(code))}")
    method = heading(L._("How it is calculated")) + f"\n{esc(kpi.method.get(code))}"
    if isinstance(kpi.calculation, ExpressionCalc):
        method += f"\n<code>{esc(kpi.calculation.formula)}</code>"
    parts.append(method)
    points = catalog.main_data_points(kpi)
    figures = [heading(L._("The figures asked"))]
    if isinstance(kpi.calculation, ExpressionCalc):
        letters = {v: k for k, v in kpi.calculation.variables.items()}
        for dp in points:
            label, letter = dp.label.get(code), letters.get(dp.id, "•")
            name = label if label.startswith(f"{letter}. ") else f"{letter} — {label}"  # "A. Mechanisms…"
            figures.append(labelled(L, f"{esc(name)} ({esc(unit_hint(dp, L))})", esc(dp.help.get(code))))
    else:
        figures.append(
            L.ngettext(
                "One answer for each of the {n} main WCO tool:",
                "One answer for each of the {n} main WCO tools:",
                len(points),
            ).format(n=len(points))
        )
        figures += [f"• {esc(dp.label.get(code))}" for dp in points]
    parts.append("\n".join(figures))
    if kpi.disaggregations:
        parts.append(
            heading(L._("Optional breakdowns"))
            + "\n"
            + "\n".join(f"• {esc(d.label.get(code))}" for d in kpi.disaggregations)
        )
    facts = [
        labelled(L, heading(L._("Result unit")), esc(result_unit_label(L, kpi))),
        labelled(L, heading(L._("Periodicity")), esc(kpi.periodicity.get(code))),
        labelled(L, heading(L._("Source of verification")), esc(kpi.source.get(code))),
        labelled(L, heading(L._("Disclosure")), esc(disclosure_text(L, catalog, kpi.disclosure.kpi))),
    ]
    if kpi.disclosure.breakdown:
        facts.append(
            labelled(
                L, heading(L._("Disclosure of breakdowns")), esc(disclosure_text(L, catalog, kpi.disclosure.breakdown))
            )
        )
    parts.append("\n".join(facts))
    parts.append(heading(L._("Why it matters")) + f"\n{esc(kpi.rationale.get(code))}")
    if kpi.notes:
        notes = [heading(L._("Notes on this KPI"))]
        for note in kpi.notes:
            prefix = "⚠️ " if note.kind is NoteKind.CAVEAT else "ℹ️ "
            if note.when is NoteWhen.FROM_TOTALS:
                prefix += esc(L._("When the result is computed from totals rather than from a list of rows:")) + " "
            notes.append(prefix + esc(note.text.get(code)))
        parts.append("\n".join(notes))
    return "\n\n".join(parts)


def heading(text: str) -> str:
    return f"<b>{esc(text)}</b>"


def result_unit_label(L: Lang, kpi: Kpi) -> str:
    return L._(UNIT_NAMES[kpi.result.unit])


def disclosure_text(L: Lang, catalog: Catalog, level: Disclosure) -> str:
    """ "WCO — Available to all NCPs and peer reviewers of all WCO Members, plus Secretariat staff."
    (after "Disclosure:", so not a second colon)."""
    described = catalog.disclosure_level(level)
    return L._("{name} — {description}").format(
        name=described.name.get(L.code), description=described.description.get(L.code)
    )


def caveats_text(L: Lang, kpi: Kpi, result: Result) -> str:
    """The KPI's caveats that apply to this result (what it assumes or lacks), shown once,
    with the result: a caveat on totals only when the result was computed from totals."""
    from_totals = isinstance(result, Computed) and result.from_totals
    return "\n".join(
        "⚠️ " + esc(note.text.get(L.code))
        for note in kpi.caveats
        if note.when is NoteWhen.ALWAYS or (note.when is NoteWhen.FROM_TOTALS and from_totals)
    )


def kpi_line(L: Lang, catalog: Catalog, snap: Snapshot, kpi: Kpi, detailed: bool = False) -> str:
    """One KPI in a list: icon, id, name, and its result or blank reason (with `detailed`,
    the blank comment too)."""
    status = snap.status(kpi)
    line = f"{STATUS_ICON[status]} {kpi.id} {esc(kpi.name.get(L.code))}"
    if status is Status.DONE:
        result = compute(catalog, kpi, snap.values)
        if isinstance(result, Computed):
            line += f" — <b>{esc(L.result(result))}</b>"
    elif status is Status.BLANK:
        reason = snap.blank_reason(kpi)
        text = next((r.text.get(L.code) for r in catalog.blank_reasons if r.code == reason), reason or "")
        line += f" — <i>{esc(text)}</i>"
        state = snap.states.get(kpi.id)
        if detailed and state is not None and state.comment:
            line += f"\n{esc(state.comment)}"
    elif status is Status.IN_PROGRESS:
        line += f" — {status_label(L, status)}"
    return line


def answered_by(
    L: Lang, catalog: Catalog, snap: Snapshot, kpi: Kpi, names: Mapping[int, str], contributors: Collection[int]
) -> str:
    """Who gave the KPI's figures and when (the latest), for the NCP's /review; figures a
    contributor gave are "to check" until the KPI is confirmed or left blank."""
    given = [snap.answers[dp.id] for dp in catalog.asked_data_points(kpi) if dp.id in snap.answers]
    if not given:
        return ""
    people = sorted({names.get(a.by_user, "?") for a in given})
    latest = max(a.at for a in given)
    when = L.date(date.fromisoformat(latest[:10])) if latest else ""
    line = "   ✍️ " + esc(", ".join(people)) + (f" · {when}" if when else "")
    from_contributor = any(a.by_user in contributors for a in given)
    if from_contributor and snap.status(kpi) not in (Status.DONE, Status.BLANK):
        line += " · ⚠️ " + L._("to check")
    return line
