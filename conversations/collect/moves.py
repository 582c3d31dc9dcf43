"""The walk-through's shortcuts: leave a whole KPI for later, go through last cycle's
answers one by one, leave a KPI blank again as last cycle. Navigation buttons carry no
screen (they change no data); "Blank again" writes, so it is bound to its screen."""

from __future__ import annotations

from dataclasses import dataclass

from conversations.kit.buttons import Button, button


@button("sk")
@dataclass(frozen=True)
class SkipKpi(Button):
    """Leave the whole KPI for later: the end of the pass offers it again."""

    kpi: str


@button("ob")
@dataclass(frozen=True)
class OneByOne(Button):
    """Go through the KPI's figures one by one, last cycle's answers shown beside each."""

    kpi: str


@button("ba", bound=True)
@dataclass(frozen=True)
class BlankAgain(Button):
    """Leave the KPI blank again, with last cycle's reason and comment."""

    kpi: str
    rev: str
