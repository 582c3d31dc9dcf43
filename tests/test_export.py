"""Exports for the Secretariat: the XLSX workbook and the CSV of the data points."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import openpyxl

from pmm_core.export import build_csv, build_workbook
from pmm_core.store import KpiState

T0 = "2026-01-15T09:00:00+00:00"
SHEETS = ["Data points", "KPI results", "Blank reasons", "Flags", "Audit log"]
DATA_HEADER = ["Member ISO", "Member", "Region", "KPI", "Data point", "Label", "Value", "Unit", "By", "At"]


def english(s: str) -> str:
    return s


async def _scenario(store):
    """BE (NCP 11) answers TF-02 (confirmed: +20 %) and a few other figures and submits;
    FR (NCP 12) leaves TF-03 blank with a comment; KE takes no part."""
    cycle = store.open_cycle(2025, deadline=date(2026, 3, 31), opens=date(2026, 1, 1))
    for telegram_id, member in ((11, "BE"), (12, "FR")):
        store.touch_user(telegram_id, f"NCP {telegram_id}", "en")
        store.redeem_invite(store.create_invite(member, timedelta(days=1)), telegram_id)
    answers = [
        ("tf_aeo_valid", "120", "TF-02"),
        ("tf_aeo_valid_prev", "100", "TF-02"),
        ("tf_pse_mechanism", "yes", "TF-01"),
        ("rc_pcc_duties_adjusted", "1234.5", None),
        ("tf_export_declarations_measured", "10", "TF-05"),
        ("tf_export_lodging_minutes", "90.25", "TF-05"),
    ]
    for dp, value, kpi in answers:
        assert store.save_answer(cycle.id, "BE", dp, value, 11, kpi=kpi)
    store.set_kpi_state(cycle.id, "BE", "TF-02", KpiState.CONFIRMED, 11)
    assert store.submit(cycle.id, "BE", 11)
    store.set_kpi_state(cycle.id, "FR", "TF-03", KpiState.BLANK, 12, reason="no_detail", comment="No AEO split")
    store.add_flags(cycle.id, [("BE", "TF-02", "tf_aeo_valid", "outlier", "+20% on last year")])
    return cycle


def _rows(ws) -> list[list]:
    return [list(r) for r in ws.iter_rows(values_only=True)]


async def _workbook(store, catalog, cycle, translate=english, lang="en"):
    data = await build_workbook(store, catalog, cycle, translate, lang)
    assert data.startswith(b"PK")  # a zip container
    return openpyxl.load_workbook(io.BytesIO(data))


async def test_sheets_headers_bold_and_frozen(store, catalog):
    cycle = await _scenario(store)
    wb = await _workbook(store, catalog, cycle)
    assert wb.sheetnames == SHEETS
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2"
        assert all(cell.font.bold for cell in ws[1])
    assert not any(cell.font.bold for cell in wb["Data points"][2])
    assert _rows(wb["Data points"])[0] == DATA_HEADER


async def test_data_points_sheet_matches_the_store(store, catalog):
    cycle = await _scenario(store)
    rows = _rows((await _workbook(store, catalog, cycle))["Data points"])[1:]
    by_dp = {r[4]: r for r in rows}
    assert len(rows) == 6
    assert by_dp["tf_aeo_valid"] == [
        "BE",
        "Belgium",
        "eur",
        "TF-02",
        "tf_aeo_valid",
        catalog.data_points["tf_aeo_valid"].label.en,
        120,
        None,  # a count has no unit
        11,
        T0,
    ]
    assert type(by_dp["tf_aeo_valid"][6]) is int  # a count stays an integer
    assert by_dp["rc_pcc_duties_adjusted"][6:8] == [1234.5, "USD"]
    assert isinstance(by_dp["rc_pcc_duties_adjusted"][6], float)
    assert by_dp["tf_export_lodging_minutes"][6:8] == [90.25, "minutes"]
    assert by_dp["tf_pse_mechanism"][6] == "yes"  # a yes/no answer stays its code
    # A shared data point names every KPI that asks it.
    assert by_dp["tf_export_declarations_measured"][3] == "TF-05, TF-06"
    # Catalog order: TF-01 before TF-02 before TF-05 and RC.
    assert [r[4] for r in rows][:3] == ["tf_pse_mechanism", "tf_aeo_valid", "tf_aeo_valid_prev"]


async def test_kpi_results_sheet(store, catalog):
    cycle = await _scenario(store)
    rows = _rows((await _workbook(store, catalog, cycle))["KPI results"])
    assert rows[0] == ["Member ISO", "Region", "KPI", "KPI name", "Status", "Result", "Unit", "Not computable because"]
    # Participating Members only (BE and FR, which have NCPs); every KPI for each.
    assert len(rows) - 1 == 2 * len(catalog.kpis)
    by_key = {(r[0], r[2]): r for r in rows[1:]}
    assert ("KE", "TF-02") not in by_key
    assert by_key["BE", "TF-02"] == [
        "BE",
        "eur",
        "TF-02",
        "Variation in the number of AEOs",
        "done",
        20.0,
        "percent",
        None,
    ]
    assert by_key["BE", "TF-05"][4:] == ["in_progress", 9.03, "minutes", None]  # 90.25 / 10, 2 decimals
    assert by_key["BE", "TF-03"][4:] == ["open", None, "percent", "missing"]
    assert by_key["FR", "TF-03"][4:] == ["blank", None, "percent", "blank"]


async def test_blank_reasons_flags_and_audit_sheets(store, catalog):
    cycle = await _scenario(store)
    wb = await _workbook(store, catalog, cycle)
    blank = _rows(wb["Blank reasons"])
    assert blank == [
        ["Member ISO", "Region", "KPI", "Reason code", "Reason", "Comment"],
        ["FR", "eur", "TF-03", "no_detail", "The database does not provide this level of detail", "No AEO split"],
    ]
    flags = _rows(wb["Flags"])
    assert flags[0] == ["ID", "Member ISO", "KPI", "Data point", "Kind", "Detail", "State"]
    flag = (store.flags(cycle.id))[0]
    assert flags[1:] == [[flag.id, "BE", "TF-02", "tf_aeo_valid", "outlier", "+20% on last year", "open"]]
    audit = _rows(wb["Audit log"])
    log = store.audit_log(cycle_id=cycle.id)
    assert audit[0] == ["At", "User", "Member ISO", "Action", "Subject", "Old value", "New value"]
    assert len(audit) - 1 == len(log) >= 8
    assert audit[-1] == [
        log[-1].at,
        log[-1].user_id,
        log[-1].member,
        log[-1].action,
        log[-1].subject,
        log[-1].old_value,
        log[-1].new_value,
    ]
    assert [r[3] for r in audit[1:] if r[3] == "submit"] == ["submit"]


async def test_catalog_texts_and_member_names_in_the_language(store, catalog):
    cycle = await _scenario(store)
    wb = await _workbook(store, catalog, cycle, lang="fr")
    data = {r[4]: r for r in _rows(wb["Data points"])[1:]}
    assert data["tf_aeo_valid"][1] == "Belgique"
    assert data["tf_aeo_valid"][5] == catalog.data_points["tf_aeo_valid"].label.fr
    results = {(r[0], r[2]): r for r in _rows(wb["KPI results"])[1:]}
    assert results["BE", "TF-02"][3] == "Variation du nombre d'OEA"
    assert _rows(wb["Blank reasons"])[1][4] == "La base de données ne fournit pas ce niveau de détail"


async def test_headers_and_sheet_titles_go_through_translate(store, catalog):
    cycle = await _scenario(store)
    wb = await _workbook(store, catalog, cycle, translate=lambda s: "FR:" + s)
    # ":" is not allowed in an Excel sheet name.
    assert wb.sheetnames == ["FR-" + name for name in SHEETS]
    assert _rows(wb["FR-Data points"])[0] == ["FR:" + h for h in DATA_HEADER]
    minutes = next(r for r in _rows(wb["FR-Data points"]) if r[4] == "tf_export_lodging_minutes")
    assert minutes[7] == "FR:minutes"
    long = await _workbook(store, catalog, cycle, translate=lambda s: s * 4)
    assert all(len(name) <= 31 for name in long.sheetnames) and len(set(long.sheetnames)) == 5


async def test_csv_is_the_data_points_sheet_with_a_bom(store, catalog):
    cycle = await _scenario(store)
    data = await build_csv(store, catalog, cycle, english, "es")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == DATA_HEADER
    sheet = _rows((await _workbook(store, catalog, cycle, lang="es"))["Data points"])
    assert len(rows) == len(sheet) == 7
    by_dp = {r[4]: r for r in rows[1:]}
    assert by_dp["tf_aeo_valid"][1] == "Bélgica"
    assert by_dp["rc_pcc_duties_adjusted"][6:8] == ["1234.5", "USD"]
    assert by_dp["tf_aeo_valid"][6] == "120"


async def test_empty_cycle_exports_headers_only(store, catalog):
    cycle = store.open_cycle(2025, deadline=date(2026, 3, 31), opens=date(2026, 1, 1))
    wb = await _workbook(store, catalog, cycle)
    assert [ws.max_row for ws in wb.worksheets] == [1, 1, 1, 1, 1]
    assert _rows(wb["KPI results"]) == [
        ["Member ISO", "Region", "KPI", "KPI name", "Status", "Result", "Unit", "Not computable because"]
    ]
    assert (await build_csv(store, catalog, cycle, english, "en")).decode("utf-8-sig").count("\n") == 1
