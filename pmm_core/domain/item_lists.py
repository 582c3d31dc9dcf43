"""Item lists (one row per declaration or per officer) and what they give: totals and KPI values.

A list is stored with the answers, under :attr:`ItemList.answer_key` (``items:<list id>``,
never a data point id), as compact JSON: ``{"columns":["gaps","competencies"],"rows":[["3","27"],…]}``
with each figure in its canonical stored form and ``""`` where a row leaves a column empty.
The item references of the template (declaration numbers, officer references) are not stored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext

from pmm_core.catalog.models import ItemList
from pmm_core.domain.answers import canonical
from pmm_core.domain.formula import PRECISION


@dataclass(frozen=True)
class Items:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def values(self, column: str) -> list[str]:
        i = self.columns.index(column)
        return [row[i] for row in self.rows]

    def complete(self, column: str) -> bool:
        """Every row gives this column (and there is at least one row)."""
        return column in self.columns and bool(self.rows) and all(self.values(column))

    def numbers(self, row: tuple[str, ...]) -> dict[str, Decimal]:
        return {c: Decimal(v) for c, v in zip(self.columns, row, strict=True) if v}


def encode(items: Items) -> str:
    return json.dumps({"columns": list(items.columns), "rows": [list(r) for r in items.rows]}, separators=(",", ":"))


def decode(text: str) -> Items | None:
    """The stored list, or None if the text is not one (never raises)."""
    try:
        raw = json.loads(text)
        columns = tuple(str(c) for c in raw["columns"])
        rows = tuple(tuple(str(v) for v in row) for row in raw["rows"])
        if any(len(row) != len(columns) for row in rows):
            return None
        for row in rows:
            for value in row:
                if value and not Decimal(value).is_finite():
                    return None
    except (ValueError, TypeError, KeyError, InvalidOperation):
        return None
    return Items(columns, rows)


def stored(item_list: ItemList, answers: Mapping[str, str]) -> Items | None:
    text = answers.get(item_list.answer_key)
    return decode(text) if text is not None else None


def totals(item_list: ItemList, items: Items) -> dict[str, str]:
    """The totals the list gives (data point → canonical value): N, and each complete column's
    sum or mean (the mean rounded half up to 2 decimals, the precision of a typed figure)."""
    if not items.rows:
        return {}
    out = {item_list.count: str(len(items.rows))}
    with localcontext() as ctx:
        ctx.prec = PRECISION
        for column in item_list.columns:
            if not items.complete(column.id):
                continue
            total = sum((Decimal(v) for v in items.values(column.id)), Decimal(0))
            if column.total:
                out[column.total] = canonical(total)
            elif column.mean:
                mean = (total / len(items.rows)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
                out[column.mean] = canonical(mean)
    return out


def agrees(item_list: ItemList, items: Items, answers: Mapping[str, str]) -> bool:
    """The stored totals are those the list gives (not typed over since the list was given)."""
    return all(answers.get(dp_id) == value for dp_id, value in totals(item_list, items).items())


def usable_for(item_list: ItemList, kpi_id: str, items: Items) -> bool:
    """The list has rows and every row gives the columns of the KPI's per-item formula."""
    return all(items.complete(name) for name in item_list.formulas[kpi_id].variables)


def mean_of(item_list: ItemList, kpi_id: str, items: Items) -> Decimal:
    """Σ f(item) / N, exactly; raises formula.DivisionByZero if a row divides by zero."""
    formula = item_list.formulas[kpi_id]
    with localcontext() as ctx:
        ctx.prec = PRECISION
        total = sum((formula.evaluate(items.numbers(row)) for row in items.rows), Decimal(0))
        return total / len(items.rows)
