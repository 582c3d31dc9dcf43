"""The PMM v.1 catalog: what the TOML files must hold, and how a broken file is reported."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

from pmm_core.catalog.loader import CATALOG_DIR, load_catalog
from pmm_core.catalog.models import CatalogError, DataType, ExpressionCalc, NoteKind

SEEDS = Path("/work/shared/seeds")


def expression(catalog, kpi_id: str) -> ExpressionCalc:
    calc = catalog.kpi(kpi_id).calculation
    assert isinstance(calc, ExpressionCalc), f"{kpi_id} is not an expression KPI"
    return calc


# --------------------------------------------------------------------------------------------
# Sizes


@pytest.mark.parametrize(
    ("dimension", "kpis"),
    [("TF", 14), ("RC", 6), ("ES", 19), ("OD", 10), ("WT", 2)],
)
def test_kpis_per_dimension(catalog, dimension, kpis):
    assert len(catalog.kpis_of(dimension)) == kpis


def test_51_kpis_in_all(catalog):
    # 14 + 6 + 19 + 10 + 2 = 51
    assert len(catalog.kpis) == 51


@pytest.mark.parametrize(("dimension", "outcomes"), [("TF", 6), ("RC", 3), ("ES", 9), ("OD", 5)])
def test_expected_outcomes_per_dimension(catalog, dimension, outcomes):
    assert len([o for o in catalog.outcomes if o.dimension == dimension]) == outcomes


def test_23_expected_outcomes(catalog):
    # 6 + 3 + 9 + 5 = 23; the WCO tools group has none
    assert len(catalog.outcomes) == 23
    assert not [o for o in catalog.outcomes if o.dimension == "WT"]


def test_five_blank_reasons_with_stable_codes(catalog):
    # The codes are stored with each blank KPI: they must never change.
    assert catalog.blank_reason_codes == (
        "db_collecting",
        "db_planned",
        "db_not_planned",
        "no_detail",
        "unit_difficult",
    )


# --------------------------------------------------------------------------------------------
# KPI ids and names


def test_kpi_ids_are_unique(catalog):
    twice = [i for i, n in Counter(k.id for k in catalog.kpis).items() if n > 1]
    assert twice == []


def test_kpi_ids_have_the_form_xx_nn_of_their_dimension(catalog):
    for kpi in catalog.kpis:
        assert re.fullmatch(r"(TF|RC|ES|OD|WT)-\d\d", kpi.id), kpi.id
        assert kpi.id.startswith(kpi.dimension + "-"), (kpi.id, kpi.dimension)


@pytest.mark.parametrize(
    ("kpi_id", "official_name"),
    [
        ("TF-01", "Private sector engagement"),
        ("TF-03", "AEO involvement in trade"),
        ("TF-06", "Physical release time to export from the arrival of goods at places under Customs supervision"),
        ("RC-01", "The ratio of binding rulings on classification to import declarations"),
        (
            "ES-01",
            "Ratio of inspections carried out on the basis of risk profiles versus the total number of inspections",
        ),
        ("ES-17", "Effectiveness of controls on firearms, essential components, ammunition and explosives"),
        ("OD-05", "Gender Balance Ratio"),
        ("OD-06", "Annual variation in requests for information"),
        ("WT-01", "Awareness of the tool"),
        ("WT-02", "Use of the tool"),
    ],
)
def test_official_english_name(catalog, kpi_id, official_name):
    assert catalog.kpi(kpi_id).name.en == official_name


def seed_kpi_names() -> set[str]:
    files = sorted(SEEDS.glob("001_*.txt"))
    if not files:
        pytest.skip(f"seed 001 not available in {SEEDS}")
    return set(re.findall(r'KPI "([^"]+)"', files[0].read_text(encoding="utf-8")))


@pytest.mark.parametrize(
    "kpi_id",
    ["TF-01", "TF-03", "TF-08", "RC-05", "ES-02", "ES-08", "ES-17", "OD-02", "OD-05", "OD-09", "WT-01", "WT-02"],
)
def test_name_is_a_kpi_heading_of_seed_001(catalog, kpi_id):
    # Seed 001 titles each KPI as: KPI "<official name>"
    assert catalog.kpi(kpi_id).name.en in seed_kpi_names()


# --------------------------------------------------------------------------------------------
# Formulas and data points


def test_every_formula_letter_maps_to_a_declared_data_point(catalog):
    for kpi in catalog.kpis:
        if not isinstance(kpi.calculation, ExpressionCalc):
            continue
        calc = kpi.calculation
        assert set(calc.parsed.variables) == set(calc.variables), kpi.id
        for letter, dp_id in calc.variables.items():
            assert dp_id in catalog.data_points, f"{kpi.id} {letter} → {dp_id}"
            assert not dp_id.startswith("tool_"), f"{kpi.id} {letter} → {dp_id}"


def test_physical_inspections_shared_by_the_eight_effectiveness_of_controls_kpis(catalog):
    users = {k.id for k in catalog.kpis_using("es_physical_inspections")}
    assert users == {"ES-05", "ES-06", "ES-07", "ES-09", "ES-11", "ES-13", "ES-15", "ES-17"}
    for kpi_id in users:
        assert catalog.kpi(kpi_id).name.en.startswith("Effectiveness of"), kpi_id


@pytest.mark.parametrize(
    ("variation", "effectiveness"),
    [
        ("ES-03", "ES-05"),  # alcohol
        ("ES-04", "ES-06"),  # cigarettes
        ("ES-08", "ES-07"),  # cultural goods
        ("ES-10", "ES-09"),  # foodstuffs and consumer goods
        ("ES-12", "ES-11"),  # IPR
        ("ES-14", "ES-13"),  # drugs
        ("ES-16", "ES-15"),  # environmentally sensitive goods
        ("ES-18", "ES-17"),  # firearms, components, ammunition and explosives
    ],
)
def test_reference_year_seizures_shared_by_variation_and_effectiveness(catalog, variation, effectiveness):
    # Variation ((A-B)/B)*100: A = seizures in t.  Effectiveness (A/B)*100: A = the same seizures in t.
    seizures = expression(catalog, variation).variables["A"]
    assert expression(catalog, effectiveness).variables["A"] == seizures
    assert catalog.data_points[seizures].year.value == "t"
    previous = catalog.data_points[expression(catalog, variation).variables["B"]]
    assert previous.year.value == "t-1"
    assert {k.id for k in catalog.kpis_using(seizures)} == {variation, effectiveness}


def test_no_two_data_points_ask_the_same_question(catalog):
    # The generated tool_* data points share the one tools question and are told apart by
    # the tool's name; every declared data point must have its own question.
    questions = Counter(dp.question.en for dp_id, dp in catalog.data_points.items() if not dp_id.startswith("tool_"))
    assert [q for q, n in questions.items() if n > 1] == []


# --------------------------------------------------------------------------------------------
# Yes/no questionnaires


@pytest.mark.parametrize(
    ("kpi_id", "letters", "divisor"),
    [
        ("TF-01", "ABCDEFGHI", 9),
        ("ES-02", "IJKLMNOPQ", 9),  # 9 of the official 17 (A to H lost in the seed)
        ("OD-01", "ABCDEFGH", 8),
        ("OD-03", "ABCDFGHI", 8),  # the seed's questions skip E
        ("OD-07", "ABC", 3),
        ("OD-10", "ABCDEF", 6),
    ],
)
def test_yes_no_questionnaire(catalog, kpi_id, letters, divisor):
    calc = expression(catalog, kpi_id)
    assert "".join(calc.variables) == letters
    assert all(catalog.data_points[dp_id].type is DataType.YES_NO for dp_id in calc.variables.values())
    assert f"/{divisor})" in calc.formula.replace(" ", "")


def test_questionnaire_gap_of_es02_is_a_caveat(catalog):
    # 9 of the 17 official questions are asked: the score is not comparable, which matters to the figure.
    notes = [n.text.en for n in catalog.kpi("ES-02").caveats]
    assert any(re.search(r"\b17\b", text) and re.search(r"\b9\b", text) for text in notes), notes


def test_missing_letter_e_of_od03_is_explained(catalog):
    # The letters skip E, but the score is still out of 8: a clarification, not a caveat.
    notes = [n.text.en for n in catalog.kpi("OD-03").notes]
    assert any(re.search(r"\bno E\b", text) for text in notes), notes
    assert not catalog.kpi("OD-03").caveats


@pytest.mark.parametrize("kpi_id", ["ES-01", "ES-02", "TF-09", "OD-02", "OD-06", "WT-01", "WT-02"])
def test_caveats_flagged(catalog, kpi_id):
    # A method assumed, corrected or computed from totals, or items missing: the result may differ.
    assert any(n.kind is NoteKind.CAVEAT for n in catalog.kpi(kpi_id).notes)
    assert catalog.kpi(kpi_id).caveats == tuple(n for n in catalog.kpi(kpi_id).notes if n.kind is NoteKind.CAVEAT)


# --------------------------------------------------------------------------------------------
# Texts


def test_every_text_has_english(catalog):
    texts = catalog.texts()
    assert texts, "catalog.texts() found no text"
    assert [path for path, text in texts if not text.en.strip()] == []


# --------------------------------------------------------------------------------------------
# A broken catalog stops start-up with the file and the field


def broken_catalog(tmp_path: Path, file: str, old: str, new: str) -> Path:
    """A copy of the real catalog in a fresh directory, with `old` replaced once in `file`."""
    directory = tmp_path / "catalog"
    shutil.copytree(CATALOG_DIR, directory)
    path = directory / file
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must occur exactly once in {file}"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return directory


def all_of(*fragments: str) -> str:
    """A regex matching a text that contains every fragment, in any order."""
    return "(?s)" + "".join(f"(?=.*{re.escape(f)})" for f in fragments)


TF02_CALC = 'formula = "((A-B)/B)*100"\nvariables = { A = "tf_aeo_valid", B = "tf_aeo_valid_prev" }'
EXTRA_PHYSICAL_INSPECTIONS = """
[data_point.es_physical_inspections]
type = "count"
label = { en = "Physical inspections again" }
question = { en = "How many physical inspections, again?" }
help = { en = "Declared a second time." }
"""


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        pytest.param(
            "tf.toml",
            'B = "tf_aeo_valid_prev" }',
            'B = "tf_no_such_figure" }',
            ("tf.toml", "kpi TF-02", "variables → B", "tf_no_such_figure"),
            id="unknown data point in variables",
        ),
        pytest.param(
            "tf.toml",
            TF02_CALC,
            TF02_CALC.replace("((A-B)/B)", "((A-C)/B)"),
            ("tf.toml", "kpi TF-02", "calculation", "'C'"),
            id="formula letter without a variable",
        ),
        pytest.param(
            "od.toml",
            "[data_point.od_spp_environmental_scan]",
            EXTRA_PHYSICAL_INSPECTIONS + "\n[data_point.od_spp_environmental_scan]",
            ("od.toml", "es_physical_inspections", "twice", "es.toml"),
            id="data point declared in two files",
        ),
        pytest.param(
            "tf.toml",
            'name = { en = "Variation in the number of AEOs",',
            'name = { en = "  ",',
            ("tf.toml", "kpi TF-02", "name → en", "English"),
            id="empty English name",
        ),
        pytest.param(
            "tf.toml",
            '[data_point.tf_aeo_valid]\ntype = "count"',
            '[data_point.tf_aeo_valid]\ntype = "headcount"',
            ("tf.toml", "data_point tf_aeo_valid → type"),
            id="unknown data point type",
        ),
        pytest.param(
            "rc.toml",
            'id = "RC-01"',
            'id = "RC-01\n',
            ("rc.toml", "not valid TOML", "line"),
            id="invalid TOML",
        ),
        pytest.param(
            "tf.toml",
            'id = "TF-02"\noutcome = "TF-O1"',
            'id = "TF-02"\noutcome = "TF-O9"',
            ("tf.toml", "kpi TF-02", "outcome", "TF-O9"),
            id="unknown expected outcome",
        ),
        pytest.param(
            "tf.toml",
            TF02_CALC,
            TF02_CALC.replace("((A-B)/B)*100", "__import__('os')"),
            ("tf.toml", "kpi TF-02", "calculation", "__import__"),
            id="eval-style formula",
        ),
    ],
)
def test_broken_catalog_names_file_and_field(tmp_path, file, old, new, message):
    directory = broken_catalog(tmp_path, file, old, new)
    with pytest.raises(CatalogError, match=all_of(*message)):
        load_catalog(directory)


def test_formula_text_is_never_executed(tmp_path):
    marker = tmp_path / "executed"
    formula = f"__import__('os').system('touch {marker}')"
    directory = broken_catalog(tmp_path, "tf.toml", TF02_CALC, TF02_CALC.replace("((A-B)/B)*100", formula))
    with pytest.raises(CatalogError, match=all_of("tf.toml", "kpi TF-02", "not allowed")):
        load_catalog(directory)
    assert not marker.exists()


def test_an_unbroken_copy_loads(tmp_path):
    # The control case: the copy itself is valid, so each error above comes from its edit.
    directory = tmp_path / "catalog"
    shutil.copytree(CATALOG_DIR, directory)
    assert len(load_catalog(directory).kpis) == 51
