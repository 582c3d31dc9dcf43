"""Who may see what: the PMM disclosure policy (seed 002 §25) applied to figures and statistics.

Each KPI result, and separately its disaggregated data, has a level:

- Public: on the public site;
- WCO: NCPs and peer reviewers of all WCO Members, plus Secretariat staff;
- Union: NCPs and peer reviewers of the Members of the Union, plus Secretariat staff;
- Country: NCPs and peer reviewers of the Member, plus Secretariat staff.

Three rules follow, for anything that leaves the Secretariat:

1. A figure *named* as a Member's (a row of a table, a flag message) goes to the Secretariat
   and to that Member's own NCPs only, whatever the level: the report is aggregated by group,
   never shown per Member (§31 and the note before the Trade Facilitation figures).
2. A figure *not named* (a group of one Member, a minimum or a maximum) still is one Member's
   figure: it goes to whom the level allows.
3. A group statistic (average, median) over at least two Members other than the audience's own
   is an aggregate and may be shown at any level, as the report does; over exactly one other
   Member it reveals that Member's figure (rule 2), so a one-Member group is shown only for a
   Public KPI (the note before the Trade Facilitation figures), and an NCP is never sent a
   statistic from which the one other Member's figure follows.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from enum import StrEnum

from pmm_core.answers import N_
from pmm_core.catalog import Disclosure, Kpi

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
    PUBLIC = "public"  # anyone (the public site, a published report)


@dataclass(frozen=True)
class Audience:
    kind: AudienceKind
    member: str | None = None  # the NCP's Member
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

    def own(self, member: str) -> bool:
        return self.kind is AudienceKind.NCP and member == self.member


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
        return audience.kind in (AudienceKind.WCO, AudienceKind.NCP)
    if level is Disclosure.UNION:
        return audience.kind is AudienceKind.NCP and member in audience.union
    return False


def may_see_statistic(level: Disclosure, audience: Audience, members: Collection[str]) -> bool:
    """Rule 3: may `audience` see an average or median over `members`?"""
    if not members:
        return False
    if audience.kind is AudienceKind.SECRETARIAT:
        return True
    others = {m for m in members if not audience.own(m)}
    return len(others) != 1 or may_see_unnamed(level, audience, next(iter(others)))


def may_see_extremes(level: Disclosure, audience: Audience, members: Collection[str]) -> bool:
    """May `audience` see the minimum and maximum over `members`? Each is one Member's figure."""
    return bool(members) and all(may_see_unnamed(level, audience, m) for m in members)
