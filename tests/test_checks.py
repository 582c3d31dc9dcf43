"""The data checks for the Secretariat's review: rules on hand-made answers, the reviewed
tables against the catalog, and run_checks on a stored cycle."""

from __future__ import annotations

from datetime import date

import pytest

from pmm_core.catalog import ExpressionCalc
from pmm_core.checks import (
    PARTS,
    SHARES,
    UNBOUNDED_PERCENT,
    Finding,
    FlagKind,
    bounded_percent,
    find_issues,
    is_variation,
    owner_kpi,
    run_checks,
)
from pmm_core.store import KpiState

RNG, OUT, JMP, PART = FlagKind.RANGE, FlagKind.OUTLIER, FlagKind.JUMP, FlagKind.PART_EXCEEDS_TOTAL
MEMBERS = ("AA", "BB", "CC", "DD", "EE", "FF")


def keys(findings: list[Finding]) -> set[tuple[str, str, str, FlagKind]]:
    return {(f.member, f.kpi, f.data_point, f.kind) for f in findings}


def tf07(inspected: int, total: int = 1000) -> dict[str, str]:
    """TF-07 = inspected air passengers / air passengers × 100."""
    return {"tf_air_passengers_inspected": str(inspected), "tf_air_passengers": str(total)}


# ---- rule by rule, table-driven --------------------------------------------------------

CASES = [
    pytest.param(
        # OD-02 = X/(N·Y)·100 = 60/(10·5)·100 = 120: more gaps than competencies assessed
        {
            "AA": {
                "od_cd_frontline_officers": "10",
                "od_cd_competencies_per_officer": "5",
                "od_cd_competency_gaps": "60",
            }
        },
        None,
        {("AA", "OD-02", "", RNG): "result 120.00 > 100"},
        id="share-over-100",
    ),
    pytest.param(
        # RC-05 above 100 % is the first cycle's known outlier (seed 002 §88)
        {"AA": {"rc_pcc_duties_adjusted": "150", "rc_duties_assessed_avg_3y": "100"}},
        None,
        {("AA", "RC-05", "", RNG): "result 150.00 > 100"},
        id="rc05-over-100",
    ),
    pytest.param(
        # OD-05 (female per 100 male staff) may exceed 100: no range flag
        {"AA": {"od_staff_female": "300", "od_staff_male": "100"}},
        None,
        {},
        id="gender-ratio-over-100-is-fine",
    ),
    pytest.param(
        # TF-04 = 0 minutes / 10 declarations = 0 minutes: an average time cannot be 0
        {"AA": {"tf_import_release_minutes": "0", "tf_import_release_declarations": "10"}},
        None,
        {("AA", "TF-04", "", RNG): "result 0.00 ≤ 0"},
        id="zero-minutes",
    ),
    pytest.param(
        # imported negative minutes: the result and the data point are both out of range
        {"AA": {"tf_export_lodging_minutes": "-50", "tf_export_declarations_measured": "10"}},
        None,
        {
            ("AA", "TF-05", "", RNG): "result -5.00 ≤ 0",
            ("AA", "TF-05", "tf_export_lodging_minutes", RNG): "value -50 < min 0",
        },
        id="negative-minutes",
    ),
    pytest.param(
        # an unreadable count is flagged; a yes/no answer is not a number and is not checked
        {"AA": {"tf_ecom_lowrisk_declarations": "abc", "es_rm_info_exchange_goods": "yes"}},
        None,
        {("AA", "TF-13", "tf_ecom_lowrisk_declarations", RNG): "value 'abc' is not a number"},
        id="answer-not-a-number",
    ),
    pytest.param(
        {"AA": {"rc_pcc_duties_adjusted": "20000000000000000", "rc_duties_assessed_avg_3y": "30000000000000000"}},
        None,
        {
            ("AA", "RC-05", "rc_pcc_duties_adjusted", RNG): "value 20000000000000000 > max 10000000000000000",
            ("AA", "RC-05", "rc_duties_assessed_avg_3y", RNG): "value 30000000000000000 > max 10000000000000000",
        },
        id="answer-above-upper-bound",
    ),
    pytest.param(
        # TF-07 results of 6 Members: 10, 11, 12, 13, 14, 90 (%).
        # median = (12 + 13) / 2 = 12.5; |x - 12.5| = 2.5, 1.5, 0.5, 0.5, 1.5, 77.5
        # MAD = median(0.5, 0.5, 1.5, 1.5, 2.5, 77.5) = (1.5 + 1.5) / 2 = 1.5
        # robust z = |x - 12.5| / (1.4826 × 1.5 = 2.2239): 90 → 77.5 / 2.2239 = 34.85 > 3.5;
        # 10 → 1.12, 14 → 0.67: not flagged
        {m: tf07(v) for m, v in zip(MEMBERS, (100, 110, 120, 130, 140, 900), strict=True)},
        None,
        {("FF", "TF-07", "", OUT): "value 90.00, median 12.50, MAD 1.50, robust z 34.8 > 3.5"},
        id="outlier-among-6",
    ),
    pytest.param(
        # the same extreme value among 4 Members only (< min_values 5): no statistics
        {m: tf07(v) for m, v in zip(MEMBERS, (100, 110, 120, 900), strict=False)},
        None,
        {},
        id="no-outlier-below-min-values",
    ),
    pytest.param(
        # 5 of 6 Members at 10 %: MAD = 0, so the KPI is skipped rather than flagging 90
        {m: tf07(v) for m, v in zip(MEMBERS, (100, 100, 100, 100, 100, 900), strict=True)},
        None,
        {},
        id="no-outlier-when-mad-is-0",
    ),
    pytest.param(
        # TF-07 was 10 %, is 40 %: ×4 > ×3
        {"AA": tf07(400)},
        {"AA": tf07(100)},
        {("AA", "TF-07", "", JMP): "result 40.00, previous cycle 10.00, ratio 4.00 (limit ×3 either way)"},
        id="jump-x4",
    ),
    pytest.param(
        # TF-07 was 40 %, is 10 %: ÷4 is a jump too
        {"AA": tf07(100)},
        {"AA": tf07(400)},
        {("AA", "TF-07", "", JMP): "result 10.00, previous cycle 40.00, ratio 0.25 (limit ×3 either way)"},
        id="jump-down-x4",
    ),
    pytest.param({"AA": tf07(200)}, {"AA": tf07(100)}, {}, id="no-jump-x2"),
    pytest.param({"AA": tf07(400)}, {"AA": tf07(0)}, {}, id="no-jump-from-zero"),
    pytest.param(
        # TF-02 variation +400 % after +20 %: variations are excluded from the jump rule
        {"AA": {"tf_aeo_valid": "50", "tf_aeo_valid_prev": "10"}},
        {"AA": {"tf_aeo_valid": "12", "tf_aeo_valid_prev": "10"}},
        {},
        id="no-jump-for-variations",
    ),
    pytest.param(
        # TF-07 numerator 600 > denominator 500: one part/total flag, not also a range flag
        {"AA": tf07(600, 500)},
        None,
        {("AA", "TF-07", "tf_air_passengers", PART): "tf_air_passengers_inspected = 600 > tf_air_passengers = 500"},
        id="share-numerator-over-denominator",
    ),
    pytest.param(
        # physical inspections: sea 60 + air 50 = 110 > 100 (rail and land not given)
        {
            "AA": {
                "es_physical_inspections": "100",
                "es_physical_inspections_sea": "60",
                "es_physical_inspections_air": "50",
            }
        },
        None,
        {
            ("AA", "ES-05", "es_physical_inspections", PART): (
                "es_physical_inspections_sea + es_physical_inspections_air = 110 > es_physical_inspections = 100"
            )
        },
        id="breakdown-sum-over-total",
    ),
    pytest.param(
        {
            "AA": {
                "es_physical_inspections": "100",
                "es_physical_inspections_sea": "60",
                "es_physical_inspections_air": "40",
            }
        },
        None,
        {},
        id="breakdown-sum-equal-to-total",
    ),
    pytest.param(
        # two groups of the same total over it: one flag, both facts
        {
            "AA": {
                "tf_declarations": "100",
                "tf_declarations_electronic": "120",
                "rc_import_declarations": "90",
                "tf_declarations_export": "30",
            }
        },
        None,
        {
            ("AA", "TF-10", "tf_declarations", PART): (
                "tf_declarations_electronic = 120 > tf_declarations = 100; "
                "rc_import_declarations + tf_declarations_export = 120 > tf_declarations = 100"
            )
        },
        id="two-groups-one-flag",
    ),
    pytest.param(
        # AEOs by type may add up to more than the AEOs (one authorization, several roles)
        {"AA": {"tf_aeo_valid": "10", "tf_aeo_importers": "8", "tf_aeo_exporters": "7"}},
        None,
        {},
        id="aeo-types-not-a-partition",
    ),
]


@pytest.mark.parametrize(("answers", "previous", "expected"), CASES)
def test_find_issues(catalog, answers, previous, expected):
    findings = find_issues(catalog, answers, previous)
    assert {(f.member, f.kpi, f.data_point, f.kind): f.detail for f in findings} == expected


def test_min_values_is_the_threshold(catalog):
    answers = {m: tf07(v) for m, v in zip(MEMBERS, (100, 110, 120, 130, 900), strict=False)}
    assert not find_issues(catalog, answers, min_values=6)
    assert keys(find_issues(catalog, answers, min_values=5)) == {("EE", "TF-07", "", OUT)}


def test_k_and_jump_factor_are_parameters(catalog):
    answers = {m: tf07(v) for m, v in zip(MEMBERS, (100, 110, 120, 130, 140, 200), strict=True)}
    # 20 %: |20 - 12.5| / 2.2239 = 3.37, under 3.5 but over 3
    assert not find_issues(catalog, answers)
    assert keys(find_issues(catalog, answers, k=3.0)) == {("FF", "TF-07", "", OUT)}
    assert keys(find_issues(catalog, {"AA": tf07(250)}, {"AA": tf07(100)}, jump_factor=2.0)) == {
        ("AA", "TF-07", "", JMP)
    }


def test_blank_kpis_have_no_result_checks(catalog):
    answers = {
        "AA": {"od_cd_frontline_officers": "10", "od_cd_competencies_per_officer": "5", "od_cd_competency_gaps": "60"}
    }
    assert keys(find_issues(catalog, answers)) == {("AA", "OD-02", "", RNG)}
    assert find_issues(catalog, answers, blank={"AA": {"OD-02"}}) == []


def test_checklist_and_tool_results_stay_quiet(catalog):
    """Yes/no checklists and the tools KPIs are within their ranges by construction."""
    answers = {"AA": {dp.id: "yes" for dp in catalog.main_data_points(catalog.kpi("TF-01"))}}
    answers["AA"].update({catalog.tool_data_point_id(t): catalog.tool_scale[-1].code for t in catalog.tools})
    assert find_issues(catalog, answers) == []


# ---- the reviewed tables against the catalog -------------------------------------------


def test_parts_table_matches_the_catalog(catalog):
    for total, groups in PARTS.items():
        assert groups, total
        for group in groups:
            assert group and total not in group
            for part in group:
                dp, whole = catalog.data_points[part], catalog.data_points[total]
                assert (dp.type, dp.year) == (whole.type, whole.year), (total, part)
            owner_kpi(catalog, total, group)  # filed under a KPI


def test_shares_are_numerator_over_denominator(catalog):
    for kpi_id, (part, whole) in SHARES.items():
        calc = catalog.kpi(kpi_id).calculation
        assert isinstance(calc, ExpressionCalc)
        assert calc.formula.replace(" ", "") in ("A/B*100", "(A/B)*100"), kpi_id
        assert calc.variables == {"A": part, "B": whole}, kpi_id
        assert (part,) in PARTS[whole], kpi_id
        assert owner_kpi(catalog, whole, (part,)) == kpi_id


def test_which_percent_kpis_are_bounded(catalog):
    variations = {k.id for k in catalog.kpis if is_variation(k)}
    assert variations == {
        "TF-02",
        "ES-03",
        "ES-04",
        "ES-08",
        "ES-10",
        "ES-12",
        "ES-14",
        "ES-16",
        "ES-18",
        "ES-19",
        "OD-06",
    }
    # WT-01 is no longer here: a 0–1 score, as seed 001 scores each tool 1/0, not a percentage.
    assert {k.id for k in catalog.kpis if bounded_percent(k)} == {
        "TF-01", "RC-03", "RC-05", "ES-01", "ES-02", "OD-01", "OD-02",
        "OD-03", "OD-04", "OD-07", "OD-08", "OD-10",
    }  # fmt: skip
    assert set(catalog.kpi_by_id) >= UNBOUNDED_PERCENT
    assert not UNBOUNDED_PERCENT & variations


# ---- on a stored cycle ------------------------------------------------------------------


async def test_run_checks_stores_flags_once(store, catalog):
    user = 7
    before = store.open_cycle(2024, deadline=date(2025, 3, 31), opens=date(2025, 1, 1))
    for dp_id, value in {"tf_services_within_standard": "10", "tf_services_under_standard": "100"}.items():
        store.save_answer(before.id, "BE", dp_id, value, user)

    cycle = store.open_cycle(2025, deadline=date(2026, 3, 31), opens=date(2026, 1, 1))
    assert store.previous_cycle(cycle) == await _cycle(store, 2024)
    answers = {
        "BE": {"tf_services_within_standard": "50", "tf_services_under_standard": "100"},  # 10 % → 50 %
        "FR": tf07(600, 500),  # part > total
        "KE": {"tf_import_release_minutes": "0", "tf_import_release_declarations": "10"},  # 0 minutes
    }
    for member, values in answers.items():
        for dp_id, value in values.items():
            store.save_answer(cycle.id, member, dp_id, value, user)
    # KE left OD-02 blank after typing figures that would give 120 %: not flagged
    for dp_id, value in {"od_cd_frontline_officers": "10", "od_cd_competencies_per_officer": "5"}.items():
        store.save_answer(cycle.id, "KE", dp_id, value, user)
    store.save_answer(cycle.id, "KE", "od_cd_competency_gaps", "60", user)
    store.set_kpi_state(cycle.id, "KE", "OD-02", KpiState.BLANK, user, reason=catalog.blank_reason_codes[0])

    assert await run_checks(store, catalog, cycle) == 3
    flags = store.flags(cycle.id)
    assert {(f.member, f.kpi, f.data_point, f.kind, f.state) for f in flags} == {
        ("BE", "TF-09", "", "jump", "open"),
        ("FR", "TF-07", "tf_air_passengers", "part_exceeds_total", "open"),
        ("KE", "TF-04", "", "range", "open"),
    }
    assert next(f for f in flags if f.member == "KE").detail == "result 0.00 ≤ 0"

    # the Secretariat asks about one flag; a second run adds nothing and keeps that state
    asked = next(f for f in flags if f.member == "FR")
    store.set_flag_state(asked.id, "asked", user)
    assert await run_checks(store, catalog, cycle) == 0
    again = store.flags(cycle.id)
    assert len(again) == 3
    assert next(f for f in again if f.id == asked.id).state == "asked"


async def test_run_checks_submitted_only(store, catalog):
    cycle = store.open_cycle(2025, deadline=date(2026, 3, 31), opens=date(2026, 1, 1))
    for member in ("BE", "FR"):
        for dp_id, value in tf07(600, 500).items():
            store.save_answer(cycle.id, member, dp_id, value, 7)
    store.submit(cycle.id, "FR", 7)
    assert await run_checks(store, catalog, cycle, submitted_only=True) == 1
    assert [f.member for f in store.flags(cycle.id)] == ["FR"]


async def _cycle(store, year):
    return next(c for c in store.cycles() if c.year == year)
