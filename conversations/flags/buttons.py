"""The Secretariat's review of flagged figures. Bound buttons (``bound=True``) carry the screen they were shown on."""

from __future__ import annotations

from dataclasses import dataclass

from conversations.kit.buttons import Button, button


@button("fa")
@dataclass(frozen=True)
class FlagAsk(Button):
    """Bound to the flag's revision rather than a screen: a flag changed since is refused."""

    flag: int
    rev: str


@button("fe")
@dataclass(frozen=True)
class FlagExplained(Button):
    flag: int
    rev: str


@button("fl")
@dataclass(frozen=True)
class FlagPage(Button):
    """A page of the flag list, filtered by Member, KPI, kind and state ("-": any)."""

    member: str
    kpi: str
    kind: str
    state: str
    page: int
