"""Publications (issue 22): over every sequence the Secretariat can make — provisional then final,
for the public and for all NCPs, internal `started` versions, successive cycles with year on year,
benchmarks sent to NCPs — the exact checker finds no hidden figure that follows, on synthetic
cycles of 40, 62, 120 and 187 Members."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest

from pmm_core.catalog.loader import load_catalog
from pmm_core.catalog.members import read_members
from pmm_core.domain.analysis import Basis
from pmm_core.domain.derivation import Row, audit, audit_reader
from pmm_core.domain.records import CycleData, Flag, FlagState
from pmm_core.publishing import CellStatus, Decision, PopulationRefused, PubAudience, Stage, publish, storage
from pmm_core.publishing.benchmark import benchmark, benchmark_equations
from pmm_core.publishing.build import group_key
from pmm_core.samples.synthetic import synthetic_cycles
from pmm_core.storage.store import Store
from tests.derivation_helpers import hidden_from, provisional
from tests.test_derivation import shared_breakdown_cycle, successive_yoy_cycles

CATALOG = load_catalog()
MEMBERS = read_members()
PUBLIC, WCO, SECRETARIAT = PubAudience.PUBLIC, PubAudience.WCO, PubAudience.SECRETARIAT
DAY = date(2026, 5, 4)


@functools.cache
def cycles(size: int) -> tuple[CycleData, ...]:
    return tuple(synthetic_cycles(CATALOG, MEMBERS, [2023, 2024, 2025], seed=2025, participants=size))


@pytest.fixture
def store(tmp_path) -> Iterator[Store]:
    store = Store.open(tmp_path / "pmm.sqlite3")
    store.import_members(MEMBERS)
    yield store
    store.close()


def complete(store: Store, cycle_id: int, data: CycleData) -> None:
    """The submissions that came in after a provisional publication."""
    with store.database.tx() as conn:
        conn.executemany(
            "INSERT OR REPLACE INTO submissions (cycle_id, member, submitted_at, submitted_by, reopened_at) "
            "VALUES (?, ?, ?, ?, ?)",
            [(cycle_id, m, s.submitted_at, s.submitted_by, s.reopened_at) for m, s in data.submissions.items()],
        )


def put(store: Store, cycle_id: int, audience: PubAudience, stage: Stage = Stage.FINAL, **kw) -> int:
    pub_id, built = publish(store, CATALOG, cycle_id, audience, stage, DAY, languages=(), **kw)
    assert built.publication.residual == ()
    return pub_id


def equations(store: Store, *audiences: PubAudience) -> list[Row]:
    return [r for p in storage.publications(store) if p.audience in audiences for r in storage.equations(store, p.id)]


def assert_nothing_derivable(store: Store, readers: int = 4) -> None:
    """Anyone, from everything public; an NCP, from everything public and for all NCPs, knowing its
    own figure; and each NCP with its benchmarks."""
    public, ncps = hidden_from(CATALOG, "public"), hidden_from(CATALOG, "wco")
    assert audit(equations(store, PUBLIC), public) == []
    shared = equations(store, PUBLIC, WCO)
    assert audit(shared, ncps, insiders=True) == []
    held = set(shared)
    latest = storage.latest(store, WCO)
    if latest is None:
        return
    for i, member in enumerate(latest.population):
        bench = benchmark(store, CATALOG, member)
        assert bench is not None
        told = benchmark_equations(store, bench)
        # a benchmark tells the NCP nothing the publication for all NCPs did not, but the results
        # the level lets it see…
        assert all(r in held or not any(ncps(r.variable, m) for m in r.members) for r in told)
        if i < readers:  # …and, checked exactly for a few of them, nothing follows
            assert audit_reader([*shared, *told], ncps, member) == []


@pytest.mark.parametrize("size", [40, 62, 120, 187])
def test_every_publication_sequence_leaves_nothing_derivable(store, size):
    a, b, c = cycles(size)
    first = store.import_cycle(a).id
    put(store, first, WCO)
    put(store, first, PUBLIC)
    second = store.import_cycle(provisional(b)).id  # the cycle as it stood while open
    put(store, second, PUBLIC, Stage.PROVISIONAL)
    put(store, second, WCO, Stage.PROVISIONAL)
    put(store, second, SECRETARIAT, Stage.PROVISIONAL, basis=Basis.STARTED)  # internal: holds nothing back
    complete(store, second, b)
    put(store, second, WCO)
    put(store, second, PUBLIC)
    third = store.import_cycle(c).id
    put(store, third, PUBLIC, Stage.PROVISIONAL)
    put(store, third, WCO)
    put(store, third, PUBLIC)
    assert_nothing_derivable(store)
    # the figures once published stand: in the final version, a cell dropped for the provisional
    # one's sake shows the provisional figure
    pubs = storage.publications(store, second)
    provisional_cells = storage.cells(store, pubs[0].id)
    final = storage.cells(store, pubs[-1].id)
    for key, cell in final.items():
        if cell.status is CellStatus.KEPT:
            assert provisional_cells[key].value == cell.value


def test_shared_breakdowns_are_suppressed_together(store):
    _, b, _ = cycles(62)
    cycle = store.import_cycle(shared_breakdown_cycle(CATALOG, b)).id
    put(store, cycle, PUBLIC)
    put(store, cycle, WCO)
    assert_nothing_derivable(store)
    shown = {
        k
        for p in storage.publications(store)
        for k, c in storage.cells(store, p.id).items()
        if "|point|ES-0" in k and c.status is CellStatus.SHOWN
    }
    assert shown  # not everything was hidden: the breakdowns of one of the two KPIs are still there


def test_successive_year_on_year_columns(store):
    for data in successive_yoy_cycles(CATALOG, list(cycles(62))):
        put(store, store.import_cycle(data).id, PUBLIC)
    assert_nothing_derivable(store, readers=0)


def test_the_default_and_started_reports_stay_apart(store):
    _, b, _ = cycles(62)
    cycle = store.import_cycle(b).id
    with pytest.raises(PopulationRefused):
        put(store, cycle, PUBLIC, basis=Basis.STARTED)
    put(store, cycle, SECRETARIAT, basis=Basis.STARTED)
    put(store, cycle, PUBLIC)
    # the internal version holds nothing back: the public one is checked against public ones only
    assert storage.ledger(store, PUBLIC).public_rows == tuple(equations(store, PUBLIC))
    assert_nothing_derivable(store)


def test_the_quality_gate_changes_the_published_averages_as_expected(store, tmp_path):
    """An unresolved outlier (TF-04 = 25,000 min) is left out of the public figures by default and
    counted as excluded; marked, it stays in and the KPI says so."""
    _, b, _ = cycles(62)
    cycle = store.import_cycle(b).id
    tf04 = CATALOG.kpi("TF-04")
    data = store.cycle_data(cycle)
    from pmm_core.domain.analysis import confirmed_results, member_values, participants

    members = participants(data)
    counted = confirmed_results(CATALOG, data, tf04, members, member_values(data, members))
    outlier = sorted(counted)[0]
    store.save_flags(cycle, create=[(outlier, _new_flag("TF-04"))])
    excluded = put(store, cycle, SECRETARIAT)  # the default for the Secretariat: marked, not excluded
    marked_cells = storage.cells(store, excluded)
    all_key = group_key(b.cycle.year, "TF-04", None, "")
    assert marked_cells[all_key].value == sum(counted.values(), Decimal(0)) / len(counted)
    public = put(store, cycle, PUBLIC)
    info = storage.publication(store, public)
    assert info is not None and info.summary["gate"] == {
        "items": 1,
        "decision": "exclude",
        "excluded": {"unresolved": 1},
    }
    rest = [v for m, v in counted.items() if m != outlier]
    assert storage.cells(store, public)[all_key].value == sum(rest, Decimal(0)) / len(rest)
    assert storage.cells(store, public)[all_key].n == len(counted) - 1
    marked = put(store, cycle, WCO, decision=Decision.MARK)
    assert storage.publication(store, marked).summary["marked"] == {"TF-04": 1}  # type: ignore[union-attr]


def _new_flag(kpi: str):
    from pmm_core.domain.actions import NewFlag

    return NewFlag(kpi, "", ("outlier",), "robust z 78.8", "")


def test_flags_in_the_gate_by_kind():
    from pmm_core.publishing.gate import gate_items

    _, b, _ = cycles(40)
    member = next(iter(b.submissions))
    flags = (
        Flag(1, 1, member, "TF-04", "", ("outlier",), "", FlagState.OPEN),
        Flag(2, 1, member, "TF-05", "", ("jump",), "", FlagState.OPEN, updated_by=42),  # kept, no reason
        Flag(3, 1, member, "TF-06", "", ("jump",), "", FlagState.OPEN, justification="new system", updated_by=42),
        Flag(4, 1, member, "ES-01", "es_physical_inspections", ("range",), "", FlagState.ASKED),
        Flag(5, 1, member, "TF-10", "", ("range",), "", FlagState.EXPLAINED),
    )
    from dataclasses import replace

    items = gate_items(CATALOG, replace(b, flags=flags))
    kinds = {i.flag: i.kind.value for i in items}
    assert kinds == {1: "unresolved", 2: "kept", 3: "unresolved", 4: "question"}
    question = next(i for i in items if i.flag == 4)
    assert {"ES-05", "ES-06"} <= set(question.kpis)  # every KPI computed from the data point


def test_averages_of_count_kpis_keep_their_decimals():
    """TF-08 (a number of commitments): the average 7.65 is not shown as 8."""
    from pmm_core.domain.analysis import Measure, statistic_decimals
    from pmm_core.domain.results import Computed
    from pmm_core.outputs.charts import _value
    from pmm_core.outputs.i18n import lang

    tf08 = CATALOG.kpi("TF-08")
    assert tf08.result.decimals == 0
    assert statistic_decimals(tf08, Measure.MEAN) == 2
    assert statistic_decimals(tf08, Measure.MEDIAN) == 0
    en, fr = lang("en"), lang("fr")
    assert en.result(Computed(Decimal("7.65"), tf08.result.unit, statistic_decimals(tf08, Measure.MEAN))) == "7.65"
    assert _value(fr, tf08, Decimal("7.65")) == "7,65"
