"""The data-check rules as catalog data (catalog/checks.toml): every KPI has a kind, the kinds
and bounds read from seed 001's formulas, and a broken rule stops loading with a message
naming the file and the rule."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from pmm_core.catalog.loader import CATALOG_DIR, load_catalog
from pmm_core.catalog.models import CatalogError, CheckKind, ExpressionCalc
from pmm_core.catalog.validation import owner_kpi

# Read from seed 001's calculation methods, KPI by KPI.
VARIATIONS = {"TF-02", "ES-03", "ES-04", "ES-08", "ES-10", "ES-12", "ES-14", "ES-16", "ES-18", "ES-19", "OD-06"}
QUESTIONNAIRES = {"TF-01", "ES-02", "OD-01", "OD-03", "OD-07", "OD-10", "WT-01", "WT-02"}  # yes/no items, tools scale
AVERAGE_TIMES = {"TF-04", "TF-05", "TF-06", "TF-13"}
# The numerator certainly counts a subset of the denominator (reviewed against the questions).
SHARE_PAIRS = {
    "TF-03": ("tf_aeo_trade_value", "tf_trade_value"),
    "TF-07": ("tf_air_passengers_inspected", "tf_air_passengers"),
    "TF-09": ("tf_services_within_standard", "tf_services_under_standard"),
    "TF-10": ("tf_declarations_electronic", "tf_declarations"),
    "TF-11": ("tf_declaration_types_standardized", "tf_declaration_types"),
    "TF-12": ("tf_ecom_released_immediately", "tf_ecom_shipments"),
    "TF-14": ("tf_ecom_shipments", "tf_shipments"),
    "RC-06": ("rc_pcc_with_findings", "rc_pcc_controls"),
}
CAPPED_AT_100 = {"RC-03", "RC-05", "OD-02", "OD-04", "OD-08"}  # shares that are not certain subsets
RATIOS = {"RC-01", "RC-02", "RC-04", "ES-05", "ES-06", "ES-07", "ES-09", "ES-11", "ES-13", "ES-15", "ES-17"} | {
    "OD-05",
    "OD-09",
}


def test_every_kpi_has_a_kind(catalog):
    assert set(catalog.checks.kpis) == set(catalog.kpi_by_id)
    assert len(catalog.kpis) == 51


def test_kinds_match_the_kpi_list(catalog):
    kinds = {kpi_id: check.kind for kpi_id, check in catalog.checks.kpis.items()}
    assert {k for k, v in kinds.items() if v is CheckKind.VARIATION} == VARIATIONS
    assert {k for k, v in kinds.items() if v is CheckKind.QUESTIONNAIRE} == QUESTIONNAIRES
    assert {k for k, v in kinds.items() if v is CheckKind.AVERAGE_TIME} == AVERAGE_TIMES
    assert {k for k, v in kinds.items() if v is CheckKind.RATIO} == RATIOS
    assert {k for k, v in kinds.items() if v is CheckKind.COUNT} == {"TF-08"}
    shares = {k: c for k, c in catalog.checks.kpis.items() if c.kind is CheckKind.SHARE}
    assert {k: (c.part, c.total) for k, c in shares.items() if c.part} == SHARE_PAIRS
    assert {k for k, c in shares.items() if c.max == 100} == CAPPED_AT_100
    assert set(shares) == set(SHARE_PAIRS) | CAPPED_AT_100 | {"ES-01"}  # ES-01 = A/(A+B): 0–100 by construction


def test_every_variation_formula_is_a_variation(catalog):
    """((A - B) / B) × 100 with A of the year and B of the year before, as seed 001 writes it."""
    for kpi_id in VARIATIONS:
        calc = catalog.kpi(kpi_id).calculation
        assert isinstance(calc, ExpressionCalc)
        assert calc.formula.replace(" ", "") == "((A-B)/B)*100", kpi_id
        years = [catalog.data_points[calc.variables[letter]].year.value for letter in "AB"]
        assert years == ["t", "t-1"], kpi_id


def test_average_times_lie_between_a_minute_and_30_days(catalog):
    """Written as durations in checks.toml ("1 min", "30 days"), read as minutes."""
    for kpi_id in AVERAGE_TIMES:
        check = catalog.checks.kpis[kpi_id]
        assert (check.above, check.min, check.max) == (None, 1, 30 * 24 * 60)


def test_parts_have_the_type_and_year_of_their_total(catalog):
    for rule in catalog.checks.parts:
        total = catalog.data_points[rule.total]
        for part in rule.parts:
            dp = catalog.data_points[part]
            assert (dp.type, dp.year) == (total.type, total.year), (rule.total, part)


def test_shares_are_filed_under_their_result_and_breakdowns_under_their_total(catalog):
    on_result = {r.kpi: (r.parts, r.total) for r in catalog.checks.parts if r.on_result}
    assert on_result == {k: ((p,), t) for k, (p, t) in SHARE_PAIRS.items()}
    by_total = {r.total: r.kpi for r in catalog.checks.parts if not r.on_result}
    # the first KPI asking the total as a main figure
    assert by_total["es_physical_inspections"] == "ES-05"
    assert by_total["rc_customs_declarations"] == "RC-02"
    assert by_total["tf_declarations"] == "TF-10"
    assert by_total["od_staff_total"] == "OD-04"
    assert by_total["es_cigarettes_seizures"] == "ES-04"  # by mode (ES-04) and by goods/passengers (ES-06)


def test_reviewed_relations(catalog):
    groups = {(r.total, frozenset(r.parts)) for r in catalog.checks.parts}
    # "How many of the valid AEOs … are importers?": each type alone, never their sum
    assert ("tf_aeo_valid", frozenset({"tf_aeo_importers"})) in groups
    assert not any(r.total == "tf_aeo_valid" and len(r.parts) > 1 for r in catalog.checks.parts)
    # OD-09 by grade of the person reported: one report may concern several grades
    assert ("od_integrity_reports", frozenset({"od_integrity_reports_senior"})) in groups
    assert not any(r.total == "od_integrity_reports" and "od_integrity_reports_senior" in r.parts and len(r.parts) > 1
                   for r in catalog.checks.parts)  # fmt: skip
    # "Part of the total given above; the parts should add up to that total."
    assert (
        "es_physical_inspections",
        frozenset({f"es_physical_inspections_{m}" for m in ("sea", "air", "rail", "land")}),
    ) in groups
    # flows against stocks are left out
    assert not any(r.total == "od_staff_total" and "od_staff_trained" in r.parts for r in catalog.checks.parts)


# ---- a broken rule stops loading ---------------------------------------------------------


def copy_catalog(tmp_path: Path) -> Path:
    directory = tmp_path / "catalog"
    shutil.copytree(CATALOG_DIR, directory)
    return directory


def rename_data_point(directory: Path, old: str, new: str) -> None:
    """Renames a data point everywhere except in checks.toml, as an analyst forgetting the rules would."""
    for path in directory.glob("*.toml"):
        if path.name != "checks.toml":
            text = path.read_text(encoding="utf-8")
            path.write_text(re.sub(rf"\b{old}\b", new, text), encoding="utf-8")


def edit_checks(directory: Path, old: str, new: str) -> None:
    path = directory / "checks.toml"
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def fails_with(directory: Path, *fragments: str) -> None:
    with pytest.raises(CatalogError) as error:
        load_catalog(directory)
    for fragment in fragments:
        assert fragment in str(error.value), (fragment, str(error.value))


def test_an_unbroken_copy_loads(tmp_path):
    assert len(load_catalog(copy_catalog(tmp_path)).checks.kpis) == 51


def test_renaming_a_shares_data_point_names_the_rule(tmp_path):
    directory = copy_catalog(tmp_path)
    rename_data_point(directory, "tf_declarations_electronic", "tf_declarations_digital")
    fails_with(directory, "checks.toml", "check TF-10", "part", "unknown data point 'tf_declarations_electronic'")


def test_renaming_a_part_names_the_rule(tmp_path):
    directory = copy_catalog(tmp_path)
    rename_data_point(directory, "od_disciplined_internal", "od_disciplined_inside")
    fails_with(directory, "checks.toml", "parts → od_disciplined_officials", "group 2", "'od_disciplined_internal'")


def test_renaming_a_total_names_the_rule(tmp_path):
    directory = copy_catalog(tmp_path)
    rename_data_point(directory, "es_physical_inspections", "es_physical_checks")
    fails_with(directory, "checks.toml", "parts → es_physical_inspections", "unknown data point")


@pytest.mark.parametrize(
    ("old", "new", "fragments"),
    [
        pytest.param(
            'OD-07 = { kind = "questionnaire" }  # 3 yes/no items: 0, 33.3, 66.7 or 100 %\n',
            "",
            ("od.toml", "kpi OD-07", "no check kind", "[check]"),
            id="a KPI without a kind",
        ),
        pytest.param(
            'TF-08 = { kind = "count" }',
            'TF-08 = { kind = "count" }\nTF-99 = { kind = "count" }',
            ("checks.toml", "check TF-99", "unknown KPI"),
            id="a rule for an unknown KPI",
        ),
        pytest.param(
            'OD-07 = { kind = "questionnaire" }',
            'OD-07 = { kind = "ratio" }',
            ("checks.toml", "check OD-07", "kind", "yes/no"),
            id="a yes/no KPI declared as figures",
        ),
        pytest.param(
            'TF-09 = { kind = "share", part',
            'TF-09 = { kind = "questionnaire", part',
            ("checks.toml", "check TF-09", "only a share has a part and a total"),
            id="part and total on another kind",
        ),
        pytest.param(
            'TF-04 = { kind = "average_time", min = "1 min", max = "30 days" }',
            'TF-04 = { kind = "share", max = 100 }',
            ("checks.toml", "check TF-04", "percent result, not minutes"),
            id="a kind that does not fit the unit",
        ),
        pytest.param(
            'OD-04 = { kind = "share", max = 100 }',
            'OD-04 = { kind = "share", max = "30 days" }',
            ("checks.toml", "check OD-04", "max", "a duration bounds a result in minutes, not in percent"),
            id="a duration on a share",
        ),
        pytest.param(
            'TF-05 = { kind = "average_time", min = "1 min", max = "30 days" }',
            'TF-05 = { kind = "average_time", min = "1 min", max = "a month" }',
            ("checks.toml", "check TF-05", "max", "not a number or a duration"),
            id="a duration that is not one",
        ),
        pytest.param(
            'RC-01 = { kind = "ratio" }',
            'RC-01 = { kind = "variation" }',
            ("checks.toml", "check RC-01", "variation compares one figure of the year with the year before"),
            id="a variation that is not one",
        ),
        pytest.param(
            'part = "tf_declarations_electronic", total = "tf_declarations"',
            'part = "tf_declarations_export", total = "tf_declarations"',
            ("checks.toml", "check TF-10", "not the two data points of the KPI's formula"),
            id="a share's pair that is not its formula's",
        ),
        pytest.param(
            'part = "tf_air_passengers_inspected", total = "tf_air_passengers"',
            'part = "tf_air_passengers", total = "tf_air_passengers_inspected"',
            ("checks.toml", "check TF-07", "not part / total × 100"),
            id="a share's pair upside down",
        ),
        pytest.param(
            'tf_trade_value = [["tf_trade_value_import", "tf_trade_value_export"]]',
            'tf_trade_value = [["tf_trade_value_import", "tf_aeo_valid"]]',
            ("checks.toml", "parts → tf_trade_value → group 1", "tf_aeo_valid (count", "not the same kind of figure"),
            id="a part of another type",
        ),
        pytest.param(
            'tf_shipments = [["tf_shipments_import", "tf_shipments_export"]]',
            'tf_shipments = [["tf_shipments_import", "tf_shipments_export"]]\ntf_aeo_valid_prev = [["tf_aeo_valid"]]',
            ("checks.toml", "parts → tf_aeo_valid_prev → group 1", "year t", "not the same kind of figure"),
            id="a part of another year",
        ),
        pytest.param(
            'tf_shipments = [["tf_shipments_import", "tf_shipments_export"]]',
            'tf_shipments = [["tf_shipments_import", "tf_shipments_export"], ["tf_ecom_shipments"]]',
            ("checks.toml", "parts → tf_shipments → group 2", "already declared (the share TF-14)"),
            id="a share's pair repeated",
        ),
        pytest.param(
            'RC-03 = { kind = "share", max = 100 }',
            'RC-03 = { kind = "share", min = 100, max = 50 }',
            ("checks.toml", "check RC-03", "not below max"),
            id="bounds upside down",
        ),
    ],
)
def test_a_broken_rule_names_file_and_field(tmp_path, old, new, fragments):
    directory = copy_catalog(tmp_path)
    edit_checks(directory, old, new)
    fails_with(directory, *fragments)


def test_every_data_point_is_filed_under_one_kpi(catalog):
    """The first KPI asking it as a main figure, else in a breakdown (two ways of computing it)."""
    assert set(catalog.checks.owners) == set(catalog.data_points)
    assert all(catalog.checks.owners[dp] == owner_kpi(catalog, dp) for dp in catalog.data_points)
    assert catalog.checks.owners["es_physical_inspections_sea"] == "ES-05"  # breakdown only
    assert catalog.checks.owners["rc_import_declarations"] == "RC-01"  # main in RC-01, breakdown in TF-10
