"""The walk-through's buttons: answers, navigation, confirm, blank, breakdowns. Bound buttons (``bound=True``) carry the screen they were shown on."""

from __future__ import annotations

from dataclasses import dataclass

from conversations.kit.buttons import Button, button


@button("n")
@dataclass(frozen=True)
class Next(Button):
    """Continue where you stand (from reminders, welcome and progress messages)."""


@button("go")
@dataclass(frozen=True)
class Go(Button):
    kpi: str


@button("nk")
@dataclass(frozen=True)
class NextKpi(Button):
    """Leave this KPI (a breakdown, a confirmed result) for the next one that needs the NCP."""

    kpi: str


@button("a", bound=True)
@dataclass(frozen=True)
class Choice(Button):
    """A yes/no (1/0) or scale (its index) answer to figure `dp` of the KPI."""

    kpi: str
    dp: int
    choice: int


@button("bk", bound=True)
@dataclass(frozen=True)
class Back(Button):
    kpi: str
    dp: int


@button("s", bound=True)
@dataclass(frozen=True)
class Skip(Button):
    kpi: str
    dp: int


@button("e")
@dataclass(frozen=True)
class Edit(Button):
    """Ask figure `dp` of the KPI again (navigation; answering it is what changes data)."""

    kpi: str
    dp: int


@button("ch")
@dataclass(frozen=True)
class ChangeList(Button):
    kpi: str


@button("c", bound=True)
@dataclass(frozen=True)
class Confirm(Button):
    kpi: str
    rev: str  # the KPI's figures and state as shown (collect.kpi_rev)


@button("b")
@dataclass(frozen=True)
class Blank(Button):
    kpi: str


@button("br", bound=True)
@dataclass(frozen=True)
class Reason(Button):
    kpi: str
    reason: int
    rev: str


@button("nc", bound=True)
@dataclass(frozen=True)
class NoComment(Button):
    kpi: str


@button("dg")
@dataclass(frozen=True)
class AddBreakdown(Button):
    kpi: str
    group: int


@button("nm", bound=True)
@dataclass(frozen=True)
class Number(Button):
    """One reading of an ambiguous number ("1.000": one thousand or one)."""

    kpi: str
    dp: int
    option: int


@button("kp", bound=True)
@dataclass(frozen=True)
class KeepFigures(Button):
    """Keep figures the bot warned about (they are right), before confirming."""

    kpi: str
    rev: str


@button("op")
@dataclass(frozen=True)
class OpenFigure(Button):
    """From a Secretariat question: open exactly the flagged figure (main or breakdown)."""

    kpi: str
    dp: int
