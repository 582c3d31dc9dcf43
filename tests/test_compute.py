"""KPI results by each KPI's official method, computed by hand from the seed's formulas."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmm_core.catalog.loader import load_catalog
from pmm_core.catalog.models import DataType, ExpressionCalc
from pmm_core.domain.results import Computed, NotComputable, Reason, compute, rounded

CATALOG = load_catalog()  # for parametrizing; the tests themselves use the `catalog` fixture


def by_letter(catalog, kpi_id: str, letters: dict[str, str]) -> dict[str, str]:
    """The answers keyed by data point id, given by the seed's formula letters."""
    calc = catalog.kpi(kpi_id).calculation
    assert isinstance(calc, ExpressionCalc)
    assert set(letters) <= set(calc.variables), f"{kpi_id} has no letter {set(letters) - set(calc.variables)}"
    return {calc.variables[letter]: value for letter, value in letters.items()}


def yes_no(yes: str, no: str) -> dict[str, str]:
    """Questionnaire answers: the letters answered yes, and those answered no."""
    return {**dict.fromkeys(yes, "yes"), **dict.fromkeys(no, "no")}


def close(value: Decimal, exact: Fraction) -> bool:
    return abs(Fraction(value) - exact) <= Fraction(1, 10**25) * max(Fraction(1), abs(exact))


def assert_computes(result, value: str | Fraction, display: str) -> None:
    """`value` is exact (a decimal string) or, for a repeating decimal, a fraction: then the
    result must agree to 25 significant digits (Decimal works with 28 at least)."""
    assert isinstance(result, Computed), result
    if isinstance(value, Fraction):
        assert close(result.value, value), (result.value, value)
    else:
        assert result.value == Decimal(value), (result.value, value)
    assert str(result.display_value) == display


# --------------------------------------------------------------------------------------------
# Hand-computed results


@pytest.mark.parametrize(
    ("kpi_id", "letters", "value", "display"),
    [
        # Variations ((A-B)/B)*100
        ("TF-02", {"A": "1300", "B": "1000"}, "30", "30.00"),  # (1300 - 1000) / 1000 * 100 = 30
        ("ES-03", {"A": "45", "B": "60"}, "-25", "-25.00"),  # (45 - 60) / 60 * 100 = -25
        ("OD-06", {"A": "880", "B": "1100"}, "-20", "-20.00"),  # (880 - 1100) / 1100 * 100 = -220 / 11 = -20
        ("OD-06", {"A": "1003", "B": "1000"}, "0.3", "0.30"),  # (1003 - 1000) / 1000 * 100 = 0.3
        # Ratios (A/B)*100
        ("TF-03", {"A": "1234.5", "B": "4938"}, "25", "25.00"),  # 1234.5 / 4938 = 0.25 → 25
        ("RC-01", {"A": "150", "B": "60000"}, "0.25", "0.25"),  # 150 / 60000 * 100 = 0.25
        ("ES-05", {"A": "37", "B": "1480"}, "2.5", "2.50"),  # 37 / 1480 = 0.025 → 2.5
        ("TF-07", {"A": "2", "B": "3"}, Fraction(200, 3), "66.67"),  # 2 / 3 * 100 = 66.666…
        ("RC-05", {"A": "125000.5", "B": "2500010"}, "5", "5.00"),  # 125000.5 / 2500010 = 0.05 → 5
        ("OD-05", {"A": "1200", "B": "1600"}, "75", "75.00"),  # women / men: 1200 / 1600 * 100 = 75
        ("OD-05", {"A": "1800", "B": "1200"}, "150", "150.00"),  # 1800 / 1200 * 100 = 150 (more women)
        # Average times A/B, in minutes
        ("TF-04", {"A": "1003.5", "B": "4"}, "250.875", "250.88"),  # 1003.5 / 4 = 250.875
        ("TF-04", {"A": "1003.46", "B": "4"}, "250.865", "250.87"),  # 1003.46 / 4 = 250.865, half up (not half even)
        # Yes/no questionnaires, yes = 1, no = 0
        ("TF-01", yes_no("ABCDEFG", "HI"), Fraction(700, 9), "77.78"),  # 7 / 9 * 100 = 77.777…
        ("TF-01", yes_no("ABCDEFGHI", ""), "100", "100.00"),  # 9 / 9 * 100 = 100
        ("OD-07", yes_no("AB", "C"), Fraction(200, 3), "66.67"),  # 2 / 3 * 100 = 66.666…
        ("OD-07", yes_no("", "ABC"), "0", "0.00"),  # 0 / 3 * 100 = 0
        ("OD-01", yes_no("ACEGH", "BDF"), "62.5", "62.50"),  # 5 / 8 * 100 = 62.5
        ("OD-03", yes_no("ABCDFG", "HI"), "75", "75.00"),  # 6 / 8 * 100 = 75 (letters skip E)
        ("OD-03", yes_no("ABCDFGHI", ""), "100", "100.00"),  # 8 / 8 * 100 = 100
        ("OD-10", yes_no("ACE", "BDF"), "50", "50.00"),  # 3 / 6 * 100 = 50
        # ES-02: the 9 surviving items I–Q of the official 17
        ("ES-02", yes_no("IJK", "LMNOPQ"), Fraction(100, 3), "33.33"),  # 3 / 9 * 100 = 33.333…
        ("ES-02", yes_no("IJKLMNOPQ", ""), "100", "100.00"),  # 9 / 9 * 100 = 100, not 9 / 17 = 52.94
        # ES-01, the intended (A/(A+B))*100, not the seed's ((A+B)/B)*100
        ("ES-01", {"A": "300", "B": "100"}, "75", "75.00"),  # 300 / (300 + 100) * 100 = 75 (the seed's gives 400)
        ("ES-01", {"A": "0", "B": "250"}, "0", "0.00"),  # 0 / (0 + 250) * 100 = 0
        # OD-02 competency development X/(N×Y)*100
        ("OD-02", {"N": "40", "Y": "25", "X": "150"}, "15", "15.00"),  # 150 / (40 × 25) * 100 = 150 / 1000 * 100 = 15
        ("OD-02", {"N": "20", "Y": "27.5", "X": "11"}, "2", "2.00"),  # 11 / (20 × 27.5) * 100 = 11 / 550 * 100 = 2
        # TF-08: a count, shown with 0 decimals
        ("TF-08", {"A": "12"}, "12", "12"),  # A = 12
    ],
)
def test_hand_computed(catalog, kpi_id, letters, value, display):
    assert_computes(compute(catalog, catalog.kpi(kpi_id), by_letter(catalog, kpi_id, letters)), value, display)


# The 41 tools in four groups: 10 not aware, 11 aware with no plan, 10 aware with a plan, 10 using.
TOOL_GROUPS = (("not_aware", 10), ("aware_no_plan", 11), ("aware_plan", 10), ("aware_using", 10))


def tool_answers(catalog, groups) -> dict[str, str]:
    codes = [code for code, n in groups for _ in range(n)]
    assert len(catalog.tools) == len(codes) == 41  # the 41 tools the seeds name (WT-01 caveat)
    assert set(codes) <= {s.code for s in catalog.tool_scale}
    return {catalog.tool_data_point_id(t): code for t, code in zip(catalog.tools, codes, strict=True)}


@pytest.mark.parametrize(
    ("kpi_id", "groups", "value", "display"),
    [
        # awareness, seed 001: "Awareness equals to 1 - Non awareness equals to 0", averaged:
        # aware = 11 + 10 + 10 = 31 of 41 → 31 / 41 = 0.7560…
        ("WT-01", TOOL_GROUPS, Fraction(31, 41), "0.76"),
        # use: (10 × 0 + 11 × 0 + 10 × 1 + 10 × 2) / 41 = 30 / 41 = 0.7317…
        ("WT-02", TOOL_GROUPS, Fraction(30, 41), "0.73"),
        ("WT-01", (("aware_using", 41),), "1", "1.00"),  # 41 / 41
        ("WT-02", (("aware_using", 41),), "2", "2.00"),  # 41 × 2 / 41
        ("WT-01", (("not_aware", 41),), "0", "0.00"),
        ("WT-02", (("aware_no_plan", 41),), "0", "0.00"),  # aware, but no plan to use: use score 0
        ("WT-02", (("aware_plan", 41),), "1", "1.00"),  # planned for the next financial year: 1
    ],
)
def test_tool_scores(catalog, kpi_id, groups, value, display):
    assert_computes(compute(catalog, catalog.kpi(kpi_id), tool_answers(catalog, groups)), value, display)


# --------------------------------------------------------------------------------------------
# Every KPI computes from a complete set of plausible answers

PLAUSIBLE = {
    DataType.COUNT: "100",
    DataType.AMOUNT: "250000.5",
    DataType.MINUTES: "95.25",
    DataType.PERCENT: "50",
    DataType.NUMBER: "12.5",
    DataType.YES_NO: "yes",
}


@pytest.mark.parametrize("choice", [0, -1], ids=["first choice", "last choice"])
@pytest.mark.parametrize("kpi_id", [k.id for k in CATALOG.kpis])
def test_every_kpi_computes(catalog, kpi_id, choice):
    kpi = catalog.kpi(kpi_id)
    answers = {
        dp.id: dp.choices[choice].code if dp.type is DataType.SCALE else PLAUSIBLE[dp.type]
        for dp in catalog.main_data_points(kpi)
    }
    assert answers, f"{kpi_id} asks no data point"
    result = compute(catalog, kpi, answers)
    assert isinstance(result, Computed), result
    assert result.value.is_finite()
    assert (result.unit, result.decimals) == (kpi.result.unit, kpi.result.decimals)


# --------------------------------------------------------------------------------------------
# Not computable: a typed reason, never 0, inf or an exception


@pytest.mark.parametrize(
    ("kpi_id", "letters", "reason", "data_points"),
    [
        ("TF-02", {"A": "1300"}, Reason.MISSING, ("tf_aeo_valid_prev",)),
        ("TF-04", {}, Reason.MISSING, ("tf_import_release_minutes", "tf_import_release_declarations")),
        ("OD-07", yes_no("A", ""), Reason.MISSING, ("od_perf_report_regular", "od_perf_report_strategic_plan")),
        # variations whose previous-year base is 0
        ("TF-02", {"A": "12", "B": "0"}, Reason.DIVISION_BY_ZERO, ("tf_aeo_valid_prev",)),
        ("ES-03", {"A": "5", "B": "0"}, Reason.DIVISION_BY_ZERO, ("es_alcohol_seizures_prev",)),
        ("OD-06", {"A": "0", "B": "0"}, Reason.DIVISION_BY_ZERO, ("od_info_requests_prev",)),
        # ratios and averages with a zero denominator
        ("TF-07", {"A": "0", "B": "0"}, Reason.DIVISION_BY_ZERO, ("tf_air_passengers",)),
        ("ES-13", {"A": "3", "B": "0"}, Reason.DIVISION_BY_ZERO, ("es_physical_inspections",)),
        ("TF-04", {"A": "0", "B": "0"}, Reason.DIVISION_BY_ZERO, ("tf_import_release_declarations",)),
        (
            "ES-01",  # A / (A + B) with 0 + 0 inspections
            {"A": "0", "B": "0"},
            Reason.DIVISION_BY_ZERO,
            ("es_inspections_risk_profiles", "es_inspections_manual"),
        ),
        (
            "OD-02",  # X / (N × Y) with no officer assessed
            {"N": "0", "Y": "25", "X": "0"},
            Reason.DIVISION_BY_ZERO,
            ("od_cd_frontline_officers", "od_cd_competencies_per_officer"),
        ),
    ],
)
def test_not_computable(catalog, kpi_id, letters, reason, data_points):
    result = compute(catalog, catalog.kpi(kpi_id), by_letter(catalog, kpi_id, letters))
    assert result == NotComputable(reason, data_points=data_points)


def test_tool_kpi_with_a_missing_tool_names_it(catalog):
    answers = tool_answers(catalog, (("aware_using", 41),))
    last = catalog.tool_data_point_id(catalog.tools[-1])
    del answers[last]
    assert compute(catalog, catalog.kpi("WT-01"), answers) == NotComputable(Reason.MISSING, data_points=(last,))


@pytest.mark.parametrize(
    ("kpi_id", "letters"),
    [("TF-02", {"A": "1300", "B": "1000"}), ("ES-03", {}), ("OD-07", yes_no("ABC", "")), ("WT-01", None)],
)
@pytest.mark.parametrize("code", ["db_collecting", "db_planned", "db_not_planned", "no_detail", "unit_difficult"])
def test_blank_kpi_gives_its_reason_code(catalog, kpi_id, letters, code):
    # A blank KPI is blank whatever figures were given before.
    answers = tool_answers(catalog, TOOL_GROUPS) if letters is None else by_letter(catalog, kpi_id, letters)
    result = compute(catalog, catalog.kpi(kpi_id), answers, blank_reason=code)
    assert result == NotComputable(Reason.BLANK, blank_reason=code)


# --------------------------------------------------------------------------------------------
# Display rounding


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        ("1.005", 2, "1.01"),  # half up, not binary float (1.00499…) nor half even
        ("2.5", 0, "3"),
        ("3.5", 0, "4"),
        ("0.125", 2, "0.13"),  # half even would give 0.12
        ("1.00499", 2, "1.00"),
        ("77.7777", 2, "77.78"),
        ("-2.5", 0, "-3"),  # half away from zero, as spreadsheets do
        ("30", 2, "30.00"),  # always the KPI's number of decimals
        ("12", 0, "12"),
    ],
)
def test_rounded_half_up(value, decimals, expected):
    assert str(rounded(Decimal(value), decimals)) == expected


# --------------------------------------------------------------------------------------------
# Properties

RATIO_KPIS = [
    k.id
    for k in CATALOG.kpis
    if isinstance(k.calculation, ExpressionCalc) and k.calculation.formula.replace(" ", "") in ("A/B*100", "(A/B)*100")
]


def test_ratio_kpis_found():
    # TF-03, TF-07, RC-01 … OD-05, OD-08, OD-09: far more than a handful
    assert {"TF-03", "TF-07", "RC-01", "ES-05", "ES-17", "OD-05"} <= set(RATIO_KPIS)


def stored(catalog, dp_id: str, hundredths: int) -> str:
    """A canonical stored figure: whole for counts, with two decimals for amounts and numbers."""
    if catalog.data_points[dp_id].type is DataType.COUNT:
        return str(hundredths)
    return str(Decimal(hundredths).scaleb(-2))


@pytest.mark.parametrize("kpi_id", RATIO_KPIS)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_ratio_of_a_part_is_between_0_and_100(kpi_id, data):
    catalog = load_catalog()
    b = data.draw(st.integers(min_value=1, max_value=10**12), label="B")
    a = data.draw(st.integers(min_value=0, max_value=b), label="A")
    calc = catalog.kpi(kpi_id).calculation
    assert isinstance(calc, ExpressionCalc)
    answers = {calc.variables["A"]: stored(catalog, calc.variables["A"], a)}
    answers[calc.variables["B"]] = stored(catalog, calc.variables["B"], b)
    result = compute(catalog, catalog.kpi(kpi_id), answers)
    assert isinstance(result, Computed), result
    assert 0 <= result.value <= 100


@settings(max_examples=200, deadline=None)
@given(a=st.integers(min_value=0, max_value=10**12), b=st.integers(min_value=0, max_value=10**12))
def test_es01_is_a_share_of_all_inspections(a, b):
    catalog = load_catalog()
    result = compute(catalog, catalog.kpi("ES-01"), by_letter(catalog, "ES-01", {"A": str(a), "B": str(b)}))
    if a + b == 0:
        assert result == NotComputable(
            Reason.DIVISION_BY_ZERO, data_points=("es_inspections_risk_profiles", "es_inspections_manual")
        )
    else:
        assert isinstance(result, Computed)
        assert 0 <= result.value <= 100


QUESTIONNAIRES = ["TF-01", "ES-02", "OD-01", "OD-03", "OD-07", "OD-10"]


def expression_letters(catalog, kpi_id: str) -> tuple[str, ...]:
    calc = catalog.kpi(kpi_id).calculation
    assert isinstance(calc, ExpressionCalc)
    return tuple(calc.variables)


@pytest.mark.parametrize("kpi_id", QUESTIONNAIRES)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_questionnaire_is_the_share_of_yes(kpi_id, data):
    catalog = load_catalog()
    letters = list(expression_letters(catalog, kpi_id))
    answers = {letter: data.draw(st.sampled_from(["yes", "no"]), label=letter) for letter in letters}
    result = compute(catalog, catalog.kpi(kpi_id), by_letter(catalog, kpi_id, answers))
    yes = sum(1 for v in answers.values() if v == "yes")
    assert isinstance(result, Computed), result
    assert close(result.value, Fraction(100 * yes, len(letters)))  # 100 × yes / items
