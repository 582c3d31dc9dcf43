"""Exports of a cycle's data for the WCO Secretariat: an Excel workbook and a CSV file.

Column headers and sheet titles are English gettext msgids passed through `translate`;
catalog texts (KPI names, data point labels, blank reasons) and Member names are given in
`lang`. Figures are written as numbers (a count as an integer, other figures as floats),
yes/no and scale answers as their stored codes.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from pmm_core.analytics import participating_members, region_order
from pmm_core.answers import N_
from pmm_core.catalog import Catalog, DataPoint, DataType
from pmm_core.members import REGIONS, Member
from pmm_core.progress import Snapshot
from pmm_core.results import Computed, NotComputable, compute
from pmm_core.store import Cycle, KpiState, Store

Translate = Callable[[str], str]
Table = tuple[list[str], list[list[Any]]]  # header, rows

_BAD_TITLE = re.compile(r"[\[\]:*?/\\]")
_MAX_WIDTH = 60


async def build_workbook(store: Store, catalog: Catalog, cycle: Cycle, translate: Translate, lang: str) -> bytes:
    """The cycle's data as XLSX bytes: data points, KPI results, blank reasons, flags, audit log."""
    sheets = [
        (N_("Data points"), await _data_points(store, catalog, cycle, translate, lang)),
        (N_("KPI results"), await _kpi_results(store, catalog, cycle, translate, lang)),
        (N_("Blank reasons"), await _blank_reasons(store, catalog, cycle, translate, lang)),
        (N_("Flags"), await _flags(store, cycle, translate)),
        (N_("Audit log"), await _audit(store, cycle, translate)),
    ]
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, (header, rows) in sheets:
        _fill(workbook.create_sheet(_sheet_title(translate(title))), header, rows)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


async def build_csv(store: Store, catalog: Catalog, cycle: Cycle, translate: Translate, lang: str) -> bytes:
    """The "Data points" sheet as UTF-8 CSV with a byte order mark (so that Excel reads accents)."""
    header, rows = await _data_points(store, catalog, cycle, translate, lang)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


# ---- sheets ----------------------------------------------------------------------------


async def _data_points(store: Store, catalog: Catalog, cycle: Cycle, translate: Translate, lang: str) -> Table:
    header = [
        translate(N_("Member ISO")),
        translate(N_("Member")),
        translate(N_("Region")),
        translate(N_("KPI")),
        translate(N_("Data point")),
        translate(N_("Label")),
        translate(N_("Value")),
        translate(N_("Unit")),
        translate(N_("By")),
        translate(N_("At")),
    ]
    members = {m.iso2: m for m in await store.members()}
    kpis_of = _kpis_of_data_points(catalog)
    position = {dp_id: i for i, dp_id in enumerate(kpis_of)}
    rows: list[list[Any]] = []
    answers = await store.cycle_answers(cycle.id)
    for iso2 in sorted(answers, key=lambda code: _member_key(members.get(code), code)):
        member = members.get(iso2) or Member(iso2, "")
        mine = answers[iso2]
        for dp_id in sorted(mine, key=lambda i: (position.get(i, len(position)), i)):
            dp, answer = catalog.data_points.get(dp_id), mine[dp_id]
            rows.append(
                [
                    iso2,
                    member.name(lang),
                    member.region,
                    ", ".join(kpis_of.get(dp_id, ())),
                    dp_id,
                    dp.label.get(lang) if dp else "",
                    _cell_value(dp, answer.value),
                    _unit(dp, translate),
                    answer.by_user,
                    answer.at,
                ]
            )
    return header, rows


async def _kpi_results(store: Store, catalog: Catalog, cycle: Cycle, translate: Translate, lang: str) -> Table:
    header = [
        translate(N_("Member ISO")),
        translate(N_("Region")),
        translate(N_("KPI")),
        translate(N_("KPI name")),
        translate(N_("Status")),
        translate(N_("Result")),
        translate(N_("Unit")),
        translate(N_("Not computable because")),
    ]
    answers, states = await store.cycle_answers(cycle.id), await store.cycle_states(cycle.id)
    rows: list[list[Any]] = []
    for member in await participating_members(store, cycle):
        snap = Snapshot(catalog, answers.get(member.iso2, {}), states.get(member.iso2, {}))
        values = snap.values
        for kpi in catalog.kpis:
            try:
                result = compute(catalog, kpi, values, snap.blank_reason(kpi))
            except (KeyError, ArithmeticError):  # a stored value the catalog no longer accepts
                result = None
            number = float(result.display_value) if isinstance(result, Computed) else None
            reason = result.reason.value if isinstance(result, NotComputable) else (None if result else "error")
            rows.append(
                [
                    member.iso2,
                    member.region,
                    kpi.id,
                    kpi.name.get(lang),
                    snap.status(kpi).value,
                    number,
                    kpi.result.unit.value,
                    reason,
                ]
            )
    return header, rows


async def _blank_reasons(store: Store, catalog: Catalog, cycle: Cycle, translate: Translate, lang: str) -> Table:
    header = [
        translate(N_("Member ISO")),
        translate(N_("Region")),
        translate(N_("KPI")),
        translate(N_("Reason code")),
        translate(N_("Reason")),
        translate(N_("Comment")),
    ]
    texts = {r.code: r.text.get(lang) for r in catalog.blank_reasons}
    order = {k.id: i for i, k in enumerate(catalog.kpis)}
    rows: list[list[Any]] = []
    states = await store.cycle_states(cycle.id)
    for member in await participating_members(store, cycle):
        mine = states.get(member.iso2, {})
        for kpi_id in sorted(mine, key=lambda k: (order.get(k, len(order)), k)):
            state = mine[kpi_id]
            if state.status is KpiState.BLANK:
                reason = state.reason
                rows.append([member.iso2, member.region, kpi_id, reason, texts.get(reason or ""), state.comment])
    return header, rows


async def _flags(store: Store, cycle: Cycle, translate: Translate) -> Table:
    header = [
        translate(N_("ID")),
        translate(N_("Member ISO")),
        translate(N_("KPI")),
        translate(N_("Data point")),
        translate(N_("Kind")),
        translate(N_("Detail")),
        translate(N_("State")),
    ]
    rows = [[f.id, f.member, f.kpi, f.data_point, f.kind, f.detail, f.state] for f in await store.flags(cycle.id)]
    return header, rows


async def _audit(store: Store, cycle: Cycle, translate: Translate) -> Table:
    header = [
        translate(N_("At")),
        translate(N_("User")),
        translate(N_("Member ISO")),
        translate(N_("Action")),
        translate(N_("Subject")),
        translate(N_("Old value")),
        translate(N_("New value")),
    ]
    rows = [
        [r.at, r.user_id, r.member, r.action, r.subject, r.old_value, r.new_value]
        for r in await store.audit_log(cycle_id=cycle.id)
    ]
    return header, rows


# ---- helpers ---------------------------------------------------------------------------


def _member_key(member: Member | None, iso2: str) -> tuple[int, str]:
    return (region_order(member.region) if member else len(REGIONS)), iso2


def _kpis_of_data_points(catalog: Catalog) -> dict[str, list[str]]:
    """Data point id → ids of the KPIs asking it (main figures or breakdowns), in catalog order."""
    out: dict[str, list[str]] = {}
    for kpi in catalog.kpis:
        for dp in (*catalog.main_data_points(kpi), *catalog.breakdown_data_points(kpi)):
            ids = out.setdefault(dp.id, [])
            if kpi.id not in ids:
                ids.append(kpi.id)
    return out


def _cell_value(dp: DataPoint | None, value: str) -> Any:
    """A figure as a number (an integer for a count); codes and unreadable values as text."""
    if dp is None or not dp.is_numeric:
        return value
    try:
        number = Decimal(value)
    except InvalidOperation:
        return value
    if not number.is_finite():
        return value
    return int(number) if dp.type is DataType.COUNT and number == number.to_integral_value() else float(number)


def _unit(dp: DataPoint | None, translate: Translate) -> str | None:
    if dp is None:
        return None
    if dp.type is DataType.AMOUNT:
        return dp.currency
    if dp.type is DataType.PERCENT:
        return "%"
    if dp.type is DataType.MINUTES:
        return translate(N_("minutes"))
    return None


def _sheet_title(title: str) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\."""
    return _BAD_TITLE.sub("-", title).strip("'")[:31] or "-"


def _fill(ws: Worksheet, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    ws.append(list(header))
    for row in rows:
        ws.append(list(row))
    bold = Font(bold=True)
    for cell in ws[1]:
        cell.font = bold
    ws.freeze_panes = "A2"
    for column in ws.columns:
        width = max((len(str(c.value)) for c in column if c.value is not None), default=8)
        ws.column_dimensions[column[0].column_letter].width = min(width + 2, _MAX_WIDTH)
