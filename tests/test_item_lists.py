"""KPIs defined over items (PMM v.1 KPI list): release times per declaration (TF-04 to TF-06,
ΣT_i/N) and competency gaps per officer (OD-02, Σ(X_i/Y_i)/N × 100), hand-computed."""

from __future__ import annotations

import shutil
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pmm_core.catalog.loader import CATALOG_DIR, load_catalog
from pmm_core.catalog.models import CatalogError
from pmm_core.domain import item_lists
from pmm_core.domain.results import Computed, NotComputable, Reason, compute

# Four frontline officers (X_i competencies with a gap, Y_i competencies of the job description).
# The KPI list gives the formula Σ(X_i/Y_i)/N × 100 but no figures; these four officers are the
# case behind the report on OD-02: different job descriptions, so the per-officer mean and the
# pooled totals differ.
OFFICERS = ((1, 12), (5, 20), (0, 27), (5, 30))
# By hand: 1/12 + 5/20 + 0/27 + 5/30 = 1/12 + 3/12 + 0 + 2/12 = 1/2; / 4 officers = 1/8 → 12.50 %.
PER_OFFICER = Fraction(25, 2)
# From the totals: N = 4, X = 1+5+0+5 = 11, Y = (12+20+27+30)/4 = 89/4 = 22.25 → 11/(4 × 22.25) = 11/89 → 12.36 %.
FROM_TOTALS = Fraction(1100, 89)


def officers_list(catalog, officers=OFFICERS) -> dict[str, str]:
    item_list = catalog.item_list_of["OD-02"]
    items = item_lists.Items(("gaps", "competencies"), tuple((str(x), str(y)) for x, y in officers))
    return {item_list.answer_key: item_lists.encode(items), **item_lists.totals(item_list, items)}


def test_od02_per_officer_gives_12_50_not_12_36(catalog):
    answers = officers_list(catalog)
    assert answers["od_cd_frontline_officers"] == "4"
    assert answers["od_cd_competency_gaps"] == "11"
    assert answers["od_cd_competencies_per_officer"] == "22.25"
    result = compute(catalog, catalog.kpi("OD-02"), answers)
    assert isinstance(result, Computed)
    assert Fraction(result.value) == PER_OFFICER
    assert str(result.display_value) == "12.50"
    assert not result.from_totals


def test_od02_from_typed_totals_says_so(catalog):
    totals = {"od_cd_frontline_officers": "4", "od_cd_competency_gaps": "11", "od_cd_competencies_per_officer": "22.25"}
    result = compute(catalog, catalog.kpi("OD-02"), totals)
    assert isinstance(result, Computed)
    assert abs(Fraction(result.value) - FROM_TOTALS) < Fraction(1, 10**25)
    assert str(result.display_value) == "12.36"
    assert result.from_totals


def test_a_total_typed_after_the_list_wins(catalog):
    answers = {**officers_list(catalog), "od_cd_competency_gaps": "22"}  # typed in chat later
    result = compute(catalog, catalog.kpi("OD-02"), answers)
    # 22 / (4 × 22.25) × 100 = 2200 / 89 = 24.7191… → 24.72
    assert isinstance(result, Computed) and result.from_totals
    assert str(result.display_value) == "24.72"


def test_tf04_per_declaration(catalog):
    item_list = catalog.item_list_of["TF-04"]
    times = ("30", "45.5", "120", "0.25")
    items = item_lists.Items(("time",), tuple((t,) for t in times))
    answers = {item_list.answer_key: item_lists.encode(items), **item_lists.totals(item_list, items)}
    # ΣT = 30 + 45.5 + 120 + 0.25 = 195.75; N = 4 → 48.9375 → 48.94 min
    assert answers["tf_import_release_minutes"] == "195.75"
    assert answers["tf_import_release_declarations"] == "4"
    result = compute(catalog, catalog.kpi("TF-04"), answers)
    assert isinstance(result, Computed) and not result.from_totals
    assert result.value == Decimal("48.9375")
    typed = compute(catalog, catalog.kpi("TF-04"), {k: v for k, v in answers.items() if k != item_list.answer_key})
    assert isinstance(typed, Computed) and typed.from_totals and typed.value == result.value


def test_export_list_feeds_tf05_and_only_the_times_it_gives(catalog):
    item_list = catalog.item_list_of["TF-05"]
    assert catalog.item_list_of["TF-06"] is item_list
    items = item_lists.Items(("lodging", "arrival"), (("60", ""), ("90", "")))
    answers = {item_list.answer_key: item_lists.encode(items), **item_lists.totals(item_list, items)}
    assert "tf_export_arrival_minutes" not in answers  # an empty column gives no total
    tf05 = compute(catalog, catalog.kpi("TF-05"), answers)
    assert isinstance(tf05, Computed) and tf05.value == 75 and not tf05.from_totals  # (60 + 90) / 2
    assert compute(catalog, catalog.kpi("TF-06"), answers) == NotComputable(
        Reason.MISSING, data_points=("tf_export_arrival_minutes",)
    )
    answers["tf_export_arrival_minutes"] = "500"  # typed: 500 / 2 = 250, from totals
    tf06 = compute(catalog, catalog.kpi("TF-06"), answers)
    assert isinstance(tf06, Computed) and tf06.value == 250 and tf06.from_totals


def test_a_row_dividing_by_zero_is_not_computable(catalog):
    answers = officers_list(catalog, ((1, 10), (0, 0)))
    result = compute(catalog, catalog.kpi("OD-02"), answers)
    assert isinstance(result, NotComputable) and result.reason is Reason.DIVISION_BY_ZERO


@given(st.text(max_size=200))
def test_decode_never_raises(text):
    decoded = item_lists.decode(text)
    assert decoded is None or all(len(r) == len(decoded.columns) for r in decoded.rows)


def test_encode_decode_round_trip():
    items = item_lists.Items(("a", "b"), (("1", ""), ("2.5", "3")))
    assert item_lists.decode(item_lists.encode(items)) == items


def test_every_item_list_feeds_its_kpis_through_their_own_data_points():
    catalog = load_catalog()
    assert sorted(catalog.item_list_of) == ["OD-02", "TF-04", "TF-05", "TF-06"]
    for item_list in catalog.item_lists:
        for kpi_id in item_list.kpis:
            main = {dp.id for dp in catalog.main_data_points(catalog.kpi(kpi_id))}
            assert item_list.count in main


def broken(tmp_path: Path, old: str, new: str) -> Path:
    directory = tmp_path / "catalog"
    shutil.copytree(CATALOG_DIR, directory)
    path = directory / "items.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return directory


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('kpis = { "TF-04" = "time" }', 'kpis = { "TF-99" = "time" }', "unknown KPI"),
        ('kpis = { "TF-04" = "time" }', 'kpis = { "TF-04" = "tim" }', "formula names without a column"),
        ('count = "tf_import_release_declarations"', 'count = "rc_import_declarations"', "is not a data point of"),
        ('type = "minutes"', 'type = "yes_no"', "an item column is a number"),
        ('kpis = { "TF-04" = "time" }', 'kpis = { "OD-02" = "time" }', "computed from an item list"),
    ],
)
def test_broken_item_lists_are_refused(tmp_path, old, new, message):
    with pytest.raises(CatalogError, match=message):
        load_catalog(broken(tmp_path, old, new))
