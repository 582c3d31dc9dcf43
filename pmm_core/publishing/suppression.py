"""Secondary suppression over linked tables: what a new publication may show so that nothing hidden
follows from it together with everything its readers already hold.

The problem τ-ARGUS and sdcTable solve for "linked tables": every table an audience received
(earlier versions of this cycle's report, other cycles' year-on-year columns, breakdowns of other
KPIs over the same data points) shares unknowns with the new one. Here each statistic is an
equation on one variable (:mod:`pmm_core.derivation`); the earlier ones are fixed, the new ones are
candidates. While the exact checker finds a hidden figure that follows, one more candidate is
dropped — greedily: among those on the leaking variable, the first (year on year, then breakdowns,
then groups, then the overall figure; smaller first) whose removal stops that derivation, else
the first that holds the Member. Each drop is checked again by the exact checker, so what is left
gives nothing, whatever the greedy choice costs in groups hidden.

Two readers are checked: anyone (a public publication: every figure not Public is hidden) and an
NCP (any publication read by NCPs: Union- and Country-level figures are hidden, its own Member's
figure is known — an *insider*).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from pmm_core.catalog.models import Disclosure
from pmm_core.domain.derivation import Leak, Row, Variable, derivable, insider_pairs
from pmm_core.publishing.model import Cell, CellStatus

Secret = Callable[[Variable], bool]  # are the Members' figures of this variable hidden from the reader?


def hidden_from_anyone(levels: Mapping[tuple[str, str], Disclosure]) -> Secret:
    """Every figure that is not Public."""
    return lambda v: levels.get((v[0], v[1]), Disclosure.COUNTRY) is not Disclosure.PUBLIC


def hidden_from_ncps(levels: Mapping[tuple[str, str], Disclosure]) -> Secret:
    """Union- and Country-level figures (the Union's membership is not recorded: Union counts as
    Country)."""
    return lambda v: levels.get((v[0], v[1]), Disclosure.COUNTRY) in (Disclosure.UNION, Disclosure.COUNTRY)


@dataclass(frozen=True)
class Reader:
    """A kind of reader of the new publication: what it holds already and what it may not see."""

    prior: Sequence[Row]
    secret: Secret
    insiders: bool  # each reader also knows its own Member's figure


@dataclass
class Outcome:
    suppressed: set[str] = field(default_factory=set)  # keys of the cells dropped
    residual: list[Leak] = field(default_factory=list)  # what earlier publications already gave (none expected)


def _by_variable(rows: Iterable[Row]) -> dict[Variable, list[frozenset[str]]]:
    out: dict[Variable, list[frozenset[str]]] = defaultdict(list)
    for row in rows:
        out[row.variable].append(row.members)
    return out


def suppress(cells: Sequence[Cell], readers: Sequence[Reader]) -> Outcome:
    """The cells to drop from `cells` (those SHOWN are candidates) so that no reader derives a
    figure it may not see. The greedy search runs on the fast elimination modulo a prime; the
    result is checked with the exact one, and searched again exactly if that finds anything."""
    outcome = _suppress(cells, readers, exact=False)
    kept = [c for c in cells if c.key not in outcome.suppressed]
    again = _suppress(kept, readers, exact=True)
    outcome.suppressed |= again.suppressed
    outcome.residual = again.residual
    return outcome


def _suppress(cells: Sequence[Cell], readers: Sequence[Reader], exact: bool) -> Outcome:
    outcome = Outcome()
    active: dict[str, Cell] = {c.key: c for c in cells if c.status is CellStatus.SHOWN and c.rows}
    on: dict[Variable, list[str]] = defaultdict(list)
    for cell in active.values():
        for variable in cell.variables:
            on[variable].append(cell.key)
    fixed = [_by_variable(r.prior) for r in readers]
    fixed_sets = [{v: set(s) for v, s in f.items()} for f in fixed]

    def leaks(
        variable: Variable, without: str | None = None, only: int | None = None
    ) -> set[tuple[str, str | None, int]]:
        """(Member, insider, reader) for each hidden figure that follows (from reader `only`'s
        point of view alone when given)."""
        sets = [
            row.members
            for key in on[variable]
            if key in active and key != without
            for row in active[key].rows
            if row.variable == variable
        ]
        found: set[tuple[str, str | None, int]] = set()
        for index, (reader, prior) in enumerate(zip(readers, fixed, strict=True)):
            if only is not None and index != only:
                continue
            if not reader.secret(variable):
                continue
            every = [*prior.get(variable, []), *sets]
            hidden = {m for s in every for m in s}
            if reader.insiders:
                found |= {(m, r, index) for r, m in insider_pairs(every, hidden, exact)}
            else:
                found |= {(m, None, index) for m in derivable(every, hidden, exact)}
        return found

    queue = sorted(on)
    while queue:
        variable = queue.pop()
        found = leaks(variable)
        if not found:
            continue
        member, insider, reader = min(found, key=lambda f: (f[0], f[1] or "", f[2]))
        candidates = sorted(
            (
                active[k]
                for k in on[variable]
                if k in active
                and not all(
                    r.members in fixed_sets[i].get(r.variable, set())
                    for i in range(len(readers))
                    for r in active[k].rows
                )
            ),
            key=lambda c: (c.priority, c.key),
        )
        if not candidates:
            outcome.residual.append(Leak(variable, member, insider))
            continue
        involved = [c for c in candidates if member in c.members or (insider is not None and insider in c.members)]
        chosen = next(
            (
                c
                for c in [*involved, *candidates]
                if (member, insider, reader) not in leaks(variable, without=c.key, only=reader)
            ),
            involved[0] if involved else candidates[0],
        )
        del active[chosen.key]
        outcome.suppressed.add(chosen.key)
        queue.extend(v for v in chosen.variables | {variable} if v not in queue)
    return outcome
