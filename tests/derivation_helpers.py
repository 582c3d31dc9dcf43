"""What a report publishes, as equations for the derivation checker, recomputed from the raw
figures by another road than the publication code: each statistic shown becomes the Member set
it was taken over (an average or a median of at most two: a sum; a lowest or highest value: the
Members that have it)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from decimal import Decimal

from pmm_core.catalog.members import Member
from pmm_core.catalog.members.groupings import Grouping
from pmm_core.catalog.models import Catalog, Disclosure
from pmm_core.domain.analysis import (
    KpiAnalysis,
    Measure,
    Options,
    YearOnYear,
    analyse,
    confirmed_results,
    member_values,
    participants,
    year_on_year,
)
from pmm_core.domain.derivation import Row, Variable, point_variable, result_variable, variable_levels
from pmm_core.domain.records import CycleData


def _sum_or_none(measure: Measure, members: frozenset[str]) -> bool:
    return measure is Measure.MEAN or len(members) <= 2


def _extreme_rows(
    variable: Variable, results: dict[str, Decimal], members: frozenset[str], value: Decimal
) -> list[Row]:
    return [Row(variable, frozenset({m})) for m in members if results[m] == value]


def analysis_rows(
    catalog: Catalog, data: CycleData, analyses: Iterable[KpiAnalysis], members: Sequence[Member]
) -> list[Row]:
    year, values, out = data.cycle.year, member_values(data, members), []
    for a in analyses:
        results = confirmed_results(catalog, data, a.kpi, members, values)
        variable = result_variable(a.kpi, year)
        stats = [(a.overall, frozenset(results))]
        for grouping in Grouping:
            for stat in a.groups.get(grouping, ()):
                cell = frozenset(m.iso2 for m in members if m.iso2 in results and m.group(grouping) == stat.code)
                assert len(cell) == stat.n, (a.kpi.id, grouping, stat.code)
                stats.append((stat, cell))
        for stat, cell in stats:
            if stat.value is not None and _sum_or_none(a.measure, cell):
                out.append(Row(variable, cell))
            for extreme in (stat.minimum, stat.maximum):
                if extreme is not None:
                    out += _extreme_rows(variable, results, cell, extreme)
        for b in a.breakdowns:
            ids = b.disaggregation.data_points
            givers = frozenset(m for m in results if all(dp in values[m] for dp in ids))
            for p in b.points:
                if p.value is not None and (p.data_point.is_numeric or len(givers) <= 2):
                    out.append(Row(point_variable(p.data_point.id, year), givers))
    return out


def yoy_rows(catalog: Catalog, changes: Iterable[YearOnYear], year: int, previous_year: int) -> list[Row]:
    out = []
    for y in changes:
        common = frozenset(c.member for c in y.changes)
        if y.previous is not None and _sum_or_none(y.measure, common):
            out.append(Row(result_variable(y.kpi, previous_year), common))
            out.append(Row(result_variable(y.kpi, year), common))
    return out


def report_rows(catalog: Catalog, data: CycleData, previous: CycleData | None, options: Options) -> list[Row]:
    """Every equation the report on `data` (with year on year against `previous`) publishes."""
    members = participants(data, options.basis)
    rows = analysis_rows(catalog, data, analyse(catalog, data, options), members)
    if previous is not None:
        changes = year_on_year(catalog, data, previous, options)
        rows += yoy_rows(catalog, changes, data.cycle.year, previous.cycle.year)
    return rows


def hidden_from(catalog: Catalog, kind: str):
    """The figures hidden from the public (every level but Public) or from an NCP reading a
    publication for all NCPs (Union and Country levels; its own figure is the insider's)."""
    levels = variable_levels(catalog)
    secret = (
        {Disclosure.WCO, Disclosure.UNION, Disclosure.COUNTRY}
        if kind == "public"
        else {Disclosure.UNION, Disclosure.COUNTRY}
    )

    def hidden(variable: Variable, member: str) -> bool:
        return levels[variable[0], variable[1]] in secret

    return hidden


def provisional(data: CycleData, keep: float = 0.9) -> CycleData:
    """The cycle as it stood earlier, while open: only the first `keep` share of its submissions
    (by time of submission) had come in."""
    order = sorted(
        (code for code in data.submissions if data.submitted(code)),
        key=lambda c: (data.submissions[c].submitted_at or "", c),
    )
    kept = set(order[: round(len(order) * keep)])
    return replace(data, submissions={c: s for c, s in data.submissions.items() if c in kept or not data.submitted(c)})
