"""Exports for the Secretariat: the XLSX workbook and the CSV, read back with openpyxl and csv."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from typing import Any

import openpyxl
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pmm_core.catalog.loader import load_catalog
from pmm_core.catalog.members import Member
from pmm_core.domain.analytics import participating_members
from pmm_core.domain.records import (
    Answer,
    AuditRow,
    Cycle,
    CycleData,
    CycleState,
    Flag,
    FlagState,
    KpiState,
    KpiStatus,
    Submission,
)
from pmm_core.outputs import export
from pmm_core.outputs.export import build_csv, build_workbook
from pmm_core.outputs.i18n import lang
from pmm_core.outputs.sheets import FORMULA_START, neutralise, restore
from tests import analysis_fixture as fx

SHEETS = ["Overview", "Members", "Data points", "KPI results", "Blank reasons", "Flags"]


def _workbook(data: bytes) -> openpyxl.Workbook:
    assert data.startswith(b"PK")  # a zip container
    return openpyxl.load_workbook(io.BytesIO(data))


def _rows(ws) -> list[list]:
    return [list(r) for r in ws.iter_rows(values_only=True)]


def _table(ws) -> list[dict[Any, Any]]:
    rows = _rows(ws)
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


@pytest.fixture(scope="module")
def data():
    return fx.build()


@pytest.fixture(scope="module")
def book(catalog_module, data):
    audit = [AuditRow(fx.T0, 1, 2025, "BE", "submit", "", None, None)]
    return _workbook(
        build_workbook(catalog_module, data, lang("en"), previous=fx.build_previous(), audit=audit, people={1: "Ana"})
    )


@pytest.fixture(scope="module")
def catalog_module():
    return load_catalog()


def test_sheets_headers_filters_and_frozen_panes(book):
    assert book.sheetnames == [*SHEETS, "Year on year", "Audit log"]
    for ws in book.worksheets:
        assert ws.freeze_panes == "A2"
        assert all(cell.font.bold for cell in ws[1])
        assert ws.auto_filter.ref == f"A1:{ws.cell(1, ws.max_column).column_letter}{ws.max_row}"
    # Member names on every sheet about Members.
    for title in ["Members", "Data points", "KPI results", "Blank reasons", "Flags", "Year on year", "Audit log"]:
        assert "Member" in _rows(book[title])[0], title


def test_members_sheet_with_groupings_and_real_dates(book):
    rows = {r["ISO code"]: r for r in _table(book["Members"])}
    assert set(rows) == {code for code, *_ in fx.MEMBERS} - {fx.NO_NCP}  # an NCP or data
    ke = rows["KE"]
    assert (ke["Member"], ke["WCO region"], ke["Income group"]) == (
        "Kenya",
        "East and Southern Africa",
        "Lower-middle-income economies",
    )
    assert (ke["Geographic type"], ke["Administration type"], ke["State"]) == (
        "Other geographic type",
        "Revenue authority",
        "submitted",
    )
    assert ke["Submitted at (UTC)"] == datetime(2026, 2, 1, 9, 30)  # 10:30+01:00
    assert (ke["KPIs done"], ke["KPIs left blank"]) == (5, 2)  # TF-10, RC-02, TF-07, OD-05, OD-04; ES-07, TF-13
    assert rows["EG"]["State"] == "not started" and rows["JO"]["State"] == "in progress"
    assert rows["FR"]["NCPs"] == 2
    assert ke["Share of KPIs left blank"] == pytest.approx(2 / 51)
    assert ke["Peer-reviewed (review closed)"] is None  # no review closed in this cycle
    assert book["Members"]["N2"].number_format == "0.0%"


def test_kpi_results_only_for_confirmed_kpis(book):
    rows = {(r["ISO code"], r["KPI"]): r for r in _table(book["KPI results"])}
    be = rows["BE", "TF-10"]  # every figure given, never confirmed
    assert (be["Status"], be["Result"], be["Note"]) == ("in progress", None, "not confirmed by the NCP")
    fr = rows["FR", "TF-10"]
    a, b = fx.TF10["FR"]
    assert fr["Result"] == pytest.approx(round(100 * a / b, 2)) and fr["Status"] == "done"
    assert fr["Flag"] == "outlier against other Members (to review)"
    assert rows["DE", "TF-10"]["Flag"] is None  # its flag is resolved
    assert (rows["KE", "ES-07"]["Status"], rows["KE", "ES-07"]["Note"]) == ("left blank", "left blank")
    assert (rows["EG", "TF-10"]["Status"], rows["EG", "TF-10"]["Result"]) == ("open", None)
    # Disclosure level, unit and dimension as labels.
    assert [rows["FR", k]["Disclosure"] for k in ("TF-10", "RC-02", "TF-07")] == ["Public", "WCO", "Country"]
    assert fr["Unit"] == "percentage" and fr["Dimension"] == "Trade Facilitation and Economic Competitiveness"
    assert fr["Member"] == "France" and fr["Administration type"] == "Ministry department"
    assert isinstance(fr["Result"], float)


def test_data_points_labels_marks_and_dates(book, catalog_module):
    rows = {(r["ISO code"], r["Data point"]): r for r in _table(book["Data points"])}
    be = rows["BE", "tf_declarations_electronic"]
    assert be["Value"] == 10 and type(be["Value"]) is int  # a count stays an integer
    assert be["KPI confirmed"] == "No, not confirmed"
    assert rows["FR", "tf_declarations_electronic"]["Flag"] == "outlier against other Members (to review)"
    assert rows["FR", "tf_declarations"]["Flag"] is None
    yes_no = rows["UG", "tf_pse_mechanism"]
    assert yes_no["Value"] in ("Yes", "No") and yes_no["KPI"] == "TF-01"
    assert yes_no["By"] == "Ana" and yes_no["At (UTC)"] == datetime(2026, 1, 15, 9, 0)
    assert be["Label"] == catalog_module.data_points["tf_declarations_electronic"].label.en
    assert be["WCO region"] == "Europe"


def test_blank_reasons_flags_year_on_year_audit(book):
    blanks = _table(book["Blank reasons"])
    assert len(blanks) == sum(len(b) for b in fx.BLANKS.values())
    assert blanks[0]["Member"] == "Botswana"  # by region, then ISO code
    ke = [(r["KPI"], r["Reason"]) for r in blanks if r["Member"] == "Kenya"]
    assert ke == [
        ("TF-13", "The database does not provide this level of detail"),  # catalog order
        ("ES-07", "The database has not been set up yet, but I have started collecting the data"),
    ]
    flags = _table(book["Flags"])
    assert [(f["ISO code"], f["Kind"], f["State"]) for f in flags] == [
        ("FR", "outlier against other Members", "to review"),
        ("DE", "outside the valid range", "resolved"),
    ]
    yoy = _table(book["Year on year"])
    both = {c for c in fx.TF10_2024 if c in fx.TF10 and c in fx.SUBMITTED}
    assert {r["ISO code"] for r in yoy} == both and {r["KPI"] for r in yoy} == {"TF-10"}
    ke_row = next(r for r in yoy if r["ISO code"] == "KE")
    assert (ke_row["Result 2024"], ke_row["Result 2025"]) == (70.0, 51.0)
    assert ke_row["Change"] == pytest.approx(-19.0)
    assert _table(book["Audit log"]) == [
        {
            "At (UTC)": datetime(2026, 1, 15, 9, 0),
            "User": "Ana",
            "ISO code": "BE",
            "Member": "Belgium",
            "Action": "answers submitted",
            "Subject": None,
            "Old value": None,
            "New value": None,
        }
    ]


def test_overview(book):
    overview = {r[0]: r[1] for r in _rows(book["Overview"])[1:]}
    assert overview["PMM cycle (reference year)"] == 2025
    assert overview["Cycle state"] == "closed"
    assert overview["Deadline"] == datetime(2026, 3, 31)
    assert (overview["submitted"], overview["in progress"], overview["not started"]) == (57, 1, 1)
    assert overview["Flags not resolved"] == 1


def test_french_labels(catalog_module, data):
    L = lang("fr")
    wb = _workbook(build_workbook(catalog_module, data, L))
    results = _rows(wb.worksheets[3])
    assert results[0][:2] == [L._("ISO code"), L._("Member")] and results[0][1] == "Membre"
    row = next(r for r in results if r[0] == "FR" and r[7] == "TF-10")  # columns as in English
    assert row[1:3] == ["France", "Europe"]
    assert row[8] == "Taux de déclarations électroniques"
    assert row[10] == L._("done") != "done"  # the status's label, not its code
    assert row[12] == "pourcentage"  # the unit's label, not "percent"


def test_csv_separator_decimal_mark_and_bom(catalog_module):
    small = CycleData(
        cycle=Cycle(1, 2025, date(2026, 1, 1), date(2026, 3, 31), CycleState.OPEN),
        members={"BE": Member("BE", "eur")},
        answers={"BE": {"rc_pcc_duties_adjusted": Answer("1234.5", 1, fx.T0), "rc_importers": Answer("12", 1, fx.T0)}},
        states={},
        ncps={"BE": 1},
    )
    english = build_csv(catalog_module, small, lang("en"))
    assert english.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(english.decode("utf-8-sig")), delimiter=","))
    assert rows[0][:3] == ["ISO code", "Member", "WCO region"]
    by_dp = {r[5]: r for r in rows[1:]}
    assert by_dp["rc_pcc_duties_adjusted"][7:9] == ["1234.5", "USD"]
    assert by_dp["rc_importers"][7] == "12"
    for code in ("fr", "es"):
        text = build_csv(catalog_module, small, lang(code)).decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text), delimiter=";"))
        assert len(rows[0]) == 14
        assert {r[5]: r for r in rows[1:]}["rc_pcc_duties_adjusted"][7] == "1234,5"
        assert rows[1][1] == "Belgique" if code == "fr" else rows[1][1] == "Bélgica"


def test_empty_cycle_exports_headers_only(catalog_module):
    empty = CycleData(
        cycle=Cycle(1, 2025, date(2026, 1, 1), date(2026, 3, 31), CycleState.OPEN),
        members={"BE": Member("BE", "eur")},
        answers={},
        states={},
    )
    wb = _workbook(build_workbook(catalog_module, empty, lang("en")))
    assert [ws.max_row for ws in wb.worksheets[1:]] == [1, 1, 1, 1, 1]
    assert build_csv(catalog_module, empty, lang("en")).decode("utf-8-sig").count("\r\n") == 1


# ---- formula injection (issue 9) -----------------------------------------------------------

hostile = st.one_of(
    st.sampled_from(
        [
            "=1+1",
            '=HYPERLINK("http://x","y")',
            "+cmd|' /C calc'!A0",
            "-2+3",
            "@SUM(A1:A2)",
            "\t=1",
            "\r=1",
            "=",
            "'=already",
        ]
    ),
    st.text(min_size=1, max_size=30),
    st.builds(lambda c, t: c + t, st.sampled_from(FORMULA_START), st.text(max_size=20)),
)


def lines(text: str) -> str:
    """XML and CSV readers turn CR and CRLF into LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _hostile_cycle(text: str) -> CycleData:
    return CycleData(
        cycle=Cycle(1, 2025, date(2026, 1, 1), date(2026, 3, 31), CycleState.OPEN),
        members={"BE": Member("BE", "eur")},
        answers={"BE": {"tf_aeo_valid": Answer("120", 7, fx.T0, source=text)}},
        states={"BE": {"TF-03": KpiStatus(KpiState.BLANK, "no_detail", text, 7, fx.T0)}},
        submissions={"BE": Submission(fx.T0, 7, None)},
        ncps={"BE": 1},
        flags=(Flag(1, 1, "BE", "TF-02", "tf_aeo_valid", ("outlier",), text, FlagState.EXPLAINED, note=text),),
    )


@settings(max_examples=30, deadline=None)
@given(hostile)
def test_no_user_text_becomes_a_formula(text):
    catalog = load_catalog()
    data = _hostile_cycle(text)
    audit = [AuditRow(fx.T0, 7, 1, "BE", "answer", "tf_aeo_valid", text, text)]
    wb = _workbook(build_workbook(catalog, data, lang("en"), audit=audit, people={7: text}))
    # Characters XML cannot hold are dropped, then a formula start is neutralised.
    cleaned = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", text)
    expected = "'" + cleaned if cleaned.startswith(("=", "+", "-", "@", "\t", "\r")) else cleaned
    seen = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str) and lines(cell.value) == lines(expected):
                    seen += 1
    assert seen >= 6 or not cleaned  # comment, source, name, flag detail and note, audit values
    for code in ("en", "fr"):
        text_csv = build_csv(catalog, data, lang(code), people={7: text}).decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text_csv), delimiter="," if code == "en" else ";"))
        cells = [c for r in rows for c in r]
        assert not any(c.startswith(FORMULA_START) for c in cells)
        assert lines(expected) in [lines(c) for c in cells]


@given(hostile)
def test_restore_gives_back_the_neutralised_text(text):
    """What the spreadsheet upload reads from a cell the template neutralised."""
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", text)  # dropped: XML cannot hold them
    assume(not (text.startswith("'") and text[1:].startswith(FORMULA_START)))  # the one text it cannot tell
    assert restore(neutralise(text)) == text
    assert restore(text) == text


def test_each_members_answers_are_gathered_once(catalog_module, data, monkeypatch):
    built: list[object] = []
    real = export.Snapshot

    def counting(*args, **kwargs):
        built.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(export, "Snapshot", counting)
    build_workbook(catalog_module, data, lang("en"))
    assert len(built) == len(participating_members(data)) > 1


def test_the_audit_sheet_speaks_in_labels(catalog_module):
    """Actions, figures, KPIs, states, reasons, flags and groupings by their labels, in the
    reader's language; an action the sheet does not know stays as stored."""
    rows = [
        AuditRow(fx.T0, 1, 1, "BE", "answer", "tf_aeo_valid", None, "1300"),
        AuditRow(fx.T0, 1, 1, "BE", "answer", "tf_pse_mechanism", "no", "yes"),
        AuditRow(fx.T0, 1, 1, "BE", "kpi", "TF-02", "in_progress", "blank:db_not_planned"),
        AuditRow(fx.T0, None, 1, "BE", "flag", "TF-03:tf_aeo_trade_value", None, "outlier,range"),
        AuditRow(fx.T0, 9, 1, "BE", "flag", "TF-03:", "open", "explained"),
        AuditRow(fx.T0, 9, None, "BE", "member.geography", "BE", "other", "landlocked"),
        AuditRow(fx.T0, 9, 1, None, "cycle.close", "1", "open", "closed"),
        AuditRow(fx.T0, 9, None, None, "role", "1", None, "secretariat"),
        AuditRow(fx.T0, 9, None, None, "something.new", "x", "a", "b"),
    ]
    data = fx.build()
    for code, expected in (
        (
            "en",
            [
                ("figure given or changed", catalog_module.data_points["tf_aeo_valid"].label.en, None, "1300"),
                ("figure given or changed", catalog_module.data_points["tf_pse_mechanism"].label.en, "No", "Yes"),
                (
                    "KPI status changed",
                    "TF-02 · Variation in the number of AEOs",
                    "in progress",
                    "left blank: no database, none planned",
                ),
                (
                    "data-check flag",
                    "TF-03 · AEO involvement in trade · " + catalog_module.data_points["tf_aeo_trade_value"].label.en,
                    None,
                    "outlier against other Members, outside the valid range",
                ),
                ("data-check flag", "TF-03 · AEO involvement in trade · Result", "to review", "explained"),
                ("grouping set: Geographic type", "Belgium", "Other geographic type", "Landlocked"),
                ("cycle closed", "1", "open", "closed"),
                ("role changed", "Ana", None, "Secretariat"),
                ("something.new", "x", "a", "b"),
            ],
        ),
        ("fr", None),
    ):
        book = _workbook(build_workbook(catalog_module, data, lang(code), audit=rows, people={1: "Ana"}))
        sheet = book[lang(code)._("Audit log")]
        table = [row[4:8] for row in sheet.iter_rows(min_row=2, values_only=True)]
        if expected is not None:
            assert table == expected
        else:
            assert (
                table[0][0] == "chiffre fourni ou modifié"
                and table[2][3] == "laissé en blanc\u202f: pas de base de données, aucune prévue"
            )
        codes = re.compile(r"\b(blank:|db_not_planned|tf_aeo|in_progress|member\.geography|cycle\.close)\b")
        assert not [c for row in table for c in row if isinstance(c, str) and codes.search(c)]
