"""The exact derivation checker: can a hidden Member's figure be worked out from everything an
audience has received?

Every statistic a publication shows is, to whoever reads it, a linear equation on the Members'
figures: an average times its count is the sum of the figures of its Members; a median of one or
two figures is their average; a minimum, a maximum or a group of one is one Member's figure. The
unknowns are the figures themselves — one per Member and *variable*: a KPI's result in a cycle,
or a data point's value in a cycle (two KPIs whose breakdowns share data points share those
variables, and a KPI whose result is one data point, such as TF-08, is that data point's variable).

A figure the audience may not see is derivable iff its unit vector lies in the row space of the
incidence matrix of the published Member sets of its variable, restricted to the figures the
audience may not see (the others are known, so they move to the right-hand side). This module
decides that exactly, by Gauss–Jordan elimination over the rationals (:class:`fractions.Fraction`),
one variable at a time.

A reader who is the NCP of a Member knows that Member's figure too (an *insider*): X derives Y
iff e_Y lies in the row space plus e_X, i.e. iff some vector of the row space has its support in
{X, Y} and is non-zero at Y. From the reduced row echelon form R (pivot p_i in row i) that is
(a) a row whose support is {p_i} (anyone derives p_i), (b) a row whose support is {p_i, k}
(p_i and k derive each other), or (c) two rows whose parts outside the pivot columns are
proportional (their pivots derive each other); :func:`insider_pairs` reads them off one
elimination, instead of one elimination per reader.

Not modelled: medians of three figures or more (an order statistic, not a linear equation; the
report's rules publish them as aggregates), and coalitions of several NCPs pooling their figures.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from pmm_core.catalog.models import Catalog, Disclosure, ExpressionCalc, Kpi

Variable = tuple[str, str, int]  # ("kpi", KPI id, year) or ("dp", data point id, year)

STRICTNESS = {Disclosure.PUBLIC: 0, Disclosure.WCO: 1, Disclosure.UNION: 2, Disclosure.COUNTRY: 3}


@dataclass(frozen=True)
class Row:
    """One published equation: the sum of the figures of `members` for `variable`."""

    variable: Variable
    members: frozenset[str]


@dataclass(frozen=True, order=True)
class Leak:
    """A hidden figure that follows from what was published (`insider`: the reader who knows its own
    figure and needs it for the derivation; None: anyone)."""

    variable: Variable
    member: str
    insider: str | None = None


def result_variable(kpi: Kpi, year: int) -> Variable:
    """The unknown behind a KPI's result: the data point itself when the result is one data point
    (a count KPI such as TF-08), else the KPI's result."""
    calc = kpi.calculation
    if isinstance(calc, ExpressionCalc) and calc.formula.strip() in calc.variables:
        return ("dp", calc.variables[calc.formula.strip()], year)
    return ("kpi", kpi.id, year)


def point_variable(data_point: str, year: int) -> Variable:
    return ("dp", data_point, year)


def variable_levels(catalog: Catalog) -> dict[tuple[str, str], Disclosure]:
    """(kind, id) → the strictest disclosure level of any use of the variable: a KPI's result at the
    KPI's level; a data point in a breakdown at the breakdown's level, as a KPI's whole result at the
    KPI's level."""
    levels: dict[tuple[str, str], Disclosure] = {}

    def stricter(key: tuple[str, str], level: Disclosure) -> None:
        if key not in levels or STRICTNESS[level] > STRICTNESS[levels[key]]:
            levels[key] = level

    for kpi in catalog.kpis:
        kind, ident, _ = result_variable(kpi, 0)
        stricter((kind, ident), kpi.disclosure.kpi)
        breakdown = kpi.disclosure.breakdown or kpi.disclosure.kpi
        for dis in kpi.disaggregations:
            for dp in dis.data_points:
                stricter(("dp", dp), breakdown)
    return levels


# ---- exact linear algebra ------------------------------------------------------------------


def _eliminate(matrix: Sequence[Sequence[int]], width: int) -> tuple[list[dict[int, int]], list[int]]:
    """Gauss–Jordan elimination, exact, on sparse rows of integers: a row minus a multiple of the
    pivot row, both scaled (fraction-free), then divided by the gcd of its entries. Row i, divided
    by its entry at pivots[i], is row i of the reduced row echelon form over the rationals."""
    rows: list[dict[int, int]] = [{j: x for j, x in enumerate(row) if x} for row in matrix]
    rows = [r for r in rows if r]
    pivots: list[int] = []
    done: list[dict[int, int]] = []
    for col in range(width):
        pivot = next((i for i, r in enumerate(rows) if col in r), None)
        if pivot is None:
            continue
        top = rows.pop(pivot)
        a = top[col]
        for group in (rows, done):
            for i, row in enumerate(group):
                b = row.get(col)
                if b is None:
                    continue
                g = math.gcd(a, b)
                fa, fb = a // g, b // g
                combined = {j: fa * row.get(j, 0) - fb * top.get(j, 0) for j in row.keys() | top.keys()}
                combined = {j: x for j, x in combined.items() if x}
                divisor = math.gcd(*combined.values()) if combined else 1
                group[i] = {j: x // divisor for j, x in combined.items()}
        rows = [r for r in rows if r]
        done.append(top)
        pivots.append(col)
    return done, pivots


def rref(matrix: Sequence[Sequence[int]], width: int) -> tuple[list[list[Fraction]], list[int]]:
    """The reduced row echelon form of `matrix` (rows of `width` integers) over the rationals
    (:class:`~fractions.Fraction`): its non-zero rows, each with a leading 1, and their pivot columns."""
    rows, pivots = _eliminate(matrix, width)
    return [
        [Fraction(row.get(j, 0), row[col]) for j in range(width)] for row, col in zip(rows, pivots, strict=True)
    ], pivots


PRIME = 2_147_483_629  # below 2**31: the product of two residues fits in a 64-bit integer


def _eliminate_mod(matrix: Sequence[Sequence[int]], width: int) -> tuple[list[dict[int, int]], list[int]]:
    """The same elimination modulo a prime, vectorised (numpy): fast, and exact unless the prime
    divides a minor of the matrix — which :mod:`pmm_core.publishing.suppression` rules out by checking
    its result again with :func:`_eliminate`. Rows come back with a leading 1, as residues."""
    import numpy as np

    a = np.array(matrix, dtype=np.int64) % PRIME
    pivots: list[int] = []
    rank = 0
    for col in range(width):
        if rank == a.shape[0]:
            break
        below = np.nonzero(a[rank:, col])[0]
        if below.size == 0:
            continue
        i = rank + int(below[0])
        if i != rank:
            a[[rank, i]] = a[[i, rank]]
        a[rank] = (a[rank] * pow(int(a[rank, col]), PRIME - 2, PRIME)) % PRIME
        factors = a[:, col].copy()
        factors[rank] = 0
        others = np.nonzero(factors)[0]
        if others.size:
            a[others] = (a[others] - (factors[others, None] * a[rank]) % PRIME) % PRIME
        pivots.append(col)
        rank += 1
    return [{int(j): int(row[j]) for j in np.nonzero(row)[0]} for row in a[:rank]], pivots


def _matrix(sets: Iterable[Collection[str]], hidden: Collection[str]) -> tuple[list[str], list[list[int]]]:
    hide = set(hidden)
    distinct = {frozenset(m for m in s if m in hide) for s in sets}
    distinct.discard(frozenset())
    names = sorted({m for s in distinct for m in s})
    index = {m: i for i, m in enumerate(names)}
    matrix = []
    for s in sorted(distinct, key=sorted):
        row = [0] * len(names)
        for m in s:
            row[index[m]] = 1
        matrix.append(row)
    return names, matrix


def derivable(sets: Iterable[Collection[str]], hidden: Collection[str], exact: bool = True) -> set[str]:
    """The `hidden` Members whose figure follows from the sums over `sets` (every other figure
    known): those whose unit vector lies in the row space. (`exact=False`: modulo a prime.)"""
    names, matrix = _matrix(sets, hidden)
    if not matrix:
        return set()
    rows, pivots = (_eliminate if exact else _eliminate_mod)(matrix, len(names))
    return {names[p] for row, p in zip(rows, pivots, strict=True) if len(row) == 1}


def insider_pairs(
    sets: Iterable[Collection[str]], hidden: Collection[str], exact: bool = True
) -> set[tuple[str | None, str]]:
    """(reader, Member): the hidden figures that follow for a reader who also knows its own figure
    (reader None: for anyone). Readers are the hidden Members themselves (a reader whose figure is
    not hidden knows nothing more than anyone)."""
    names, matrix = _matrix(sets, hidden)
    if not matrix:
        return set()
    rows, pivots = (_eliminate if exact else _eliminate_mod)(matrix, len(names))
    pivot_set = set(pivots)
    out: set[tuple[str | None, str]] = set()
    tails: dict[tuple[tuple[int, Fraction | int], ...], list[int]] = defaultdict(list)
    key: tuple[tuple[int, Fraction | int], ...]
    for row, p in zip(rows, pivots, strict=True):
        support = sorted(row)
        if len(support) == 1:
            out.add((None, names[p]))
            continue
        if len(support) == 2:
            other = support[0] if support[1] == p else support[1]
            out.add((names[other], names[p]))
            out.add((names[p], names[other]))
        tail = [(i, row[i]) for i in support if i not in pivot_set]
        if tail:
            first = tail[0][1]
            if exact:
                key = tuple((i, Fraction(x, first)) for i, x in tail)
            else:
                inverse = pow(first, PRIME - 2, PRIME)
                key = tuple((i, x * inverse % PRIME) for i, x in tail)
            tails[key].append(p)
    for group in tails.values():
        for a in group:
            for b in group:
                if a != b:
                    out.add((names[a], names[b]))
    return out


# ---- audits over what an audience holds ------------------------------------------------------

Hidden = Callable[[Variable, str], bool]  # may the audience NOT see this Member's figure of this variable?


def _by_variable(rows: Iterable[Row]) -> dict[Variable, list[frozenset[str]]]:
    out: dict[Variable, list[frozenset[str]]] = defaultdict(list)
    for row in rows:
        out[row.variable].append(row.members)
    return out


def audit(rows: Iterable[Row], hidden: Hidden, insiders: bool = False) -> list[Leak]:
    """Every hidden figure that follows from `rows`; with `insiders`, also those that follow for a
    reader that is the NCP of one of the Members (and so knows that Member's figure)."""
    leaks: set[Leak] = set()
    for variable, sets in _by_variable(rows).items():
        members = {m for s in sets for m in s}
        secret = [m for m in members if hidden(variable, m)]
        if not secret:
            continue
        if insiders:
            leaks |= {Leak(variable, m, reader) for reader, m in insider_pairs(sets, secret)}
        else:
            leaks |= {Leak(variable, m) for m in derivable(sets, secret)}
    return sorted(leaks, key=lambda k: (k.variable, k.member, k.insider or ""))


def audit_reader(rows: Iterable[Row], hidden: Hidden, reader: str) -> list[Leak]:
    """Every hidden figure that follows from `rows` for the NCP of `reader` (its own figure known):
    one elimination per variable, for a reader whose rows are its own (a benchmark)."""
    leaks = audit(rows, lambda v, m: m != reader and hidden(v, m))
    return [Leak(k.variable, k.member, reader) for k in leaks]
