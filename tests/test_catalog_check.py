"""`pmm-bot catalog check`: a result unit that contradicts the formula, a data point type that
contradicts its unit or its place in the formula, and every problem reported at once."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pmm_core.catalog.loader import CATALOG_DIR, load_catalog
from pmm_core.catalog.models import CatalogError
from pmm_core.domain.formula import parse
from pmm_core.domain.units import ITEM, MINUTE, UnitError, quantity, units_of


class Copy:
    """A copy of the real catalog in a temporary directory, edited in place."""

    def __init__(self, tmp_path: Path) -> None:
        self.dir = tmp_path / "catalog"
        shutil.copytree(CATALOG_DIR, self.dir)

    def edit(self, file: str, old: str, new: str, after: str | None = None) -> Copy:
        """Replace the first `old` after the text `after` (or the only `old` in the file)."""
        path = self.dir / file
        text = path.read_text(encoding="utf-8")
        start = text.index(after) if after else 0
        if after is None:
            assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {file}"
        at = text.index(old, start)
        path.write_text(text[:at] + new + text[at + len(old) :], encoding="utf-8")
        return self

    def problems(self) -> tuple[str, ...]:
        with pytest.raises(CatalogError) as info:
            load_catalog(self.dir)
        return info.value.problems


def kpi(kpi_id: str) -> str:
    return f'id = "{kpi_id}"\n'


def unit(name: str) -> str:
    return f'result = {{ unit = "{name}"'


def test_control_an_unedited_copy_loads(tmp_path):
    assert len(load_catalog(Copy(tmp_path).dir).kpis) == 51


def test_an_average_time_in_percent_is_refused(tmp_path):
    # TF-04 = ΣT_i / N: minutes over declarations is an average time in minutes.
    problems = Copy(tmp_path).edit("tf.toml", unit("minutes"), unit("percent"), after=kpi("TF-04")).problems()
    assert len(problems) == 1
    assert re.search(r"^tf\.toml: kpi TF-04 → result → unit: 'percent' contradicts the formula A/B", problems[0])
    assert "minutes per item" in problems[0] and "expected: minutes" in problems[0]


def test_a_ratio_times_100_in_minutes_is_refused(tmp_path):
    # TF-14 = (A/B) × 100 over two counts: a percentage.
    problems = Copy(tmp_path).edit("tf.toml", unit("percent"), unit("minutes"), after=kpi("TF-14")).problems()
    assert problems == (
        "tf.toml: kpi TF-14 → result → unit: 'minutes' contradicts the formula A/B*100, which gives a ratio "
        "times 100 with A = tf_ecom_shipments (count), B = tf_shipments (count) (expected: percent or per_100)",
    )


@pytest.mark.parametrize(
    ("file", "kpi_id", "old", "new", "expected"),
    [
        ("tf.toml", "TF-08", "count", "percent", "expected: count"),  # a bare count of commitments
        ("od.toml", "OD-05", "per_100", "ratio", "expected: percent or per_100"),  # (A/B)*100
        ("rc.toml", "RC-01", "percent", "score", "expected: percent or per_100"),
        ("tf.toml", "TF-01", "percent", "ratio", "expected: percent or per_100"),  # yes/no sum / 9 × 100
    ],
)
def test_result_unit_must_fit_the_formula(tmp_path, file, kpi_id, old, new, expected):
    problems = Copy(tmp_path).edit(file, unit(old), unit(new), after=kpi(kpi_id)).problems()
    assert len(problems) == 1 and problems[0].startswith(f"{file}: kpi {kpi_id} → result → unit: {new!r}")
    assert expected in problems[0]


def test_a_count_where_minutes_are_summed_is_refused_twice(tmp_path):
    # The total release time of TF-04 typed as a count: A/B becomes a plain ratio, and the help
    # text still gives the unit as minutes. Both problems are reported.
    problems = (
        Copy(tmp_path)
        .edit("tf.toml", 'type = "minutes"', 'type = "count"', after="[data_point.tf_import_release_minutes]")
        .problems()
    )
    assert len(problems) == 2
    assert problems[0].startswith("tf.toml: kpi TF-04 → result → unit: 'minutes' contradicts the formula A/B")
    assert "A = tf_import_release_minutes (count)" in problems[0] and "a ratio (no unit)" in problems[0]
    assert problems[1] == (
        "tf.toml: data_point tf_import_release_minutes → type: 'count' contradicts its help text, "
        "which gives the unit as 'Unit: minutes' (expected: minutes)"
    )


def test_adding_minutes_to_a_count_is_refused(tmp_path):
    problems = Copy(tmp_path).edit("tf.toml", 'formula = "A/B"', 'formula = "(A+B)/B"', after=kpi("TF-04")).problems()
    assert len(problems) == 1
    assert problems[0].startswith("tf.toml: kpi TF-04 → calculation → formula: A + B adds minutes and items")


def test_a_count_result_has_no_decimals(tmp_path):
    problems = (
        Copy(tmp_path)
        .edit("tf.toml", 'unit = "count", decimals = 0', 'unit = "count", decimals = 2', after=kpi("TF-08"))
        .problems()
    )
    assert problems == ("tf.toml: kpi TF-08 → result → decimals: a count is shown without decimals (decimals = 0)",)


def test_a_use_score_of_0_to_2_is_not_a_percentage(tmp_path):
    problems = (
        Copy(tmp_path)
        .edit("tools.toml", unit("score"), unit("percent"), after=kpi("WT-02"))
        .edit("tools.toml", "multiplier = 1", "multiplier = 100", after=kpi("WT-02"))
        .problems()
    )
    assert len(problems) == 1 and problems[0].startswith("tools.toml: kpi WT-02 → result → unit: 'percent'")


def test_two_unit_errors_in_two_files_are_reported_together(tmp_path):
    copy = Copy(tmp_path)
    copy.edit("tf.toml", unit("minutes"), unit("percent"), after=kpi("TF-04"))
    copy.edit("rc.toml", unit("percent"), unit("minutes"), after=kpi("RC-01"))
    with pytest.raises(CatalogError) as info:
        load_catalog(copy.dir)
    assert [p.split(" → ")[0] for p in info.value.problems] == ["tf.toml: kpi TF-04", "rc.toml: kpi RC-01"]
    message = str(info.value)
    assert message.startswith("2 problems in the catalog:\n")
    assert "- tf.toml: kpi TF-04 → result → unit" in message and "- rc.toml: kpi RC-01 → result → unit" in message


def test_item_errors_in_several_files_are_all_reported(tmp_path):
    copy = Copy(tmp_path)
    copy.edit("tf.toml", '[data_point.tf_aeo_valid]\ntype = "count"', '[data_point.tf_aeo_valid]\ntype = "headcount"')
    copy.edit("rc.toml", 'id = "RC-01"\noutcome = "RC-O1"', 'id = "RC-01"\noutcome = "RC-O1"\ncolour = "red"')
    copy.edit("od.toml", 'id = "OD-05"', 'id = "OD-5"')
    problems = copy.problems()
    assert len(problems) == 3
    assert problems[0].startswith("od.toml: kpi OD-5 → id:")
    assert problems[1].startswith("rc.toml: kpi RC-01 → colour:")
    assert problems[2].startswith("tf.toml: data_point tf_aeo_valid → type:")


def test_a_missing_disclosure_level_is_reported(tmp_path):
    copy = Copy(tmp_path).edit("disclosure_levels.toml", 'code = "country"', 'code = "wco"')
    assert copy.problems() == (
        "catalog: disclosure_level wco is declared twice",
        "catalog: no disclosure_level for country (name and description of each level)",
    )


# --------------------------------------------------------------------------------------------
# pmm_core.domain.units on its own

COUNT, MINUTES = units_of({ITEM: 1}), units_of({MINUTE: 1})


def test_units_of_the_catalog_shapes():
    assert quantity(parse("A/B"), {"A": MINUTES, "B": COUNT}).exponents == {MINUTE: 1, ITEM: -1}
    ratio = quantity(parse("((A-B)/B)*100"), {"A": COUNT, "B": COUNT})
    assert ratio.units == () and ratio.per_hundred
    assert not quantity(parse("A/B*10"), {"A": COUNT, "B": COUNT}).per_hundred
    assert quantity(parse("(X/(N*Y))*100"), {"X": COUNT, "N": COUNT, "Y": ()}).units == ()
    assert quantity(parse("mean(A, B)"), {"A": MINUTES, "B": MINUTES}).units == MINUTES
    with pytest.raises(UnitError, match="adds minutes and items"):
        quantity(parse("sum(A, B)"), {"A": MINUTES, "B": COUNT})


UNITS = st.sampled_from([(), COUNT, MINUTES, units_of({"USD": 1}), units_of({"%": 1})])


@st.composite
def formulas(draw, depth: int = 3) -> str:
    if depth == 0 or draw(st.booleans()):
        return draw(st.sampled_from(["A", "B", "C", "100", "9"]))
    op = draw(st.sampled_from(["+", "-", "*", "/"]))
    return f"({draw(formulas(depth - 1))}{op}{draw(formulas(depth - 1))})"


@given(formulas(), UNITS, UNITS, UNITS)
def test_any_formula_has_units_or_a_unit_error(text, a, b, c):
    # Hostile combinations never crash the check: a quantity, or a UnitError naming the sum.
    try:
        q = quantity(parse(text), {"A": a, "B": b, "C": c})
    except UnitError as exc:
        assert "cannot be added" in str(exc)
    else:
        assert all(exp != 0 for _, exp in q.units)
        # Dividing the formula by itself always leaves no unit.
        assert quantity(parse(f"({text})/({text})"), {"A": a, "B": b, "C": c}).units == ()
