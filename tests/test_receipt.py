"""The receipt of a submission: read-only, with results, blanks, time and a recomputable digest."""

from __future__ import annotations

import hashlib
import io

import openpyxl
from hypothesis import given
from hypothesis import strategies as st

from pmm_core.i18n import lang
from pmm_core.records import KpiState, KpiStatus
from pmm_core.spreadsheet import build_receipt, read_upload, submission_digest
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
