"""The receipt of a submission: read-only, with results, blanks, time and a recomputable digest."""

from __future__ import annotations

import hashlib
import io

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pmm_core.domain.records import KpiState, KpiStatus
from pmm_core.outputs.i18n import lang
from pmm_core.outputs.spreadsheet import build_receipt, read_upload, submission_digest
from tests.sheets import BELGIUM, CYCLE, dimension_sheets, keys, rows_by_id

AT = "2026-03-01T14:05:00+00:00"
VALUES = {
    "tf_aeo_valid": "1200",
    "tf_aeo_valid_prev": "1000",
    "tf_pse_mechanism": "yes",
    "rc_pcc_duties_adjusted": "1234.5",
}
STATES = {
    "TF-02": KpiStatus(KpiState.CONFIRMED, None, None, 11, AT),
    "TF-03": KpiStatus(KpiState.BLANK, "no_detail", "our system does not record it", 11, AT),
}


def test_digest_is_sha256_of_the_documented_canonical_json():
    """Recomputed here from the documented form, written out by hand."""
    values = {"b": "2", "a": "1.5"}
    states = {"TF-01": KpiStatus(KpiState.BLANK, "no_detail", '«non» "quoted"\n', 1, AT)}
    document = (
        '{"states":{"TF-01":{"comment":"«non» \\"quoted\\"\\n","reason":"no_detail","status":"blank"}},'
        '"values":{"a":"1.5","b":"2"}}'
    )
    assert submission_digest(values, states) == hashlib.sha256(document.encode("utf-8")).hexdigest()


def test_the_receipt(catalog):
    data = build_receipt(catalog, BELGIUM, CYCLE, VALUES, STATES, AT, lang("fr"))
    wb = openpyxl.load_workbook(io.BytesIO(data))
    meta = {row[0]: row[1] for row in wb["_pmm"].iter_rows(max_col=2, values_only=True) if row[0]}
    assert meta["kind"] == "receipt" and meta["submitted_at"] == AT
    assert meta["digest"] == submission_digest(VALUES, STATES)
    first = wb.worksheets[0]
    shown = {row[0]: row[1] for row in first.iter_rows(max_col=2, values_only=True) if row[0]}
    assert meta["digest"] in shown.values()
    assert any("2026" in str(v) and "14:05" in str(v) for v in shown.values())  # the submission time
    assert wb.security.lockStructure
    for ws in wb.worksheets:
        if ws.sheet_state == "visible":
            assert ws.protection.sheet, ws.title
            assert all(c.protection.locked for row in ws.iter_rows() for c in row), ws.title
    tf = wb["TF"]
    k, rows = keys(tf), rows_by_id(tf)
    assert tf.cell(rows["tf_aeo_valid"], k["value"]).value == 1200
    assert tf.cell(rows["TF-03"], k["blank"]).value == catalog.blank_reasons[3].text.fr
    assert tf.cell(rows["TF-03"], k["comment"]).value == "our system does not record it"
    # TF-02 = (1200 - 1000) / 1000 × 100 = 20 %
    assert "20" in tf.cell(rows["TF-02"], k["current"]).value
    assert not tf.data_validations.dataValidation


def test_a_receipt_reads_back_as_no_change(catalog):
    data = build_receipt(catalog, BELGIUM, CYCLE, VALUES, STATES, AT, lang("en"))
    summary = read_upload(
        catalog, data, member="BE", cycle_year=2025, current_values=VALUES, current_states=STATES, lang="en"
    )
    assert not summary.has_changes and summary.errors == ()
    assert set(summary.unchanged) == set(VALUES)
    assert len(dimension_sheets(openpyxl.load_workbook(io.BytesIO(data)))) == 5


@given(st.sampled_from(sorted(VALUES)), st.text(min_size=1, max_size=10))
def test_the_digest_changes_with_any_value(key, new):
    if new == VALUES[key]:
        return
    assert submission_digest({**VALUES, key: new}, STATES) != submission_digest(VALUES, STATES)


def test_the_digest_changes_with_states_and_not_with_order():
    reordered = dict(reversed(list(VALUES.items())))
    assert submission_digest(reordered, STATES) == submission_digest(VALUES, STATES)
    other = {**STATES, "TF-03": KpiStatus(KpiState.BLANK, "db_planned", STATES["TF-03"].comment, 11, AT)}
    assert submission_digest(VALUES, other) != submission_digest(VALUES, STATES)
    removed = {k: v for k, v in VALUES.items() if k != "tf_pse_mechanism"}
    assert submission_digest(removed, STATES) != submission_digest(VALUES, STATES)


# ---- user text in the receipt ----------------------------------------------------------------

HOSTILE = ['=HYPERLINK("http://evil","click")', "=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "=", "- see note"]


def formula_cells(wb: openpyxl.Workbook) -> list[tuple[str, str, object]]:
    """Every formula cell of the workbook (the template and the receipt write none of their
    own: their dropdowns are data validations, not cells)."""
    return [
        (ws.title, c.coordinate, c.value)
        for ws in wb.worksheets
        for r in ws.iter_rows()
        for c in r
        if c.data_type == "f"
    ]


@pytest.mark.parametrize("comment", HOSTILE)
def test_a_blank_comment_never_becomes_a_formula_and_reads_back_unchanged(catalog, comment):
    states = {**STATES, "TF-03": KpiStatus(KpiState.BLANK, "no_detail", comment, 11, AT)}
    data = build_receipt(catalog, BELGIUM, CYCLE, VALUES, states, AT, lang("en"))
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert formula_cells(wb) == []
    tf = wb["TF"]
    assert tf.cell(rows_by_id(tf)["TF-03"], keys(tf)["comment"]).value == "'" + comment  # as exports do
    listed = [r for r in wb.worksheets[0].iter_rows(values_only=True) if str(r[0]).startswith("TF-03 · ")]
    assert [r[2] for r in listed] == ["'" + comment]
    # read back, the comment is the NCP's own again: the receipt changes nothing
    summary = read_upload(
        catalog, data, member="BE", cycle_year=2025, current_values=VALUES, current_states=states, lang="en"
    )
    assert not summary.has_changes and summary.errors == ()
    # …and so it is after the NCP edits the cell (Excel then hides the apostrophe as a quote prefix)
    cell = tf.cell(rows_by_id(tf)["TF-03"], keys(tf)["comment"])
    cell.value, cell.data_type = comment, "s"
    buffer = io.BytesIO()
    wb.save(buffer)
    summary = read_upload(
        catalog,
        buffer.getvalue(),
        member="BE",
        cycle_year=2025,
        current_values=VALUES,
        current_states=states,
        lang="en",
    )
    assert not summary.has_changes and summary.errors == ()


def test_control_characters_of_a_comment_are_dropped(catalog):
    states = {"TF-03": KpiStatus(KpiState.BLANK, "no_detail", "a bell\x07 and an escape\x1b", 11, AT)}
    wb = openpyxl.load_workbook(io.BytesIO(build_receipt(catalog, BELGIUM, CYCLE, VALUES, states, AT, lang("en"))))
    tf = wb["TF"]
    assert tf.cell(rows_by_id(tf)["TF-03"], keys(tf)["comment"]).value == "a bell and an escape"


def test_the_list_of_blank_kpis_has_its_own_heading(catalog):
    data = build_receipt(catalog, BELGIUM, CYCLE, VALUES, STATES, AT, lang("fr"))
    first = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    column = [row[0] for row in first.iter_rows(max_col=1, values_only=True)]
    at = next(i for i, text in enumerate(column) if str(text).startswith("TF-03 · "))
    assert column[at - 1] == "KPI laissés en blanc"
    assert "Les cinq motifs pour laisser un KPI en blanc" not in column  # the instructions' heading
