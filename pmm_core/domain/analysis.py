"""The Secretariat's analysis of a cycle, by the rules of the report on the first PMM cycle.

Rules (seed 002 §§31–52 and the note before the Trade Facilitation figures):

- **Participating Members** are those that submitted (:attr:`Basis.SUBMITTED`, the report's
  62 Members); :attr:`Basis.STARTED` counts every Member with any answer or KPI state, for a
  look during an open cycle. Rates and results are taken over them only.
- **Results** come from KPIs the NCP *confirmed*; a KPI in progress, blank or not computable
  gives none.
- **Measure**: the average for quantitative KPIs; the median for qualitative ones, i.e. KPIs
  whose data points are all yes/no or scale answers (the binary questionnaires TF-01, ES-02,
  OD-01, OD-03, OD-07, OD-10 and the WCO tools KPIs), whose results "are more likely to be
  skewed towards higher values".
- **Groups**: globally and by each grouping (WCO region, income group, geographic type,
  administration type); results are never shown per Member. Whether a group statistic, a
  one-Member group or a minimum/maximum may be shown depends on the KPI's disclosure level
  and the audience (:mod:`pmm_core.domain.disclosure`): for the public report, a group of one Member
  is shown only for a Public KPI. Nor may a hidden figure follow by subtraction from the
  averages and counts shown (complementary suppression, :func:`shown_cells`): when the groups
  hidden in a grouping hold one such Member, the next-smallest group is hidden as well, and so
  on until no such figure follows from all groupings together.
- **Disaggregated data** is analysed only when enough Members gave it: at least the sample size
  for a 95 % confidence level and a 10 % margin of error (5 % as an option) out of the Members
  with a result, by Cochran's formula with the finite-population correction
  (:func:`required_responses`; the report's example: 57 responses → at least 37).
- **Response rates** per KPI and per dimension are counts over the participating Members
  ("41 of 62, 66 %"); blank shares per Member are averaged by region (Figure 33).
- **Year on year**: the Members participating in both cycles with a confirmed result in both;
  their averages are not shown when, next to either cycle's statistics, they would give a hidden
  figure (e.g. when one Member more took part in one of the cycles).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from statistics import NormalDist, median

from pmm_core.catalog.members import Member
from pmm_core.catalog.members.groupings import Grouping, group_order
from pmm_core.catalog.models import Catalog, DataPoint, DataType, Disaggregation, Disclosure, ExpressionCalc, Kpi
from pmm_core.domain.analytics import KpiStats, kpi_stats, region_order, sort_members
from pmm_core.domain.disclosure import (
    Audience,
    disclosed_by_sums,
    kpi_level,
    may_see_extremes,
    may_see_statistic,
    may_see_unnamed,
)
from pmm_core.domain.progress import Snapshot, Status
from pmm_core.domain.records import CycleData, KpiState
from pmm_core.domain.results import Computed, compute, numeric_value
from pmm_core.domain.text import N_


class Basis(StrEnum):
    SUBMITTED = "submitted"
    STARTED = "started"


class Measure(StrEnum):
    MEAN = "mean"
    MEDIAN = "median"


MEASURE_NAMES: dict[Measure, str] = {Measure.MEAN: N_("Average"), Measure.MEDIAN: N_("Median")}


@dataclass(frozen=True)
class Options:
    basis: Basis = Basis.SUBMITTED
    margin: float = 0.10  # margin of error of the disaggregated-data threshold; 0.05 is stricter
    audience: Audience = field(default_factory=Audience.public)
    reviewed_apart: bool = False  # each KPI's statistic over the peer-reviewed Members too (§14)


# ---- participants, measure, threshold ------------------------------------------------------


def participants(data: CycleData, basis: Basis = Basis.SUBMITTED) -> list[Member]:
    """The Members the analysis counts, by WCO region then ISO code."""
    if basis is Basis.SUBMITTED:
        codes = {code for code in data.submissions if data.submitted(code)}
    else:
        codes = {c for c, a in data.answers.items() if a} | {c for c, s in data.states.items() if s}
        codes |= {code for code in data.submissions if data.submitted(code)}
    return sort_members(data.members.get(code) or Member(code, "") for code in codes)


def is_qualitative(catalog: Catalog, kpi: Kpi) -> bool:
    """A KPI whose data points are all yes/no or scale answers."""
    return all(dp.type in (DataType.YES_NO, DataType.SCALE) for dp in catalog.main_data_points(kpi))


def measure_of(catalog: Catalog, kpi: Kpi) -> Measure:
    return Measure.MEDIAN if is_qualitative(catalog, kpi) else Measure.MEAN


def required_responses(population: int, margin: float = 0.10, confidence: float = 0.95) -> int:
    """The smallest sample giving `confidence` and `margin` out of `population` (proportion 0.5).

    Cochran's n0 = z² p (1 − p) / e², corrected for a finite population: n = n0 / (1 + (n0 − 1) / N),
    rounded up. 57 → 37 at 10 %, 50 at 5 %.
    """
    if population <= 0:
        return 0
    z = NormalDist().inv_cdf((1 + confidence) / 2)
    n0 = z * z * 0.25 / (margin * margin)
    return min(population, math.ceil(n0 / (1 + (n0 - 1) / population) - 1e-9))


def summarise(values: Sequence[Decimal], measure: Measure) -> Decimal:
    if measure is Measure.MEDIAN:
        return Decimal(median(values))
    return sum(values, Decimal(0)) / len(values)


def percent(count: int, total: int) -> Decimal:
    """`count` of `total` in percent points (0 when `total` is 0)."""
    return Decimal(100) * count / total if total else Decimal(0)


# ---- KPI results by group ------------------------------------------------------------------


@dataclass(frozen=True)
class GroupStat:
    grouping: Grouping | None  # None: all participating Members
    code: str  # the group's code ("" for all Members, or a Member whose code is not known)
    n: int  # Members with a result
    value: Decimal | None  # the KPI's measure; None when the audience may not see it
    minimum: Decimal | None = None  # None when the audience may not see them
    maximum: Decimal | None = None
    complement: bool = False  # hidden only so that a hidden figure cannot be worked out (rule 4)
    kept: str = ""  # the date of the earlier publication whose figure (value, n) is shown unchanged

    @property
    def shown(self) -> bool:
        return self.value is not None


@dataclass(frozen=True)
class PointStat:
    """One data point of a disaggregation over the Members that gave the whole breakdown."""

    data_point: DataPoint
    n: int
    value: Decimal | None  # average (median for yes/no or scale data points); None when not shown
    kept: str = ""  # the date of the earlier publication whose figure is shown unchanged


@dataclass(frozen=True)
class BreakdownAnalysis:
    disaggregation: Disaggregation
    level: Disclosure
    population: int  # Members with a result for the KPI
    responses: int  # of them, Members that gave every data point of the breakdown
    required: int  # required_responses(population, margin)
    points: tuple[PointStat, ...]  # empty unless `qualifies`

    @property
    def qualifies(self) -> bool:
        return self.responses > 0 and self.responses >= self.required


@dataclass(frozen=True)
class KpiAnalysis:
    kpi: Kpi
    measure: Measure
    level: Disclosure
    participants: int  # participating Members (the denominator of the response rate)
    required: int  # responses needed for a 95 % CI at the chosen margin out of `participants`
    overall: GroupStat
    groups: Mapping[Grouping, tuple[GroupStat, ...]]
    breakdowns: tuple[BreakdownAnalysis, ...]
    reviewed: GroupStat | None = None  # over the peer-reviewed Members, when asked (Options.reviewed_apart)

    @property
    def n(self) -> int:
        return self.overall.n


def confirmed_results(
    catalog: Catalog, data: CycleData, kpi: Kpi, members: Iterable[Member], values: Mapping[str, Mapping[str, str]]
) -> dict[str, Decimal]:
    """Member → exact result of `kpi`, for the Members who confirmed it with a computable result."""
    out: dict[str, Decimal] = {}
    for member in members:
        state = data.states.get(member.iso2, {}).get(kpi.id)
        if state is None or state.status is not KpiState.CONFIRMED:
            continue
        try:
            result = compute(catalog, kpi, values.get(member.iso2, {}))
        except (KeyError, ArithmeticError):  # a stored value the catalog no longer accepts
            continue
        if isinstance(result, Computed):
            out[member.iso2] = result.value
    return out


Cell = tuple[Grouping | None, str]  # where a statistic stands: (grouping, group code)
ALL: Cell = (None, "")  # all participating Members
REVIEWED: Cell = (None, "reviewed")  # the participating Members whose peer review is closed


def _cells(members: Sequence[Member], results: Mapping[str, Decimal]) -> dict[Cell, dict[str, Decimal]]:
    """Each statistic's Members with their results: all Members, then every group of each
    grouping, in order."""
    cells: dict[Cell, dict[str, Decimal]] = {ALL: dict(results)}
    for grouping in Grouping:
        by_code: dict[str, dict[str, Decimal]] = {}
        for member in members:
            if member.iso2 in results:
                by_code.setdefault(member.group(grouping), {})[member.iso2] = results[member.iso2]
        for code in sorted(by_code, key=lambda c: (group_order(grouping, c), c)):
            cells[grouping, code] = by_code[code]
    return cells


def group_cells(members: Sequence[Member], results: Mapping[str, Decimal]) -> dict[Cell, dict[str, Decimal]]:
    """Each statistic's Members with their results (:data:`ALL`, then every group of each grouping)."""
    return _cells(members, results)


def statistic_decimals(kpi: Kpi, measure: Measure) -> int:
    """Decimals of a KPI's statistic: an average keeps two even when results are whole numbers
    (TF-08: 7.65 commitments, not 8)."""
    return max(kpi.result.decimals, 2) if measure is Measure.MEAN else kpi.result.decimals


def gives_sum(measure: Measure, members: Collection[str]) -> bool:
    """Does a statistic over `members` give the sum of their figures? An average does (times its
    count); a median only over one or two figures, where it is their average."""
    return measure is Measure.MEAN or len(members) <= 2


def shown_cells(
    cells: Mapping[Cell, Collection[str]], measure: Measure, level: Disclosure, audience: Audience
) -> set[Cell]:
    """The statistics `audience` may see: those rule 3 of :mod:`pmm_core.domain.disclosure` allows, less
    those hidden as well so that no figure it may not see follows from the sums shown (rule 4,
    complementary suppression).

    Why: the overall sum less the sums of a grouping's groups shown is the sum of its groups
    hidden, one Member's figure when they hold one Member (and likewise across groupings). So,
    while some hidden figure follows, the smallest group shown among the sums giving it is hidden
    too, preferring one that every way to the figure uses: in one grouping, its next-smallest
    group, so that at least two Members are hidden together. The overall statistic is kept: with
    every group hidden it is all that is left, and rule 3 never lets it give one figure alone.
    Nothing more is hidden from an audience that may see every figure (the Secretariat, or anyone
    for a Public KPI)."""
    shown = {cell for cell, members in cells.items() if may_see_statistic(level, audience, members)}
    hidden = {m for members in cells.values() for m in members if not may_see_unnamed(level, audience, m)}
    while hidden:
        groups = [c for c in cells if c != ALL and c in shown and gives_sum(measure, cells[c])]
        # stable: in grouping and group order for a tie; the peer-reviewed subset, an extra asked
        # for, is hidden before any group (all less the reviewed is the sum of the others)
        groups.sort(key=lambda c: (c != REVIEWED, len(cells[c])))
        overall = [cells[ALL]] if ALL in shown and gives_sum(measure, cells[ALL]) else []
        derived = disclosed_by_sums([*(cells[c] for c in groups), *overall], hidden)
        if not derived:
            break
        first, overall_index = derived[0], len(groups)
        giving = sorted(first.needs - {overall_index}) or sorted(first.uses - {overall_index})
        shown.discard(groups[giving[0]] if giving else ALL)  # ALL: never, by rule 3
    return shown


def _stat(
    cell: Cell, results: Mapping[str, Decimal], measure: Measure, level: Disclosure, audience: Audience, shown: bool
) -> GroupStat:
    values = list(results.values())
    if not shown:
        return GroupStat(cell[0], cell[1], len(values), None, complement=may_see_statistic(level, audience, results))
    extremes = may_see_extremes(level, audience, results)
    return GroupStat(
        cell[0],
        cell[1],
        len(values),
        summarise(values, measure),
        min(values) if extremes else None,
        max(values) if extremes else None,
    )


def _stats(
    members: Sequence[Member],
    results: Mapping[str, Decimal],
    measure: Measure,
    level: Disclosure,
    audience: Audience,
    reviewed: Collection[str] | None = None,
) -> dict[Cell, GroupStat]:
    """The overall and group statistics of one KPI, as `audience` may see them; with `reviewed`,
    the statistic over those Members too (:data:`REVIEWED`), under the same rules."""
    cells = _cells(members, results)
    if reviewed is not None:
        cells[REVIEWED] = {m: v for m, v in results.items() if m in reviewed}
    shown = shown_cells(cells, measure, level, audience)
    return {cell: _stat(cell, values, measure, level, audience, cell in shown) for cell, values in cells.items()}


def _breakdown(
    catalog: Catalog,
    kpi: Kpi,
    dis: Disaggregation,
    results: Mapping[str, Decimal],
    values: Mapping[str, Mapping[str, str]],
    options: Options,
) -> BreakdownAnalysis:
    level = kpi_level(kpi, breakdown=True)
    points = [catalog.data_points[i] for i in dis.data_points]
    givers = [m for m in results if all(dp.id in values.get(m, {}) for dp in points)]
    required = required_responses(len(results), options.margin)
    analysis = BreakdownAnalysis(dis, level, len(results), len(givers), required, ())
    if not analysis.qualifies:
        return analysis
    shown = may_see_statistic(level, options.audience, givers)
    scoring = kpi.calculation.scoring if isinstance(kpi.calculation, ExpressionCalc) else None
    stats = []
    for dp in points:
        numbers = [numeric_value(dp, values[m][dp.id], scoring) for m in givers]
        measure = Measure.MEAN if dp.is_numeric else Measure.MEDIAN
        stats.append(PointStat(dp, len(numbers), summarise(numbers, measure) if shown else None))
    return BreakdownAnalysis(dis, level, len(results), len(givers), required, tuple(stats))


def member_values(data: CycleData, members: Iterable[Member]) -> dict[str, dict[str, str]]:
    return {m.iso2: data.values(m.iso2) for m in members}


def analyse_kpi(
    catalog: Catalog,
    data: CycleData,
    kpi: Kpi,
    options: Options | None = None,
    members: Sequence[Member] | None = None,
    values: Mapping[str, Mapping[str, str]] | None = None,
) -> KpiAnalysis:
    """One KPI's results globally, by each grouping and by breakdown, for `options.audience`."""
    options = options or Options()
    members = participants(data, options.basis) if members is None else members
    values = member_values(data, members) if values is None else values
    results = confirmed_results(catalog, data, kpi, members, values)
    measure, level = measure_of(catalog, kpi), kpi_level(kpi)
    reviewed = data.reviewed if options.reviewed_apart else None
    stats = _stats(members, results, measure, level, options.audience, reviewed)
    groups: dict[Grouping, tuple[GroupStat, ...]] = {}
    for cell, stat in stats.items():
        if cell[0] is not None:
            groups[cell[0]] = (*groups.get(cell[0], ()), stat)
    return KpiAnalysis(
        kpi=kpi,
        measure=measure,
        level=level,
        participants=len(members),
        required=required_responses(len(members), options.margin),
        overall=stats[ALL],
        groups={grouping: groups.get(grouping, ()) for grouping in Grouping},
        breakdowns=tuple(_breakdown(catalog, kpi, d, results, values, options) for d in kpi.disaggregations),
        reviewed=stats.get(REVIEWED),
    )


def analyse(catalog: Catalog, data: CycleData, options: Options | None = None) -> list[KpiAnalysis]:
    """Every KPI, in catalog order."""
    options = options or Options()
    members = participants(data, options.basis)
    values = member_values(data, members)
    return [analyse_kpi(catalog, data, kpi, options, members, values) for kpi in catalog.kpis]


# ---- response rates ------------------------------------------------------------------------


def response_rates(
    catalog: Catalog, data: CycleData, basis: Basis = Basis.SUBMITTED, group: tuple[Grouping, str] | None = None
) -> list[KpiStats]:
    """Each KPI's answered (confirmed) and blank counts over the participating Members, or over
    those of one group (e.g. ``(Grouping.INCOME, "high")``)."""
    members = participants(data, basis)
    if group is not None:
        members = [m for m in members if m.group(group[0]) == group[1]]
    return kpi_stats(catalog, members, data.states)


@dataclass(frozen=True)
class DimensionRate:
    dimension: str
    grouping: Grouping | None  # None: all participating Members
    code: str
    members: int
    kpis: int
    answered: int  # (Member, KPI) pairs confirmed
    blank: int

    @property
    def possible(self) -> int:
        return self.members * self.kpis

    @property
    def rate(self) -> Decimal:
        return percent(self.answered, self.possible)


def dimension_rates(
    catalog: Catalog, data: CycleData, basis: Basis = Basis.SUBMITTED, grouping: Grouping | None = None
) -> list[DimensionRate]:
    """Answered share of each dimension's KPIs, overall or for each group of `grouping`."""
    members = participants(data, basis)
    groups: dict[str, list[Member]] = {"": members} if grouping is None else {}
    if grouping is not None:
        for member in members:
            groups.setdefault(member.group(grouping), []).append(member)
    out: list[DimensionRate] = []
    for code in sorted(groups, key=lambda c: (group_order(grouping, c) if grouping else 0, c)):
        snapshots = [Snapshot(catalog, {}, data.states.get(m.iso2, {})) for m in groups[code]]
        for dim in catalog.dimensions:
            kpis = catalog.kpis_of(dim.id)
            statuses = [s.status(k) for s in snapshots for k in kpis]
            out.append(
                DimensionRate(
                    dim.id,
                    grouping,
                    code,
                    len(snapshots),
                    len(kpis),
                    statuses.count(Status.DONE),
                    statuses.count(Status.BLANK),
                )
            )
    return out


def most_and_least_answered(stats: Sequence[KpiStats], k: int = 10) -> tuple[list[KpiStats], list[KpiStats]]:
    """The `k` KPIs answered by the most Members and the `k` answered by the fewest (ties in
    catalog order)."""
    order = {s.kpi_id: i for i, s in enumerate(stats)}
    most = sorted(stats, key=lambda s: (-s.answered, order[s.kpi_id]))[:k]
    least = sorted(stats, key=lambda s: (s.answered, order[s.kpi_id]))[:k]
    return most, least


@dataclass(frozen=True)
class MemberBlanks:
    member: Member
    blanks: int
    share: Decimal  # percent of the KPIs left blank


@dataclass(frozen=True)
class RegionBlanks:
    """Figure 33: blank answers of a WCO region's Members, in total and per Member on average."""

    region: str
    members: int
    blanks: int
    mean_share: Decimal  # average over the region's Members of their percentage of KPIs left blank


def member_blanks(catalog: Catalog, data: CycleData, basis: Basis = Basis.SUBMITTED) -> list[MemberBlanks]:
    total = len(catalog.kpis)
    out = []
    for member in participants(data, basis):
        states = data.states.get(member.iso2, {})
        blanks = sum(1 for k in catalog.kpis if (s := states.get(k.id)) and s.status is KpiState.BLANK)
        out.append(MemberBlanks(member, blanks, percent(blanks, total)))
    return out


def blanks_by_region(catalog: Catalog, data: CycleData, basis: Basis = Basis.SUBMITTED) -> list[RegionBlanks]:
    by_region: dict[str, list[MemberBlanks]] = {}
    for row in member_blanks(catalog, data, basis):
        by_region.setdefault(row.member.region, []).append(row)
    return [
        RegionBlanks(
            region,
            len(rows),
            sum(r.blanks for r in rows),
            sum((r.share for r in rows), Decimal(0)) / len(rows),
        )
        for region, rows in sorted(by_region.items(), key=lambda item: (region_order(item[0]), item[0]))
    ]


# ---- year on year --------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberChange:
    member: str
    previous: Decimal
    current: Decimal


@dataclass(frozen=True)
class YearOnYear:
    """A KPI over the Members that took part in both cycles and confirmed it in both."""

    kpi: Kpi
    measure: Measure
    level: Disclosure
    changes: tuple[MemberChange, ...]  # per Member: for the Secretariat only
    previous: Decimal | None  # the measure over those Members; None when the audience may not see it
    current: Decimal | None
    complement: bool = False  # hidden only so that a hidden figure cannot be worked out (rule 4)
    kept: str = ""  # the date of the earlier publication whose figures are shown unchanged
    kept_n: int = 0  # the Members of those figures

    @property
    def n(self) -> int:
        return self.kept_n or len(self.changes)


def _discloses_next_to(
    members: Sequence[Member],
    results: Mapping[str, Decimal],
    subset: Collection[str],
    measure: Measure,
    level: Disclosure,
    audience: Audience,
) -> bool:
    """Would a statistic over `subset` of a cycle's Members, shown next to the cycle's statistics
    (`results` of its participating `members`), let `audience` derive a figure it may not see?
    E.g. the year-on-year average next to the overall one, when their Members differ by one."""
    if not gives_sum(measure, subset) or all(may_see_unnamed(level, audience, m) for m in subset):
        return False
    cells = _cells(members, results)
    shown = shown_cells(cells, measure, level, audience)
    sums = [values for cell, values in cells.items() if cell in shown and gives_sum(measure, values)]
    hidden = [m for m in results if not may_see_unnamed(level, audience, m)]
    return bool(disclosed_by_sums([*sums, subset], hidden))


def year_on_year(
    catalog: Catalog,
    data: CycleData,
    previous: CycleData,
    options: Options | None = None,
) -> list[YearOnYear]:
    """Every KPI, in catalog order, compared between `previous` and `data`. The averages are not
    shown when, next to either cycle's statistics, they would give one Member's figure."""
    options = options or Options()
    now, before = participants(data, options.basis), participants(previous, options.basis)
    values_now, values_before = member_values(data, now), member_values(previous, before)
    both = [m for m in now if m.iso2 in values_before]
    out = []
    for kpi in catalog.kpis:
        current = confirmed_results(catalog, data, kpi, now, values_now)
        earlier = confirmed_results(catalog, previous, kpi, before, values_before)
        changes = tuple(
            MemberChange(m.iso2, earlier[m.iso2], current[m.iso2])
            for m in both
            if m.iso2 in current.keys() & earlier.keys()
        )
        measure, level, audience = measure_of(catalog, kpi), kpi_level(kpi), options.audience
        common = [c.member for c in changes]
        allowed = may_see_statistic(level, audience, common)
        shown = (
            allowed
            and not _discloses_next_to(now, current, common, measure, level, audience)
            and not _discloses_next_to(before, earlier, common, measure, level, audience)
        )
        out.append(
            YearOnYear(
                kpi,
                measure,
                level,
                changes,
                summarise([c.previous for c in changes], measure) if shown else None,
                summarise([c.current for c in changes], measure) if shown else None,
                complement=allowed and not shown,
            )
        )
    return out
