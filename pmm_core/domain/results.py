"""KPI results from the NCP's answers, by each KPI's official method.

Two calculation kinds exist in the catalog:
- ``expression``: the seed's formula over letters (see :mod:`pmm_core.domain.formula`), each
  letter bound to a data point; yes/no answers count 1/0, scale answers by the KPI's
  ``scoring`` table.
- ``tool_score``: the mean over all main WCO tools of the score of each answer on the
  tools scale (awareness 0/1, use 0/1/2), times a multiplier.

A KPI the PMM v.1 KPI list defines over items (TF-04 to TF-06: ΣT_i/N; OD-02:
Σ(X_i/Y_i)/N × 100) also has an item list (catalog ``items.toml``): when the stored list
agrees with the stored totals, the result is the mean over the items; otherwise it comes
from the totals formula and is flagged ``from_totals``.

Arithmetic is exact (:class:`~decimal.Decimal`); rounding happens only for display, with
:func:`rounded`. A result that cannot be computed is a :class:`NotComputable` value with a
typed reason, never ``0``, ``inf`` or an exception.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal, localcontext
from enum import StrEnum

from pmm_core.catalog.models import (
    Catalog,
    DataPoint,
    DataType,
    ExpressionCalc,
    ItemList,
    Kpi,
    ResultUnit,
    Tool,
    ToolScoreCalc,
)
from pmm_core.domain import item_lists
from pmm_core.domain.formula import PRECISION, DivisionByZero

Answers = Mapping[str, str]  # data point id → stored canonical value (see pmm_core.domain.answers)


class Reason(StrEnum):
    MISSING = "missing"  # some data points have no answer yet
    BLANK = "blank"  # the NCP left the KPI blank with a reason code
    DIVISION_BY_ZERO = "division_by_zero"  # e.g. a variation whose previous-year base is 0


@dataclass(frozen=True)
class Computed:
    value: Decimal  # exact
    unit: ResultUnit
    decimals: int
    # True when the KPI is defined over items (an item list) but was computed from typed totals.
    from_totals: bool = False

    @property
    def display_value(self) -> Decimal:
        return rounded(self.value, self.decimals)


@dataclass(frozen=True)
class NotComputable:
    reason: Reason
    data_points: tuple[str, ...] = ()  # the missing data points, or those of the zero divisor
    blank_reason: str | None = None


Result = Computed | NotComputable


def rounded(value: Decimal, decimals: int) -> Decimal:
    """Rounds half up for display (1.005 → 1.01), as spreadsheets and people do."""
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def numeric_value(dp: DataPoint, stored: str, scoring: Mapping[str, Decimal] | None = None) -> Decimal:
    """The number a stored answer contributes to a formula."""
    if dp.type is DataType.YES_NO:
        return Decimal(1) if stored == "yes" else Decimal(0)
    if dp.type is DataType.SCALE:
        if scoring is None or stored not in scoring:
            raise KeyError(f"no score for {stored!r} of {dp.id}")
        return scoring[stored]
    return Decimal(stored)


def compute(catalog: Catalog, kpi: Kpi, answers: Answers, blank_reason: str | None = None) -> Result:
    """The KPI result, or why it cannot be computed."""
    if blank_reason is not None:
        return NotComputable(Reason.BLANK, blank_reason=blank_reason)
    calc = kpi.calculation
    if isinstance(calc, ToolScoreCalc):
        return _tool_score(catalog, kpi, calc, answers, catalog.tools)
    if kpi.id in catalog.item_list_of:
        return _over_items(catalog, kpi, calc, catalog.item_list_of[kpi.id], answers)
    return _expression(catalog, kpi, calc, answers)


def _expression(catalog: Catalog, kpi: Kpi, calc: ExpressionCalc, answers: Answers) -> Result:
    missing = tuple(dp_id for dp_id in kpi.data_point_ids if dp_id not in answers)
    if missing:
        return NotComputable(Reason.MISSING, data_points=missing)
    values = {
        letter: numeric_value(catalog.data_points[dp_id], answers[dp_id], calc.scoring)
        for letter, dp_id in calc.variables.items()
    }
    try:
        value = calc.parsed.evaluate(values)
    except DivisionByZero as exc:
        zero = tuple(calc.variables[letter] for letter in exc.variables if letter in calc.variables)
        return NotComputable(Reason.DIVISION_BY_ZERO, data_points=zero)
    return Computed(value=value, unit=kpi.result.unit, decimals=kpi.result.decimals)


def _tool_score(catalog: Catalog, kpi: Kpi, calc: ToolScoreCalc, answers: Answers, tools: Sequence[Tool]) -> Result:
    ids = [catalog.tool_data_point_id(t) for t in tools]
    missing = tuple(i for i in ids if i not in answers)
    if missing:
        return NotComputable(Reason.MISSING, data_points=missing)
    scores = {s.code: getattr(s, calc.score) for s in catalog.tool_scale}
    with localcontext() as ctx:
        ctx.prec = PRECISION
        total = sum((scores[answers[i]] for i in ids), Decimal(0))
        value = total / len(ids) * calc.multiplier
    return Computed(value=value, unit=kpi.result.unit, decimals=kpi.result.decimals)


def tool_scores_by_dimension(catalog: Catalog, kpi: Kpi, answers: Answers) -> dict[str, Result]:
    """The tools KPI per performance dimension (seed 001: "average value per PMM dimension")."""
    calc = kpi.calculation
    if not isinstance(calc, ToolScoreCalc):
        raise ValueError(f"{kpi.id} is not a tools KPI")
    out: dict[str, Result] = {}
    for dim in ("TF", "RC", "ES", "OD"):
        tools = [t for t in catalog.tools if t.dimension == dim]
        if tools:
            out[dim] = _tool_score(catalog, kpi, calc, answers, tools)
    return out


# ---- KPIs over item lists (ΣT_i/N, Σ(X_i/Y_i)/N) -----------------------------------------


def _over_items(catalog: Catalog, kpi: Kpi, calc: ExpressionCalc, item_list: ItemList, answers: Answers) -> Result:
    """The mean over the stored items when they agree with the stored totals; otherwise the
    totals formula, flagged `from_totals` (totals typed in chat after the list was given win)."""
    items = item_lists.stored(item_list, answers)
    if (
        items is not None
        and item_lists.usable_for(item_list, kpi.id, items)
        and item_lists.agrees(item_list, items, answers)
    ):
        try:
            value = item_lists.mean_of(item_list, kpi.id, items)
        except DivisionByZero:
            return NotComputable(Reason.DIVISION_BY_ZERO, data_points=(item_list.answer_key,))
        return Computed(value=value, unit=kpi.result.unit, decimals=kpi.result.decimals)
    result = _expression(catalog, kpi, calc, answers)
    return replace(result, from_totals=True) if isinstance(result, Computed) else result
