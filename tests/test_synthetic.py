"""Synthetic cycles for the demo and the benchmarks: deterministic, valid, plausible."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pmm_core.catalog.loader import load_catalog
from pmm_core.catalog.members import REGIONS, read_members
from pmm_core.catalog.models import DataType
from pmm_core.domain.analytics import member_state
from pmm_core.domain.answers import Valid, check_number
from pmm_core.domain.records import CycleState, KpiState, MemberState
from pmm_core.domain.results import Computed, compute
from pmm_core.samples.synthetic import synthetic_cycle, synthetic_cycles


@pytest.fixture(scope="module")
def cycles():
    from pmm_core.catalog.loader import load_catalog

    return synthetic_cycles(load_catalog(), read_members(), [2024, 2025], seed=11, participants=30)


def test_same_seed_same_data(catalog):
    members = read_members()
    first = synthetic_cycle(catalog, members, 2025, seed=3)
    assert first == synthetic_cycle(catalog, members, 2025, seed=3)
    assert first.answers != synthetic_cycle(catalog, members, 2025, seed=4).answers


def test_thirty_members_in_every_region_in_three_states(cycles):
    data = cycles[-1]
    sample = [data.members[c] for c in data.ncps]
    assert len(sample) == 30 and {m.region for m in sample} == set(REGIONS)
    states = [member_state(data, m.iso2) for m in sample]
    assert (states.count(MemberState.SUBMITTED), states.count(MemberState.IN_PROGRESS)) == (18, 8)
    assert states.count(MemberState.NOT_STARTED) == 4
    assert len(data.members) == 187  # every Member stays known
    assert (cycles[0].cycle.state, data.cycle.state) == (CycleState.CLOSED, CycleState.OPEN)


def test_every_value_passes_the_answer_checks(catalog, cycles):
    for data in cycles:
        for answers in data.answers.values():
            for dp_id, answer in answers.items():
                dp = catalog.data_points[dp_id]
                if dp.type is DataType.YES_NO:
                    assert answer.value in ("yes", "no")
                elif dp.type is DataType.SCALE:
                    assert dp.choice(answer.value) is not None
                else:
                    assert check_number(dp, Decimal(answer.value)) == Valid(answer.value), (dp_id, answer.value)


def test_confirmed_results_are_computable_and_shares_at_most_100(catalog, cycles):
    data = cycles[-1]
    confirmed = blanks = 0
    for code, states in data.states.items():
        values = data.values(code)
        for kpi_id, state in states.items():
            if state.status is KpiState.BLANK:
                blanks += 1
                assert state.reason in catalog.blank_reason_codes
            if state.status is not KpiState.CONFIRMED:
                continue
            confirmed += 1
            result = compute(catalog, catalog.kpi(kpi_id), values)
            assert isinstance(result, Computed), (code, kpi_id, result)
            if catalog.checks.kpis[kpi_id].part is not None:  # a share of a certain subset
                assert 0 <= result.value <= 100, (code, kpi_id, result.value)
    assert confirmed > 600 and 0.1 < blanks / (blanks + confirmed) < 0.35


def test_parts_never_exceed_their_totals(cycles):
    for data in cycles:
        for code in data.answers:
            values = {k: Decimal(v) for k, v in data.values(code).items() if k in _numeric}
            for rule in load_catalog().checks.parts:
                if rule.total in values:
                    assert sum(values.get(p, Decimal(0)) for p in rule.parts) <= values[rule.total], (code, rule)


def test_figures_of_the_year_before_continue_the_previous_cycle(cycles):
    previous, data = cycles
    checked = 0
    for code, answers in data.answers.items():
        before = previous.values(code)
        for dp_id, answer in answers.items():
            same = dp_id.replace("_prev", "", 1)
            if dp_id.endswith("_prev") and same in before:
                assert Decimal(answer.value) == Decimal(before[same]), (code, dp_id)
                checked += 1
    assert checked > 10
    # Most Members of the first cycle take part again.
    assert len(set(previous.ncps) & set(data.ncps)) >= 25


def test_blank_answers_have_reasons_and_some_comments(cycles):
    blanks = [s for states in cycles[-1].states.values() for s in states.values() if s.status is KpiState.BLANK]
    assert {s.reason for s in blanks} == {
        "db_collecting",
        "db_planned",
        "db_not_planned",
        "no_detail",
        "unit_difficult",
    }
    assert 0 < sum(1 for s in blanks if s.comment) < len(blanks)


_numeric: set[str] = set()


@pytest.fixture(autouse=True, scope="module")
def _numeric_points():
    from pmm_core.catalog.loader import load_catalog

    _numeric.update(i for i, dp in load_catalog().data_points.items() if dp.is_numeric)
