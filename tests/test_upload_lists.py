"""Spreadsheets that say what they did (issue 20): a list is applied whole or not at all, and
the summary gives its problems row by row; an empty optional column never reopens a KPI left
blank; list rows are checked against their own limits (gaps ≤ competencies); time cells are
read as times (2:30 → 150 min) and reported in the reader's words and number format."""

from __future__ import annotations

import io
from datetime import datetime, time, timedelta
from decimal import Decimal

import openpyxl
import pytest

from pmm_core.domain.records import KpiState, KpiStatus
from pmm_core.outputs.i18n import lang
from pmm_core.outputs.spreadsheet import CellCode, build_template, read_upload, render_summary
from pmm_core.outputs.spreadsheet.upload import _Format, _format_kind
from tests.sheets import BELGIUM, CYCLE, Located, fill, save

T0 = "2026-01-20T10:00:00+00:00"


def template(catalog, values=None, states=None, code="en") -> bytes:
    return build_template(catalog, BELGIUM, CYCLE, values or {}, states or {}, lang(code))


def read(catalog, data: bytes, values=None, states=None, code="en"):
    return read_upload(
        catalog, data, member="BE", cycle_year=2025, current_values=values or {}, current_states=states or {}, lang=code
    )


def formatted(data: bytes, sheet: str, number_format: str, cells: dict[str, object]) -> bytes:
    """`data` with `cells` (coordinate → value) written in `sheet` with `number_format`."""
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb[sheet]
    ws.protection.sheet = False
    for coordinate, value in cells.items():
        ws[coordinate] = value
        ws[coordinate].number_format = number_format
    return save(wb)


# ---- time cells ----------------------------------------------------------------------------------


def declarations(times: list[object]) -> list[list[object]]:
    return [[f"D{i + 1}", t] for i, t in enumerate(times)]


def test_a_twenty_row_list_with_excel_time_cells_is_read_in_minutes(catalog):
    """The case behind the issue: 20 declarations, some typed as times (Excel makes 02:30 a
    time cell) — the list used to be dropped whole with a date error."""
    times: list[object] = [45, 60, time(2, 30), 30, timedelta(hours=26, minutes=30)] * 4  # 20 rows
    data = fill(template(catalog), items={"TF-04": declarations(times)})
    summary = read(catalog, data)
    assert summary.errors == () and summary.refused_lists == ()
    assert [(c.item_list, c.rows) for c in summary.lists] == [("tf_import_declarations", 20)]
    # by hand: 45 + 60 + 150 + 30 + 1,590 (26 h 30) = 1,875 per five rows, × 4 = 7,500 min over 20 rows
    totals = {c.data_point: c.new for c in summary.new}
    assert totals == {"tf_import_release_declarations": "20", "tf_import_release_minutes": "7500"}
    assert dict(summary.computable)["TF-04"].value == 375  # 7,500 / 20
    assert [(t.shown, t.minutes) for t in summary.times[:2]] == [("2:30", "150"), ("26:30", "1590")]
    text = render_summary(summary, catalog, lang("en"))
    assert "Minutes read from cells formatted as times: TF-04!B5 2:30 → 150 min, TF-04!B7 26:30 → 1,590 min" in text
    french = render_summary(read(catalog, data, code="fr"), catalog, lang("fr"))
    assert "Minutes lues dans des cellules au format heure\u202f: TF-04!B5 2:30 → 150 min" in french
    assert "26:30 → 1\u202f590 min" in french


def test_a_minutes_figure_in_a_time_cell(catalog):
    where = Located()
    data = fill(
        template(catalog), {"tf_import_release_minutes": "x", "tf_import_release_declarations": 2}, located=where
    )
    sheet, cell = where.cells["tf_import_release_minutes"].split("!")
    summary = read(catalog, formatted(data, sheet, "h:mm:ss", {cell: Decimal(1) / 96 + Decimal(20) / 86400}))
    assert {c.data_point: c.new for c in summary.new}["tf_import_release_minutes"] == "15.33"  # 0:15:20
    assert [t.shown for t in summary.times] == ["0:15:20"]


def test_a_time_formatted_cell_holding_150_is_not_a_date(catalog):
    """150 typed in a cell formatted as a time is 150 days to a spreadsheet (it shows 0:00):
    refused with what it means, never as "1900-05-29T00:00:00"."""
    where = Located()
    data = fill(template(catalog), {"tf_import_release_minutes": "x"}, located=where)
    sheet, cell = where.cells["tf_import_release_minutes"].split("!")
    summary = read(catalog, formatted(data, sheet, "h:mm", {cell: 150}))
    (error,) = summary.errors
    assert (error.code, error.content) == (CellCode.TIME_OVER_A_DAY, Decimal(150))
    text = render_summary(summary, catalog, lang("en"))
    assert "1900" not in text
    assert (
        f"{sheet}!{cell} · TF-04: 150 — in a cell formatted as a time, a spreadsheet reads 150 as 150 days: "
        "type the minutes in a cell formatted as a number, or the time as 2:30"
    ) in text
    french = render_summary(
        read(catalog, formatted(data, sheet, "h:mm", {cell: 1500.5}), code="fr"), catalog, lang("fr")
    )
    assert (
        "1\u202f500,5 — dans une cellule au format heure, un tableur lit 1\u202f500,5 comme 1\u202f500,5 jours"
        in french
    )


def test_dates_and_times_for_other_figures_say_what_the_cell_shows(catalog):
    where = Located()
    data = fill(template(catalog), {"tf_aeo_valid": "x", "tf_aeo_valid_prev": "x"}, located=where)
    sheet, count = where.cells["tf_aeo_valid"].split("!")
    _, previous = where.cells["tf_aeo_valid_prev"].split("!")
    data = formatted(data, sheet, "yyyy-mm-dd", {count: 150})
    data = formatted(data, sheet, "h:mm", {previous: time(2, 30)})
    summary = read(catalog, data)
    assert {(e.subject, e.code) for e in summary.errors} == {
        ("tf_aeo_valid", CellCode.DATE_TIME),
        ("tf_aeo_valid_prev", CellCode.DATE_TIME),
    }
    english = render_summary(summary, catalog, lang("en"))
    assert "150 — a date (May 29, 1900), not a number: type the figure as a number" in english
    assert "a time (2:30), not a number" in english
    spanish = render_summary(read(catalog, data, code="es"), catalog, lang("es"))
    assert "una fecha (29 may 1900), no un número" in spanish
    assert "T00:00" not in english + spanish


def test_a_real_date_in_a_minutes_cell_is_refused(catalog):
    data = fill(template(catalog), items={"TF-04": declarations([30, datetime(2025, 3, 1, 1, 30)])})
    summary = read(catalog, data)
    ((refusal),) = summary.refused_lists
    ((problem,),) = [row.problems for row in refusal.bad_rows]
    assert (problem.code, problem.params) == (CellCode.DATE_TIME, {"date": "2025-03-01"})
    assert "a date (Mar 1, 2025)" in render_summary(summary, catalog, lang("en"))


@pytest.mark.parametrize(
    ("number_format", "kind"),
    [
        ("General", _Format.NUMBER),
        ("0.00", _Format.NUMBER),
        ('0.0" min"', _Format.NUMBER),
        ('"hours: "0', _Format.NUMBER),
        ("[Red]0.00;[Blue]-0.00", _Format.NUMBER),
        ("0.00E+00", _Format.NUMBER),
        ("0.0%", _Format.PERCENT),
        ("h:mm", _Format.TIME),
        ("h:mm AM/PM", _Format.TIME),
        ("mm:ss", _Format.TIME),
        ("[h]:mm:ss", _Format.ELAPSED),
        ("[hh]:mm", _Format.ELAPSED),
        ("[mm]:ss", _Format.ELAPSED),
        ("yyyy-mm-dd", _Format.DATE),
        ("m/d/yy h:mm", _Format.DATE),
        ("[$-409]mmmm d, yyyy", _Format.DATE),
        ("mmm-yy", _Format.DATE),
        ("dd/mm/yyyy\\ hh:mm", _Format.DATE),
    ],
)
def test_number_formats(number_format, kind):
    assert _format_kind(number_format) is kind


# ---- lists applied whole or not at all -------------------------------------------------------------


def test_a_list_with_bad_rows_is_not_applied_and_the_summary_says_which_and_why(catalog):
    rows = declarations([30 + i for i in range(20)])
    rows[6][1] = -5  # D7, sheet row 9
    rows[11][1] = "about an hour"  # D12, sheet row 14
    rows[15] = ["D16", None]  # a row without its time while the others give one
    data = fill(template(catalog), values={"tf_aeo_valid": 1300}, items={"TF-04": rows})
    summary = read(catalog, data)
    assert summary.lists == ()  # nothing of the list…
    assert {c.data_point for c in summary.new} == {"tf_aeo_valid"}  # …the other figures still count
    (refusal,) = summary.refused_lists
    assert (refusal.item_list, refusal.sheet, refusal.rows) == ("tf_import_declarations", "TF-04", 20)
    assert [(r.number, r.item, [p.code for p in r.problems]) for r in refusal.bad_rows] == [
        (9, "D7", ["negative"]),
        (14, "D12", ["not_a_number"]),
        (18, "D16", [CellCode.LIST_INCOMPLETE]),
    ]
    assert set(map(id, refusal.problems)) <= set(map(id, summary.errors))
    text = render_summary(summary, catalog, lang("en"))
    assert (
        "The list “Import declarations measured (TF-04)” (sheet TF-04, 20 rows) is not applied: "
        "none of its rows counts until these are fixed:"
    ) in text
    assert "• row 9 (D7): B9: -5 — a time cannot be negative" in text
    assert "• row 14 (D12): B14: about an hour — " in text
    assert "• row 18 (D16): B18 — this row leaves “T_i: arrival to physical release (minutes)” empty" in text
    assert "errors (not saved)" not in text  # the list's problems are given under the list, once
    french = render_summary(read(catalog, data, code="fr"), catalog, lang("fr"))
    assert "• ligne 9 (D7)\u202f: B9: -5 — " in french
    assert "n'est pas appliquée" in french


def test_officer_rows_are_checked_against_their_own_limits(catalog):
    """An officer cannot have more competencies with a gap than competencies: 7 of 6 is refused."""
    officers = [["A1", 1, 12], ["A2", 7, 6], ["A3", 0, 27]]
    summary = read(catalog, fill(template(catalog), items={"OD-02": officers}))
    assert summary.lists == () and not summary.new
    (refusal,) = summary.refused_lists
    ((row),) = refusal.bad_rows
    ((problem,),) = [row.problems]
    assert (row.number, row.item, problem.code, problem.where.cell) == (4, "A2", CellCode.OVER_COLUMN, "B4")
    text = render_summary(summary, catalog, lang("en"))
    assert "• row 4 (A2): B4: 7 — more than “Y_i: competencies of the job description” in the same row (6)" in text
    spanish = render_summary(
        read(catalog, fill(template(catalog), items={"OD-02": officers}), code="es"), catalog, lang("es")
    )
    assert (
        "fila 4 (A2): B4: 7 — más que «Y_i: competencias de la descripción de puesto» en la misma fila (6)" in spanish
    )
    fine = read(catalog, fill(template(catalog), items={"OD-02": [["A1", 1, 12], ["A2", 6, 6]]}))
    assert fine.refused_lists == () and [c.rows for c in fine.lists] == [2]  # as many gaps as competencies


def test_a_total_out_of_bounds_refuses_the_list(catalog):
    """Each row within bounds (a time ≤ 10⁹ min), the sum of two past them: not applied either."""
    data = fill(template(catalog), items={"TF-04": declarations([900_000_000, 900_000_000])})
    summary = read(catalog, data)
    assert summary.lists == () and not summary.new
    (refusal,) = summary.refused_lists
    assert refusal.bad_rows == ()
    assert [(p.where.cell, p.code, p.content) for p in refusal.totals] == [("B:B", "too_large", Decimal(1_800_000_000))]
    text = render_summary(summary, catalog, lang("en"))
    assert "TF-04!B:B · TF-04: 1,800,000,000 — larger than the maximum plausible value (1,000,000,000)" in text


# ---- an empty optional column ----------------------------------------------------------------------


def blank(reason: str, comment: str) -> KpiStatus:
    return KpiStatus(KpiState.BLANK, reason, comment, 11, T0)


def test_an_empty_optional_column_does_not_reopen_the_kpi_left_blank(catalog):
    """TF-05 left blank (lodging times not measured): a TF-05/06 list with only the arrival
    times gives TF-06 and leaves TF-05 blank, with its reason."""
    states = {"TF-05": blank("no_detail", "Lodging is not timed."), "TF-06": blank("db_collecting", "Soon.")}
    rows = [["E1", None, 120], ["E2", None, 90]]
    summary = read(catalog, fill(template(catalog, {}, states), items={"TF-05 TF-06": rows}), {}, states)
    assert summary.refused_lists == () and [c.rows for c in summary.lists] == [2]
    assert summary.reopened == ("TF-06",)
    assert summary.blanks == ()
    assert "TF-05" not in dict(summary.computable)
    both = [["E1", 60, 120], ["E2", 30, 90]]
    summary = read(catalog, fill(template(catalog, {}, states), items={"TF-05 TF-06": both}), {}, states)
    assert summary.reopened == ("TF-05", "TF-06")  # a list that gives TF-05 reopens it, as typing would
