"""The spreadsheet round trip: template → filled with openpyxl → read back → summary."""

from __future__ import annotations

import io
import random
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

import openpyxl
import pytest

from pmm_core.catalog.models import DataPoint, DataType
from pmm_core.domain.records import KpiState, KpiStatus
from pmm_core.domain.text import Text
from pmm_core.outputs.i18n import lang
from pmm_core.outputs.spreadsheet import (
    CellCode,
    build_receipt,
    build_template,
    read_upload,
    render_problem,
    render_summary,
)
from pmm_core.outputs.spreadsheet.upload import _answer, _Bad, _Cell
from tests.sheets import BELGIUM, CYCLE, Located, dimension_sheets, fill, keys, patch_part, rows_by_id, save, sheet_part

T0 = "2026-01-20T10:00:00+00:00"


def blank(reason: str, comment: str | None = None) -> KpiStatus:
    return KpiStatus(KpiState.BLANK, reason, comment, 11, T0)


def template(catalog, values=None, states=None, code="en") -> bytes:
    return build_template(catalog, BELGIUM, CYCLE, values or {}, states or {}, lang(code))


def read(catalog, data: bytes, values=None, states=None, code="en"):
    return read_upload(
        catalog,
        data,
        member="BE",
        cycle_year=2025,
        current_values=values or {},
        current_states=states or {},
        lang=code,
    )


# ---- the template ------------------------------------------------------------------------------


def test_template_layout(catalog):
    wb = openpyxl.load_workbook(io.BytesIO(template(catalog, code="fr")))
    meta = wb["_pmm"]
    assert meta.sheet_state == "veryHidden"
    assert {row[0]: row[1] for row in meta.iter_rows(max_col=2, values_only=True) if row[0]} == {
        "kind": "template",
        "version": 1,
        "member": "BE",
        "cycle_year": 2025,
        "lang": "fr",
    }
    sheets = dimension_sheets(wb)
    assert [ws.title for ws in sheets] == ["TF", "RC", "ES", "OD", "WT"]
    assert {"TF-04", "TF-05 TF-06", "OD-02"} <= set(wb.sheetnames)
    ids: list[str] = []
    for ws in sheets:
        assert ws.row_dimensions[1].hidden
        assert ws.column_dimensions["B"].hidden
        assert list(keys(ws)) == [
            "kpi",
            "id",
            "label",
            "year",
            "unit",
            "expected",
            "previous",
            "current",
            "value",
            "blank",
            "comment",
        ]
        assert ws.protection.sheet and not ws.protection.password
        ids += rows_by_id(ws)
    # every data point on exactly one row, every KPI on its own row
    points = [i for i in ids if i in catalog.data_points]
    assert sorted(points) == sorted(catalog.data_points)
    assert sorted(i for i in ids if i in catalog.kpi_by_id) == sorted(catalog.kpi_by_id)
    assert len(ids) == len(points) + len(catalog.kpis)


def test_template_cells_dropdowns_and_locks(catalog):
    values = {"tf_aeo_valid": "1250", "tf_pse_mechanism": "yes", "tool_rkc": "aware_using"}
    wb = openpyxl.load_workbook(io.BytesIO(template(catalog, values, {"TF-03": blank("no_detail")}, "fr")))
    tf, wt = wb["TF"], wb["WT"]
    k, rows = keys(tf), rows_by_id(tf)
    cell = tf.cell(rows["tf_aeo_valid"], k["current"])
    assert cell.value == 1250
    assert tf.cell(rows["tf_pse_mechanism"], k["current"]).value == "Oui"
    assert tf.cell(rows["tf_aeo_valid"], k["label"]).value == catalog.data_points["tf_aeo_valid"].label.fr
    assert tf.cell(rows["TF-03"], k["current"]).value.startswith("laissé en blanc")
    assert wt.cell(rows_by_id(wt)["tool_rkc"], keys(wt)["current"]).value == "Le connaît et l'utilise"
    # labels locked, inputs unlocked
    assert tf.cell(rows["tf_aeo_valid"], k["label"]).protection.locked
    assert not tf.cell(rows["tf_aeo_valid"], k["value"]).protection.locked
    assert not tf.cell(rows["TF-03"], k["blank"]).protection.locked
    assert tf.cell(rows["tf_aeo_valid"], k["blank"]).protection.locked
    # dropdowns: yes/no on yes/no rows, the five reasons on KPI rows, the scale on tool rows
    lists = {}
    for ws in (tf, wt):
        for dv in ws.data_validations.dataValidation:
            for coordinate in str(dv.sqref).split():
                lists[(ws.title, coordinate)] = dv.formula1
    meta = wb["_pmm"]

    def entries(formula: str) -> list[str]:
        column = formula.split("!")[1].split(":")[0].strip("$").rstrip("0123456789").strip("$")
        return [c.value for c in meta[column] if c.value is not None]

    yes_no = lists[("TF", tf.cell(rows["tf_pse_mechanism"], k["value"]).coordinate)]
    assert entries(yes_no) == ["Oui", "Non"]
    reasons = lists[("TF", tf.cell(rows["TF-01"], k["blank"]).coordinate)]
    assert entries(reasons) == [r.text.fr for r in catalog.blank_reasons]
    scale = lists[("WT", wt.cell(rows_by_id(wt)["tool_rkc"], keys(wt)["value"]).coordinate)]
    assert entries(scale) == [s.label.fr for s in catalog.tool_scale]
    assert ("TF", tf.cell(rows["tf_aeo_valid"], k["value"]).coordinate) not in lists


@pytest.mark.parametrize(
    ("code", "shown"),
    [
        ("en", "left blank: the database does not provide this level of detail"),
        ("fr", "laissé en blanc\u202f: la base de données ne fournit pas ce niveau de détail"),
        ("es", "en blanco: la base de datos no ofrece este nivel de detalle"),
    ],
)
def test_the_current_value_of_a_blank_kpi_gives_its_reason_after_a_colon(catalog, code, shown):
    wb = openpyxl.load_workbook(io.BytesIO(template(catalog, {}, {"TF-03": blank("no_detail")}, code)))
    tf = wb["TF"]
    assert tf.cell(rows_by_id(tf)["TF-03"], keys(tf)["current"]).value == shown
    if code == "fr":  # the lists of the instructions sheet too: "TF-04 : …"
        column = [row[0] for row in wb.worksheets[0].iter_rows(max_col=1, values_only=True)]
        assert any(str(text).startswith("TF-04\u202f: ") for text in column)


def test_no_stored_text_becomes_a_formula_in_the_template(catalog):
    stored = {"tf_aeo_valid": '=HYPERLINK("http://evil","click")', "tool_rkc": "=1+1", "tf_aeo_valid_prev": "@A1"}
    wb = openpyxl.load_workbook(io.BytesIO(template(catalog, stored)))
    formulas = [
        (ws.title, c.coordinate) for ws in wb.worksheets for r in ws.iter_rows() for c in r if c.data_type == "f"
    ]
    assert formulas == []
    tf, wt = wb["TF"], wb["WT"]
    assert tf.cell(rows_by_id(tf)["tf_aeo_valid"], keys(tf)["current"]).value == '\'=HYPERLINK("http://evil","click")'
    assert tf.cell(rows_by_id(tf)["tf_aeo_valid_prev"], keys(tf)["current"]).value == "'@A1"
    assert wt.cell(rows_by_id(wt)["tool_rkc"], keys(wt)["current"]).value == "'=1+1"
    assert tf.data_validations.dataValidation  # the template's own list formulas stay


def test_a_reason_typed_with_a_typographic_apostrophe(catalog):
    """Spreadsheet programs and keyboards turn ' into ’: the reason still counts."""
    typed = catalog.blank_reasons[0].text.fr.replace("'", "’").upper()
    assert "’" in typed
    summary = read(catalog, fill(template(catalog, code="fr"), blanks={"TF-03": (typed, None)}), code="fr")
    assert summary.errors == ()
    assert [(b.kpi, b.reason) for b in summary.blanks] == [("TF-03", "db_collecting")]


# ---- round trips -------------------------------------------------------------------------------

CURRENT = {"tf_aeo_valid": "1000", "rc_pcc_duties_adjusted": "800", "od_spp_environmental_scan": "no"}


def test_round_trip_english(catalog):
    states = {"TF-03": blank("no_detail")}
    where = Located()
    data = fill(
        template(catalog, CURRENT, states),
        values={
            "tf_aeo_valid": 1300,  # changed 1000 → 1300
            "tf_aeo_valid_prev": "1,000",  # new, text in the English number format
            "od_spp_environmental_scan": "No",  # unchanged
            "od_spp_internal_analysis": "Yes",  # new
            "tool_rkc": "Aware and using it",  # new, a scale label
            "rc_pcc_duties_adjusted": 1234.5,  # changed amount 800 → 1234.5
            "tf_import_release_declarations": -5,  # error: a negative count
            "tf_pse_mechanism": "maybe",  # error: not yes/no
        },
        blanks={"TF-07": (catalog.blank_reasons[3].text.en, "no database"), "TF-09": ("not a reason", None)},
        located=where,
    )
    summary = read(catalog, data, CURRENT, states)
    assert {(c.data_point, c.old, c.new) for c in summary.changed} == {
        ("tf_aeo_valid", "1000", "1300"),
        ("rc_pcc_duties_adjusted", "800", "1234.5"),
    }
    assert {(c.data_point, c.new) for c in summary.new} == {
        ("tf_aeo_valid_prev", "1000"),
        ("od_spp_internal_analysis", "yes"),
        ("tool_rkc", "aware_using"),
    }
    assert summary.unchanged == ("od_spp_environmental_scan",)
    assert [(b.kpi, b.reason, b.comment) for b in summary.blanks] == [("TF-07", "no_detail", "no database")]
    errors = {(str(e.where), e.code) for e in summary.errors}
    assert errors == {
        (where.cells["tf_import_release_declarations"], "negative"),
        (where.cells["tf_pse_mechanism"], "not_yes_no"),
        (where.cells["TF-09"], CellCode.UNKNOWN_REASON),
    }
    # TF-02 = ((A - B) / B) × 100 = (1300 - 1000) / 1000 × 100 = 30
    assert [(k, r.value) for k, r in summary.computable] == [("TF-02", 30)]
    assert summary.writes == {
        "tf_aeo_valid": "1300",
        "tf_aeo_valid_prev": "1000",
        "od_spp_internal_analysis": "yes",
        "tool_rkc": "aware_using",
        "rc_pcc_duties_adjusted": "1234.5",
    }
    text = render_summary(summary, catalog, lang("en"))
    assert f"{where.cells['tf_import_release_declarations']} · TF-04: -5 — a count cannot be negative" in text
    assert "TF-02 · AEOs with a valid status: 1,000 → 1,300" in text
    assert f"TF-02 · {catalog.kpi('TF-02').name.en}: 30%" in text


def test_round_trip_french_text_numbers(catalog):
    data = fill(
        template(catalog, code="fr"),
        values={
            "tf_import_release_minutes": "12,5",  # minutes, French decimal comma
            "tf_import_release_declarations": "1\u202f234",  # narrow no-break space between thousands
            "rc_pcc_duties_adjusted": "1 234 567,89",
            "od_spp_internal_analysis": "oui",
            "tool_rkc": "Le connaît et l'utilise",
            "tf_aeo_valid": "12,5",  # a count cannot have decimals
        },
        blanks={"TF-07": ("4", None)},  # a reason by its number
    )
    summary = read(catalog, data, code="fr")
    assert {(c.data_point, c.new) for c in summary.new} == {
        ("tf_import_release_minutes", "12.5"),
        ("tf_import_release_declarations", "1234"),
        ("rc_pcc_duties_adjusted", "1234567.89"),
        ("od_spp_internal_analysis", "yes"),
        ("tool_rkc", "aware_using"),
    }
    assert [(e.subject, e.code) for e in summary.errors] == [("tf_aeo_valid", "not_whole")]
    assert [(b.kpi, b.reason) for b in summary.blanks] == [("TF-07", "no_detail")]
    # TF-04 = A / B = 12.5 / 1234 = 0.01012… min, computed from typed totals
    (kpi, result), *_ = summary.computable
    assert kpi == "TF-04" and result.from_totals
    assert abs(Fraction(result.value) - Fraction(125, 12340)) < Fraction(1, 10**30)
    assert "12,5" in render_summary(summary, catalog, lang("fr"))


def plausible(dp: DataPoint, i: int, code: str) -> tuple[object, str]:
    """A cell an NCP would type for `dp`, and the stored value expected (computed here)."""
    if dp.type is DataType.YES_NO:
        return ({"en": "Yes", "fr": "Oui", "es": "Sí"}[code], "yes")
    if dp.type is DataType.SCALE:
        choice = dp.choices[i % len(dp.choices)]
        return choice.label.get(code), choice.code
    if dp.type is DataType.COUNT:
        return 100 + i, str(100 + i)
    if dp.type is DataType.NUMBER:
        return 12.5, "12.5"
    return 1000 + i + 0.25, f"{1000 + i}.25"  # amounts and minutes


@pytest.mark.parametrize("code", ["en", "fr"])
def test_a_fully_filled_template(catalog, code):
    cells, expected = {}, {}
    for i, dp in enumerate(catalog.data_points.values()):
        cells[dp.id], expected[dp.id] = plausible(dp, i, code)
    summary = read(catalog, fill(template(catalog, code=code), cells), code=code)
    assert summary.errors == ()
    assert {c.data_point: c.new for c in summary.new} == expected
    assert sorted(k for k, _ in summary.computable) == sorted(k.id for k in catalog.kpis)


def test_rows_sorted_translated_and_a_column_inserted(catalog):
    data = fill(template(catalog), values={"tf_aeo_valid": 1300, "tf_aeo_valid_prev": 1000})
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb["TF"]
    for sheet in dimension_sheets(wb):
        sheet.protection.sheet = False
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=3)]
    random.Random(7).shuffle(rows)
    for r, row in enumerate(rows, start=3):
        for c, value in enumerate(row, start=1):
            ws.cell(row=r, column=c).value = value  # (value=None in cell() would keep the old value)
    for cell in ws[2]:
        if cell.value:
            cell.value = f"Übersetzt {cell.column}"  # headers translated by a tool
    ws.insert_cols(1)
    ws.title = "Handel"
    summary = read(catalog, save(wb))
    assert {(c.data_point, c.new) for c in summary.new} == {("tf_aeo_valid", "1300"), ("tf_aeo_valid_prev", "1000")}
    assert summary.errors == ()
    assert all(c.where.sheet == "Handel" for c in summary.new)


def test_results_that_change(catalog):
    current = {"tf_aeo_valid": "1200", "tf_aeo_valid_prev": "1000"}  # TF-02: (1200 - 1000) / 1000 × 100 = 20
    summary = read(catalog, fill(template(catalog, current), values={"tf_aeo_valid": 1500}), current)
    assert summary.computable == ()
    ((kpi, before, after),) = summary.recomputed
    assert (kpi, before.value, after.value) == ("TF-02", 20, 50)  # (1500 - 1000) / 1000 × 100 = 50
    assert "20% → 50%" in render_summary(summary, catalog, lang("en"))


def test_duplicated_rows_count_for_neither(catalog):
    wb = openpyxl.load_workbook(io.BytesIO(fill(template(catalog), values={"tf_aeo_valid": 5})))
    ws = wb["RC"]
    ws.protection.sheet = False
    k = keys(ws)
    ws.cell(row=ws.max_row + 1, column=k["id"], value="tf_aeo_valid")
    ws.cell(row=ws.max_row, column=k["value"], value=6)
    summary = read(catalog, save(wb))
    assert summary.new == ()
    assert [(e.where.sheet, e.code) for e in summary.errors] == [("RC", CellCode.DUPLICATE)]


def test_a_blank_kpi_reopens_when_its_figures_are_given(catalog):
    states = {"TF-02": blank("no_detail")}
    data = fill(template(catalog, {}, states), values={"tf_aeo_valid": 120, "tf_aeo_valid_prev": 100})
    summary = read(catalog, data, {}, states)
    assert summary.reopened == ("TF-02",)
    assert [k for k, _ in summary.computable] == ["TF-02"]  # (120 - 100) / 100 × 100 = 20
    assert summary.computable[0][1].value == 20
    same_reason = fill(template(catalog, {}, states), blanks={"TF-02": (catalog.blank_reasons[3].text.en, None)})
    again = read(catalog, same_reason, {}, states)
    assert again.blanks == () and not again.has_changes


# ---- formulas and odd cells --------------------------------------------------------------------


def test_formulas_read_their_saved_result_or_are_refused(catalog):
    where = Located()
    data = fill(template(catalog), values={"tf_aeo_valid": "=1000+300", "tf_aeo_valid_prev": "=2*500"}, located=where)
    part = sheet_part(data, "TF")
    cell = where.cells["tf_aeo_valid"].split("!")[1]
    data = patch_part(data, part, rf'(<c r="{cell}"[^>]*>)<f>1000\+300</f><v\s*/>', r"\1<f>1000+300</f><v>1300</v>")
    summary = read(catalog, data)
    assert [(c.data_point, c.new, c.from_formula) for c in summary.new] == [("tf_aeo_valid", "1300", True)]
    assert [(e.subject, e.code) for e in summary.errors] == [("tf_aeo_valid_prev", CellCode.FORMULA_NO_VALUE)]
    assert [str(w) for w in summary.formulas] == [where.cells["tf_aeo_valid"]]


def test_dates_and_error_values(catalog):
    values = {"tf_import_release_minutes": datetime(2025, 1, 1, 1, 30), "tf_aeo_valid": "#DIV/0!"}
    summary = read(catalog, fill(template(catalog), values=values))
    assert {(e.subject, e.code) for e in summary.errors} == {
        ("tf_import_release_minutes", CellCode.DATE_TIME),
        ("tf_aeo_valid", CellCode.CELL_ERROR),
    }


def test_a_percentage_cell_is_read_as_displayed():
    dp = DataPoint(id="x", type=DataType.PERCENT, label=Text(en="x"), question=Text(en="x"), help=Text(en="x"))
    assert _answer(dp, _Cell(0.981, "A1", number_format="0.0%"), "en").value == "98.1"  # type: ignore[union-attr]
    assert _answer(dp, _Cell(98.1, "A1", number_format='0.0" %"'), "en").value == "98.1"  # type: ignore[union-attr]
    assert isinstance(_answer(dp, _Cell(120, "A1"), "en"), _Bad)


# ---- item lists ------------------------------------------------------------------------------------


def test_lists_give_their_totals_and_the_kpi(catalog):
    officers: list[list[Any]] = [
        ["officer 1", 1, 12],
        ["officer 2", "5", "20"],
        ["officer 3", 0, 27],
        ["officer 4", 5, 30],
    ]
    declarations = [[f"D{i}", minutes] for i, minutes in enumerate((30, 45.5, 120, 0.25))]
    data = fill(template(catalog), items={"OD-02": officers, "TF-04": declarations})
    summary = read(catalog, data)
    assert summary.errors == ()
    assert {(c.data_point, c.new, c.from_list) for c in summary.new} == {
        ("od_cd_frontline_officers", "4", "od_cd_officers"),
        ("od_cd_competency_gaps", "11", "od_cd_officers"),  # 1 + 5 + 0 + 5
        ("od_cd_competencies_per_officer", "22.25", "od_cd_officers"),  # 89 / 4
        ("tf_import_release_declarations", "4", "tf_import_declarations"),
        ("tf_import_release_minutes", "195.75", "tf_import_declarations"),  # 30 + 45.5 + 120 + 0.25
    }
    assert [(c.item_list, c.rows) for c in summary.lists] == [("tf_import_declarations", 4), ("od_cd_officers", 4)]
    results = dict(summary.computable)
    assert str(results["OD-02"].display_value) == "12.50"  # Σ(X_i/Y_i)/N × 100, not 12.36 from totals
    assert results["TF-04"].value == Decimal("48.9375")  # 195.75 / 4
    assert not results["OD-02"].from_totals


def test_list_template_shows_the_stored_list_and_reads_back_unchanged(catalog):
    data = fill(template(catalog), items={"OD-02": [["a", 1, 12], ["b", 5, 20]]})
    first = read(catalog, data)
    stored = first.writes
    again = read(catalog, template(catalog, stored), stored)
    assert not again.has_changes and again.errors == ()
    assert set(again.unchanged) == {
        "od_cd_frontline_officers",
        "od_cd_competency_gaps",
        "od_cd_competencies_per_officer",
    }


def test_list_problems(catalog):
    data = fill(
        template(catalog),
        values={"tf_import_release_minutes": 999},  # typed total differs from the list's 150
        items={"TF-04": [["D1", 60], ["D2", 90]], "OD-02": [["a", 1, 12], ["b", 2, None], ["c", -1, 10]]},
    )
    summary = read(catalog, data)
    codes = sorted((e.subject, str(e.code)) for e in summary.errors)
    assert codes == [
        ("od_cd_officers", "list_incomplete"),
        ("od_cd_officers", "negative"),
        ("tf_import_release_minutes", "total_differs"),
    ]
    assert [c.item_list for c in summary.lists] == ["tf_import_declarations"]  # OD-02's list is not applied
    assert {c.data_point: c.new for c in summary.new}["tf_import_release_minutes"] == "150"
    lines = [render_problem(e, catalog, lang("en")) for e in summary.errors]
    assert any("the list on the sheet TF-04 gives 150" in line for line in lines)
    assert any("leaves “Y_i: competencies of the job description” empty" in line for line in lines)


def test_stored_values_the_catalog_no_longer_reads_do_not_break_the_files(catalog):
    stored = {
        "tf_aeo_valid": "abc",
        "tf_aeo_valid_prev": "NaN",
        "tool_rkc": "retired_code",
        "items:od_cd_officers": "{",
    }
    wb = openpyxl.load_workbook(io.BytesIO(template(catalog, stored)))
    tf = wb["TF"]
    assert tf.cell(rows_by_id(tf)["tf_aeo_valid"], keys(tf)["current"]).value == "abc"
    assert build_receipt(catalog, BELGIUM, CYCLE, stored, {}, T0, lang("en"))
