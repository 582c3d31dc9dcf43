"""Building a publication: the report's statistics for one audience, after the quality gate, with
nothing derivable from them and everything the audience already holds.

Steps: the figures under review are excluded, marked or included (:mod:`.gate`); the analysis by
the report's rules gives each table for the audience (:mod:`pmm_core.analysis`); every statistic
becomes a cell with its equations; :func:`.suppression.suppress` drops cells until no reader
derives a hidden figure from them and the earlier publications; a dropped cell that was published
before shows its earlier figure unchanged (*kept*), so that a figure once published stays as
published. Only the Members that submitted make the population of anything that leaves the
Secretariat; the ``started`` population is for the Secretariat's own publications.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from pmm_core.catalog.members import Member
from pmm_core.catalog.members.groupings import Grouping
from pmm_core.catalog.models import Catalog, Disclosure, Kpi
from pmm_core.domain.analysis import (
    ALL,
    REVIEWED,
    Basis,
    GroupStat,
    KpiAnalysis,
    Options,
    PointStat,
    YearOnYear,
    analyse,
    confirmed_results,
    gives_sum,
    group_cells,
    member_values,
    participants,
    year_on_year,
)
from pmm_core.domain.derivation import Leak, Row, point_variable, result_variable, variable_levels
from pmm_core.domain.disclosure import Audience
from pmm_core.domain.records import CycleData
from pmm_core.outputs.report import Prepared, Stamp
from pmm_core.publishing.gate import count_by_kind, gate_items, marked_by_kpi, without
from pmm_core.publishing.model import READ_BY_NCPS, Cell, CellStatus, Decision, GateItem, PubAudience, Stage
from pmm_core.publishing.suppression import Reader, hidden_from_anyone, hidden_from_ncps, suppress

ANALYSIS_AUDIENCE = {
    PubAudience.PUBLIC: Audience.public(),
    PubAudience.WCO: Audience.wco(),
    PubAudience.SECRETARIAT: Audience.secretariat(),
}


class PopulationRefused(ValueError):
    """Only the Members that submitted make the population of what leaves the Secretariat."""


@dataclass(frozen=True)
class PriorCell:
    """A cell as an earlier publication showed it."""

    key: str
    value: Decimal
    value2: Decimal | None  # year on year: the previous cycle's figure
    n: int
    published: date
    publication: int


@dataclass(frozen=True)
class Ledger:
    """What the readers of a new publication already hold."""

    public_rows: tuple[Row, ...] = ()  # the equations of every publication for the public
    ncp_rows: tuple[Row, ...] = ()  # of every publication NCPs read (public and for all NCPs)
    cells: Mapping[str, PriorCell] = field(default_factory=dict)  # the latest figure of each cell the audience holds


@dataclass(frozen=True)
class Publication:
    year: int
    audience: PubAudience
    stage: Stage
    published: date
    basis: Basis
    population: tuple[str, ...]  # ISO codes
    cells: tuple[Cell, ...]
    gate: tuple[GateItem, ...]
    decision: Decision
    excluded: dict[str, int]  # gate kind → figures excluded
    marked: dict[str, int]  # KPI → figures under review left in
    analyses: tuple[KpiAnalysis, ...]
    changes: tuple[YearOnYear, ...]
    results: dict[str, dict[str, Decimal]]  # KPI → Member → result as counted (Secretariat only)
    annex: tuple[tuple[Kpi, int, Decimal], ...]
    residual: tuple[Leak, ...]  # what earlier publications already gave (empty unless they were unchecked)

    def prepared(self, number: int = 0) -> Prepared:
        stamp = Stamp(
            self.audience.value,
            self.stage is Stage.PROVISIONAL,
            self.published,
            len(self.population),
            self.basis.value,
            number,
        )
        return Prepared(self.analyses, self.changes, stamp, self.excluded, self.marked, self.annex)

    def shown(self) -> int:
        return sum(1 for c in self.cells if c.status in (CellStatus.SHOWN, CellStatus.KEPT))


def _key(year: int, *parts: str) -> str:
    return "|".join((str(year), *parts))


def group_key(year: int, kpi: str, grouping: Grouping | None, code: str) -> str:
    return _key(year, "kpi", kpi, grouping.value if grouping else "all", code)


def point_key(year: int, kpi: str, disaggregation: str, data_point: str) -> str:
    return _key(year, "point", kpi, disaggregation, data_point)


def yoy_key(year: int, kpi: str, previous: int) -> str:
    return _key(year, "yoy", kpi, str(previous))


def _skewness(values: Sequence[Decimal]) -> Decimal | None:
    if len(values) < 3:
        return None
    xs = [float(v) for v in values]
    mean = sum(xs) / len(xs)
    m2 = sum((x - mean) ** 2 for x in xs) / len(xs)
    m3 = sum((x - mean) ** 3 for x in xs) / len(xs)
    if m2 <= 0:
        return Decimal(0)
    return Decimal(str(round(m3 / math.pow(m2, 1.5), 4)))


def build_publication(
    catalog: Catalog,
    data: CycleData,
    previous: CycleData | None,
    audience: PubAudience,
    stage: Stage,
    ledger: Ledger,
    today: date,
    decision: Decision,
    basis: Basis = Basis.SUBMITTED,
    margin: float = 0.10,
    reviewed_apart: bool = False,
) -> Publication:
    """The publication of `data`'s cycle for `audience` (year on year against `previous`); with
    `reviewed_apart`, each KPI's statistic over the peer-reviewed Members too, a cell like the
    others (another published sum: it is suppressed when it, or what it leaves, would give a
    Member's figure away)."""
    if basis is not Basis.SUBMITTED and audience is not PubAudience.SECRETARIAT:
        raise PopulationRefused(basis.value)
    year = data.cycle.year
    items = tuple(gate_items(catalog, data))
    counted = without(data, items) if decision is Decision.EXCLUDE else data
    options = Options(basis=basis, margin=margin, audience=ANALYSIS_AUDIENCE[audience], reviewed_apart=reviewed_apart)
    members = participants(counted, basis)
    values = member_values(counted, members)
    analyses = analyse(catalog, counted, options)
    changes = year_on_year(catalog, counted, previous, options) if previous is not None else []
    results = {a.kpi.id: confirmed_results(catalog, counted, a.kpi, members, values) for a in analyses}

    cells: list[Cell] = []
    for a in analyses:
        cells += _kpi_cells(year, a, results[a.kpi.id], members, values, counted.reviewed)
    for y in changes:
        cells.append(_yoy_cell(year, y, previous.cycle.year if previous else year - 1))

    levels = variable_levels(catalog)
    readers = []
    if audience is PubAudience.PUBLIC:
        readers.append(Reader(ledger.public_rows, hidden_from_anyone(levels), insiders=False))
    if audience in READ_BY_NCPS:
        readers.append(Reader(ledger.ncp_rows, hidden_from_ncps(levels), insiders=True))
    outcome = suppress(cells, readers)
    cells = [_settle(c, outcome.suppressed, ledger.cells) for c in cells]
    by_key = {c.key: c for c in cells}
    analyses = [_apply_kpi(year, a, by_key, ledger.cells) for a in analyses]
    changes = [_apply_yoy(year, y, by_key, ledger.cells, previous) for y in changes]

    annex: list[tuple[Kpi, int, Decimal]] = []
    if audience is PubAudience.WCO:
        for a in analyses:
            skew = _skewness(list(results[a.kpi.id].values()))
            if skew is not None and a.level in (Disclosure.PUBLIC, Disclosure.WCO):
                annex.append((a.kpi, a.n, skew))
    return Publication(
        year=year,
        audience=audience,
        stage=stage,
        published=today,
        basis=basis,
        population=tuple(m.iso2 for m in members),
        cells=tuple(cells),
        gate=items,
        decision=decision,
        excluded=count_by_kind(items) if decision is Decision.EXCLUDE else {},
        marked=marked_by_kpi(items, {k: set(r) for k, r in results.items()}) if decision is Decision.MARK else {},
        analyses=tuple(analyses),
        changes=tuple(changes),
        results={k: dict(r) for k, r in results.items()},
        annex=tuple(annex),
        residual=tuple(outcome.residual),
    )


def _kpi_cells(
    year: int,
    a: KpiAnalysis,
    results: Mapping[str, Decimal],
    members: Sequence[Member],
    values: Mapping[str, Mapping[str, str]],
    reviewed: frozenset[str] = frozenset(),
) -> list[Cell]:
    variable = result_variable(a.kpi, year)
    sets = group_cells(members, results)
    stats: list[tuple[tuple[Grouping | None, str], GroupStat]] = [(ALL, a.overall)]
    stats += [((g, s.code), s) for g in Grouping for s in a.groups.get(g, ())]
    out = []
    if a.reviewed is not None:
        sets[REVIEWED] = {m: v for m, v in results.items() if m in reviewed}
        stats.append((REVIEWED, a.reviewed))
    for cell, stat in stats:
        who = frozenset(sets.get(cell, {}))
        rows = (Row(variable, who),) if who and gives_sum(a.measure, who) else ()
        out.append(
            Cell(
                group_key(year, a.kpi.id, cell[0], cell[1]),
                rows,
                who,
                stat.n,
                stat.value,
                CellStatus.SHOWN if stat.shown else CellStatus.HIDDEN,
                (3 if cell == ALL else 0 if cell == REVIEWED else 2, stat.n),
            )
        )
    for b in a.breakdowns:
        ids = b.disaggregation.data_points
        givers = frozenset(m for m in results if all(dp in values.get(m, {}) for dp in ids))
        for p in b.points:
            sums = p.data_point.is_numeric or len(givers) <= 2
            out.append(
                Cell(
                    point_key(year, a.kpi.id, b.disaggregation.id, p.data_point.id),
                    (Row(point_variable(p.data_point.id, year), givers),) if sums else (),
                    givers,
                    p.n,
                    p.value,
                    CellStatus.SHOWN if p.value is not None else CellStatus.HIDDEN,
                    (1, p.n),
                )
            )
    return out


def _yoy_cell(year: int, y: YearOnYear, previous: int) -> Cell:
    common = frozenset(c.member for c in y.changes)
    rows: tuple[Row, ...] = ()
    if common and gives_sum(y.measure, common):
        rows = (Row(result_variable(y.kpi, previous), common), Row(result_variable(y.kpi, year), common))
    return Cell(
        yoy_key(year, y.kpi.id, previous),
        rows,
        common,
        len(common),
        y.current,
        CellStatus.SHOWN if y.current is not None else CellStatus.HIDDEN,
        (0, len(common)),
        y.previous,
    )


def _settle(cell: Cell, suppressed: set[str], prior: Mapping[str, PriorCell]) -> Cell:
    """A cell as the publication shows it: dropped ones suppressed, or kept as published before."""
    status = CellStatus.SUPPRESSED if cell.key in suppressed else cell.status
    if status is not CellStatus.SHOWN and cell.key in prior:
        before = prior[cell.key]
        return replace(cell, status=CellStatus.KEPT, value=before.value, value2=before.value2, n=before.n)
    if status is not CellStatus.SHOWN:
        return replace(cell, status=status, value=None, value2=None)
    return cell


def _apply_kpi(year: int, a: KpiAnalysis, cells: Mapping[str, Cell], prior: Mapping[str, PriorCell]) -> KpiAnalysis:
    def stat(s: GroupStat) -> GroupStat:
        cell = cells[group_key(year, a.kpi.id, s.grouping, s.code)]
        if cell.status is CellStatus.SHOWN:
            return s
        if cell.status is CellStatus.KEPT:
            when = prior[cell.key].published.isoformat()
            return replace(s, value=cell.value, n=cell.n, minimum=None, maximum=None, kept=when)
        return replace(
            s, value=None, minimum=None, maximum=None, complement=s.complement or cell.status is CellStatus.SUPPRESSED
        )

    def point(b_id: str, p: PointStat) -> PointStat:
        cell = cells[point_key(year, a.kpi.id, b_id, p.data_point.id)]
        if cell.status is CellStatus.KEPT:
            return replace(p, value=cell.value, n=cell.n, kept=prior[cell.key].published.isoformat())
        return p if cell.status is CellStatus.SHOWN else replace(p, value=None)

    return replace(
        a,
        overall=stat(a.overall),
        reviewed=stat(a.reviewed) if a.reviewed is not None else None,
        groups={g: tuple(stat(s) for s in stats) for g, stats in a.groups.items()},
        breakdowns=tuple(
            replace(b, points=tuple(point(b.disaggregation.id, p) for p in b.points)) for b in a.breakdowns
        ),
    )


def _apply_yoy(
    year: int, y: YearOnYear, cells: Mapping[str, Cell], prior: Mapping[str, PriorCell], previous: CycleData | None
) -> YearOnYear:
    cell = cells[yoy_key(year, y.kpi.id, previous.cycle.year if previous else year - 1)]
    if cell.status is CellStatus.SHOWN:
        return y
    if cell.status is CellStatus.KEPT:
        before = prior[cell.key]
        return replace(
            y, previous=before.value2, current=before.value, kept=before.published.isoformat(), kept_n=before.n
        )
    return replace(y, previous=None, current=None, complement=y.complement or cell.status is CellStatus.SUPPRESSED)
