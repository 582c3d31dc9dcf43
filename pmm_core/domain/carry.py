"""Carry forward: what a Member's answers of the last cycle give the cycle now open.

The catalog says which answers carry forward (``carry_forward.toml``): questionnaire and
checklist answers are proposed again as they were, and a figure of the year before the
reference year is proposed from the figure the Member gave for that year in the last cycle.
A proposal is never an answer: the chat shows it with the KPI's result and stores it only
when the NCP confirms it. Every other figure only shows last cycle's value beside its
question ("2024: 12 400").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from pmm_core.catalog.models import Catalog, DataPoint, DataType, Kpi, Year
from pmm_core.domain.answers import Valid, check_number
from pmm_core.domain.records import KpiState, KpiStatus


@dataclass(frozen=True)
class LastCycle:
    """A Member's answers and KPI states in the last cycle before the one open."""

    year: int
    values: Mapping[str, str]  # data point → canonical value
    states: Mapping[str, KpiStatus]

    def blank(self, kpi: Kpi) -> KpiStatus | None:
        """The KPI's state if it was left blank (with its reason) last cycle."""
        state = self.states.get(kpi.id)
        return state if state is not None and state.status is KpiState.BLANK and state.reason else None


def proposal(catalog: Catalog, last: LastCycle | None, year: int, dp: DataPoint) -> str | None:
    """The value proposed for `dp` in the cycle of `year` from the last cycle, if any (and if
    it is still a valid answer: the catalog may have changed its options or bounds since)."""
    if last is None or last.year >= year:
        return None
    rule = catalog.carry_forward
    value = None
    if rule.carries(dp):
        value = last.values.get(dp.id)
    elif (source := rule.previous_year.get(dp.id)) is not None and last.year == year - 1:
        value = last.values.get(source)
    return value if value is not None and _valid(dp, value) else None


def _valid(dp: DataPoint, value: str) -> bool:
    if dp.type is DataType.YES_NO:
        return value in ("yes", "no")
    if dp.type is DataType.SCALE:
        return dp.choice(value) is not None
    try:
        return isinstance(check_number(dp, Decimal(value)), Valid)
    except InvalidOperation:
        return False


def proposals(
    catalog: Catalog, kpi: Kpi, last: LastCycle | None, year: int, answers: Mapping[str, object]
) -> dict[str, str]:
    """The KPI's main figures not answered in this cycle that last cycle's answers propose
    (data point → value), in the order they are asked."""
    out: dict[str, str] = {}
    for dp in catalog.main_data_points(kpi):
        if dp.id not in answers:
            value = proposal(catalog, last, year, dp)
            if value is not None:
                out[dp.id] = value
    return out


def shown(catalog: Catalog, last: LastCycle | None, year: int, dp: DataPoint) -> tuple[int, str] | None:
    """Last cycle's value to show beside the question of `dp`: (the year it is a figure of,
    the value). A figure of the year before shows the figure given for that same year."""
    if last is None or last.year >= year:
        return None
    carried = proposal(catalog, last, year, dp)
    if carried is not None:
        return (last.year, carried)
    value = last.values.get(dp.id)
    if value is None:
        return None
    return (last.year - 1 if dp.year is Year.PREVIOUS else last.year, value)
