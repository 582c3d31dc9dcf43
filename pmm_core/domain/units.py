"""What a KPI formula measures, worked out from the units of its data points.

The catalog check uses this to catch a result unit that contradicts the formula (an average
time ΣT/N is in minutes, a ratio of counts times 100 is a percentage) and a data point whose
type does not fit the place it has in the formula (a count where minutes are added up).

A quantity is a product of base units with integer exponents: ``item`` (a count of things),
``min`` (minutes), ``%`` (percent points), and a currency code for amounts (``USD``).
Yes/no answers, scale scores and plain numbers have no unit. Adding or subtracting needs the
same units on both sides; multiplying and dividing add and subtract the exponents; ``sum`` and
``mean`` add up like ``+``. Multiplying by the constant 100 is remembered, since it is what
turns a ratio into a percentage.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from pmm_core.domain.formula import Formula

ITEM = "item"
MINUTE = "min"
PERCENT_POINT = "%"

Units = tuple[tuple[str, int], ...]  # sorted (base unit, non-zero exponent) pairs


MINUTES_PER_DAY = 1440
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(min|minutes?|h|hours?|d|days?)\s*$")
_MINUTES_PER = {"m": 1, "h": 60, "d": MINUTES_PER_DAY}


def minutes_of(text: str) -> Decimal | None:
    """The minutes of a duration written in the catalog ("1 min", "2 h", "30 days"); None if
    the text is not one."""
    match = _DURATION.match(text)
    if match is None:
        return None
    return Decimal(match.group(1)) * _MINUTES_PER[match.group(2)[0]]


class UnitError(ValueError):
    """The formula combines quantities that cannot be combined (minutes + a count)."""


@dataclass(frozen=True)
class Quantity:
    units: Units = ()
    per_hundred: bool = False  # multiplied by the constant 100
    constant: Decimal | None = None  # the value, when the term is a plain number

    @property
    def exponents(self) -> dict[str, int]:
        return dict(self.units)


def units_of(exponents: Mapping[str, int]) -> Units:
    return tuple(sorted((u, e) for u, e in exponents.items() if e))


def quantity(formula: Formula, units: Mapping[str, Units]) -> Quantity:
    """The quantity the formula yields when each letter has the given units."""
    return _walk(formula.tree.body, units)


def describe(units: Units) -> str:
    """Units in words: "minutes per item", "a plain number", "USD"."""
    if not units:
        return "a plain number"
    names = {ITEM: "items", MINUTE: "minutes", PERCENT_POINT: "percent"}
    top = [names.get(u, u) + (f"^{e}" if e > 1 else "") for u, e in units if e > 0]
    bottom = [names.get(u, u).removesuffix("s") + (f"^{-e}" if e < -1 else "") for u, e in units if e < 0]
    text = " × ".join(top) or "1"
    return text + (" per " + " per ".join(bottom) if bottom else "")


def _combine(left: Units, right: Units, sign: int) -> Units:
    exponents = dict(left)
    for unit, exp in right:
        exponents[unit] = exponents.get(unit, 0) + sign * exp
    return units_of(exponents)


def _same(parts: list[Quantity], node: ast.AST) -> Quantity:
    first = parts[0]
    for other in parts[1:]:
        if other.units != first.units:
            raise UnitError(
                f"{ast.unparse(node)} adds {describe(first.units)} and {describe(other.units)}, which cannot be added"
            )
    return Quantity(first.units, per_hundred=all(p.per_hundred for p in parts))


def _walk(node: ast.AST, units: Mapping[str, Units]) -> Quantity:
    if isinstance(node, ast.Constant):
        return Quantity(constant=Decimal(str(node.value)))
    if isinstance(node, ast.Name):
        return Quantity(units[node.id])
    if isinstance(node, ast.UnaryOp):
        return _walk(node.operand, units)
    if isinstance(node, ast.Call):
        return _same([_walk(arg, units) for arg in node.args], node)
    assert isinstance(node, ast.BinOp), ast.dump(node)
    left, right = _walk(node.left, units), _walk(node.right, units)
    if isinstance(node.op, (ast.Add, ast.Sub)):
        return _same([left, right], node)
    if isinstance(node.op, ast.Mult):
        hundred = Decimal(100) in (left.constant, right.constant)
        return Quantity(
            _combine(left.units, right.units, 1), per_hundred=left.per_hundred or right.per_hundred or hundred
        )
    return Quantity(_combine(left.units, right.units, -1), per_hundred=left.per_hundred)
