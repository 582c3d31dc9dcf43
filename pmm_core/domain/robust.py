"""Median, median absolute deviation (MAD) and the robust outlier test, in exact arithmetic.

The values are KPI results (:class:`~decimal.Decimal`, up to 40 significant digits). Every
operation here is exact: sums, differences, halves and products of finite decimals are
finite decimals, computed in a context with unbounded precision that traps any rounding.
So a group where at least half of the Members share one value has a MAD of exactly 0, and
the test ``|x - median| > k · 1.4826 · MAD`` never divides. Only the multiple of the MAD
shown to the Secretariat (:func:`spreads`) is rounded.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import (
    MAX_EMAX,
    MAX_PREC,
    MIN_EMIN,
    Context,
    Decimal,
    Inexact,
    InvalidOperation,
    Overflow,
    Underflow,
    localcontext,
)

MAD_SCALE = Decimal("1.4826")  # MAD × 1.4826 estimates the standard deviation of normal data
_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[Inexact, InvalidOperation, Overflow, Underflow])
_HALF = Decimal("0.5")


def median(values: Sequence[Decimal]) -> Decimal:
    """The median; for an even count, the exact mean of the two middle values."""
    if not values:
        raise ValueError("median of no values")
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return _EXACT.multiply(_EXACT.add(ordered[middle - 1], ordered[middle]), _HALF)


def mad(values: Sequence[Decimal], center: Decimal) -> Decimal:
    """The median of the absolute deviations from `center` (usually the median)."""
    return median([_EXACT.abs(_EXACT.subtract(v, center)) for v in values])


def is_outlier(value: Decimal, center: Decimal, spread: Decimal, k: Decimal) -> bool:
    """Iglewicz and Hoaglin's test |x - median| / (1.4826 · MAD) > k, without dividing.
    A MAD of 0 flags nothing (at least half of the values are equal: no scale to judge by)."""
    if spread == 0:
        return False
    deviation = _EXACT.abs(_EXACT.subtract(value, center))
    return deviation > _EXACT.multiply(_EXACT.multiply(k, MAD_SCALE), spread)


def spreads(value: Decimal, center: Decimal, spread: Decimal) -> Decimal:
    """|x - median| / MAD: how many times the usual spread a value lies from the median, for
    display (28 significant digits); MAD must not be 0."""
    with localcontext() as ctx:
        ctx.prec = 28
        return abs(value - center) / spread
