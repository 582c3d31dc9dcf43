"""The buttons of publishing (Secretariat) and of benchmarks (NCPs)."""

from __future__ import annotations

from dataclasses import dataclass

from conversations.kit.buttons import Button, button


@button("pbg", bound=True)
@dataclass(frozen=True)
class PublishGo(Button):
    """Publish, with this decision on the figures under review. Bound: a press from an earlier
    screen (or a second press) publishes nothing."""

    year: int
    audience: str
    stage: str
    decision: str
    started: bool
    reviewed: bool = False  # each KPI's result over the peer-reviewed Members too


@button("pbx")
@dataclass(frozen=True)
class PublishCancel(Button):
    pass


@button("bmo")
@dataclass(frozen=True)
class BenchOpen(Button):
    """The NCP's benchmarks from a publication for all NCPs (its number)."""

    pub: int


@button("bmd")
@dataclass(frozen=True)
class BenchDimension(Button):
    pub: int
    dim: str


@button("bmk")
@dataclass(frozen=True)
class BenchKpi(Button):
    pub: int
    kpi: str


@button("pbr")
@dataclass(frozen=True)
class PublicationFiles(Button):
    """The report of a publication for all NCPs, in the reader's language."""

    pub: int


@button("mrp")
@dataclass(frozen=True)
class MyReport(Button):
    pub: int
