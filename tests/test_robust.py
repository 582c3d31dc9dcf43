"""Median, MAD and the outlier test are exact: checked against rational arithmetic (Fraction)."""

from __future__ import annotations

from decimal import Decimal, localcontext
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from pmm_core.domain import robust
from pmm_core.domain.formula import PRECISION


def fraction_median(values: list[Fraction]) -> Fraction:
    ordered = sorted(values)
    n = len(ordered)
    return ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2


def as_result(numerator: int, denominator: int) -> Decimal:
    """A KPI result as the formulas compute it: a quotient rounded to 40 significant digits."""
    with localcontext() as ctx:
        ctx.prec = PRECISION
        return Decimal(numerator) / Decimal(denominator) * 100


results = st.builds(as_result, st.integers(0, 10**12), st.integers(1, 10**12))
decimals = st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**15), max_value=10**15)
samples = st.lists(st.one_of(results, decimals), min_size=1, max_size=60)


@given(samples)
def test_median_and_mad_are_exact(values):
    center = robust.median(values)
    assert Fraction(center) == fraction_median([Fraction(v) for v in values])
    spread = robust.mad(values, center)
    assert Fraction(spread) == fraction_median([abs(Fraction(v) - Fraction(center)) for v in values])


@given(samples, st.sampled_from(["3.5", "3", "2.5"]))
def test_outlier_test_is_exact(values, k):
    center = robust.median(values)
    spread = robust.mad(values, center)
    bound = Fraction(k) * Fraction("1.4826") * Fraction(spread)
    for v in values:
        expected = spread != 0 and abs(Fraction(v) - Fraction(center)) > bound
        assert robust.is_outlier(v, center, spread, Decimal(k)) == expected


@given(st.integers(1, 20), st.integers(0, 19), st.integers(1, 9), st.integers(2, 9))
def test_a_majority_on_one_repeating_decimal_has_no_spread(extra, others, numerator, denominator):
    """More than half of the values equal (2/3 × 100 at 40 digits, say): the MAD is exactly 0,
    whatever the count's parity, so nothing is flagged."""
    same = as_result(numerator, denominator)
    values = [same] * (others + extra) + [as_result(k, 7) for k in range(others)]
    center = robust.median(values)
    assert center == same
    assert robust.mad(values, center) == 0
    assert not any(robust.is_outlier(v, center, Decimal(0), Decimal("3.5")) for v in values)
