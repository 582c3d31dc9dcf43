"""Browsing, progress and submission. Bound buttons (``bound=True``) carry the screen they were shown on."""

from __future__ import annotations

from dataclasses import dataclass

from conversations.kit.buttons import Button, button


@button("d")
@dataclass(frozen=True)
class Dimension(Button):
    dimension: str


@button("k")
@dataclass(frozen=True)
class OpenKpi(Button):
    kpi: str


@button("p")
@dataclass(frozen=True)
class ProgressByDimension(Button):
    pass


@button("sub", bound=True)
@dataclass(frozen=True)
class SubmitNow(Button):
    pass


@button("subx")
@dataclass(frozen=True)
class SubmitCancel(Button):
    pass
