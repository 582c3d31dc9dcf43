"""An NCP's benchmarks: its own results beside the statistics of the latest publication for all NCPs
(§33: "their regional and global average or median that are used as benchmarks").

Everything here is read from that stored publication, so an NCP is sent nothing that its readers
did not already get: the global figure and the figures of the Member's own groups (WCO region,
income group, geographic type, administration type) as published — shown, kept, or not shown —
with their Members (N). For a KPI whose disclosure lets every NCP see the Members' results (Public
or WCO), the results themselves, unnamed, make the distribution, and the NCP learns where it
stands among them; for a Union- or Country-level KPI only the published aggregates, and where the
NCP stands against them (above or below, which its own figure and the aggregate already tell).
The Member's own results of the previous cycle give its year on year.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from pmm_core.catalog.members import Member
from pmm_core.catalog.members.groupings import Grouping
from pmm_core.catalog.models import Catalog, Disclosure, Kpi
from pmm_core.domain.analysis import Measure, measure_of
from pmm_core.domain.derivation import Row, result_variable
from pmm_core.domain.disclosure import kpi_level
from pmm_core.domain.records import KpiState
from pmm_core.domain.results import Computed, compute
from pmm_core.publishing import storage
from pmm_core.publishing.build import group_key
from pmm_core.publishing.model import CellStatus, PubAudience, Stage
from pmm_core.storage.store import Store

DISTRIBUTION_LEVELS = (Disclosure.PUBLIC, Disclosure.WCO)


@dataclass(frozen=True)
class GroupFigure:
    grouping: Grouping | None  # None: all Members in the publication
    code: str
    n: int
    value: Decimal | None  # None: not shown in the publication
    kept: bool  # the figure of an earlier publication, unchanged


@dataclass(frozen=True)
class KpiBenchmark:
    kpi: Kpi
    level: Disclosure
    measure: Measure
    own: Decimal | None  # the Member's result as counted in the publication
    blank_reason: str | None  # the reason code when the Member left the KPI blank
    overall: GroupFigure
    groups: tuple[GroupFigure, ...]  # the Member's four groups
    distribution: tuple[Decimal, ...]  # every result counted, unnamed (Public and WCO levels only)
    previous_own: Decimal | None  # the Member's result in the previous cycle

    @property
    def comparable(self) -> bool:
        return self.own is not None and self.overall.value is not None

    def position(self) -> int:
        """-1 below the global figure, 0 at it, 1 above it."""
        assert self.own is not None and self.overall.value is not None
        return (self.own > self.overall.value) - (self.own < self.overall.value)

    def rank(self) -> tuple[int, int] | None:
        """(results at or below the Member's, results) where the distribution may be shown."""
        if self.own is None or not self.distribution:
            return None
        return sum(1 for v in self.distribution if v <= self.own), len(self.distribution)


@dataclass(frozen=True)
class Benchmark:
    member: Member
    year: int
    publication: int
    stage: Stage
    published: date
    population: int
    kpis: tuple[KpiBenchmark, ...]
    counted: bool  # the Member is in the publication's population


def benchmark(
    store: Store, catalog: Catalog, member: str, cycle_id: int | None = None, publication: int | None = None
) -> Benchmark | None:
    """The Member's benchmarks from a publication for all NCPs (`publication`, else the latest of the
    cycle, else the latest of any cycle); None when there is none (or `publication` is not one)."""
    pub = storage.publication(store, publication) if publication else storage.latest(store, PubAudience.WCO, cycle_id)
    found = store.member(member)
    if pub is None or pub.audience is not PubAudience.WCO or found is None:
        return None
    cells = storage.cells(store, pub.id)
    results = storage.results(store, pub.id)
    cycle = store.cycle(pub.cycle_id)
    assert cycle is not None
    states = store.member_data(pub.cycle_id, member).states
    before = store.previous_cycle(cycle)
    previous = own_results(catalog, store, before.id, member) if before is not None else {}
    out = []
    for kpi in catalog.kpis:
        level = kpi_level(kpi)
        counted = results.get(kpi.id, {})

        def figure(grouping: Grouping | None, code: str, kpi: Kpi = kpi) -> GroupFigure:
            cell = cells.get(group_key(pub.year, kpi.id, grouping, code))
            if cell is None:
                return GroupFigure(grouping, code, 0, None, False)
            shown = cell.status in (CellStatus.SHOWN, CellStatus.KEPT)
            return GroupFigure(grouping, code, cell.n, cell.value if shown else None, cell.status is CellStatus.KEPT)

        state = states.get(kpi.id)
        out.append(
            KpiBenchmark(
                kpi=kpi,
                level=level,
                measure=measure_of(catalog, kpi),
                own=counted.get(member),
                blank_reason=(state.reason or "") if state and state.status is KpiState.BLANK else None,
                overall=figure(None, ""),
                groups=tuple(figure(g, found.group(g)) for g in Grouping),
                distribution=tuple(sorted(counted.values())) if level in DISTRIBUTION_LEVELS else (),
                previous_own=previous.get(kpi.id),
            )
        )
    return Benchmark(
        member=found,
        year=pub.year,
        publication=pub.id,
        stage=pub.stage,
        published=pub.published,
        population=len(pub.population),
        kpis=tuple(out),
        counted=member in pub.population,
    )


def own_results(catalog: Catalog, store: Store, cycle_id: int, member: str) -> dict[str, Decimal]:
    """KPI → the Member's confirmed result in a cycle (its own figures only)."""
    mine = store.member_data(cycle_id, member)
    values = {dp: a.value for dp, a in mine.answers.items()}
    out = {}
    for kpi in catalog.kpis:
        state = mine.states.get(kpi.id)
        if state is None or state.status is not KpiState.CONFIRMED:
            continue
        try:
            result = compute(catalog, kpi, values)
        except (KeyError, ArithmeticError):
            continue
        if isinstance(result, Computed):
            out[kpi.id] = result.value
    return out


def benchmark_equations(store: Store, bench: Benchmark) -> list[Row]:
    """What a benchmark tells, as equations on the Members' figures: each published figure it shows
    (over the Members the publication took it over), and each result of a distribution."""
    members = {
        r["key"]: frozenset(m for m in r["members"].split(",") if m)
        for r in store.database.rows(
            "SELECT key, members FROM publication_cells WHERE publication_id = ?", (bench.publication,)
        )
    }
    results = storage.results(store, bench.publication)
    out: list[Row] = []
    for k in bench.kpis:
        variable = result_variable(k.kpi, bench.year)
        for figure in (k.overall, *k.groups):
            if figure.value is not None and not figure.kept:
                who = members[group_key(bench.year, k.kpi.id, figure.grouping, figure.code)]
                if k.measure is Measure.MEAN or len(who) <= 2:
                    out.append(Row(variable, who))
        if k.distribution:
            out += [Row(variable, frozenset({m})) for m in results.get(k.kpi.id, {})]
    return out


def with_results(kpis: Sequence[KpiBenchmark]) -> list[KpiBenchmark]:
    return [k for k in kpis if k.own is not None]
