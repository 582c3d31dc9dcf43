"""What a publication is: its audience, its stage, the statistics it shows (cells), and the items of
its quality gate."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from pmm_core.domain.derivation import Row, Variable
from pmm_core.domain.text import N_


class PubAudience(StrEnum):
    PUBLIC = "public"  # the public site
    WCO = "wco"  # every NCP and peer reviewer of every Member (with the Members-only annex)
    SECRETARIAT = "secretariat"  # internal: never leaves the Secretariat


# What each audience holds besides its own publications: the WCO audience reads the public ones too.
HOLDS: dict[PubAudience, tuple[PubAudience, ...]] = {
    PubAudience.PUBLIC: (PubAudience.PUBLIC,),
    PubAudience.WCO: (PubAudience.PUBLIC, PubAudience.WCO),
    PubAudience.SECRETARIAT: (),
}
# Publications whose readers include NCPs (each knows its own Member's figure): the public ones and
# the ones for all NCPs.
READ_BY_NCPS = (PubAudience.PUBLIC, PubAudience.WCO)

AUDIENCE_WORDS = {
    PubAudience.PUBLIC: N_("public"),
    PubAudience.WCO: N_("all NCPs (WCO)"),
    PubAudience.SECRETARIAT: N_("Secretariat (internal)"),
}


class Stage(StrEnum):
    PROVISIONAL = "provisional"
    FINAL = "final"


class CellStatus(StrEnum):
    SHOWN = "shown"
    HIDDEN = "hidden"  # by the disclosure rules of one table (a group of one, …)
    SUPPRESSED = "suppressed"  # so that nothing follows from everything the audience received
    KEPT = "kept"  # the earlier publication's figure, shown unchanged


@dataclass(frozen=True)
class Cell:
    """One statistic of a publication. `members` and `rows` stay in the Secretariat's store: they are
    what the statistic was taken over, for the next publication's checks."""

    key: str  # e.g. "2025|kpi|TF-10|region|eur", "2025|point|ES-05|by_mode|es_…", "2025|yoy|TF-10"
    rows: tuple[Row, ...]  # the equations the statistic gives (none for a median of three or more)
    members: frozenset[str]
    n: int
    value: Decimal | None  # as shown (None: not shown)
    status: CellStatus
    priority: tuple[int, int] = (0, 0)  # dropped first when lower: (kind, Members)
    value2: Decimal | None = None  # year on year: the previous cycle's figure

    @property
    def variables(self) -> set[Variable]:
        return {r.variable for r in self.rows}


class GateKind(StrEnum):
    UNRESOLVED = "unresolved"  # a flag the Secretariat has not resolved
    KEPT = "kept"  # the NCP kept a warned figure without a justification
    QUESTION = "question"  # the figure is under an open question to the NCP


class Decision(StrEnum):
    INCLUDE = "include"
    EXCLUDE = "exclude"
    MARK = "mark"  # included, and the KPI says it holds figures under review


DEFAULT_DECISION = {
    PubAudience.PUBLIC: Decision.EXCLUDE,
    PubAudience.WCO: Decision.EXCLUDE,
    PubAudience.SECRETARIAT: Decision.MARK,
}


@dataclass(frozen=True)
class GateItem:
    flag: int
    member: str
    kpis: tuple[str, ...]  # the KPIs whose result for the Member the figure moves
    kind: GateKind
    detail: str
