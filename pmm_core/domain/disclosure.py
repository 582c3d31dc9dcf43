"""Who may see what: the PMM disclosure policy (seed 002 §25) applied to figures and statistics.

Each KPI result, and separately its disaggregated data, has a level:

- Public: on the public site;
- WCO: NCPs and peer reviewers of all WCO Members, plus Secretariat staff;
- Union: NCPs and peer reviewers of the Members of the Union, plus Secretariat staff;
- Country: NCPs and peer reviewers of the Member, plus Secretariat staff.

Four rules follow, for anything that leaves the Secretariat:

1. A figure *named* as a Member's (a row of a table, a flag message) goes to the Secretariat
   and to that Member's own NCPs only, whatever the level: the report is aggregated by group,
   never shown per Member (§31 and the note before the Trade Facilitation figures).
2. A figure *not named* (a group of one Member, a minimum or a maximum) still is one Member's
   figure: it goes to whom the level allows.
3. A group statistic (average, median) over at least two Members whose figures the audience
   may not see is an aggregate and may be shown at any level, as the report does; over exactly
   one such Member, the others being figures it may see (its own, or ones the level allows), it
   reveals that Member's figure (rule 2). So a one-Member group is shown only for a Public KPI
   (the note before the Trade Facilitation figures), and an NCP is never sent a statistic from
   which the one other Member's figure follows.
4. Nor may such a figure follow from several statistics together: an average times its count is
   a sum, and the overall sum less the sums of the groups shown is the sum of the groups hidden
   (complementary, or secondary, suppression; :func:`disclosed_by_sums` finds such a figure and
   :mod:`pmm_core.domain.analysis` hides one more group until none follows).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from pmm_core.catalog.models import Disclosure, Kpi
from pmm_core.domain.text import N_

LEVEL_NAMES: dict[Disclosure, str] = {
    Disclosure.PUBLIC: N_("Public"),
    Disclosure.WCO: N_("WCO"),
    Disclosure.UNION: N_("Union"),
    Disclosure.COUNTRY: N_("Country"),
}


class AudienceKind(StrEnum):
    SECRETARIAT = "secretariat"  # WCO Secretariat staff
    WCO = "wco"  # the NCPs and peer reviewers of all Members (e.g. a report sent to every NCP)
    NCP = "ncp"  # the NCPs of one Member
    REVIEWER = "reviewer"  # the peer reviewers of one Member (issue 19)
    PUBLIC = "public"  # anyone (the public site, a published report)


@dataclass(frozen=True)
class Audience:
    kind: AudienceKind
    member: str | None = None  # the NCP's Member (a reviewer's: the Member reviewed)
    union: frozenset[str] = field(default_factory=frozenset)  # Members of the NCP's Member's union(s)

    @classmethod
    def secretariat(cls) -> Audience:
        return cls(AudienceKind.SECRETARIAT)

    @classmethod
    def wco(cls) -> Audience:
        return cls(AudienceKind.WCO)

    @classmethod
    def public(cls) -> Audience:
        return cls(AudienceKind.PUBLIC)

    @classmethod
    def ncp(cls, member: str, union: Collection[str] = ()) -> Audience:
        return cls(AudienceKind.NCP, member, frozenset(union))

    @classmethod
    def reviewer(cls, member: str, union: Collection[str] = ()) -> Audience:
        """The peer reviewers of `member`; `union`: the Members of its union(s)."""
        return cls(AudienceKind.REVIEWER, member, frozenset(union))

    def own(self, member: str) -> bool:
        """The NCPs of `member`, or its peer reviewers (Country level names both)."""
        return self.kind in (AudienceKind.NCP, AudienceKind.REVIEWER) and member == self.member


def kpi_level(kpi: Kpi, breakdown: bool = False) -> Disclosure:
    """The level of the KPI's result, or of its disaggregated data (the KPI's level when unset)."""
    if breakdown and kpi.disclosure.breakdown is not None:
        return kpi.disclosure.breakdown
    return kpi.disclosure.kpi


def may_see_figure(audience: Audience, member: str) -> bool:
    """Rule 1: may `audience` see a figure named as `member`'s?"""
    return audience.kind is AudienceKind.SECRETARIAT or audience.own(member)


def may_see_unnamed(level: Disclosure, audience: Audience, member: str) -> bool:
    """Rule 2: may `audience` learn `member`'s figure without its name?"""
    if audience.kind is AudienceKind.SECRETARIAT or audience.own(member) or level is Disclosure.PUBLIC:
        return True
    if level is Disclosure.WCO:
        return audience.kind in (AudienceKind.WCO, AudienceKind.NCP, AudienceKind.REVIEWER)
    if level is Disclosure.UNION:
        return audience.kind in (AudienceKind.NCP, AudienceKind.REVIEWER) and member in audience.union
    return False


def may_see_statistic(level: Disclosure, audience: Audience, members: Collection[str]) -> bool:
    """Rule 3: may `audience` see an average or median over `members`?"""
    if not members:
        return False
    hidden = {m for m in members if not may_see_unnamed(level, audience, m)}
    return len(hidden) != 1


def may_see_extremes(level: Disclosure, audience: Audience, members: Collection[str]) -> bool:
    """May `audience` see the minimum and maximum over `members`? Each is one Member's figure."""
    return bool(members) and all(may_see_unnamed(level, audience, m) for m in members)


@dataclass(frozen=True)
class Derivation:
    """How a hidden figure follows from published sums (rule 4)."""

    member: str
    uses: frozenset[int]  # the sums (indices) of a combination giving the figure
    needs: frozenset[int]  # of them, those every such combination uses: hiding one stops it


def disclosed_by_sums(sums: Sequence[Collection[str]], hidden: Collection[str]) -> list[Derivation]:
    """The figures of `hidden` Members that follow exactly from the sums of the figures of each
    set of `sums` (an average times its count), every other figure being known to the audience.

    A figure follows when its vector is a linear combination of the sums' vectors. Gauss–Jordan
    elimination over the integers (exact) of the sums, restricted to the hidden Members and each
    carrying its own index (to say which sums combine): a figure follows exactly when its column
    ends as a row with no other Member. The rows left with no Member at all are the dependencies
    between sums (e.g. the groups of a grouping add up to the overall sum); a sum in none of them
    has the same coefficient in every combination giving the figure."""
    names = sorted(set(hidden))
    columns = {m: i for i, m in enumerate(names)}
    width = len(names)
    rows = []
    for k, members in enumerate(sums):
        row = [0] * (width + len(sums))
        for m in members:
            if m in columns:
                row[columns[m]] = 1
        row[width + k] = 1
        rows.append(row)
    rank = 0
    for col in range(width):
        pivot = next((i for i in range(rank, len(rows)) if rows[i][col]), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        top = rows[rank]
        for i, row in enumerate(rows):
            if i != rank and row[col]:
                a, b = top[col], row[col]
                combined = [a * x - b * y for x, y in zip(row, top, strict=True)]
                g = math.gcd(*combined)  # never 0: the rows stay independent (their own indices)
                rows[i] = [x // g for x in combined]
        rank += 1
    dependent = {k for row in rows[rank:] for k in range(len(sums)) if row[width + k]}
    out = []
    for row in rows[:rank]:
        nonzero = [i for i in range(width) if row[i]]
        if len(nonzero) == 1:
            uses = frozenset(k for k in range(len(sums)) if row[width + k])
            out.append(Derivation(names[nonzero[0]], uses, uses - dependent))
    return out
