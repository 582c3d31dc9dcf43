"""The exact derivation checker (pmm_core.derivation), and the issue-22 regressions it finds: what
several publications give together that none gives alone."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmm_core.catalog.loader import load_catalog
from pmm_core.catalog.members import read_members
from pmm_core.catalog.models import Catalog
from pmm_core.domain.analysis import Basis, Options, confirmed_results, member_values, participants
from pmm_core.domain.derivation import Row, audit, derivable, insider_pairs, point_variable, result_variable, rref
from pmm_core.domain.records import CycleData, KpiState, KpiStatus
from pmm_core.samples.synthetic import synthetic_cycles
from tests.derivation_helpers import hidden_from, provisional, report_rows

CODES = ["A", "B", "C", "D", "E", "F"]
sets_strategy = st.lists(st.sets(st.sampled_from(CODES), min_size=1), max_size=9)


def _rank(rows: list[list[int]]) -> int:
    return len(rref(rows, len(rows[0]))[0]) if rows and rows[0] else 0


def _follows(sets, hidden, member) -> bool:
    """By rank: the unit vector of `member` adds nothing to the sets' vectors (over `hidden`)."""
    matrix = [[int(m in s) for m in hidden] for s in sets]
    unit = [int(m == member) for m in hidden]
    return _rank([*matrix, unit]) == _rank(matrix) if matrix else False


def test_rref_is_exact_over_the_rationals():
    rows, pivots = rref([[2, 1, 0], [1, 1, 1], [0, 1, 2]], 3)
    assert pivots == [0, 1] and rows == [[1, 0, -1], [0, 1, 2]]
    assert all(isinstance(x, Fraction) for row in rows for x in row)


def test_the_overall_sum_less_the_groups_shown_gives_the_one_hidden():
    assert derivable([{"A", "B"}, {"C", "D"}, set("ABCDE")], "ABCDE") == {"E"}
    assert derivable([{"A", "B"}, set("ABCDE")], "ABCDE") == set()
    assert derivable([{"A", "B"}, {"C", "D"}, set("ABCDE")], "ABCD") == set()  # E known: nothing hidden follows


@settings(max_examples=300)
@given(sets_strategy, st.sets(st.sampled_from(CODES), min_size=1))
def test_derivable_is_exactly_the_rank_test(sets, hidden):
    hidden = sorted(hidden)
    assert derivable(sets, hidden) == {m for m in hidden if _follows(sets, hidden, m)}


@settings(max_examples=300)
@given(sets_strategy, st.sets(st.sampled_from(CODES), min_size=1))
def test_insider_pairs_are_what_each_reader_derives_knowing_its_own_figure(sets, hidden):
    """One elimination for every reader, against one rank test per reader and Member."""
    hidden = sorted(hidden)
    pairs = insider_pairs(sets, hidden)
    anyone = {m for m in hidden if _follows(sets, hidden, m)}
    assert {m for r, m in pairs if r is None} == anyone
    appearing = {m for s in sets for m in s if m in hidden}
    for reader in appearing:
        rest = [m for m in hidden if m != reader]
        found = {m for m in rest if _follows(sets, rest, m)}
        assert {m for r, m in pairs if r == reader} | (anyone - {reader}) == found | (anyone - {reader})
        assert found <= {m for r, m in pairs if r in (reader, None)}


def test_two_kpis_sharing_data_points_share_the_unknowns(catalog: Catalog):
    es05, es06 = catalog.kpi("ES-05"), catalog.kpi("ES-06")
    shared = set(es05.disaggregations[0].data_points) & set(es06.disaggregations[0].data_points)
    assert "es_physical_inspections_sea" in shared
    assert result_variable(es05, 2025) == ("kpi", "ES-05", 2025)
    # A count KPI whose result is one data point is that data point.
    assert result_variable(catalog.kpi("TF-08"), 2025) == ("dp", "tf_service_commitments", 2025)
    rows = [
        Row(point_variable("es_physical_inspections_sea", 2025), frozenset("ABC")),
        Row(point_variable("es_physical_inspections_sea", 2025), frozenset("AB")),
        Row(point_variable("es_physical_inspections_sea", 2024), frozenset("AB")),
    ]
    [leak] = audit(rows, lambda v, m: True)
    assert (leak.variable, leak.member) == (point_variable("es_physical_inspections_sea", 2025), "C")


# ---- the regressions of issue 22, on synthetic cycles ----------------------------------------


@pytest.fixture(scope="module")
def cycles() -> list[CycleData]:
    return synthetic_cycles(load_catalog(), read_members(), [2023, 2024, 2025], seed=2025, participants=62)


def _keep_only(catalog: Catalog, data: CycleData, kpi: str, keep: set[str]) -> CycleData:
    """`data` with `kpi` left blank by every Member with a result outside `keep`."""
    states = {m: dict(s) for m, s in data.states.items()}
    for member, by_kpi in states.items():
        status = by_kpi.get(kpi)
        if member not in keep and status is not None and status.status is KpiState.CONFIRMED:
            by_kpi[kpi] = KpiStatus(KpiState.BLANK, "no_detail", None, status.by_user, status.at)
    return replace(data, states=states)


def _results(catalog: Catalog, data: CycleData, kpi: str) -> set[str]:
    members = participants(data)
    return set(confirmed_results(catalog, data, catalog.kpi(kpi), members, member_values(data, members)))


def shared_breakdown_cycle(catalog: Catalog, data: CycleData) -> CycleData:
    """ES-05 and ES-06 given by the same Members (their physical inspections by mode shared), but
    for one: ES-06's givers are ES-05's less one Member (ES-05 kept to the Members that gave its
    breakdown by mode, so that the breakdown is analysed)."""
    mode05, mode06 = (catalog.kpi(k).disaggregations[0].data_points for k in ("ES-05", "ES-06"))
    values = member_values(data, participants(data))
    givers = sorted(m for m in _results(catalog, data, "ES-05") if all(dp in values[m] for dp in mode05))
    answers = {m: dict(a) for m, a in data.answers.items()}
    states = {m: dict(s) for m, s in data.states.items()}
    main = catalog.kpi("ES-06").calculation.variables.values()  # type: ignore[union-attr]
    source = dict(zip(catalog.kpi("ES-05").calculation.variables.values(), main, strict=True))  # type: ignore[union-attr]
    for member in givers[1:]:
        for dp05, dp06 in [*zip(mode05, mode06, strict=True), *source.items()]:
            answers[member][dp06] = answers[member][dp05]
        states[member]["ES-06"] = states[member]["ES-05"]
    for member in set(states) - set(givers[1:]):
        if (s := states[member].get("ES-06")) is not None and s.status is KpiState.CONFIRMED:
            states[member]["ES-06"] = KpiStatus(KpiState.BLANK, "no_detail", None, s.by_user, s.at)
    return _keep_only(catalog, replace(data, answers=answers, states=states), "ES-05", set(givers))


def successive_yoy_cycles(catalog: Catalog, cycles: list[CycleData]) -> list[CycleData]:
    """Three cycles where ES-15's Members in both of the first two and in both of the last two
    differ by one Member (the year-on-year columns of two successive reports)."""
    a, b, c = cycles
    in_b = _results(catalog, b, "ES-15")
    common = sorted(in_b & _results(catalog, a, "ES-15") & _results(catalog, c, "ES-15"))
    assert len(common) >= 8
    a = _keep_only(catalog, a, "ES-15", (_results(catalog, a, "ES-15") - in_b) | set(common))
    c = _keep_only(catalog, c, "ES-15", (_results(catalog, c, "ES-15") - in_b) | set(common[1:]))
    return [a, b, c]


def test_the_checker_finds_the_shared_breakdown_leak(catalog, cycles):
    data = shared_breakdown_cycle(catalog, cycles[1])
    leaks = audit(report_rows(catalog, data, None, Options()), hidden_from(catalog, "public"))
    assert any(k.variable[1].startswith("es_physical_inspections_") for k in leaks)


def test_the_checker_finds_what_two_versions_give_together(catalog, cycles):
    data, public = cycles[1], hidden_from(catalog, "public")
    default = report_rows(catalog, data, None, Options())
    assert audit(default, public) == []
    assert audit(default + report_rows(catalog, data, None, Options(basis=Basis.STARTED)), public)
    assert audit(default + report_rows(catalog, provisional(data), None, Options()), public)


def test_the_checker_finds_what_two_successive_year_on_year_columns_give(catalog, cycles):
    a, b, c = successive_yoy_cycles(catalog, cycles)
    public = hidden_from(catalog, "public")
    first, second = report_rows(catalog, b, a, Options()), report_rows(catalog, c, b, Options())
    leaks = audit(first + second, public)
    assert ("kpi", "ES-15", b.cycle.year) in {k.variable for k in leaks}
