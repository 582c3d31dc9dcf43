"""Explanations: a KPI, its next page, the KPIs of a dimension. Bound buttons (``bound=True``) carry the screen they were shown on."""

from __future__ import annotations

from dataclasses import dataclass

from conversations.kit.buttons import Button, button


@button("x")
@dataclass(frozen=True)
class Explain(Button):
    kpi: str


@button("xm")
@dataclass(frozen=True)
class More(Button):
    kpi: str
    page: int


@button("xd")
@dataclass(frozen=True)
class ExplainDimension(Button):
    dimension: str
